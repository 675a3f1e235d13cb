//! Base partitions (`lms=…/state=…/school=…/`): the paths of every table, the state
//! records, Glue's partition keys and values, the local catalog and the tracking logs; and
//! two installations sharing a lake that differ in one base partition never touch each
//! other's files, partitions, leases or watermarks.

mod common;

use common::*;

/// Each row as `a|b|…`, NULL as `NULL`.
fn joined(result: &QueryResult) -> Vec<String> {
    result
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| v.as_deref().unwrap_or("NULL"))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

async fn seed(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            module_id varchar(255) NOT NULL,
            grade double NULL,
            modified datetime(6) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec(
        "INSERT INTO courseware_studentmodule (course_id, module_id, grade, modified) VALUES
         ('course-v1:Org+X+Run', 'block-v1:a', 1.5, '2025-01-01 00:00:00'),
         ('course-v1:Org+X+Run', 'block-v1:b', NULL, '2025-01-01 00:00:00'),
         ('course-v1:Gone+Z+1', 'block-v1:d', 2, '2025-01-03 00:00:00')",
    )
    .await;
    db.exec(
        "CREATE TABLE auth_userprofile (
            id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
            name varchar(255) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec("INSERT INTO auth_userprofile (name) VALUES ('Ana')")
        .await;
    db
}

/// The base partitions of one school of the state network: `lms` first (from lms_host),
/// then the state and the school.
fn base(school: &str) -> String {
    format!(
        "[[base_partitions]]\nname = \"lms\"\n\
         [[base_partitions]]\nname = \"state\"\nvalue = \"CA\"\n\
         [[base_partitions]]\nname = \"school\"\nvalue = \"{school}\"\n"
    )
}

fn s3_config(db: &TestDb, bucket: &str, glue_db: &str, school: &str) -> String {
    format!(
        "{}{}",
        lake_config(
            &db.url(),
            &format!("s3://{bucket}"),
            &format!(
                "endpoint = \"{}\"\n{}\n[[tables]]\nname = \"courseware_studentmodule\"\n\
                 partition_by = \"course_id\"\n[[tables]]\nname = \"auth_userprofile\"\n",
                s3_endpoint(),
                catalog_config(glue_db, bucket)
            ),
        ),
        base(school)
    )
}

const LINCOLN: &str = "lms=lms.example.com/state=CA/school=Lincoln High%2FNorth";

#[tokio::test(flavor = "multi_thread")]
async fn three_levels_write_the_paths_state_records_and_glue_keys() {
    let test = "base_three";
    let db = seed(test).await;
    let (s3, glue) = (s3_client().await, glue_client().await);
    let bucket = fresh_bucket(&s3, "base-three").await;
    let gdb = fresh_glue_database(test);
    let cfg = s3_config(&db, &bucket, &gdb, "Lincoln High/North");

    let out = edlake(&cfg, &["extract"], &[("EDLAKE_CATALOG__ENABLED", "true")]);
    assert_eq!(out.code, 0, "{}", out.all());

    let keys = all_s3_keys(&s3, &bucket, "openedx/").await;
    for expected in [
        format!("openedx/courseware_studentmodule/{LINCOLN}/course_id=course-v1%3AOrg+X+Run/courseware_studentmodule.csv"),
        format!("openedx/courseware_studentmodule/{LINCOLN}/course_id=course-v1%3AGone+Z+1/courseware_studentmodule.csv"),
        format!("openedx/auth_userprofile/{LINCOLN}/auth_userprofile.csv"),
        format!("openedx/_edlake/watermarks/{LINCOLN}/courseware_studentmodule.json"),
    ] {
        assert!(keys.contains(&expected), "{expected} not in {keys:#?}");
    }
    // Every table file and state record is under the three levels.
    for key in keys.iter().filter(|k| !k.contains("/_edlake/probes/")) {
        assert!(key.contains(&format!("/{LINCOLN}/")), "{key}");
    }

    let raw = glue
        .get_table()
        .database_name(&gdb)
        .name("openedx_raw_courseware_studentmodule")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = raw
        .table()
        .unwrap()
        .partition_keys()
        .iter()
        .map(|k| k.name())
        .collect();
    assert_eq!(names, ["lms", "state", "school", "course_id"]);
    let parts = glue_partitions(&glue, &gdb, "openedx_raw_courseware_studentmodule").await;
    assert_eq!(
        parts,
        [
            (
                vec![
                    "lms.example.com".to_string(),
                    "CA".into(),
                    "Lincoln High/North".into(),
                    "course-v1:Gone+Z+1".into()
                ],
                format!("s3://{bucket}/openedx/courseware_studentmodule/{LINCOLN}/course_id=course-v1%3AGone+Z+1/")
            ),
            (
                vec![
                    "lms.example.com".to_string(),
                    "CA".into(),
                    "Lincoln High/North".into(),
                    "course-v1:Org+X+Run".into()
                ],
                format!("s3://{bucket}/openedx/courseware_studentmodule/{LINCOLN}/course_id=course-v1%3AOrg+X+Run/")
            ),
        ]
    );
    let profile = glue_partitions(&glue, &gdb, "openedx_raw_auth_userprofile").await;
    assert_eq!(
        profile,
        [(
            vec![
                "lms.example.com".to_string(),
                "CA".into(),
                "Lincoln High/North".into()
            ],
            format!("s3://{bucket}/openedx/auth_userprofile/{LINCOLN}/")
        )]
    );
    // The views end with the base partitions, in order, as Panorama's end with `lms`.
    let athena = athena_client().await;
    let views = athena_queries(
        &athena,
        &format!("\"{gdb}\".\"openedx_table_auth_userprofile\""),
    )
    .await;
    let view = views.last().expect("the auth_userprofile view was created");
    let at = |name: &str| {
        view.rfind(&format!("\"{name}\""))
            .unwrap_or_else(|| panic!("{name} in {view}"))
    };
    assert!(
        at("name") < at("lms") && at("lms") < at("state") && at("state") < at("school"),
        "{view}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_schools_sharing_a_lake_never_touch_each_other() {
    let test = "base_two";
    let (db_a, db_b) = (
        seed(&format!("{test}_a")).await,
        seed(&format!("{test}_b")).await,
    );
    let (s3, glue) = (s3_client().await, glue_client().await);
    let bucket = fresh_bucket(&s3, "base-two").await;
    let gdb = fresh_glue_database(test);
    let (cfg_a, cfg_b) = (
        s3_config(&db_a, &bucket, &gdb, "a"),
        s3_config(&db_b, &bucket, &gdb, "b"),
    );
    let on = [("EDLAKE_CATALOG__ENABLED", "true")];
    for cfg in [&cfg_a, &cfg_b] {
        let out = edlake(cfg, &["extract"], &on);
        assert_eq!(out.code, 0, "{}", out.all());
    }
    let school = |s: &str| format!("/school={s}/");
    let b_keys = |keys: &[String]| -> Vec<String> {
        keys.iter()
            .filter(|k| k.contains(&school("b")))
            .cloned()
            .collect()
    };
    let before = all_s3_keys(&s3, &bucket, "openedx/").await;
    let b_before = b_keys(&before);
    assert!(
        b_before
            .iter()
            .any(|k| k.contains("course_id=course-v1%3AGone+Z+1/")),
        "{b_before:#?}"
    );
    for kind in ["leases", "watermarks"] {
        for s in ["a", "b"] {
            let key = format!("openedx/_edlake/{kind}/lms=lms.example.com/state=CA/school={s}/courseware_studentmodule.json");
            assert!(before.contains(&key), "{key} not in {before:#?}");
        }
    }
    let b_parts = glue_partitions(&glue, &gdb, "openedx_raw_courseware_studentmodule")
        .await
        .into_iter()
        .filter(|(values, _)| values[2] == "b")
        .collect::<Vec<_>>();
    assert_eq!(b_parts.len(), 2, "{b_parts:?}");

    // School a loses a course: its full run sweeps its own stale files and partitions,
    // and only those; a catalog sync of school a does the same.
    db_a.exec("DELETE FROM courseware_studentmodule WHERE course_id = 'course-v1:Gone+Z+1'")
        .await;
    let out = edlake(&cfg_a, &["extract", "--full"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    let out = edlake(&cfg_a, &["catalog", "sync"], &on);
    assert_eq!(out.code, 0, "{}", out.all());

    let after = all_s3_keys(&s3, &bucket, "openedx/").await;
    assert_eq!(b_keys(&after), b_before, "school b's files changed");
    assert!(
        !after
            .iter()
            .any(|k| k.contains(&school("a")) && k.contains("Gone")),
        "{after:#?}"
    );
    let parts = glue_partitions(&glue, &gdb, "openedx_raw_courseware_studentmodule").await;
    let of = |s: &str| {
        parts
            .iter()
            .filter(|(v, _)| v[2] == s)
            .map(|(v, _)| v[3].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("a"), ["course-v1:Org+X+Run"]);
    assert_eq!(of("b"), ["course-v1:Gone+Z+1", "course-v1:Org+X+Run"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn local_lake_duckdb_and_tracking_logs_take_the_base_partitions() {
    let test = "base_local";
    let db = seed(test).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let live = logs.join("tracking.log");
    std::fs::write(&live, b"").unwrap();
    std::fs::write(
        logs.join("tracking.log-20240102-1704153600"),
        "{\"name\": \"t\", \"time\": \"2024-01-02T10:00:00+00:00\", \"event\": {}}\n",
    )
    .unwrap();
    // Given through the environment, as a CronJob's manifest would.
    let cfg = lake_config(
        &db.url(),
        &lake.display().to_string(),
        &format!(
            "[tracking_logs]\npath = \"{}\"\ngrace = \"1s\"\n[[tables]]\nname = \"courseware_studentmodule\"\n\
             partition_by = \"course_id\"\n",
            live.display()
        ),
    );
    let env = [
        (
            "EDLAKE_BASE_PARTITIONS",
            r#"[{name="lms"},{name="state",value="CA"},{name="school",value="x"}]"#,
        ),
        ("EDLAKE_CATALOG__DUCKDB", "true"),
    ];
    let out = edlake(&cfg, &["extract"], &env);
    assert_eq!(out.code, 0, "{}", out.all());
    std::thread::sleep(std::time::Duration::from_millis(1300));
    let out = edlake(&cfg, &["logs", "ship"], &env);
    assert_eq!(out.code, 0, "{}", out.all());

    let files = files_under(&lake);
    let base = "lms=lms.example.com/state=CA/school=x/";
    assert!(
        files.iter().any(|f| f.starts_with(&format!(
            "openedx/tracking_logs/{base}year=2024/month=01/day=02/"
        ))),
        "{files:#?}"
    );
    assert!(
        files.contains(&format!(
            "openedx/courseware_studentmodule/{base}course_id=course-v1%3AOrg+X+Run/courseware_studentmodule.csv"
        )),
        "{files:#?}"
    );
    let result = duckdb_query(
        &catalog_file(&lake),
        "SELECT lms, state, school, course_id, count(*) FROM panorama.openedx_table_courseware_studentmodule \
         GROUP BY ALL ORDER BY course_id",
        &DuckDbOptions::default(),
    );
    assert_eq!(
        joined(&result),
        [
            "lms.example.com|CA|x|course-v1:Gone+Z+1|1",
            "lms.example.com|CA|x|course-v1:Org+X+Run|2"
        ],
        "{result:?}"
    );
    let result = duckdb_query(
        &catalog_file(&lake),
        "SELECT lms, state, school, year, month, day, count(*) FROM panorama.openedx_table_tracking_logs GROUP BY ALL",
        &DuckDbOptions::default(),
    );
    assert_eq!(
        joined(&result),
        ["lms.example.com|CA|x|2024|01|02|1"],
        "{result:?}"
    );
}
