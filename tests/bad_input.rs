//! Bad input never half-works: every case below exits non-zero with exactly one `error:`
//! line on stderr that names what failed and where, never prints a secret, and leaves the
//! lake as it found it.

mod common;

use std::path::Path;
use std::process::Command;

use aws_sdk_s3::config::{Credentials, Region};
use common::*;

/// A database with one small table `t (id, name)`.
async fn small_db(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE t (id int NOT NULL PRIMARY KEY, name varchar(20) NOT NULL);
         INSERT INTO t VALUES (1, 'ada'), (2, 'bob');",
    )
    .await;
    db
}

/// A config with one table `t` (optionally pinned columns), the given MySQL URL and lake.
fn config(mysql_url: &str, lake_url: &str, table_extra: &str) -> String {
    format!(
        r#"
        lms_host = "lms.example.com"
        [mysql]
        url = "{mysql_url}"
        connect_timeout_secs = 3
        [datalake]
        url = "{lake_url}"
        [[tables]]
        name = "t"
        {table_extra}
        "#
    )
}

/// `db.url()` with the password replaced.
fn url_with_password(db: &TestDb, password: &str) -> String {
    let mut url = url::Url::parse(&db.url()).unwrap();
    url.set_password(Some(password)).unwrap();
    url.to_string()
}

/// `db.url()` without any password.
fn url_without_password(db: &TestDb) -> String {
    let mut url = url::Url::parse(&db.url()).unwrap();
    url.set_password(None).unwrap();
    url.to_string()
}

/// The checks every bad input must pass; returns the single `error:` line.
///
/// * exit code non-zero (and equal to `code` when given);
/// * exactly one stderr line starting with `error:`, containing every `needle`;
/// * every other stderr line is a tracing WARN/ERROR line (the binary runs with
///   EDLAKE_LOG=warn), so no multi-line error spills onto extra lines;
/// * no `secret` anywhere in stdout or stderr.
#[track_caller]
fn assert_one_error(out: &Output, code: Option<i32>, needles: &[&str], secrets: &[&str]) -> String {
    assert_ne!(out.code, 0, "bad input must fail:\n{}", out.all());
    if let Some(code) = code {
        assert_eq!(out.code, code, "exit code:\n{}", out.all());
    }
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "exactly one `error:` line on stderr:\n{}",
        out.stderr
    );
    for line in out.stderr.lines().filter(|l| !l.starts_with("error:")) {
        assert!(
            line.contains(" WARN ") || line.contains(" ERROR "),
            "stray stderr line {line:?} (only the error line and tracing WARN/ERROR lines \
             may appear):\n{}",
            out.stderr
        );
    }
    let line = errors[0];
    for needle in needles {
        assert!(line.contains(needle), "{needle:?} not in {line:?}");
    }
    for secret in secrets {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "secret {secret:?} printed:\n{}",
            out.all()
        );
    }
    line.to_string()
}

