//! An incremental table through the local DuckDB catalog, in both lake formats: after
//! inserts and updates (to NULL, to '', to text with CR, LF and CRLF) written as delta
//! files by several incremental runs, the DuckDB view equals MySQL, one row per key and the
//! newest; the raw view holds every version; after deletes and `extract --full`, the
//! deleted rows are gone. A switch of format is a full run that rewrites the table in the
//! new format, and the view still equals MySQL.

mod common;

use std::path::Path;

use common::*;

const TABLE: &str = "courseware_studentmodule";
const VIEW: &str = "SELECT * FROM panorama.openedx_table_courseware_studentmodule";
const RAW_COUNT: &str = "SELECT count(*) FROM panorama.openedx_raw_courseware_studentmodule";

/// A course key with every character Hive escapes in a partition directory, and more.
const ODD_COURSE: &str = "course-v1:Odd+100% off=yes?#1 [x] 'q' \"dq\" \\ ^{}*é";

/// 30 rows in two courses (one with a non-ASCII key and a colon), changed through 2024; a
/// row in a course whose key needs escaping, and one whose course_id is ''.
async fn studentmodule(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            module_id varchar(255) NOT NULL,
            state longtext NULL,
            grade double NULL,
            done tinyint(1) NOT NULL DEFAULT 0,
            modified datetime(6) NOT NULL,
            KEY modified (modified)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    let mut conn = db.generator_conn().await;
    sqlx::raw_sql(
        "INSERT INTO courseware_studentmodule (course_id, module_id, state, grade, done, modified)
         WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 30)
         SELECT IF(n % 3 = 0, 'course-v1:UnivCafé+B+Run:1', 'course-v1:Org+A+1'),
                CONCAT('block-v1:x+type@problem+block@', n),
                IF(n % 7 = 0, NULL, CONCAT('{\"n\": ', n, ', \"t\": \"a,b\\\\n\"}')),
                IF(n % 5 = 0, NULL, n / 4),
                n % 2,
                TIMESTAMP('2024-01-01 00:00:00') + INTERVAL n HOUR + INTERVAL n MICROSECOND
         FROM seq",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO courseware_studentmodule (id, course_id, module_id, state, grade, done, modified)
         VALUES (31, ?, 'block-v1:odd', 'odd', 1, 1, '2024-02-01'),
                (32, '', 'block-v1:none', NULL, NULL, 0, '2024-02-01')",
    )
    .bind(ODD_COURSE)
    .execute(&mut *conn)
    .await
    .unwrap();
    db
}

fn config(db: &TestDb, lake: &Path) -> String {
    lake_config(
        &db.url(),
        &lake.display().to_string(),
        &format!(
            "[incremental]\noverlap = \"1m\"\nmax_deltas = 10\n\
             [[tables]]\nname = \"{TABLE}\"\npartition_by = \"course_id\"\n"
        ),
    )
}

/// `(rows, mode)` of the table's summary line, for a run writing `format`
/// (`EDLAKE_DATALAKE__FORMAT`, as the demo sets it).
fn extract(cfg: &str, format: &str, args: &[&str]) -> (u64, String) {
    let mut all = vec!["extract"];
    all.extend_from_slice(args);
    let out = edlake(cfg, &all, &[DUCKDB_ON, ("EDLAKE_DATALAKE__FORMAT", format)]);
    assert_eq!(out.code, 0, "{}", out.all());
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with(TABLE))
        .unwrap_or_else(|| panic!("no summary line: {}", out.stdout));
    let cols: Vec<&str> = line.split_whitespace().collect();
    (cols[1].parse().unwrap(), cols[6].to_string())
}

fn count(lake: &Path, sql: &str) -> u64 {
    let r = duckdb_query(&catalog_file(lake), sql, &DuckDbOptions::default());
    r.rows[0][0].as_deref().unwrap().parse().unwrap()
}

fn delta_files(lake: &Path) -> Vec<String> {
    files_under(lake)
        .into_iter()
        .filter(|f| f.contains(".delta-"))
        .collect()
}

/// The table's files, asserted to be all in `format`.
fn table_files(lake: &Path, format: &str) -> Vec<String> {
    let files: Vec<String> = files_under(lake)
        .into_iter()
        .filter(|f| f.starts_with(&format!("openedx/{TABLE}/")))
        .collect();
    assert!(
        files.iter().all(|f| f.ends_with(&format!(".{format}"))),
        "only .{format} files: {files:#?}"
    );
    files
}

