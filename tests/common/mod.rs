//! Test support: the real services started by scripts/stack-up.sh (MariaDB, moto), the
//! edlake binary, and a reader that reads lake files the way Athena's OpenCSVSerde does.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::mysql::MySqlPoolOptions;
use sqlx::{Executor, MySqlPool};

/// Service coordinates: from the environment, else from `.stack/env` written by
/// scripts/stack-up.sh.
pub fn stack_var(name: &str) -> String {
    if let Ok(v) = std::env::var(name) {
        return v;
    }
    let env_file = Path::new(env!("CARGO_MANIFEST_DIR")).join(".stack/env");
    let text = std::fs::read_to_string(&env_file).unwrap_or_else(|_| {
        panic!(
            "{name} is unset and {} is missing: run scripts/stack-up.sh first",
            env_file.display()
        )
    });
    env_file_var(&text, name)
        .unwrap_or_else(|| panic!("{name} not found in {}", env_file.display()))
}

fn env_file_var(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.trim_start_matches("export ").split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').trim_matches('\'').to_string())
    })
}

/// The Python that runs the helper scripts under scripts/: `EDLAKE_TEST_PYTHON` (from the
/// environment or `.stack/env`, as [`stack_var`]), else the venv scripts/stack-up.sh makes
/// at `<repo>/.venv`, else `python3` (the helpers that need no package run on any).
pub fn python() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(p) = std::env::var("EDLAKE_TEST_PYTHON").ok().or_else(|| {
        let text = std::fs::read_to_string(repo.join(".stack/env")).ok()?;
        env_file_var(&text, "EDLAKE_TEST_PYTHON")
    }) {
        return PathBuf::from(p);
    }
    let venv = repo.join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// `courseware_studentmodule` with one big course of `big_rows` rows of about 1.8 KB (CSV
/// special characters and non-ASCII in every state) and two small ones.
pub async fn seed_studentmodule(test: &str, big_rows: u32) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            module_id varchar(255) NOT NULL,
            state longtext NULL,
            modified datetime(6) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    let mut conn = db.generator_conn().await;
    for (course, n, pad) in [
        ("course-v1:BigOrg+Huge+2024", big_rows, 1800),
        ("course-v1:UnivCafé+X+Run:1", 50, 10),
        ("course-v1:Org+Tiny+T1", 2, 10),
    ] {
        sqlx::query(
            "INSERT INTO courseware_studentmodule (course_id, module_id, state, modified)
             WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
             SELECT ?, CONCAT('block-v1:x+type@problem+block@', n),
                    CONCAT('{\"n\": ', n, ', \"pad\": \"', REPEAT('é\"\\\\,', ?), '\"}\\n'),
                    '2025-06-01 12:00:00.5'
             FROM seq",
        )
        .bind(n)
        .bind(course)
        .bind(pad / 4)
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    db
}

/// `mysql://user:pw@host:port` of a user allowed to create databases.
pub fn mysql_server_url() -> String {
    stack_var("EDLAKE_TEST_MYSQL_URL")
        .trim_end_matches('/')
        .to_string()
}

pub fn s3_endpoint() -> String {
    stack_var("EDLAKE_TEST_S3_ENDPOINT")
}

/// A fresh database for one test, dropped and recreated so reruns start clean.
pub struct TestDb {
    pub name: String,
    pub pool: MySqlPool,
}

