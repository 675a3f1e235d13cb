//! The Parquet lake as a table's columns change and as it grows wide: a column added in
//! MySQL appears in the DuckDB view, files written before it (another LMS's) reading it as
//! NULL by name; a column whose type changes fails the next extract with instructions and
//! writes nothing, and following the instructions rewrites the table; a table of 3,000
//! course partitions is written with every row in its own partition.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

const VIEW: &str = "SELECT * FROM panorama.openedx_table_grades";
const OTHER_LMS: &str = "other.example.com";

/// `grades`, a course-partitioned table: amounts, tries and a change time.
async fn grades(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE grades (
            id int NOT NULL PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            amount decimal(5,2) NULL,
            tries int NULL,
            modified datetime(6) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec(
        "INSERT INTO grades VALUES
            (1, 'course-v1:Org+A+1', 12.50, 3, '2024-01-01 00:00:00.000001'),
            (2, 'course-v1:Org+A+1', NULL, NULL, '2024-01-02 00:00:00'),
            (3, 'course-v1:UnivCafé+B+1', -999.99, 0, '2024-01-03 00:00:00')",
    )
    .await;
    db
}

/// A Parquet table (`tables[].format`, the per-table override) in a CSV lake.
fn config(db: &TestDb, lake: &Path) -> String {
    lake_config(
        &db.url(),
        &lake.display().to_string(),
        "[[tables]]\nname = \"grades\"\npartition_by = \"course_id\"\nformat = \"parquet\"\n",
    )
}

fn extract(cfg: &str, args: &[&str], lms: &str) -> Output {
    let mut all = vec!["extract"];
    all.extend_from_slice(args);
    edlake(cfg, &all, &[DUCKDB_ON, ("EDLAKE_LMS_HOST", lms)])
}

/// MySQL's rows as the view shows them for `lms`.
async fn expected(db: &TestDb, lms: &str) -> Vec<Record> {
    let mut rows = mysql_records(db, "grades").await;
    for r in &mut rows {
        r.insert("lms".into(), Some(lms.into()));
    }
    rows
}

/// Every file of the lake (edlake's own records left out) and its bytes.
fn lake_bytes(lake: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(lake)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(lake.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_column_appears_in_the_view_and_older_files_read_it_as_null() {
    let db = grades("pq_drift_added").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&db, lake.path());
    let out = extract(&cfg, &[], "lms.example.com");
    assert_eq!(out.code, 0, "{}", out.all());
    let before = expected(&db, "lms.example.com").await;

    // MySQL gains two columns (wherever it puts them); another LMS sharing the lake
    // extracts after the change, so the lake holds files with and without them.
    db.exec(
        "ALTER TABLE grades ADD COLUMN note varchar(20) NULL AFTER id,
            ADD COLUMN weight decimal(4,1) NULL",
    )
    .await;
    db.exec(
        "UPDATE grades SET note = CASE id WHEN 1 THEN '' WHEN 2 THEN 'x\\r\\ny' END,
            weight = CASE id WHEN 1 THEN 2.5 WHEN 3 THEN -0.1 END",
    )
    .await;
    let out = extract(&cfg, &[], OTHER_LMS);
    assert_eq!(out.code, 0, "{}", out.all());
    let files: Vec<String> = files_under(lake.path())
        .into_iter()
        .filter(|f| f.starts_with("openedx/grades/"))
        .collect();
    assert_eq!(files.len(), 4, "two courses of two LMS: {files:#?}");

    let view = duckdb_query(&catalog_file(lake.path()), VIEW, &DuckDbOptions::default());
    // Appended: the files' own column order does not matter to a reader by name.
    assert_eq!(
        view.columns,
        [
            ("id", "BIGINT"),
            ("amount", "DECIMAL(5,2)"),
            ("tries", "BIGINT"),
            ("modified", "TIMESTAMP"),
            ("note", "VARCHAR"),
            ("weight", "DECIMAL(4,1)"),
            ("course_id", "VARCHAR"),
            ("lms", "VARCHAR"),
        ]
        .map(|(n, t)| (n.to_string(), t.to_string()))
    );
    let mut rows = expected(&db, OTHER_LMS).await;
    for mut r in before {
        r.insert("note".into(), None);
        r.insert("weight".into(), None);
        rows.push(r);
    }
    assert_same_rows(
        "the view over both LMS' files",
        "id",
        &view.records(),
        &rows,
    );
    let note = |lms: &str, id: &str| {
        view.records()
            .into_iter()
            .find(|r| r["lms"].as_deref() == Some(lms) && r["id"].as_deref() == Some(id))
            .unwrap()["note"]
            .clone()
    };
    assert_eq!(note(OTHER_LMS, "1").as_deref(), Some(""), "'' is not NULL");
    assert_eq!(note(OTHER_LMS, "2").as_deref(), Some("x\r\ny"));
    assert_eq!(
        note("lms.example.com", "1"),
        None,
        "a file without the column"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_column_type_fails_with_instructions_and_writes_nothing() {
    let db = grades("pq_drift_type").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&db, lake.path());
    let out = extract(&cfg, &[], "lms.example.com");
    assert_eq!(out.code, 0, "{}", out.all());
    let written = lake_bytes(lake.path());

    for (alter, change, unchanged) in [
        (
            "ALTER TABLE grades MODIFY amount decimal(8,3) NULL",
            "amount: decimal(5,2) → decimal(8,3)",
            "tries:",
        ),
        (
            "ALTER TABLE grades MODIFY amount decimal(5,2) NULL, MODIFY tries varchar(10) NULL",
            "tries: bigint → string",
            "amount:",
        ),
    ] {
        db.exec(alter).await;
        let out = extract(&cfg, &[], "lms.example.com");
        assert_eq!(out.code, 1, "{change}: {}", out.all());
        let message = out.all();
        assert!(message.contains(change), "{change}: {message}");
        assert!(
            message.contains("extract --full --table grades"),
            "{change}: the way out: {message}"
        );
        assert!(
            !message.contains(unchanged),
            "only the changed column is named: {message}"
        );
        assert_eq!(
            lake_bytes(lake.path()),
            written,
            "{change}: nothing written"
        );
    }

    // The way out the message gives: the table's files and catalog entry go (here the
    // catalog holds only this table), then a full run writes the new type.
    std::fs::remove_dir_all(lake.path().join("openedx/grades")).unwrap();
    std::fs::remove_file(catalog_file(lake.path())).unwrap();
    let out = extract(&cfg, &["--full", "--table", "grades"], "lms.example.com");
    assert_eq!(out.code, 0, "{}", out.all());
    let view = duckdb_query(&catalog_file(lake.path()), VIEW, &DuckDbOptions::default());
    assert_eq!(view.type_of("tries"), "VARCHAR");
    assert_same_rows(
        "the rewritten table",
        "id",
        &view.records(),
        &expected(&db, "lms.example.com").await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_course_partitions_each_hold_their_own_rows() {
    const COURSES: u32 = 3000;
    let db = TestDb::new("pq_many_partitions").await;
    db.exec(
        "CREATE TABLE enrollments (
            id int NOT NULL PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            user_id int NOT NULL,
            mode text NULL,
            created datetime(6) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    // Three rows per course, interleaved (the scan meets every course again and again),
    // with padding so that the partitions pass the memory budget and are spilled.
    let mut conn = db.generator_conn().await;
    sqlx::query(
        "INSERT INTO enrollments (id, course_id, user_id, mode, created)
         WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
         SELECT n, CONCAT('course-v1:Org+C', n % ?, '+Run'), n * 7,
                IF(n % 5 = 0, NULL, CONCAT('audit ', REPEAT('é', 400), n)),
                TIMESTAMP('2024-01-01') + INTERVAL n SECOND + INTERVAL n MICROSECOND
         FROM seq",
    )
    .bind(COURSES * 3)
    .bind(COURSES)
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let lake = tempfile::tempdir().unwrap();
    let cfg = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        "format = \"parquet\"\n[extract]\nmemory_budget_mb = 1\n\
         [[tables]]\nname = \"enrollments\"\npartition_by = \"course_id\"\n",
    );
    let out = edlake(&cfg, &["extract"], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    let summary = out
        .stdout
        .lines()
        .find(|l| l.starts_with("enrollments"))
        .unwrap_or_else(|| panic!("no summary line: {}", out.stdout));
    let cols: Vec<&str> = summary.split_whitespace().collect();
    assert_eq!(cols[1..4], ["9000", "3000", "3000"], "{summary}");
    let files: Vec<String> = files_under(lake.path())
        .into_iter()
        .filter(|f| f.starts_with("openedx/enrollments/"))
        .collect();
    assert_eq!(files.len(), COURSES as usize);
    assert!(files.iter().all(|f| f.ends_with("/enrollments.parquet")));

    // Every row, its course from the directory it is in.
    let view = duckdb_query(
        &catalog_file(lake.path()),
        "SELECT * FROM panorama.openedx_table_enrollments",
        &DuckDbOptions::default(),
    );
    let mut rows = mysql_records(&db, "enrollments").await;
    for r in &mut rows {
        r.insert("lms".into(), Some("lms.example.com".into()));
    }
    assert_same_rows("3,000 partitions", "id", &view.records(), &rows);
    // One partition's file, read by pyarrow: its three rows and nothing else.
    let file = pyarrow_read(
        &lake.path().join(
            "openedx/enrollments/lms=lms.example.com/course_id=course-v1%3AOrg+C1234+Run/enrollments.parquet",
        ),
    );
    let ids: Vec<Option<String>> = file.records().iter().map(|r| r["id"].clone()).collect();
    assert_eq!(ids, ["1234", "4234", "7234"].map(|i| Some(i.to_string())));
}
