//! Lease fencing with real processes against moto: a holder frozen (SIGSTOP) past the
//! lease's ttl while another process takes the table over and writes its delta and
//! watermark publishes nothing once thawed (SIGCONT): no file of its own, no overwritten
//! file, no watermark moved; the lake still holds every change.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use sqlx::Row;

const LMS_DIR: &str = "openedx/courseware_studentmodule/lms=lms.example.com/";
const WATERMARK: &str =
    "openedx/_edlake/watermarks/lms=lms.example.com/courseware_studentmodule.json";

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

/// The process state letter of /proc/<pid>/stat (`T`: stopped).
fn state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
        .unwrap_or('?')
}

/// Each row as the view shows it: per id, the version with the newest `modified`, ties
/// going to the file whose key sorts last (deltas after the base file).
async fn lake_view(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, (String, String)> {
    let mut newest: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for key in s3_keys(s3, bucket, LMS_DIR).await {
        for row in read_table_file(&s3_get(s3, bucket, &key).await).1 {
            let id = row["id"].clone().unwrap();
            let modified = row["modified"].clone().unwrap();
            let state = row["state"].clone().unwrap_or_default();
            let newer = match newest.get(&id) {
                Some((m, k, _)) => (modified.as_str(), key.as_str()) > (m.as_str(), k.as_str()),
                None => true,
            };
            if newer {
                newest.insert(id, (modified, key.clone(), state));
            }
        }
    }
    newest
        .into_iter()
        .map(|(id, (modified, _, state))| (id, (state, modified)))
        .collect()
}

async fn source(db: &TestDb) -> BTreeMap<String, (String, String)> {
    sqlx::raw_sql(
        "SELECT CAST(id AS CHAR), IFNULL(state, ''), CAST(modified AS CHAR) FROM courseware_studentmodule",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get::<String, _>(0),
            (r.get::<String, _>(1), r.get::<String, _>(2)),
        )
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_frozen_past_its_lease_publishes_nothing_when_thawed() {
    let db = seed_studentmodule("fencing_stalled", 300).await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "fencing-stalled").await;
    let dir = tempfile::tempdir().unwrap();
    let config = lake_config(
        &db.url(),
        &format!("s3://{bucket}"),
        &format!(
            "endpoint = \"{}\"\n[lease]\nttl = \"3s\"\nwait = \"30s\"\n\
             [[tables]]\nname = \"courseware_studentmodule\"\npartition_by = \"course_id\"\n",
            s3_endpoint()
        ),
    );
    let (code, stderr) = {
        let mut first = spawn(dir.path(), "first", &config, &[]);
        let (status, stderr) = wait_with_stderr(&mut first);
        (status.code(), stderr)
    };
    assert_eq!(code, Some(0), "{stderr}");

    // Changes X, one row in each of the three courses; A reads them, then freezes just
    // before publishing. Small deltas: a stale writer's requests would go out at once on
    // resume, before any renewal could tell it the lease is gone.
    db.exec(
        "UPDATE courseware_studentmodule SET state = 'X', modified = '2025-07-01 00:00:00' WHERE id IN (1, 301, 351)",
    )
    .await;
    let mut a = spawn(
        dir.path(),
        "a",
        &config,
        &[("EDLAKE_TEST_PAUSE", "extract.before-publish")],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while state(a.id()) != 'T' {
        assert!(a.try_wait().unwrap().is_none(), "A ended before pausing");
        assert!(Instant::now() < deadline, "A never paused");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A stays frozen past its ttl; B takes the table over with changes X and Y.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    db.exec(
        "UPDATE courseware_studentmodule SET state = 'Y', modified = '2025-08-01 00:00:00' WHERE id IN (2, 302, 352)",
    )
    .await;
    let mut b = spawn(dir.path(), "b", &config, &[]);
    let (status, b_err) = wait_with_stderr(&mut b);
    assert_eq!(status.code(), Some(0), "{b_err}");
    assert!(b_err.contains("delta 1"), "{b_err}");
    let lake_after_b = s3_keys(&s3, &bucket, LMS_DIR).await;
    let watermark_after_b = s3_get(&s3, &bucket, WATERMARK).await;

    // Thawed, A finds it lost the lease and publishes nothing.
    assert!(std::process::Command::new("kill")
        .args(["-CONT", &a.id().to_string()])
        .status()
        .unwrap()
        .success());
    let (status, a_err) = wait_with_stderr(&mut a);
    assert_eq!(status.code(), Some(1), "{a_err}");
    assert!(a_err.contains("lost the lease"), "{a_err}");
    assert_eq!(s3_keys(&s3, &bucket, LMS_DIR).await, lake_after_b);
    assert_eq!(s3_get(&s3, &bucket, WATERMARK).await, watermark_after_b);
    let deltas: Vec<&String> = lake_after_b
        .iter()
        .filter(|k| k.contains(".delta-"))
        .collect();
    assert!(!deltas.is_empty());
    // One run's deltas, B's: no file of A's beside them, none of B's overwritten.
    let run_of = |k: &str| k.rsplit_once('-').unwrap().1.to_string();
    assert!(
        deltas.iter().all(|k| run_of(k) == run_of(deltas[0])),
        "{deltas:#?}"
    );
    // Every change is in the lake, as the view reads it.
    assert_eq!(lake_view(&s3, &bucket).await, source(&db).await);
    let record: serde_json::Value = serde_json::from_slice(&watermark_after_b).unwrap();
    assert_eq!(record["watermark"], "2025-08-01 00:00:00.000000");
    assert_eq!(record["deltas"], 1);
}