impl TestDb {
    pub async fn new(test: &str) -> TestDb {
        let name = format!("edlake_t_{test}");
        let admin = MySqlPoolOptions::new()
            .max_connections(1)
            .connect(&mysql_server_url())
            .await
            .expect("connect to the test MariaDB (run scripts/stack-up.sh)");
        admin
            .execute(format!("DROP DATABASE IF EXISTS `{name}`").as_str())
            .await
            .unwrap();
        admin
            .execute(
                format!(
                    "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
                .as_str(),
            )
            .await
            .unwrap();
        admin.close().await;
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .connect(&format!("{}/{name}", mysql_server_url()))
            .await
            .unwrap();
        TestDb { name, pool }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", mysql_server_url(), self.name)
    }

    /// A connection allowed deep recursive CTEs, which tests use to generate rows
    /// server-side (`WITH RECURSIVE seq(n) …`).
    pub async fn generator_conn(&self) -> sqlx::pool::PoolConnection<sqlx::MySql> {
        let mut conn = self.pool.acquire().await.unwrap();
        sqlx::raw_sql("SET SESSION max_recursive_iterations = 10000000")
            .execute(&mut *conn)
            .await
            .unwrap();
        conn
    }

    pub async fn exec(&self, sql: &str) {
        sqlx::raw_sql(sql)
            .execute(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the edlake binary with `config` as its config file and only the given environment
/// on top of a scrubbed one (no stray EDLAKE_* from the developer's shell). The catalog is
/// off unless the config or `env` turns it on: tests that use it get their own Glue
/// database (see [`catalog_config`]).
pub fn edlake(config: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edlake.toml");
    std::fs::write(&file, config).unwrap();
    let mut cmd = edlake_command(&file, args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run edlake");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The command [`edlake`] runs, for tests that start and stop it themselves.
pub fn edlake_command(config_file: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_edlake"));
    for (k, _) in std::env::vars() {
        if k.starts_with("EDLAKE_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("EDLAKE_LOG", "warn")
        // Tests read messages as text; JSON (the default off a terminal) has its own test.
        .env("EDLAKE_LOG_FORMAT", "text")
        .env("EDLAKE_CATALOG__ENABLED", "false")
        .env("EDLAKE_CATALOG__DUCKDB", "false")
        .arg("--config")
        .arg(config_file)
        .args(args);
    cmd
}

/// Waits for a child spawned with piped stderr; its exit status and stderr.
pub fn wait_with_stderr(child: &mut std::process::Child) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status, stderr)
}

/// The lines of a gzip file.
pub fn gunzip_lines(data: &[u8]) -> Vec<String> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_string(&mut text)
        .expect("a whole gzip stream");
    text.lines().map(str::to_string).collect()
}

/// A config for `lms.example.com` reading `mysql_url` into `lake_url`. `rest` continues
/// inside `[datalake]`, so it may start with more datalake keys, then `[extract]`,
/// `[[tables]]`, ….
pub fn lake_config(mysql_url: &str, lake_url: &str, rest: &str) -> String {
    format!(
        "lms_host = \"lms.example.com\"\n[mysql]\nurl = \"{mysql_url}\"\n[datalake]\nurl = \"{lake_url}\"\n{rest}\n"
    )
}

/// Lease and watermark records (and the local lock files): edlake's own state, outside
/// every table, left out of lake listings; tests/lease.rs and tests/incremental.rs read
/// them directly.
fn is_edlake_state(key: &str) -> bool {
    key.contains("_edlake/leases/") || key.contains("_edlake/watermarks/")
}

/// Every file under `root` but edlake's own records, relative, with `/` separators.
pub fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let key = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if !is_edlake_state(&key) {
                    out.push(key);
                }
            }
        }
    }
    out.sort();
    out
}

pub fn lake_path(root: &Path, key: &str) -> PathBuf {
    root.join(key)
}

mod aws;
mod csv_reader;
mod duckdb;
mod parquet_reader;
mod values;
// Each test file uses some of them.
#[allow(unused_imports)]
pub use aws::*;
#[allow(unused_imports)]
pub use csv_reader::*;
#[allow(unused_imports)]
pub use duckdb::*;
#[allow(unused_imports)]
pub use parquet_reader::*;
#[allow(unused_imports)]
pub use values::*;

// ---------------------------------------------------------------------------------------
// MongoDB: the wire-compatible test server (scripts/mongo_server.py).

pub fn mongo_url() -> String {
    stack_var("EDLAKE_TEST_MONGO_URL")
}

/// A database of its own on the shared test server, for one test run.
pub async fn fresh_mongo_db(test: &str) -> mongodb::Database {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let client = mongodb::Client::with_uri_str(mongo_url())
        .await
        .expect("connect to the Mongo wire test server (run scripts/stack-up.sh)");
    client.database(&format!("edlake_t_{test}_{}", &unique[..8]))
}

/// The split course index table, as edx-platform migrates it.
pub async fn create_course_index(db: &TestDb) {
    db.exec(
        "CREATE TABLE split_modulestore_django_splitmodulestorecourseindex (
          id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
          objectid varchar(24) NOT NULL UNIQUE,
          course_id varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL UNIQUE,
          org varchar(255) NOT NULL,
          draft_version varchar(24) NOT NULL,
          published_version varchar(24) NOT NULL,
          library_version varchar(24) NOT NULL,
          wiki_slug varchar(255) NOT NULL,
          base_store varchar(20) NOT NULL,
          edited_on datetime(6) NOT NULL,
          last_update datetime(6) NOT NULL,
          edited_by_id int NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
}

/// Adds (or moves) a course in the MySQL course index.
pub async fn index_course(db: &TestDb, course_id: &str, published: &str, library: &str) {
    let objectid = &uuid::Uuid::new_v4().simple().to_string()[..24];
    let org = course_id
        .split_once(':')
        .map(|(_, r)| r.split('+').next().unwrap_or_default())
        .unwrap_or_default();
    sqlx::query(
        "INSERT INTO split_modulestore_django_splitmodulestorecourseindex
         (objectid, course_id, org, draft_version, published_version, library_version, wiki_slug,
          base_store, edited_on, last_update, edited_by_id)
         VALUES (?, ?, ?, ?, ?, ?, 'w', 'mongodb', NOW(6), NOW(6), 3)
         ON DUPLICATE KEY UPDATE published_version = VALUES(published_version),
                                 library_version = VALUES(library_version)",
    )
    .bind(objectid)
    .bind(course_id)
    .bind(org)
    .bind(published)
    .bind(published)
    .bind(library)
    .execute(&db.pool)
    .await
    .unwrap();
}

/// A split-modulestore block's `fields.children`: `[[type, id], …]`.
pub fn kids(list: &[(&str, &str)]) -> mongodb::bson::Bson {
    use mongodb::bson::Bson;
    Bson::Array(
        list.iter()
            .map(|(t, id)| {
                Bson::Array(vec![
                    Bson::String(t.to_string()),
                    Bson::String(id.to_string()),
                ])
            })
            .collect(),
    )
}

/// A split-modulestore block of a structure.
pub fn block(
    t: &str,
    id: &str,
    definition: mongodb::bson::oid::ObjectId,
    fields: mongodb::bson::Document,
) -> mongodb::bson::Document {
    mongodb::bson::doc! { "block_type": t, "block_id": id, "definition": definition, "fields": fields,
    "defaults": {}, "edit_info": { "edited_by": 3 } }
}