/// The lake directory is absent or holds nothing at all (no table directory, no probe, no
/// staging leftovers).
#[track_caller]
/// Nothing in the lake but the table's released lease record.
fn assert_lake_untouched(lake: &Path) {
    if !lake.exists() {
        return;
    }
    let files = files_under(lake);
    assert!(files.is_empty(), "lake written: {files:?}");
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

// ------------------------------------------------------------------ tables and columns

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_table_on_the_command_line() {
    let db = small_db("bad_unknown_table").await;
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let cfg = config(&db.url(), lake.to_str().unwrap(), "");
    let out = edlake(&cfg, &["extract", "--table", "nope"], &[]);
    let line = assert_one_error(&out, None, &["unknown table nope"], &[":edlake_test@"]);
    // It says which tables are configured.
    assert!(line.contains("(t)"), "{line}");
    assert_lake_untouched(&lake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_column_that_does_not_exist() {
    let db = small_db("bad_pinned_column").await;
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let cfg = config(
        &db.url(),
        lake.to_str().unwrap(),
        r#"columns = ["id", "nope"]"#,
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(
        &out,
        Some(1),
        &["error: table t: column nope does not exist"],
        &[],
    );
    assert!(out.stdout.contains("FAILED"), "{}", out.stdout);
    assert_lake_untouched(&lake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_column_that_does_not_exist_leaves_the_bucket_empty() {
    let db = small_db("bad_pinned_column_s3").await;
    let s3 = s3_client();
    let bucket = format!("edlake-bad-col-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let cfg = format!(
        r#"
        lms_host = "lms.example.com"
        [mysql]
        url = "{}"
        [datalake]
        url = "s3://{bucket}"
        endpoint = "{}"
        [[tables]]
        name = "t"
        columns = ["id", "nope"]
        "#,
        db.url(),
        s3_endpoint()
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(
        &out,
        Some(1),
        &["error: table t: column nope does not exist"],
        &[],
    );
    let listed = s3_keys(&s3, &bucket, "").await;
    assert!(listed.is_empty(), "{listed:?}");
}

// ------------------------------------------------------------------ MySQL

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_mysql_never_prints_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let cfg = config(
        "mysql://u:SuperSecret1@127.0.0.1:1/db",
        lake.to_str().unwrap(),
        "",
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(&out, Some(1), &["127.0.0.1:1"], &["SuperSecret1"]);
    assert_lake_untouched(&lake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_mysql_says_it_cannot_reach_it() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let cfg = config(
        "mysql://u:SuperSecret1@127.0.0.1:1/db",
        lake.to_str().unwrap(),
        "",
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(
        &out,
        Some(1),
        &["cannot reach MySQL at 127.0.0.1:1"],
        &["SuperSecret1"],
    );
    assert_lake_untouched(&lake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_in_the_url() {
    let db = small_db("bad_password_url").await;
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let cfg = config(
        &url_with_password(&db, "WrongPass123"),
        lake.to_str().unwrap(),
        "",
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(
        &out,
        Some(1),
        &["refused the login", "127.0.0.1:3306"],
        &["WrongPass123"],
    );
    assert_lake_untouched(&lake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_from_the_environment() {
    let db = small_db("bad_password_env").await;
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    // The URL's password is right: the environment must override it.
    let cfg = config(&db.url(), lake.to_str().unwrap(), "");
    let out = edlake(
        &cfg,
        &["extract"],
        &[("EDLAKE_MYSQL__PASSWORD", "WrongPass123")],
    );
    assert_one_error(
        &out,
        Some(1),
        &["refused the login", "127.0.0.1:3306"],
        &["WrongPass123"],
    );
    assert_lake_untouched(&lake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_from_a_password_file() {
    let db = small_db("bad_password_file").await;
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let secret = tmp.path().join("mysql-password");
    std::fs::write(&secret, "WrongPass123\n").unwrap();
    let cfg = config(&url_without_password(&db), lake.to_str().unwrap(), "").replace(
        "[mysql]",
        &format!("[mysql]\npassword_file = \"{}\"", secret.display()),
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(
        &out,
        Some(1),
        &["refused the login", "127.0.0.1:3306"],
        &["WrongPass123"],
    );
    assert_lake_untouched(&lake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_database_in_the_url() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let url = format!("{}/edlake_no_such_db_xyz", mysql_server_url());
    let password = url::Url::parse(&url)
        .unwrap()
        .password()
        .unwrap()
        .to_string();
    let cfg = config(&url, lake.to_str().unwrap(), "");
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(
        &out,
        Some(1),
        &[
            "127.0.0.1:3306",
            "Unknown database",
            "edlake_no_such_db_xyz",
            "mysql.url",
        ],
        &[&format!(":{password}@")],
    );
    assert_lake_untouched(&lake);
}

// ------------------------------------------------------------------ the lake

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bucket() {
    let db = small_db("bad_missing_bucket").await;
    let bucket = "edlake-no-such-bucket-xyz";
    let cfg = format!(
        r#"
        lms_host = "lms.example.com"
        [mysql]
        url = "{}"
        [datalake]
        url = "s3://{bucket}"
        endpoint = "{}"
        max_attempts = 2
        [[tables]]
        name = "t"
        "#,
        db.url(),
        s3_endpoint()
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(
        &out,
        Some(1),
        &["does not exist", &format!("bucket {bucket}")],
        &[":edlake_test@"],
    );
    // Still no such bucket: nothing created it behind our back.
    let head = s3_client().head_bucket().bucket(bucket).send().await;
    assert!(head.is_err(), "bucket {bucket} exists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_table_is_named_once() {
    let db = small_db("bad_table_named_once").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        "[[tables]]\nname = \"t\"\n[[tables]]\nname = \"gone\"",
    );
    let out = edlake(&cfg, &["extract"], &[]);
    let line = assert_one_error(&out, Some(1), &["error: table gone: does not exist"], &[]);
    assert_eq!(line.matches("gone").count(), 1, "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lake_directory_below_a_regular_file() {
    let db = small_db("bad_lake_dir").await;
    let tmp = tempfile::tempdir().unwrap();
    let afile = tmp.path().join("afile");
    std::fs::write(&afile, "not a directory").unwrap();
    let lake = afile.join("lake");
    let cfg = config(&db.url(), lake.to_str().unwrap(), "");
    let out = edlake(&cfg, &["extract"], &[]);
    assert_one_error(
        &out,
        Some(1),
        &["cannot create the lake directory", lake.to_str().unwrap()],
        &[],
    );
    assert_eq!(std::fs::read(&afile).unwrap(), b"not a directory");
    assert_eq!(files_under(tmp.path()), ["afile"]);
}

// ------------------------------------------------------------------ configuration

/// Runs `edlake extract` with a config that must be refused as invalid (exit 2) before
/// anything is touched.
#[track_caller]
fn invalid_config(cfg_body: &str, env: &[(&str, &str)], needles: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let cfg = cfg_body.replace("LAKE", lake.to_str().unwrap());
    let out = edlake(&cfg, &["extract"], env);
    let line = assert_one_error(&out, Some(2), needles, &["CfgSecret5"]);
    assert!(line.contains("invalid configuration"), "{line}");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_lake_untouched(&lake);
    line
}

const VALID: &str = r#"
lms_host = "lms.example.com"
[mysql]
url = "mysql://u:CfgSecret5@127.0.0.1:3306/openedx"
[datalake]
url = "LAKE"
[[tables]]
name = "t"
"#;

#[test]
fn the_valid_baseline_is_accepted() {
    // The invalid cases below each change one thing in VALID: VALID itself must load.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = VALID.replace("LAKE", tmp.path().join("lake").to_str().unwrap());
    let out = edlake(&cfg, &["config"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.all().contains("CfgSecret5"), "{}", out.all());
}

#[test]
fn max_connections_not_a_number() {
    invalid_config(
        &VALID.replace("[datalake]", "max_connections = \"many\"\n[datalake]"),
        &[],
        &["max_connections"],
    );
}

#[test]
fn max_connections_zero() {
    invalid_config(
        &VALID.replace("[datalake]", "max_connections = 0\n[datalake]"),
        &[],
        &["mysql.max_connections"],
    );
}

#[test]
fn unknown_key_in_the_file() {
    let line = invalid_config(
        &VALID.replace("url = \"mysql:", "urll = \"mysql:"),
        &[],
        &["urll"],
    );
    // The typo'd key hides the URL, but even then its value (with the password) stays out.
    assert!(!line.contains("CfgSecret5"), "{line}");
}

#[test]
fn unsupported_lake_scheme() {
    invalid_config(
        &VALID.replace("url = \"LAKE\"", "url = \"gs://x\""),
        &[],
        &["datalake.url", "gs://x"],
    );
}

#[test]
fn part_size_below_the_s3_minimum() {
    invalid_config(
        &VALID.replace("url = \"LAKE\"", "url = \"LAKE\"\npart_size_mb = 1"),
        &[],
        &["datalake.part_size_mb"],
    );
}

#[test]
fn empty_lms_host() {
    invalid_config(
        &VALID.replace("lms_host = \"lms.example.com\"", "lms_host = \"\""),
        &[],
        &["lms_host"],
    );
}

#[test]
fn empty_lms_host_from_the_environment() {
    invalid_config(VALID, &[("EDLAKE_LMS_HOST", "  ")], &["lms_host"]);
}

#[test]
fn unknown_key_in_the_environment() {
    invalid_config(VALID, &[("EDLAKE_MYSQL__URLL", "x")], &["urll"]);
}

#[test]
fn missing_config_file() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edlake"));
    for (k, _) in std::env::vars() {
        if k.starts_with("EDLAKE_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = cmd
        .current_dir(tmp.path())
        .env("EDLAKE_LOG", "warn")
        .args(["--config", "/nonexistent.toml", "extract"])
        .output()
        .unwrap();
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_one_error(&out, Some(2), &["/nonexistent.toml", "not found"], &[]);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    // Nothing appeared where a default lake (./datalake) would go.
    assert!(files_under(tmp.path()).is_empty());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
