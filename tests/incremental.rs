//! Incremental extraction against real MariaDB: after inserts, updates and deletes between
//! runs the lake, read as Athena reads the files and deduplicated as the view does, equals
//! the source (deleted rows leave at the next full run); a missed run, an app server whose
//! clock ran ahead, a no-change run, compaction, and the catalog on moto.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use sqlx::Row;

const TABLE: &str = "courseware_studentmodule";
const LMS_DIR: &str = "openedx/courseware_studentmodule/lms=lms.example.com/";

type Record = BTreeMap<String, Option<String>>;

/// 60 rows in two courses, changed at hourly steps through 2024: the table as a run a year
/// ago left it.
async fn studentmodule(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            module_id varchar(255) NOT NULL,
            state longtext NULL,
            grade double NULL,
            modified datetime(6) NOT NULL,
            KEY modified (modified)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    let mut conn = db.generator_conn().await;
    sqlx::raw_sql(
        "INSERT INTO courseware_studentmodule (course_id, module_id, state, grade, modified)
         WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 60)
         SELECT IF(n % 3 = 0, 'course-v1:Org+B+1', 'course-v1:Org+A+1'),
                CONCAT('block-v1:x+type@problem+block@', n),
                IF(n % 7 = 0, NULL, CONCAT('{\"n\": ', n, ', \"t\": \"a,b\\\\n\"}')),
                IF(n % 5 = 0, NULL, n / 4),
                TIMESTAMP('2024-01-01 00:00:00') + INTERVAL n HOUR
         FROM seq",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    db
}

/// MariaDB's `UTC_TIMESTAMP(6)`, in the text form watermarks use.
async fn db_utc_now(db: &TestDb) -> String {
    let row = sqlx::raw_sql("SELECT CAST(UTC_TIMESTAMP(6) AS CHAR)")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    row.try_get::<String, _>(0).unwrap()
}

/// `datalake` continues the `[datalake]` section; `incremental` the `[incremental]` one.
fn config(db: &TestDb, lake: &str, datalake: &str, incremental: &str) -> String {
    lake_config(
        &db.url(),
        lake,
        &format!(
            "{datalake}\n[incremental]\noverlap = \"1m\"\n{incremental}\n\
             [[tables]]\nname = \"{TABLE}\"\npartition_by = \"course_id\"\n"
        ),
    )
}

/// The source as MySQL's text, keyed by id.
async fn source(db: &TestDb) -> BTreeMap<String, Record> {
    let rows = sqlx::raw_sql(
        "SELECT id, module_id, state, grade, modified, course_id FROM courseware_studentmodule",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let names = ["id", "module_id", "state", "grade", "modified", "course_id"];
    rows.iter()
        .map(|row| {
            let record: Record = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let v: Option<&[u8]> = row.try_get_unchecked(i).unwrap();
                    (
                        n.to_string(),
                        v.map(|v| String::from_utf8_lossy(v).into_owned()),
                    )
                })
                .collect();
            (record["id"].clone().unwrap(), record)
        })
        .collect()
}

