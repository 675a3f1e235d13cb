//! The catalog against moto's Glue and Athena: `extract` registers tables, exact partition
//! locations and views; a rerun writes nothing; stale partitions leave Glue while another
//! LMS's stay; schema drift only appends; `catalog sync --dry-run` writes nothing; `check`
//! probes Glue and Athena. (Batch limits, paging and FAILED queries, which moto does not
//! reproduce, are unit-tested in src/catalog/tests.rs.)

mod common;

use common::*;

async fn seed(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            module_id varchar(255) NOT NULL,
            grade double NULL,
            done tinyint(1) NOT NULL DEFAULT 0,
            state longtext NULL,
            modified datetime(6) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec(
        "INSERT INTO courseware_studentmodule (course_id, module_id, grade, done, state, modified) VALUES
         ('course-v1:Org+X+Run', 'block-v1:a', 1.5, 1, 'line1\\nline2', '2025-01-01 00:00:00.123456'),
         ('course-v1:Org+X+Run', 'block-v1:b', NULL, 0, NULL, '2025-01-01 00:00:00'),
         ('course-v1:UnivCafé+Y+Run:1', 'block-v1:c', 0, 0, '', '2025-01-02 00:00:00'),
         ('course-v1:Gone+Z+1', 'block-v1:d', 2, 1, 'x', '2025-01-03 00:00:00')",
    )
    .await;
    db.exec(
        "CREATE TABLE auth_userprofile (
            id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
            name varchar(255) NOT NULL,
            year_of_birth int(11) NULL,
            goals longtext NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec("INSERT INTO auth_userprofile (name, year_of_birth, goals) VALUES ('Ana', 1990, NULL)")
        .await;
    db
}

fn config(glue_db: &str, db: &TestDb, bucket: &str) -> String {
    lake_config(
        &db.url(),
        &format!("s3://{bucket}"),
        &format!(
            r#"
            endpoint = "{}"
            {}
            [[tables]]
            name = "courseware_studentmodule"
            partition_by = "course_id"
            [[tables]]
            name = "auth_userprofile"
            "#,
            s3_endpoint(),
            catalog_config(glue_db, bucket),
        ),
    )
}

/// Prefixes (with trailing `/`) under which the table's files were written.
async fn file_prefixes(s3: &aws_sdk_s3::Client, bucket: &str, table: &str) -> Vec<String> {
    let mut dirs: Vec<String> = s3_keys(s3, bucket, &format!("openedx/{table}/"))
        .await
        .into_iter()
        .map(|k| k[..=k.rfind('/').unwrap()].to_string())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

#[tokio::test(flavor = "multi_thread")]
async fn extract_registers_exact_partitions_and_views_and_a_rerun_writes_nothing() {
    let test = "cat_extract";
    let db = seed(test).await;
    let (s3, glue, athena) = (
        s3_client().await,
        glue_client().await,
        athena_client().await,
    );
    let bucket = fresh_bucket(&s3, "cat-extract").await;
    let gdb = fresh_glue_database(test);
    let cfg = config(&gdb, &db, &bucket);

    let out = edlake(&cfg, &["extract"], &[("EDLAKE_CATALOG__ENABLED", "true")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("catalog +3 -0 ~0 partitions"),
        "{}",
        out.stdout
    );

    // The raw table: every column a string, MySQL types in the comments, Panorama's name.
    let raw = glue
        .get_table()
        .database_name(&gdb)
        .name("openedx_raw_courseware_studentmodule")
        .send()
        .await
        .unwrap();
    let raw = raw.table().unwrap();
    assert_eq!(raw.table_type(), Some("EXTERNAL_TABLE"));
    let keys: Vec<&str> = raw.partition_keys().iter().map(|k| k.name()).collect();
    assert_eq!(keys, ["lms", "course_id"]);
    let sd = raw.storage_descriptor().unwrap();
    assert_eq!(
        sd.location(),
        Some(format!("s3://{bucket}/openedx/courseware_studentmodule/").as_str())
    );
    let cols: Vec<(&str, &str, &str)> = sd
        .columns()
        .iter()
        .map(|c| (c.name(), c.r#type().unwrap(), c.comment().unwrap()))
        .collect();
    // Panorama's column order for the built-in table (state before grade), not the
    // physical order of this test's table.
    assert_eq!(
        cols,
        [
            ("id", "string", "bigint(20) unsigned"),
            ("module_id", "string", "varchar(255)"),
            ("state", "string", "longtext"),
            ("grade", "string", "double"),
            ("done", "string", "tinyint(1)"),
            ("modified", "string", "datetime(6)"),
        ]
    );
    let serde = sd.serde_info().unwrap();
    assert_eq!(
        serde.serialization_library(),
        Some("org.apache.hadoop.hive.serde2.OpenCSVSerde")
    );
    let sp = serde.parameters().unwrap();
    assert_eq!(sp["separatorChar"], ",");
    assert_eq!(sp["quoteChar"], "\"");
    assert_eq!(sp["escapeChar"], "\\");
    assert_eq!(raw.parameters().unwrap()["skip.header.line.count"], "1");

    // Partitions: raw values, and Location exactly the prefix the files are under.
    let parts = glue_partitions(&glue, &gdb, "openedx_raw_courseware_studentmodule").await;
    let values: Vec<&str> = parts.iter().map(|(v, _)| v[1].as_str()).collect();
    assert_eq!(
        values,
        [
            "course-v1:Gone+Z+1",
            "course-v1:Org+X+Run",
            "course-v1:UnivCafé+Y+Run:1"
        ]
    );
    assert!(parts.iter().all(|(v, _)| v[0] == "lms.example.com"));
    let locations: Vec<String> = parts.iter().map(|(_, l)| l.clone()).collect();
    let mut expected: Vec<String> = file_prefixes(&s3, &bucket, "courseware_studentmodule")
        .await
        .into_iter()
        .map(|p| format!("s3://{bucket}/{p}"))
        .collect();
    expected.sort();
    let mut sorted = locations.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    assert!(locations
        .iter()
        .any(|l| l.ends_with("/course_id=course-v1%3AUnivCafé+Y+Run%3A1/")));
    // An unpartitioned table has its one `lms=` partition.
    let parts = glue_partitions(&glue, &gdb, "openedx_raw_auth_userprofile").await;
    assert_eq!(parts.len(), 1);
    assert_eq!(
        parts[0].1,
        format!("s3://{bucket}/openedx/auth_userprofile/lms=lms.example.com/")
    );

    // One view statement per table, typed and decoding the dialect.
    let views = athena_queries(&athena, &format!("\"{gdb}\"")).await;
    assert_eq!(views.len(), 2, "{views:#?}");
    let sm = views
        .iter()
        .find(|v| v.contains("openedx_table_courseware_studentmodule"))
        .unwrap();
    assert!(sm.starts_with(&format!(
        "CREATE OR REPLACE VIEW \"{gdb}\".\"openedx_table_courseware_studentmodule\" AS"
    )));
    assert!(sm.contains(r#"TRY_CAST(NULLIF("modified", '\N') AS timestamp(6)) AS "modified""#));
    assert!(sm.contains(r#"(NULLIF("done", '\N') <> '0') AS "done""#));
    assert!(sm.contains(r#"TRY_CAST(NULLIF("id", '\N') AS decimal(20,0)) AS "id""#));
    assert!(sm.contains(&format!(
        "FROM \"{gdb}\".\"openedx_raw_courseware_studentmodule\""
    )));
    emulate_athena_views(&glue, &views).await;

    // Another LMS shares the table; its partition must survive this LMS's runs.
    let other_location = format!(
        "s3://{bucket}/openedx/courseware_studentmodule/lms=other.example.com/course_id=course-v1%3AO+O+O/"
    );
    glue.batch_create_partition()
        .database_name(&gdb)
        .table_name("openedx_raw_courseware_studentmodule")
        .partition_input_list(
            aws_sdk_glue::types::PartitionInput::builder()
                .values("other.example.com")
                .values("course-v1:O+O+O")
                .storage_descriptor(
                    aws_sdk_glue::types::StorageDescriptor::builder()
                        .location(&other_location)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    // Nothing changed: a full rerun makes no partition write and no Athena query (an
    // incremental one no catalog call at all: tests/incremental.rs).
    let out = edlake(
        &cfg,
        &["extract", "--full"],
        &[("EDLAKE_CATALOG__ENABLED", "true")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout.matches("catalog +0 -0 ~0 partitions\n").count(),
        2,
        "{}",
        out.stdout
    );
    assert_eq!(
        athena_queries(&athena, &format!("\"{gdb}\"")).await.len(),
        2
    );

    // A course loses its rows: at the next full run its files and its partition go; the
    // other LMS's stays.
    db.exec("DELETE FROM courseware_studentmodule WHERE course_id = 'course-v1:Gone+Z+1'")
        .await;
    let out = edlake(
        &cfg,
        &["extract", "--full"],
        &[("EDLAKE_CATALOG__ENABLED", "true")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("catalog +0 -1 ~0 partitions"),
        "{}",
        out.stdout
    );
    let parts = glue_partitions(&glue, &gdb, "openedx_raw_courseware_studentmodule").await;
    let mut values: Vec<&str> = parts.iter().map(|(v, _)| v[1].as_str()).collect();
    values.sort();
    assert_eq!(
        values,
        [
            "course-v1:O+O+O",
            "course-v1:Org+X+Run",
            "course-v1:UnivCafé+Y+Run:1"
        ]
    );
    assert_eq!(
        athena_queries(&athena, &format!("\"{gdb}\"")).await.len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn new_columns_are_appended_and_lost_columns_read_as_null() {
    let test = "cat_drift";
    let db = seed(test).await;
    let (s3, glue, athena) = (
        s3_client().await,
        glue_client().await,
        athena_client().await,
    );
    let bucket = fresh_bucket(&s3, "cat-drift").await;
    let gdb = fresh_glue_database(test);
    let cfg = config(&gdb, &db, &bucket);
    let on = [("EDLAKE_CATALOG__ENABLED", "true")];
    let out = edlake(&cfg, &["extract", "--table", "auth_userprofile"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    emulate_athena_views(&glue, &athena_queries(&athena, &format!("\"{gdb}\"")).await).await;

    // An upgrade adds a column in the middle and drops one.
    db.exec("ALTER TABLE auth_userprofile ADD COLUMN country varchar(2) NULL AFTER name, DROP COLUMN year_of_birth")
        .await;
    db.exec("UPDATE auth_userprofile SET country = 'AR'").await;
    let out = edlake(&cfg, &["check"], &on);
    assert!(
        out.stdout
            .contains("new in the source: country (the next extract or catalog sync appends them)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("gone from the source: year_of_birth (kept, read as NULL)"),
        "{}",
        out.stdout
    );

    let out = edlake(&cfg, &["extract", "--table", "auth_userprofile"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    let raw = glue
        .get_table()
        .database_name(&gdb)
        .name("openedx_raw_auth_userprofile")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = raw
        .table()
        .unwrap()
        .storage_descriptor()
        .unwrap()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(names, ["id", "name", "year_of_birth", "goals", "country"]);
    // The file lines up with the Glue columns: the lost column is NULL, the new one last.
    let key = "openedx/auth_userprofile/lms=lms.example.com/auth_userprofile.csv";
    let (header, rows) = read_table_file(&s3_get(&s3, &bucket, key).await);
    assert_eq!(header, ["id", "name", "year_of_birth", "goals", "country"]);
    assert_eq!(rows[0]["year_of_birth"], None);
    assert_eq!(rows[0]["country"].as_deref(), Some("AR"));
    // The view is replaced to match.
    let views = athena_queries(&athena, "openedx_table_auth_userprofile").await;
    let last = views.iter().rfind(|v| v.contains(&gdb)).unwrap();
    assert!(last.contains(r#""country""#), "{last}");
    assert!(
        last.contains(r#"TRY_CAST(NULLIF("year_of_birth", '\N') AS bigint)"#),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn catalog_sync_dry_run_writes_nothing_then_sync_registers_the_lake() {
    let test = "cat_sync";
    let db = seed(test).await;
    let (s3, glue) = (s3_client().await, glue_client().await);
    let bucket = fresh_bucket(&s3, "cat-sync").await;
    let gdb = fresh_glue_database(test);
    let cfg = config(&gdb, &db, &bucket);
    // Written with the catalog off, e.g. by an older run.
    let out = edlake(&cfg, &["extract"], &[("EDLAKE_CATALOG__ENABLED", "false")]);
    assert_eq!(out.code, 0, "{}", out.all());

    let on = [("EDLAKE_CATALOG__ENABLED", "true")];
    let out = edlake(&cfg, &["catalog", "sync", "--dry-run"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(&format!("would create database {gdb}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "would create 3 partitions in {gdb}.openedx_raw_courseware_studentmodule"
        )),
        "{}",
        out.stdout
    );
    assert!(
        glue.get_database().name(&gdb).send().await.is_err(),
        "dry run created the database"
    );

    let out = edlake(
        &cfg,
        &["catalog", "sync", "--table", "courseware_studentmodule"],
        &on,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("courseware_studentmodule"),
        "{}",
        out.stdout
    );
    let parts = glue_partitions(&glue, &gdb, "openedx_raw_courseware_studentmodule").await;
    assert_eq!(parts.len(), 3);
    let mut locations: Vec<String> = parts.into_iter().map(|(_, l)| l).collect();
    locations.sort();
    let expected: Vec<String> = file_prefixes(&s3, &bucket, "courseware_studentmodule")
        .await
        .into_iter()
        .map(|p| format!("s3://{bucket}/{p}"))
        .collect();
    assert_eq!(locations, expected);
    // Only the selected table.
    assert!(glue
        .get_table()
        .database_name(&gdb)
        .name("openedx_raw_auth_userprofile")
        .send()
        .await
        .is_err());

    // A local lake with the DuckDB catalog off has no catalog: a usage error.
    let local = tempfile::tempdir().unwrap();
    let out = edlake(
        &lake_config(&db.url(), &local.path().display().to_string(), ""),
        &["catalog", "sync"],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.starts_with("error: every catalog is disabled"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_probes_glue_and_athena() {
    let test = "cat_check";
    let db = seed(test).await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "cat-check").await;
    let gdb = fresh_glue_database(test);
    let cfg = config(&gdb, &db, &bucket);
    let on = [("EDLAKE_CATALOG__ENABLED", "true")];

    let out = edlake(&cfg, &["check"], &on);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(&format!("glue database {gdb}"))
            && out.stdout.contains("does not exist"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("athena query SELECT 1"),
        "{}",
        out.stdout
    );

    let out = edlake(&cfg, &["extract"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    let out = edlake(&cfg, &["check"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    for line in [
        "glue table openedx_raw_courseware_studentmodule",
        "in step with the source",
        "athena workgroup primary",
    ] {
        assert!(out.stdout.contains(line), "{line}: {}", out.stdout);
    }

    // A workgroup that does not exist fails the probe with Athena's answer.
    let out = edlake(
        &cfg,
        &["check"],
        &[
            ("EDLAKE_CATALOG__ENABLED", "true"),
            ("EDLAKE_CATALOG__ATHENA_WORKGROUP", "no-such-workgroup"),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("athena workgroup no-such-workgroup")
                && l.contains("FAILED")
                && l.contains("does not exist")),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_catalog_fails_before_anything_is_written() {
    let test = "cat_down";
    let db = seed(test).await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "cat-down").await;
    let cfg = config(&fresh_glue_database(test), &db, &bucket);
    let out = edlake(
        &cfg,
        &["extract"],
        &[
            ("EDLAKE_CATALOG__ENABLED", "true"),
            ("EDLAKE_CATALOG__ENDPOINT", "http://127.0.0.1:9"),
            ("EDLAKE_CATALOG__MAX_ATTEMPTS", "1"),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(
        errors[0].contains("cannot reach Glue at http://127.0.0.1:9 for GetDatabase"),
        "{}",
        out.stderr
    );
    assert!(s3_keys(&s3, &bucket, "openedx/").await.is_empty());
}