/// The DuckDB view, and MySQL's rows as it should show them.
async fn compare(what: &str, db: &TestDb, lake: &Path) -> Vec<Record> {
    let view = duckdb_query(&catalog_file(lake), VIEW, &DuckDbOptions::default());
    assert_eq!(
        view.names(),
        [
            "id",
            "module_id",
            "state",
            "grade",
            "done",
            "modified",
            "course_id",
            "lms"
        ]
    );
    let actual = view.records();
    let mut expected = mysql_records(db, TABLE).await;
    for r in &mut expected {
        r.insert("lms".into(), Some("lms.example.com".into()));
        // NULL and '' share Hive's default partition, which reads as NULL
        // (docs/lake-layout.md), in Athena as in DuckDB.
        if r["course_id"].as_deref() == Some("") {
            r.insert("course_id".into(), None);
        }
    }
    assert_same_rows(what, "id", &actual, &expected);
    actual
}

fn state_of(rows: &[Record], id: u32) -> Option<String> {
    rows.iter()
        .find(|r| r["id"].as_deref() == Some(&id.to_string()))
        .unwrap_or_else(|| panic!("row {id}"))["state"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duckdb_view_keeps_the_newest_version_of_each_row_and_a_full_run_drops_deleted_ones() {
    newest_versions_then_a_full_run("duck_incremental", "csv").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_over_a_parquet_lake() {
    newest_versions_then_a_full_run("duck_incremental_parquet", "parquet").await;
}

/// Incremental runs in `format`, then deletes and a full run, each compared with MySQL.
async fn newest_versions_then_a_full_run(test: &str, format: &str) {
    let db = studentmodule(test).await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&db, lake.path());
    let run = |args: &[&str]| extract(&cfg, format, args);

    assert_eq!(run(&[]), (32, "full".into()));
    let rows = compare("after the full run", &db, lake.path()).await;
    assert_eq!(count(lake.path(), RAW_COUNT), 32);
    let odd = rows
        .iter()
        .find(|r| r["id"].as_deref() == Some("31"))
        .unwrap();
    assert_eq!(odd["course_id"].as_deref(), Some(ODD_COURSE));

    // Run 2: inserts, and updates to NULL and to ''.
    db.exec(
        "INSERT INTO courseware_studentmodule (id, course_id, module_id, state, grade, done, modified) VALUES
            (100, 'course-v1:Org+A+1', 'block-v1:new', 'new \"row\"', 1.25, 1, '2024-06-01 00:00:00'),
            (101, 'course-v1:New+C+1', 'block-v1:c', 'é\\\\', NULL, 0, '2024-06-01 00:00:00.000001')",
    )
    .await;
    db.exec(
        "UPDATE courseware_studentmodule SET state = NULL, done = 1, modified = '2024-06-01 00:00:02'
         WHERE id = 1",
    )
    .await;
    db.exec(
        "UPDATE courseware_studentmodule SET state = '', grade = NULL, modified = '2024-06-01 00:00:03'
         WHERE id = 3",
    )
    .await;
    db.exec(
        "UPDATE courseware_studentmodule SET state = 'odd, again', modified = '2024-06-01 00:00:04'
         WHERE id IN (31, 32)",
    )
    .await;
    assert_eq!(run(&[]), (6, "incremental".into()));
    let rows = compare("after the first incremental run", &db, lake.path()).await;
    assert_eq!(state_of(&rows, 1), None);
    assert_eq!(state_of(&rows, 3).as_deref(), Some(""));

    // Run 3: the same rows again (a row's third version), and line breaks of every kind.
    db.exec(
        "UPDATE courseware_studentmodule SET state = 'cr\\rlf\\ncrlf\\r\\nend\\\\', modified = '2024-07-01'
         WHERE id IN (1, 2)",
    )
    .await;
    db.exec(
        "UPDATE courseware_studentmodule SET state = '\\\\N', modified = '2024-07-01 00:00:00.5'
         WHERE id = 100",
    )
    .await;
    db.exec(
        "UPDATE courseware_studentmodule SET state = 'NULL', grade = -0.5, modified = '2024-07-02'
         WHERE id = 3",
    )
    .await;
    assert_eq!(run(&[]), (4, "incremental".into()));
    let rows = compare("after the second incremental run", &db, lake.path()).await;
    assert_eq!(state_of(&rows, 1).as_deref(), Some("cr\rlf\ncrlf\r\nend\\"));
    assert_eq!(state_of(&rows, 100).as_deref(), Some("\\N"));
    assert_eq!(state_of(&rows, 3).as_deref(), Some("NULL"));

    // Run 4: one more delta, then deletes, which only a full run can see.
    db.exec(
        "UPDATE courseware_studentmodule SET state = 'fourth', modified = '2024-08-01' WHERE id = 1",
    )
    .await;
    assert_eq!(run(&[]), (1, "incremental".into()));
    compare("after the third incremental run", &db, lake.path()).await;
    let deltas = delta_files(lake.path());
    assert!(deltas.len() >= 4, "several delta files: {deltas:#?}");
    table_files(lake.path(), format);
    // Every version is in the raw view; the typed view keeps one per key.
    let raw = count(lake.path(), RAW_COUNT);
    assert_eq!(raw, 32 + 6 + 4 + 1, "every version of every row");
    assert_eq!(
        count(lake.path(), &format!("SELECT count(*) FROM ({VIEW})")),
        34
    );

    db.exec("DELETE FROM courseware_studentmodule WHERE id IN (2, 6, 101)")
        .await;
    assert_eq!(run(&[]), (0, "incremental".into()));
    let view = duckdb_query(&catalog_file(lake.path()), VIEW, &DuckDbOptions::default());
    assert_eq!(view.rows.len(), 34, "deleted rows stay until a full run");

    assert_eq!(run(&["--full"]), (31, "full".into()));
    assert!(delta_files(lake.path()).is_empty());
    table_files(lake.path(), format);
    let rows = compare("after the full run", &db, lake.path()).await;
    assert_eq!(rows.len(), 31);
    assert!(!rows
        .iter()
        .any(|r| ["2", "6", "101"].contains(&r["id"].as_deref().unwrap())));
    assert_eq!(count(lake.path(), RAW_COUNT), 31);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_of_format_rewrites_the_table_in_a_full_run() {
    let db = studentmodule("duck_switch_format").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&db, lake.path());
    let change = |id: u32, state: &str, at: &str| {
        format!(
            "UPDATE courseware_studentmodule SET state = '{state}', modified = '{at}' WHERE id = {id}"
        )
    };
    let columns = || {
        duckdb_query(
            &catalog_file(lake.path()),
            &format!("{VIEW} LIMIT 0"),
            &DuckDbOptions::default(),
        )
        .columns
    };

    assert_eq!(extract(&cfg, "csv", &[]), (32, "full".into()));
    db.exec(&change(1, "csv delta", "2024-06-01")).await;
    assert_eq!(extract(&cfg, "csv", &[]), (1, "incremental".into()));
    assert_eq!(delta_files(lake.path()).len(), 1);
    let csv_columns = columns();

    // To Parquet: a full run although only one row changed; every CSV file goes.
    db.exec(&change(2, "to parquet", "2024-06-02")).await;
    assert_eq!(extract(&cfg, "parquet", &[]), (32, "full".into()));
    let files = table_files(lake.path(), "parquet");
    assert_eq!(files.len(), 4, "one file per partition: {files:#?}");
    assert!(delta_files(lake.path()).is_empty());
    compare("after the switch to Parquet", &db, lake.path()).await;
    assert_eq!(columns(), csv_columns, "the view's columns and types");

    // Incremental again, in Parquet.
    db.exec(&change(3, "parquet delta", "2024-06-03")).await;
    assert_eq!(extract(&cfg, "parquet", &[]), (1, "incremental".into()));
    assert_eq!(table_files(lake.path(), "parquet").len(), 5);
    compare("after an incremental Parquet run", &db, lake.path()).await;

    // And back to CSV.
    db.exec(&change(4, "back to csv", "2024-06-04")).await;
    assert_eq!(extract(&cfg, "csv", &[]), (32, "full".into()));
    assert_eq!(table_files(lake.path(), "csv").len(), 4);
    let rows = compare("after the switch back to CSV", &db, lake.path()).await;
    assert_eq!(state_of(&rows, 4).as_deref(), Some("back to csv"));
    assert_eq!(columns(), csv_columns);
}
