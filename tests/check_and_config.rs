//! `edlake check` probes every endpoint for real and cleans up after itself; `edlake config`
//! prints the effective configuration (defaults ← file ← environment) as TOML with every
//! secret redacted.

mod common;

use std::path::Path;

use aws_sdk_s3::config::{Credentials, Region};
use common::*;

/// One row of the `edlake check` table.
#[derive(Debug)]
struct Row {
    what: String,
    result: String,
    detail: String,
}

/// Parses `CHECK  RESULT  DETAIL` output by the header's column offsets.
#[track_caller]
fn parse_check(stdout: &str) -> Vec<Row> {
    let mut lines = stdout.lines();
    let header = lines.next().expect("a header line");
    let result_at = header.find("  RESULT  ").expect("RESULT column") + 2;
    let detail_at = header.find("  DETAIL").expect("DETAIL column") + 2;
    assert!(header.starts_with("CHECK "), "{header:?}");
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["CHECK", "RESULT", "DETAIL"],
        "{header:?}"
    );
    lines
        .map(|l| {
            assert!(l.len() >= detail_at, "short line {l:?}");
            Row {
                what: l[..result_at].trim_end().to_string(),
                result: l[result_at..detail_at].trim().to_string(),
                detail: l[detail_at..].to_string(),
            }
        })
        .collect()
}

/// The row whose CHECK starts with `prefix`; exactly one must.
#[track_caller]
fn row<'a>(rows: &'a [Row], prefix: &str) -> &'a Row {
    let found: Vec<&Row> = rows.iter().filter(|r| r.what.starts_with(prefix)).collect();
    assert_eq!(found.len(), 1, "one {prefix:?} row in {rows:#?}");
    found[0]
}

async fn small_db(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE small (id int NOT NULL PRIMARY KEY, course_id varchar(64) NOT NULL,
                             name varchar(20) NULL);
         INSERT INTO small VALUES (1, 'c1', 'ada'), (2, 'c2', NULL);",
    )
    .await;
    db
}

fn s3_client() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(s3_endpoint())
        .force_path_style(true)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "edlake-tests"))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn bucket_keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

fn local_config(mysql_url: &str, lake: &Path, tables: &str) -> String {
    format!(
        r#"
        lms_host = "lms.example.com"
        [mysql]
        url = "{mysql_url}"
        connect_timeout_secs = 3
        [datalake]
        url = "{}"
        {tables}
        "#,
        lake.display()
    )
}