/// The lake as the view shows it: every file of this LMS read as OpenCSVSerde reads it,
/// then per partition and id the row with the latest `modified`, the later file on a tie.
fn view(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Record> {
    let mut latest: BTreeMap<(String, String), (String, String, Record)> = BTreeMap::new();
    for (key, data) in files {
        let rest = key.strip_prefix(LMS_DIR).expect("a file of this LMS");
        let (dir, _) = rest.rsplit_once('/').expect("a course partition");
        let course = lake_course(dir);
        for mut row in read_table_file(data).1 {
            row.insert("course_id".into(), Some(course.clone()));
            let id = row["id"].clone().unwrap();
            let modified = row["modified"].clone().unwrap();
            let slot = (course.clone(), id);
            let newer = match latest.get(&slot) {
                Some((m, k, _)) => (modified.as_str(), key.as_str()) > (m.as_str(), k.as_str()),
                None => true,
            };
            if newer {
                latest.insert(slot, (modified, key.clone(), row));
            }
        }
    }
    latest
        .into_values()
        .map(|(_, _, row)| (row["id"].clone().unwrap(), row))
        .collect()
}

/// `course_id=<escaped>` back to the value.
fn lake_course(dir: &str) -> String {
    let escaped = dir.strip_prefix("course_id=").expect("course_id partition");
    escaped.replace("%3A", ":").replace("%2B", "+")
}

fn local_files(lake: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(lake)
        .into_iter()
        .filter(|k| k.starts_with(LMS_DIR))
        .map(|k| {
            let data = std::fs::read(lake.join(&k)).unwrap();
            (k, data)
        })
        .collect()
}

/// `(rows, mode)` of the table's line in `edlake extract`'s summary.
fn summary(stdout: &str) -> (u64, String) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(TABLE))
        .unwrap_or_else(|| panic!("no summary line: {stdout}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    (cols[1].parse().unwrap(), cols[6].to_string())
}

fn extract(cfg: &str, args: &[&str]) -> (u64, String) {
    let mut all = vec!["extract"];
    all.extend_from_slice(args);
    let out = edlake(cfg, &all, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    summary(&out.stdout)
}

const RECORD: &str = "openedx/_edlake/watermarks/lms=lms.example.com/courseware_studentmodule.json";

fn watermark(lake: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(lake.join(RECORD)).unwrap()).unwrap()
}

async fn s3_watermark(s3: &aws_sdk_s3::Client, bucket: &str) -> serde_json::Value {
    serde_json::from_slice(&s3_get(s3, bucket, RECORD).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_of_the_lake_follows_inserts_updates_and_deletes() {
    let db = studentmodule("incr_changes").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(
        &db,
        &lake.path().display().to_string(),
        "",
        "max_deltas = 3",
    );

    // First run: full, one file per course, the watermark at the newest change.
    assert_eq!(extract(&cfg, &[]), (60, "full".into()));
    assert_eq!(view(&local_files(lake.path())), source(&db).await);
    assert_eq!(local_files(lake.path()).len(), 2);
    assert_eq!(
        watermark(lake.path())["watermark"],
        "2024-01-03 12:00:00.000000"
    );
    assert_eq!(watermark(lake.path())["deltas"], 0);

    // A run missed for most of a year: changes stamped months ago, long before this run,
    // and every one after the watermark. A window counted back from now would lose them.
    db.exec(
        "UPDATE courseware_studentmodule SET state = 'changed, \"quoted\"', grade = 0.5,
            modified = '2024-03-01 08:00:00' WHERE id IN (4, 5, 6)",
    )
    .await;
    db.exec(
        "UPDATE courseware_studentmodule SET state = NULL, modified = '2024-05-01 09:30:00.25'
         WHERE id = 10",
    )
    .await;
    db.exec(
        "INSERT INTO courseware_studentmodule (id, course_id, module_id, state, grade, modified) VALUES
            (100, 'course-v1:Org+A+1', 'block-v1:x+type@problem+block@new', '', NULL, '2024-06-01 00:00:00'),
            (101, 'course-v1:New+C+1', 'block-v1:x+type@problem+block@c', 'é\\\\\\n', 1, '2024-06-01 00:00:01')",
    )
    .await;
    db.exec("DELETE FROM courseware_studentmodule WHERE id IN (1, 2)")
        .await;

    // The six changed rows; the newest row of the last run is read again (it is inside the
    // overlap) but not written again.
    assert_eq!(extract(&cfg, &[]), (6, "incremental".into()));
    let files = local_files(lake.path());
    let deltas: Vec<String> = files
        .keys()
        .filter(|k| k.contains(".delta-"))
        .map(|k| without_run_id(k))
        .collect();
    assert_eq!(
        deltas,
        [
            format!("{LMS_DIR}course_id=course-v1%3ANew+C+1/{TABLE}.delta-000001-RUN.csv"),
            format!("{LMS_DIR}course_id=course-v1%3AOrg+A+1/{TABLE}.delta-000001-RUN.csv"),
            format!("{LMS_DIR}course_id=course-v1%3AOrg+B+1/{TABLE}.delta-000001-RUN.csv"),
        ]
    );
    // The view equals the source, but for the deleted rows: they leave at the next full run.
    let mut expected = source(&db).await;
    let lake_view = view(&files);
    for gone in ["1", "2"] {
        assert!(lake_view.contains_key(gone));
        expected.insert(gone.into(), lake_view[gone].clone());
    }
    assert_eq!(lake_view, expected);
    assert_eq!(lake_view["10"]["state"], None);
    assert_eq!(lake_view["100"]["state"], Some(String::new()));
    assert_eq!(
        watermark(lake.path())["watermark"],
        "2024-06-01 00:00:01.000000"
    );
    assert_eq!(watermark(lake.path())["deltas"], 1);

    // Nothing changed: nothing is written.
    assert_eq!(extract(&cfg, &[]), (0, "incremental".into()));
    assert_eq!(local_files(lake.path()), files);

    // An app server whose clock ran two days ahead: its row is read, but the watermark
    // stops at the database's time, so a row stamped by a correct clock afterwards is
    // still read by the next run.
    db.exec(
        "UPDATE courseware_studentmodule SET grade = 9, modified = UTC_TIMESTAMP(6) + INTERVAL 2 DAY
         WHERE id = 20",
    )
    .await;
    // The database's own clock around the run bounds the cap: never today's date, so the
    // check neither ages nor passes when capping is broken (the row is two days ahead).
    let before = db_utc_now(&db).await;
    let (rows, mode) = extract(&cfg, &[]);
    let after = db_utc_now(&db).await;
    assert_eq!(mode, "incremental");
    assert!(rows >= 1, "{rows}");
    let capped = watermark(lake.path())["watermark"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        before <= capped && capped <= after,
        "watermark {capped} is not the snapshot time, between {before} and {after}"
    );
    db.exec(
        "UPDATE courseware_studentmodule SET grade = 7, modified = UTC_TIMESTAMP(6) WHERE id = 21",
    )
    .await;
    assert_eq!(extract(&cfg, &[]).1, "incremental");
    let lake_view = view(&local_files(lake.path()));
    assert_eq!(lake_view["20"]["grade"].as_deref(), Some("9"));
    assert_eq!(lake_view["21"]["grade"].as_deref(), Some("7"));
    assert_eq!(watermark(lake.path())["deltas"], 3);

    // max_deltas reached: the next run is full, merges the deltas and drops the deleted rows.
    assert_eq!(extract(&cfg, &[]).1, "full");
    let files = local_files(lake.path());
    assert!(files.keys().all(|k| !k.contains(".delta-")), "{files:#?}");
    assert_eq!(files.len(), 3);
    assert_eq!(view(&files), source(&db).await);
    assert_eq!(watermark(lake.path())["deltas"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_on_request_or_when_the_columns_change_and_off_by_config() {
    let db = studentmodule("incr_full").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&db, &lake.path().display().to_string(), "", "");
    assert_eq!(extract(&cfg, &[]).1, "full");
    db.exec("DELETE FROM courseware_studentmodule WHERE id = 3")
        .await;
    db.exec("UPDATE courseware_studentmodule SET grade = 1, modified = '2024-02-01' WHERE id = 4")
        .await;
    assert_eq!(extract(&cfg, &[]), (1, "incremental".into()));

    // --full: everything again, the deleted row and the delta files gone.
    assert_eq!(extract(&cfg, &["--full"]), (59, "full".into()));
    let files = local_files(lake.path());
    assert_eq!(files.len(), 2, "{files:#?}");
    assert_eq!(view(&files), source(&db).await);

    // A new column: the files' shape changes, so the run is full.
    db.exec("ALTER TABLE courseware_studentmodule ADD COLUMN done varchar(8) NULL")
        .await;
    assert_eq!(extract(&cfg, &[]).1, "full");
    assert_eq!(extract(&cfg, &[]).1, "incremental");

    // Off: always full; a table configured without a change column is a snapshot.
    let off = config(
        &db,
        &lake.path().display().to_string(),
        "",
        "enabled = false",
    );
    assert_eq!(extract(&off, &[]).1, "full");
    let snapshot = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        &format!(
            "[[tables]]\nname = \"{TABLE}\"\npartition_by = \"course_id\"\nchange_column = \"\"\n"
        ),
    );
    assert_eq!(extract(&snapshot, &[]).1, "snapshot");
    // A change column that is not a time is refused, naming the fix.
    let wrong = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        &format!("[[tables]]\nname = \"{TABLE}\"\nchange_column = \"state\"\n"),
    );
    let out = edlake(&wrong, &["extract"], &[]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("change column state is longtext, not a date or time"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3_a_delta_registers_its_partition_no_change_costs_nothing_and_a_failed_run_is_redone()
{
    let test = "incr_catalog";
    let db = studentmodule(test).await;
    let (s3, glue, athena) = (
        s3_client().await,
        glue_client().await,
        athena_client().await,
    );
    let bucket = fresh_bucket(&s3, "incr-catalog").await;
    let gdb = fresh_glue_database(test);
    let cfg = format!(
        "{}{}",
        config(
            &db,
            &format!("s3://{bucket}"),
            &format!("endpoint = \"{}\"", s3_endpoint()),
            ""
        ),
        catalog_config(&gdb, &bucket)
    );
    let on = [("EDLAKE_CATALOG__ENABLED", "true")];

    let out = edlake(&cfg, &["extract"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(summary(&out.stdout).1, "full");
    let raw = "openedx_raw_courseware_studentmodule";
    assert_eq!(glue_partitions(&glue, &gdb, raw).await.len(), 2);
    // The view keeps the latest version of each row per partition.
    let views = athena_queries(&athena, &format!("\"{gdb}\"")).await;
    assert_eq!(views.len(), 1, "{views:#?}");
    assert!(views[0].contains(
        r#"row_number() OVER (PARTITION BY "lms", "course_id", "id" ORDER BY TRY_CAST(NULLIF("modified", '\N') AS timestamp(6)) DESC NULLS LAST, "$path" DESC)"#
    ), "{}", views[0]);
    emulate_athena_views(&glue, &views).await;

    // A row in a new course: its delta file, and its partition in Glue; the view stays.
    db.exec(
        "INSERT INTO courseware_studentmodule (course_id, module_id, modified)
         VALUES ('course-v1:New+C+1', 'b', '2024-07-01')",
    )
    .await;
    let out = edlake(&cfg, &["extract"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(summary(&out.stdout), (1, "incremental".into()));
    assert!(
        out.stdout.contains("catalog +1 -0 ~0 partitions"),
        "{}",
        out.stdout
    );
    assert_eq!(glue_partitions(&glue, &gdb, raw).await.len(), 3);
    assert_eq!(
        athena_queries(&athena, &format!("\"{gdb}\"")).await.len(),
        1
    );
    let keys = s3_keys(&s3, &bucket, LMS_DIR).await;
    assert!(
        keys.iter()
            .filter(|k| k.contains(".delta-"))
            .map(|k| without_run_id(k))
            .any(|k| k
                == format!("{LMS_DIR}course_id=course-v1%3ANew+C+1/{TABLE}.delta-000001-RUN.csv")),
        "{keys:#?}"
    );
    let record = s3_watermark(&s3, &bucket).await;
    assert_eq!(record["watermark"], "2024-07-01 00:00:00.000000");

    // Nothing changed: no file and not one catalog call.
    let out = edlake(&cfg, &["extract"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(summary(&out.stdout).1, "incremental");
    assert!(!out.stdout.contains("catalog"), "{}", out.stdout);
    assert_eq!(s3_keys(&s3, &bucket, LMS_DIR).await, keys);

    // A run whose catalog step fails after its delta is uploaded leaves the watermark
    // where it was, and takes its delta file back: the next run reads the same change
    // again, under the same delta number (in a file of its own).
    db.exec(
        "INSERT INTO courseware_studentmodule (course_id, module_id, modified)
         VALUES ('course-v1:Org+A+1', 'late', '2024-08-01')",
    )
    .await;
    let columns = glue
        .get_table()
        .database_name(&gdb)
        .name(raw)
        .send()
        .await
        .unwrap()
        .table()
        .unwrap()
        .storage_descriptor()
        .unwrap()
        .columns()
        .to_vec();
    glue.delete_table()
        .database_name(&gdb)
        .name(raw)
        .send()
        .await
        .unwrap();
    let not_a_table = aws_sdk_glue::types::TableInput::builder()
        .name(raw)
        .table_type("VIRTUAL_VIEW")
        .storage_descriptor(
            aws_sdk_glue::types::StorageDescriptor::builder()
                .set_columns(Some(columns))
                .build(),
        )
        .build()
        .unwrap();
    glue.create_table()
        .database_name(&gdb)
        .table_input(not_a_table)
        .send()
        .await
        .unwrap();
    let out = edlake(&cfg, &["extract"], &on);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("is a view, not a table"),
        "{}",
        out.stderr
    );
    let delta2 = format!("{LMS_DIR}course_id=course-v1%3AOrg+A+1/{TABLE}.delta-000002-RUN.csv");
    let deltas2 = |keys: &[String]| {
        keys.iter()
            .filter(|k| k.contains(".delta-") && without_run_id(k) == delta2)
            .count()
    };
    assert_eq!(deltas2(&s3_keys(&s3, &bucket, LMS_DIR).await), 0);
    let record = s3_watermark(&s3, &bucket).await;
    assert_eq!(record["watermark"], "2024-07-01 00:00:00.000000");
    assert_eq!(record["deltas"], 1);

    glue.delete_table()
        .database_name(&gdb)
        .name(raw)
        .send()
        .await
        .unwrap();
    let out = edlake(&cfg, &["extract"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(summary(&out.stdout), (1, "incremental".into()));
    let record = s3_watermark(&s3, &bucket).await;
    assert_eq!(record["watermark"], "2024-08-01 00:00:00.000000");
    assert_eq!(record["deltas"], 2);
    assert_eq!(glue_partitions(&glue, &gdb, raw).await.len(), 3);
    let keys = s3_keys(&s3, &bucket, LMS_DIR).await;
    assert_eq!(
        keys.iter().filter(|k| k.contains(".delta-")).count(),
        2,
        "{keys:#?}"
    );
    assert_eq!(deltas2(&keys), 1, "{keys:#?}");
}

/// A delta file's key with its run's id (12 hex digits) replaced by `RUN`.
fn without_run_id(key: &str) -> String {
    let (head, id) = key
        .strip_suffix(".csv")
        .and_then(|k| k.rsplit_once('-'))
        .unwrap_or_else(|| panic!("{key} is not a delta file"));
    assert!(
        id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key}"
    );
    format!("{head}-RUN.csv")
}
