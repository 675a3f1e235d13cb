//! `edlake extract` into a local lake: Panorama's layout with Hive escaping, one scan routed
//! to partitions under a small memory budget, stale partitions removed, table selection,
//! password exclusion, and failures that leave nothing half-written.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

const COURSES: &[&str] = &[
    "course-v1:edX+DemoX+Demo_Course",
    "course-v1:UnivCafé+Ciência+Run:1",
    "MITx/6.002x/2012_Fall",
    "ccx-v1:edX+DemoX+Demo_Course+ccx@3",
    "course-v1:Org+Small+2024",
];

async fn studentmodule_db(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
            module_type varchar(32) NOT NULL,
            module_id varchar(255) NOT NULL,
            course_id varchar(255) NOT NULL,
            state longtext NULL,
            grade double NULL,
            max_grade double NULL,
            done varchar(8) NOT NULL,
            created datetime(6) NOT NULL,
            modified datetime(6) NOT NULL,
            student_id int NOT NULL,
            KEY (course_id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        CREATE TABLE auth_user (
            id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
            password varchar(128) NOT NULL,
            last_login datetime(6) NULL,
            username varchar(150) NOT NULL,
            email varchar(254) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        INSERT INTO auth_user (password, last_login, username, email) VALUES
            ('pbkdf2_sha256$600000$salt$hash1', NULL, 'ada', 'ada@example.com'),
            ('pbkdf2_sha256$600000$salt$hash2', '2024-01-01 00:00:00', 'bob', 'bob@example.com');",
    )
    .await;
    // Skewed: the first course holds most rows. A recursive CTE generates them server-side.
    let sizes = [6000, 1500, 300, 40, 3];
    let mut conn = db.generator_conn().await;
    for (course, n) in COURSES.iter().zip(sizes) {
        sqlx::query(
            "INSERT INTO courseware_studentmodule
               (module_type, module_id, course_id, state, grade, max_grade, done, created, modified, student_id)
             WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
             SELECT 'problem', CONCAT('block-v1:x+type@problem+block@', n), ?,
                    CONCAT('{\"attempts\": ', n % 5, ', \"answer\": \"a,\\\\\"b\\\\\"\\nc\"}'),
                    IF(n % 3 = 0, NULL, n / 10), 1, 'na',
                    '2024-01-01 00:00:00.123456', '2024-01-02 00:00:00', n
             FROM seq",
        )
        .bind(n)
        .bind(*course)
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    db
}

fn config(db: &TestDb, lake: &Path, extra_tables: &str) -> String {
    lake_config(
        &db.url(),
        &lake.display().to_string(),
        &format!(
            r#"
            [extract]
            memory_budget_mb = 1
            [[tables]]
            name = "courseware_studentmodule"
            partition_by = "course_id"
            [[tables]]
            name = "auth_user"
            columns = ["id", "password", "username", "email", "last_login"]
            {extra_tables}
            "#
        ),
    )
}

fn partition_files(lake: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(lake)
        .into_iter()
        .filter(|f| f.starts_with("openedx/courseware_studentmodule/"))
        .map(|f| {
            let data = std::fs::read(lake.join(&f)).unwrap();
            (f, data)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_layout_and_contents() {
    let db = studentmodule_db("extract_layout").await;
    let lake = tempfile::tempdir().unwrap();
    let out = edlake(&config(&db, lake.path(), ""), &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    // Progress bars are for terminals; a pipe gets none (no cursor escapes).
    assert!(!out.all().contains('\x1b'), "{}", out.all());

    let files = partition_files(lake.path());
    let base = "openedx/courseware_studentmodule/lms=lms.example.com";
    let expected: Vec<String> = [
        "course_id=MITx%2F6.002x%2F2012_Fall",
        "course_id=ccx-v1%3AedX+DemoX+Demo_Course+ccx@3",
        "course_id=course-v1%3AOrg+Small+2024",
        "course_id=course-v1%3AUnivCafé+Ciência+Run%3A1",
        "course_id=course-v1%3AedX+DemoX+Demo_Course",
    ]
    .iter()
    .map(|p| format!("{base}/{p}/courseware_studentmodule.csv"))
    .collect();
    assert_eq!(files.keys().cloned().collect::<Vec<_>>(), expected);

    // Every row is in its course's file exactly once; course_id is the partition, not a column.
    let mut total = 0;
    for (path, data) in &files {
        let (header, rows) = read_table_file(data);
        assert_eq!(
            header,
            [
                "id",
                "module_type",
                "module_id",
                "state",
                "grade",
                "max_grade",
                "done",
                "created",
                "modified",
                "student_id"
            ]
        );
        let course = lake::unescape(
            path.split("course_id=")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap(),
        );
        let want: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM courseware_studentmodule WHERE course_id = ?")
                .bind(&course)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(rows.len() as i64, want, "{course}");
        let first = &rows[0];
        assert!(
            first["state"]
                .as_deref()
                .unwrap()
                .contains("\"a,\\\"b\\\"\nc\""),
            "{first:?}"
        );
        assert_eq!(
            first["created"].as_deref(),
            Some("2024-01-01 00:00:00.123456")
        );
        assert_eq!(
            first["modified"].as_deref(),
            Some("2024-01-02 00:00:00.000000")
        );
        total += rows.len();
    }
    assert_eq!(total, 7843);
    assert!(!files_under(lake.path())
        .iter()
        .any(|f| f.contains(".edlake-tmp")));

    // Summary: one line per table with rows, partitions, files, bytes.
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("courseware_studentmodule"))
        .unwrap();
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cols[1..4], ["7843", "5", "5"], "{line}");
    let bytes: usize = files.values().map(Vec::len).sum();
    assert_eq!(cols[4], bytes.to_string());
    assert_eq!(cols.last(), Some(&"ok"));

    // The password hash never reaches the lake, even when pinned.
    let users = std::fs::read(
        lake.path()
            .join("openedx/auth_user/lms=lms.example.com/auth_user.csv"),
    )
    .unwrap();
    let (header, rows) = read_table_file(&users);
    assert_eq!(header, ["id", "username", "email", "last_login"]);
    assert_eq!(rows.len(), 2);
    assert!(!String::from_utf8_lossy(&users).contains("pbkdf2"));
    assert_eq!(rows[0]["last_login"], None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_replaces_and_drops_stale_partitions() {
    let db = studentmodule_db("extract_rerun").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&db, lake.path(), "");
    assert_eq!(edlake(&cfg, &["extract"], &[]).code, 0);
    let before = partition_files(lake.path());

    // Same data: byte-identical files.
    assert_eq!(edlake(&cfg, &["extract", "--full"], &[]).code, 0);
    assert_eq!(partition_files(lake.path()), before);

    // A course loses its rows, another changes: at the next full run its directory goes,
    // the other is replaced.
    db.exec("DELETE FROM courseware_studentmodule WHERE course_id = 'MITx/6.002x/2012_Fall'")
        .await;
    db.exec("UPDATE courseware_studentmodule SET grade = 42 WHERE course_id = 'course-v1:Org+Small+2024'").await;
    let out = edlake(
        &cfg,
        &["extract", "--full", "--table", "courseware_studentmodule"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 stale removed"), "{}", out.stdout);
    let after = partition_files(lake.path());
    assert_eq!(after.len(), 4);
    assert!(!lake
        .path()
        .join("openedx/courseware_studentmodule/lms=lms.example.com/course_id=MITx%2F6.002x%2F2012_Fall")
        .exists());
    let small = after
        .iter()
        .find(|(k, _)| k.contains("Org+Small"))
        .map(|(_, v)| v)
        .unwrap();
    let (_, rows) = read_table_file(small);
    assert!(rows.iter().all(|r| r["grade"].as_deref() == Some("42")));

    // --table selected only that table: auth_user still from the first run, untouched.
    assert!(!out.stdout.contains("auth_user"));

    // Everything deleted: no partition left at all after a full run.
    db.exec("DELETE FROM courseware_studentmodule").await;
    assert_eq!(edlake(&cfg, &["extract", "--full"], &[]).code, 0);
    assert!(partition_files(lake.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_table_fails_the_run_and_leaves_nothing_behind() {
    let db = studentmodule_db("extract_failing").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(
        &db,
        lake.path(),
        r#"
        [[tables]]
        name = "missing_table"
        "#,
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("FAILED"));
    let error_lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(error_lines.len(), 1, "{}", out.stderr);
    assert!(
        error_lines[0].contains(
            "error: table missing_table: does not exist in database edlake_t_extract_failing"
        ),
        "{}",
        error_lines[0]
    );
    // The good tables are complete; the failed one has nothing; no staging left.
    let files = files_under(lake.path());
    assert!(files.iter().any(|f| f.starts_with("openedx/auth_user/")));
    assert_eq!(partition_files(lake.path()).len(), 5);
    assert!(!files
        .iter()
        .any(|f| f.contains("missing_table") || f.contains(".edlake-tmp")));
}

mod lake {
    /// Hive's unescapePathName.
    pub fn unescape(s: &str) -> String {
        edlake::lake::unescape_path_name(s)
    }
}

/// A scan that dies halfway (the server kills the query) must leave the previous files
/// exactly as they were, and no staging behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_killed_midway_publishes_nothing() {
    let db = TestDb::new("extract_killed").await;
    db.exec(
        "CREATE TABLE t (id int PRIMARY KEY, course_id varchar(255), x varchar(20));
         INSERT INTO t WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 300)
           SELECT n, IF(n % 2, 'course-v1:A+B+C', 'course-v1:D+E+F'), 'v1' FROM seq;
         -- One row every 10 ms: the scan lasts ~3 s, long enough to be killed midway.
         CREATE VIEW slow_t AS SELECT id, course_id, x, SLEEP(0.01) AS pause FROM t;",
    )
    .await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        "[[tables]]\nname = \"slow_t\"\npartition_by = \"course_id\"",
    );
    assert_eq!(edlake(&cfg, &["extract"], &[]).code, 0);
    let snapshot = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
        files_under(dir)
            .into_iter()
            .map(|f| (f.clone(), std::fs::read(dir.join(f)).unwrap()))
            .collect()
    };
    let before = snapshot(lake.path());
    assert_eq!(before.len(), 2);

    db.exec("UPDATE t SET x = 'v2'").await;
    let cfg_path = lake.path().parent().unwrap().join("edlake-killed.toml");
    std::fs::write(&cfg_path, &cfg).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_edlake"))
        .args(["--config", cfg_path.to_str().unwrap(), "extract"])
        .env("EDLAKE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the scan runs, let it stream a while, then kill the query server-side.
    let mut killed = false;
    for _ in 0..100 {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE 'SELECT %slow_t%'",
        )
        .bind(&db.name)
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        if let Some(id) = id {
            tokio::time::sleep(std::time::Duration::from_millis(700)).await;
            db.exec(&format!("KILL QUERY {id}")).await;
            killed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(killed, "the scan never showed up in the process list");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("error:")).unwrap();
    assert!(
        line.starts_with("error: table slow_t: ") && line.contains("while reading the table"),
        "{line}"
    );
    assert_eq!(
        snapshot(lake.path()),
        before,
        "the previous files are untouched"
    );
    assert!(!std::fs::read_dir(lake.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".edlake-tmp")));
    std::fs::remove_file(cfg_path).unwrap();
}

/// Thousands of courses next to one huge course, under a 1 MiB budget: every partition is
/// complete and holds exactly its rows, however often it was spilled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_partitions_under_a_small_budget() {
    let db = TestDb::new("extract_many").await;
    db.exec(
        "CREATE TABLE m (id int PRIMARY KEY, course_id varchar(255), payload text)
         ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    let mut conn = db.generator_conn().await;
    // 3,000 small courses of 4 rows interleaved with one course of 12,000 rows of ~500 B.
    sqlx::raw_sql(
        "INSERT INTO m WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 24000)
         SELECT n,
                IF(n % 2 = 0, 'course-v1:Big+Course+1', CONCAT('course-v1:Org', n DIV 2 MOD 3000, '+C+R')),
                IF(n % 2 = 0, REPEAT('x', 500), CONCAT('row ', n))
         FROM seq",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let lake = tempfile::tempdir().unwrap();
    let cfg = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        "[extract]\nmemory_budget_mb = 1\n[[tables]]\nname = \"m\"\npartition_by = \"course_id\"",
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let files = files_under(lake.path());
    assert_eq!(files.len(), 3001);
    let mut rows = 0;
    for f in &files {
        let (_, r) = read_table_file(&std::fs::read(lake.path().join(f)).unwrap());
        let want = if f.contains("Big+Course") { 12000 } else { 4 };
        assert_eq!(r.len(), want, "{f}");
        rows += r.len();
    }
    assert_eq!(rows, 24000);
}