// ------------------------------------------------------------------ check

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_all_ok_on_a_local_lake_and_leaves_nothing() {
    let db = small_db("check_ok").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = local_config(
        &db.url(),
        lake.path(),
        r#"
        [[tables]]
        name = "small"
        partition_by = "course_id"
        "#,
    );
    let out = edlake(&cfg, &["check"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        !out.stderr.lines().any(|l| l.starts_with("error:")),
        "{}",
        out.stderr
    );
    let rows = parse_check(&out.stdout);
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.what.split_whitespace().take(2).collect::<Vec<_>>())
        .map(|w| match (w[0], w[1]) {
            ("mysql", "connect") => "mysql connect",
            ("mysql", "database") => "mysql database",
            ("mysql", "table") => "mysql table",
            ("lake", "write") => "lake write",
            ("lake", "read") => "lake read back",
            ("lake", "delete") => "lake delete",
            ("lake", "conditional") => "lake conditional writes",
            _ => panic!("unexpected probe {w:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "mysql connect",
            "mysql database",
            "mysql table",
            "lake write",
            "lake read back",
            "lake delete",
            "lake conditional writes"
        ],
        "{}",
        out.stdout
    );
    for r in &rows {
        assert_eq!(r.result, "ok", "{r:?}");
    }
    assert_eq!(
        row(&rows, "mysql connect").what,
        format!("mysql connect 127.0.0.1:3306/{}", db.name)
    );
    assert_eq!(
        row(&rows, "mysql database").what,
        format!("mysql database {}", db.name)
    );
    let table = row(&rows, "mysql table");
    assert_eq!(table.what, "mysql table small");
    assert_eq!(
        table.detail, "3 columns, 2 exported, partitioned by course_id",
        "{table:?}"
    );
    // The probe was written where the lake is, under the prefix.
    let lake_root = lake.path().canonicalize().unwrap();
    let write = row(&rows, "lake write");
    assert!(
        write
            .what
            .starts_with(&format!("lake write {}/openedx/", lake_root.display())),
        "{write:?}"
    );
    assert_eq!(row(&rows, "lake read back").what, "lake read back");
    // A local lake's leases are taken under flock: nothing to probe.
    let conditional = row(&rows, "lake conditional writes");
    assert_eq!(
        conditional.what,
        format!("lake conditional writes {}", lake_root.display())
    );
    assert!(conditional.detail.contains("flock"), "{conditional:?}");
    // The password never shows.
    assert!(!out.all().contains(":edlake_test@"), "{}", out.all());

    // Nothing left: no probe file, no staging file (empty directories may remain).
    assert!(
        files_under(lake.path()).is_empty(),
        "{:?}",
        files_under(lake.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_missing_table_and_a_missing_column() {
    let db = small_db("check_failures").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = local_config(
        &db.url(),
        lake.path(),
        r#"
        [[tables]]
        name = "small"
        [[tables]]
        name = "no_such_table"
        [[tables]]
        name = "small_pinned"
        columns = ["id", "nope"]
        "#,
    );
    // small_pinned is a real table, so only its pinned column is wrong.
    db.exec("CREATE TABLE small_pinned (id int PRIMARY KEY, name varchar(5))")
        .await;
    let out = edlake(&cfg, &["check"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let rows = parse_check(&out.stdout);
    assert_eq!(rows.len(), 9, "{}", out.stdout);
    let missing = row(&rows, "mysql table no_such_table");
    assert_eq!(missing.result, "FAILED", "{missing:?}");
    assert!(missing.detail.contains("does not exist"), "{missing:?}");
    let pinned = row(&rows, "mysql table small_pinned");
    assert_eq!(pinned.result, "FAILED", "{pinned:?}");
    assert!(
        pinned.detail.contains("column nope does not exist"),
        "{pinned:?}"
    );
    for prefix in [
        "mysql connect",
        "mysql database",
        "mysql table small ",
        "lake write",
        "lake read back",
        "lake delete",
        "lake conditional writes",
    ] {
        let r = rows
            .iter()
            .find(|r| format!("{} ", r.what).starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} row in {}", out.stdout));
        assert_eq!(r.result, "ok", "{r:?}");
    }
    assert!(files_under(lake.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_on_s3_leaves_the_bucket_empty() {
    let db = small_db("check_s3").await;
    let s3 = s3_client();
    let bucket = format!("edlake-check-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let cfg = format!(
        r#"
        lms_host = "lms.example.com"
        [mysql]
        url = "{}"
        [datalake]
        url = "s3://{bucket}/some/root"
        endpoint = "{}"
        [[tables]]
        name = "small"
        "#,
        db.url(),
        s3_endpoint()
    );
    let out = edlake(&cfg, &["check"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let rows = parse_check(&out.stdout);
    assert_eq!(rows.len(), 7, "{}", out.stdout);
    for r in &rows {
        assert_eq!(r.result, "ok", "{r:?}");
    }
    // moto honours conditional writes; the probe runs on the configured root.
    assert_eq!(
        row(&rows, "lake conditional writes").what,
        format!("lake conditional writes s3://{bucket}/some/root")
    );
    let write = row(&rows, "lake write");
    assert!(
        write
            .what
            .starts_with(&format!("lake write s3://{bucket}/some/root/openedx/")),
        "{write:?}"
    );
    assert_eq!(bucket_keys(&s3, &bucket).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_against_a_missing_bucket_fails_the_lake_write() {
    let db = small_db("check_s3_missing").await;
    let cfg = format!(
        r#"
        lms_host = "lms.example.com"
        [mysql]
        url = "{}"
        [datalake]
        url = "s3://edlake-check-no-such-bucket"
        endpoint = "{}"
        max_attempts = 2
        [[tables]]
        name = "small"
        "#,
        db.url(),
        s3_endpoint()
    );
    let out = edlake(&cfg, &["check"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let rows = parse_check(&out.stdout);
    let write = row(&rows, "lake write");
    assert_eq!(write.result, "FAILED", "{write:?}");
    assert!(
        write
            .detail
            .contains("bucket edlake-check-no-such-bucket does not exist"),
        "{write:?}"
    );
    // MySQL was fine; nothing after the failed write is attempted.
    assert_eq!(row(&rows, "mysql table small").result, "ok");
    assert!(!rows.iter().any(|r| r.what.starts_with("lake read")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_unreachable_mysql_still_probes_the_lake() {
    let lake = tempfile::tempdir().unwrap();
    let cfg = local_config(
        "mysql://u:CheckSecret4@127.0.0.1:1/db",
        lake.path(),
        r#"
        [[tables]]
        name = "small"
        "#,
    );
    let out = edlake(&cfg, &["check"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.all().contains("CheckSecret4"), "{}", out.all());
    let rows = parse_check(&out.stdout);
    let connect = row(&rows, "mysql connect");
    assert_eq!(connect.what, "mysql connect 127.0.0.1:1/db");
    assert_eq!(connect.result, "FAILED", "{connect:?}");
    assert!(connect.detail.contains("127.0.0.1:1"), "{connect:?}");
    // No probe that needs a connection is attempted…
    assert!(!rows
        .iter()
        .any(|r| r.what.starts_with("mysql database") || r.what.starts_with("mysql table")));
    // …but the lake is still checked, and fine.
    for prefix in [
        "lake write",
        "lake read back",
        "lake delete",
        "lake conditional writes",
    ] {
        assert_eq!(row(&rows, prefix).result, "ok", "{}", out.stdout);
    }
    assert_eq!(rows.len(), 5, "{}", out.stdout);
    assert!(files_under(lake.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_a_wrong_password_never_prints_it() {
    let db = small_db("check_wrong_password").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = local_config(&db.url(), lake.path(), "");
    let out = edlake(
        &cfg,
        &["check"],
        &[("EDLAKE_MYSQL__PASSWORD", "WrongPass123")],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.all().contains("WrongPass123"), "{}", out.all());
    let rows = parse_check(&out.stdout);
    let connect = row(&rows, "mysql connect");
    assert_eq!(connect.result, "FAILED");
    assert!(connect.detail.contains("refused the login"), "{connect:?}");
    assert_eq!(row(&rows, "lake delete").result, "ok");
}

// ------------------------------------------------------------------ config

/// Runs `edlake config` and parses its output as TOML.
#[track_caller]
fn effective(cfg: &str, env: &[(&str, &str)]) -> (Output, toml::Table) {
    let out = edlake(cfg, &["config"], env);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let table: toml::Table =
        toml::from_str(&out.stdout).unwrap_or_else(|e| panic!("not TOML: {e}\n{}", out.stdout));
    (out, table)
}

#[track_caller]
fn get<'a>(t: &'a toml::Table, path: &str) -> &'a toml::Value {
    let mut parts = path.split('.');
    let mut v = &t[parts.next().unwrap()];
    for p in parts {
        v = v
            .get(p)
            .unwrap_or_else(|| panic!("{path} missing in {t:#?}"));
    }
    v
}

const CONFIG_FILE: &str = r#"
lms_host = "lms.from-file"
[mysql]
url = "mysql://openedx:UrlSecret9@127.0.0.1:3306/openedx"
[[tables]]
name = "auth_user"
partition_by = "id"
"#;

#[test]
fn config_redacts_every_secret() {
    let (out, t) = effective(CONFIG_FILE, &[("EDLAKE_MYSQL__PASSWORD", "EnvSecret7")]);
    for secret in ["UrlSecret9", "EnvSecret7"] {
        assert!(
            !out.all().contains(secret),
            "{secret} printed:\n{}",
            out.all()
        );
    }
    assert!(out.stdout.contains("REDACTED"), "{}", out.stdout);
    assert_eq!(
        get(&t, "mysql.url").as_str(),
        Some("mysql://openedx:REDACTED@127.0.0.1:3306/openedx")
    );
    assert_eq!(get(&t, "mysql.password").as_str(), Some("REDACTED"));
}

#[test]
fn config_shows_defaults_file_values_and_env_overrides() {
    // Defaults and file values.
    let (_, t) = effective(CONFIG_FILE, &[]);
    assert_eq!(get(&t, "lms_host").as_str(), Some("lms.from-file"));
    assert_eq!(get(&t, "datalake.url").as_str(), Some("./datalake"));
    assert_eq!(get(&t, "datalake.prefix").as_str(), Some("openedx"));
    assert_eq!(get(&t, "mysql.max_connections").as_integer(), Some(2));
    assert_eq!(get(&t, "datalake.part_size_mb").as_integer(), Some(16));
    let tables = get(&t, "tables").as_array().unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0]["name"].as_str(), Some("auth_user"));
    assert_eq!(
        tables[0]["partition_by"].as_array().unwrap(),
        &vec![toml::Value::from("id")]
    );
    // No password configured: no password key at all (not even a REDACTED one).
    assert!(get(&t, "mysql").get("password").is_none(), "{t:#?}");

    // The environment wins over the file and the defaults.
    let (out, t) = effective(
        CONFIG_FILE,
        &[
            ("EDLAKE_LMS_HOST", "lms.test"),
            ("EDLAKE_DATALAKE__PREFIX", "p2"),
            ("EDLAKE_MYSQL__MAX_CONNECTIONS", "5"),
            // Not configuration: must be ignored, not refused.
            ("EDLAKE_TEST_SOMETHING", "x"),
        ],
    );
    assert!(
        out.stdout.contains("lms_host = \"lms.test\""),
        "{}",
        out.stdout
    );
    assert_eq!(get(&t, "lms_host").as_str(), Some("lms.test"));
    assert_eq!(get(&t, "datalake.prefix").as_str(), Some("p2"));
    assert_eq!(get(&t, "mysql.max_connections").as_integer(), Some(5));
    assert_eq!(get(&t, "datalake.url").as_str(), Some("./datalake"));
}

#[test]
fn config_output_loads_back_unchanged() {
    // What `edlake config` prints is itself a valid config that means the same thing.
    let env = [
        ("EDLAKE_MYSQL__PASSWORD", "EnvSecret7"),
        ("EDLAKE_DATALAKE__PREFIX", "p2"),
    ];
    let (first, _) = effective(CONFIG_FILE, &env);
    let (second, _) = effective(&first.stdout, &[]);
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn config_env_password_of_digits_is_accepted_and_redacted() {
    let out = edlake(
        CONFIG_FILE,
        &["config"],
        &[("EDLAKE_MYSQL__PASSWORD", "98765432")],
    );
    assert!(
        !out.all().contains("98765432"),
        "password printed:\n{}",
        out.all()
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let t: toml::Table = toml::from_str(&out.stdout).unwrap();
    assert_eq!(get(&t, "mysql.password").as_str(), Some("REDACTED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_password_is_taken_literally() {
    let db = small_db("check_literal_password").await;
    let lake = tempfile::tempdir().unwrap();
    let mut url = url::Url::parse(&db.url()).unwrap();
    let real = url.password().unwrap().to_string();
    url.set_password(None).unwrap();
    let cfg = local_config(url.as_str(), lake.path(), "");
    // The real password wrapped in quotes is a different password: the login must fail.
    let quoted = format!("\"{real}\"");
    let out = edlake(&cfg, &["check"], &[("EDLAKE_MYSQL__PASSWORD", &quoted)]);
    let rows = parse_check(&out.stdout);
    let connect = row(&rows, "mysql connect");
    assert_eq!(connect.result, "FAILED", "{}", out.stdout);
    assert!(connect.detail.contains("refused the login"), "{connect:?}");
    assert_eq!(out.code, 1);
}
