//! S3, Glue and Athena on the moto server.

use super::*;

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
