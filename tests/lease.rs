//! One writer at a time: concurrent `edlake extract` processes on one S3 lake (moto's
//! conditional writes), a second that fails at once or waits, and a holder killed with -9.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

const LEASE: &str = "openedx/_edlake/leases/lms=lms.example.com/courseware_studentmodule.json";

fn spawn(dir: &Path, name: &str, config: &str, env: &[(&str, &str)]) -> Child {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, config).unwrap();
    let mut cmd = edlake_command(&file, &["extract"]);
    cmd.env("EDLAKE_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Exit code and stderr.
fn finish(mut child: Child) -> (i32, String) {
    let (status, stderr) = wait_with_stderr(&mut child);
    (status.code().unwrap_or(-1), stderr)
}

async fn lease_record(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<serde_json::Value> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(LEASE)
        .send()
        .await
        .ok()?;
    let data = out.body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&data).ok()
}

/// Waits until `pid` holds the lease.
async fn wait_until_held_by(s3: &aws_sdk_s3::Client, bucket: &str, pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(r) = lease_record(s3, bucket).await {
            let holder = r["holder"].as_str().unwrap_or_default();
            if holder.contains(&format!(":{pid}:")) && r["released"] == false {
                return;
            }
        }
        assert!(Instant::now() < deadline, "pid {pid} never held the lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_extracts_take_turns_and_a_second_fails_fast_when_told() {
    // About 36 MB through moto: the first extraction holds the table for seconds.
    let db = seed_studentmodule("lease_turns", 20_000).await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "lease-turns").await;
    let dir = tempfile::tempdir().unwrap();
    let config = lake_config(
        &db.url(),
        &format!("s3://{bucket}"),
        &format!(
            "endpoint = \"{}\"\n[[tables]]\nname = \"courseware_studentmodule\"\npartition_by = \"course_id\"\n",
            s3_endpoint()
        ),
    );
    let first = spawn(dir.path(), "first", &config, &[]);
    let first_pid = first.id();
    wait_until_held_by(&s3, &bucket, first_pid).await;

    // One that waits, and one told not to, both started while the first holds the table.
    let waiter = spawn(
        dir.path(),
        "waiter",
        &config,
        &[("EDLAKE_LEASE__WAIT", "2m")],
    );
    let waiter_pid = waiter.id();
    let (code, stderr) = finish(spawn(
        dir.path(),
        "impatient",
        &config,
        &[("EDLAKE_LEASE__WAIT", "0s")],
    ));
    assert_eq!(code, 1, "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: table courseware_studentmodule:"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        error.contains("another edlake is writing this table")
            && error.contains(&format!(":{first_pid}:"))
            && error.contains("`extract`"),
        "{error}"
    );

    let (code, stderr) = finish(first);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = finish(waiter);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("waiting for its lease"), "{stderr}");
    let last = lease_record(&s3, &bucket).await.unwrap();
    assert!(
        last["holder"]
            .as_str()
            .unwrap()
            .contains(&format!(":{waiter_pid}:")),
        "{last}"
    );
    assert_eq!(last["released"], true, "{last}");

    // The lake holds one whole snapshot: each course's file complete.
    for key in s3_keys(&s3, &bucket, "openedx/courseware_studentmodule/").await {
        let (_, rows) = read_table_file(&s3_get(&s3, &bucket, &key).await);
        let expected = if key.contains("Huge") {
            20_000
        } else if key.contains("Tiny") {
            2
        } else {
            50
        };
        assert_eq!(rows.len(), expected, "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_of_a_killed_holder_frees_itself_after_its_ttl() {
    let db = seed_studentmodule("lease_killed", 20_000).await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "lease-killed").await;
    let dir = tempfile::tempdir().unwrap();
    let config = lake_config(
        &db.url(),
        &format!("s3://{bucket}"),
        &format!(
            "endpoint = \"{}\"\n[lease]\nttl = \"3s\"\n\
             [[tables]]\nname = \"courseware_studentmodule\"\npartition_by = \"course_id\"\n",
            s3_endpoint()
        ),
    );
    let mut doomed = spawn(dir.path(), "doomed", &config, &[]);
    wait_until_held_by(&s3, &bucket, doomed.id()).await;
    doomed.kill().unwrap(); // SIGKILL: no release
    doomed.wait().unwrap();
    let record = lease_record(&s3, &bucket).await.unwrap();
    assert_eq!(record["released"], false, "{record}");

    let started = Instant::now();
    let (code, stderr) = finish(spawn(
        dir.path(),
        "next",
        &config,
        &[("EDLAKE_LEASE__WAIT", "1m")],
    ));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("waiting for its lease"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}
