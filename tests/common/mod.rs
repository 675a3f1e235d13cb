//! Test support: the real services started by scripts/stack-up.sh (MariaDB, moto), the
//! edlake binary, and a reader that reads lake files the way Athena's OpenCSVSerde does.
#![allow(dead_code)]

use std::collections::BTreeMap;
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

// ---------------------------------------------------------------------------------------
// Athena's view of a file.

/// What Athena reads from a lake file through a table declared with OpenCSVSerde
/// (`separatorChar ','`, `quoteChar '"'`, `escapeChar '\\'`, `skip.header.line.count 1`):
/// Hadoop's TextInputFormat splits lines on LF, CR or CRLF; the first line is skipped; each
/// line is parsed by opencsv 2.3's `CSVParser.parseLine`, ported below rule for rule.
/// Returns the header fields and the rows as OpenCSVSerde hands them to the engine.
pub fn read_like_opencsv_serde(data: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::str::from_utf8(data).expect("lake files are UTF-8");
    assert!(!text.starts_with('\u{feff}'), "no BOM");
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if i + 1 < bytes.len() && bytes[i + 1] == b'\n' {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        lines.push(&text[start..]);
    }
    let mut rows = lines.into_iter().map(opencsv_parse_line);
    let header = rows.next().expect("a header line");
    (header, rows.collect())
}

/// opencsv 2.3 `CSVParser.parseLine(line, multi=false)` with strictQuotes=false,
/// ignoreLeadingWhiteSpace=true (the defaults OpenCSVSerde uses). A line ending inside
/// quotes is an error in single-line mode: the writer must never produce one.
pub fn opencsv_parse_line(line: &str) -> Vec<String> {
    const SEP: char = ',';
    const QUOTE: char = '"';
    const ESC: char = '\\';
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut sb = String::new();
    let mut in_quotes = false;
    let mut in_field = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let more = (in_quotes || in_field) && chars.len() > i + 1;
        if c == ESC {
            // isNextCharacterEscapable
            if more && (chars[i + 1] == QUOTE || chars[i + 1] == ESC) {
                sb.push(chars[i + 1]);
                i += 1;
            }
        } else if c == QUOTE {
            // isNextCharacterEscapedQuote
            if more && chars[i + 1] == QUOTE {
                sb.push(chars[i + 1]);
                i += 1;
            } else {
                // the tricky case of an embedded quote in the middle: a,bc"d"ef,g
                if i > 2 && chars[i - 1] != SEP && chars.len() > i + 1 && chars[i + 1] != SEP {
                    if !sb.is_empty() && sb.chars().all(char::is_whitespace) {
                        sb.clear();
                    } else {
                        sb.push(c);
                    }
                }
                in_quotes = !in_quotes;
            }
            in_field = !in_field;
        } else if c == SEP && !in_quotes {
            tokens.push(std::mem::take(&mut sb));
            in_field = false;
        } else {
            sb.push(c);
            in_field = true;
        }
        i += 1;
    }
    assert!(
        !in_quotes,
        "Un-terminated quoted field at end of CSV line: {line:?}"
    );
    tokens.push(sb);
    tokens
}

/// Decodes the dialect's text layer (docs/csv-dialect.md), as the typed views do: the whole
/// value `\N` is NULL; `\\`, `\n`, `\r` are a backslash, LF, CR. Anything else after a
/// backslash is a writer bug.
pub fn decode_text_layer(value: &str) -> Option<String> {
    if value == "\\N" {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                other => panic!("invalid escape \\{other:?} in {value:?}"),
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// A lake file read like Athena and decoded like the views: header, then rows of
/// `column → value`.
pub fn read_table_file(data: &[u8]) -> (Vec<String>, Vec<BTreeMap<String, Option<String>>>) {
    let (header, rows) = read_like_opencsv_serde(data);
    let rows = rows
        .into_iter()
        .map(|fields| {
            assert_eq!(
                fields.len(),
                header.len(),
                "every row has every column: {fields:?}"
            );
            header
                .iter()
                .cloned()
                .zip(fields.iter().map(|f| decode_text_layer(f)))
                .collect()
        })
        .collect();
    (header, rows)
}

// ---------------------------------------------------------------------------------------
// S3 on the moto server.

pub async fn s3_client() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(s3_endpoint())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// An empty bucket named after the test (emptied if a previous run left objects, and
/// without the multipart uploads a killed earlier run may have left open).
pub async fn fresh_bucket(client: &aws_sdk_s3::Client, name: &str) -> String {
    let bucket = format!("edlake-t-{}", name.replace('_', "-"));
    let _ = client.create_bucket().bucket(&bucket).send().await;
    for upload in open_multipart_uploads(client, &bucket).await {
        client
            .abort_multipart_upload()
            .bucket(&bucket)
            .key(upload.0)
            .upload_id(upload.1)
            .send()
            .await
            .unwrap();
    }
    for key in all_s3_keys(client, &bucket, "").await {
        client
            .delete_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
    }
    bucket
}

/// `(key, upload id)` of every multipart upload open in the bucket.
pub async fn open_multipart_uploads(
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Vec<(String, String)> {
    let out = client
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    out.uploads()
        .iter()
        .map(|u| {
            (
                u.key().unwrap_or_default().to_string(),
                u.upload_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every key under `prefix` but edlake's own records, sorted.
pub async fn s3_keys(client: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let mut keys = all_s3_keys(client, bucket, prefix).await;
    keys.retain(|k| !is_edlake_state(k));
    keys
}

/// Every key under `prefix`, sorted.
pub async fn all_s3_keys(client: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for o in page.unwrap().contents() {
            keys.push(o.key().unwrap().to_string());
        }
    }
    keys.sort();
    keys
}

pub async fn s3_get(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec()
}

/// An S3 endpoint that ignores conditional writes, as older MinIO and Ceph do:
/// scripts/unconditional_s3_proxy.py in front of moto, dropping `If-None-Match` and
/// `If-Match`. Stopped when dropped (and it exits by itself when the test process dies).
pub struct UnconditionalS3Proxy {
    child: std::process::Child,
    pub endpoint: String,
    /// What the proxy logged: one `dropped If-None-Match: * on PUT /bucket/key` line per
    /// header it dropped.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl UnconditionalS3Proxy {
    pub fn start() -> UnconditionalS3Proxy {
        use std::io::BufRead;
        use std::process::Stdio;
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/unconditional_s3_proxy.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(s3_endpoint())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", python().display()));
        // A free port, chosen by the proxy itself: no race with another test for it.
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the proxy did not start: {line:?}"));
        let endpoint = format!("http://127.0.0.1:{port}");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        UnconditionalS3Proxy {
            child,
            endpoint,
            log,
        }
    }

    /// The headers the proxy has dropped so far, one line each.
    pub fn dropped(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for UnconditionalS3Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// Glue and Athena on the moto server.

/// A `[catalog]` section on moto using Glue database `database`.
pub fn catalog_config(database: &str, bucket: &str) -> String {
    format!(
        "[catalog]\nenabled = true\ndatabase = \"{database}\"\nendpoint = \"{}\"\nathena_output = \"s3://{bucket}/athena-results/\"\n",
        s3_endpoint()
    )
}

pub async fn glue_client() -> aws_sdk_glue::Client {
    let conf = aws_sdk_glue::config::Builder::new()
        .behavior_version(aws_sdk_glue::config::BehaviorVersion::latest())
        .region(aws_sdk_glue::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_glue::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(s3_endpoint())
        .build();
    aws_sdk_glue::Client::from_conf(conf)
}

pub async fn athena_client() -> aws_sdk_athena::Client {
    let conf = aws_sdk_athena::config::Builder::new()
        .behavior_version(aws_sdk_athena::config::BehaviorVersion::latest())
        .region(aws_sdk_athena::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_athena::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(s3_endpoint())
        .build();
    aws_sdk_athena::Client::from_conf(conf)
}

/// A Glue database name no earlier run used (moto keeps its state, Athena's query history
/// included, for as long as the server runs), so a test sees only its own objects.
pub fn fresh_glue_database(test: &str) -> String {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    format!("edlake_t_{test}_{}", &unique[..8])
}

/// Every statement sent to Athena (moto keeps them all) that mentions `needle`.
pub async fn athena_queries(athena: &aws_sdk_athena::Client, needle: &str) -> Vec<String> {
    let ids = athena
        .list_query_executions()
        .send()
        .await
        .unwrap()
        .query_execution_ids()
        .to_vec();
    let mut out = Vec::new();
    for id in ids {
        let q = athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .unwrap();
        let sql = q
            .query_execution()
            .and_then(|e| e.query())
            .unwrap_or_default()
            .to_string();
        if sql.contains(needle) {
            out.push(sql);
        }
    }
    out
}

/// Does what real Athena does on `CREATE OR REPLACE VIEW "db"."v"` (moto runs no SQL): a
/// `VIRTUAL_VIEW` table named `v` appears in Glue.
pub async fn emulate_athena_views(glue: &aws_sdk_glue::Client, statements: &[String]) {
    for sql in statements {
        let head = sql.lines().next().unwrap();
        let name = head
            .trim_start_matches("CREATE OR REPLACE VIEW ")
            .trim_end_matches(" AS");
        let (db, view) = name.split_once('.').unwrap();
        let (db, view) = (db.trim_matches('"'), view.trim_matches('"'));
        let _ = glue
            .delete_table()
            .database_name(db)
            .name(view)
            .send()
            .await;
        glue.create_table()
            .database_name(db)
            .table_input(
                aws_sdk_glue::types::TableInput::builder()
                    .name(view)
                    .table_type("VIRTUAL_VIEW")
                    .view_original_text("/* Presto View: e30= */")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
}

/// `(values, location)` of every partition of a Glue table.
pub async fn glue_partitions(
    glue: &aws_sdk_glue::Client,
    db: &str,
    table: &str,
) -> Vec<(Vec<String>, String)> {
    let out = glue
        .get_partitions()
        .database_name(db)
        .table_name(table)
        .send()
        .await
        .unwrap();
    let mut parts: Vec<_> = out
        .partitions()
        .iter()
        .map(|p| {
            (
                p.values().to_vec(),
                p.storage_descriptor()
                    .and_then(|sd| sd.location())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    parts.sort();
    parts
}

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
