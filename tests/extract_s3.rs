//! `edlake extract` into S3 (moto server): the same keys and bytes as a local lake, literal
//! `%3A`/`+` in keys, streaming multipart uploads of big partitions in both checksum modes,
//! no unfinished multipart upload left behind, stale partitions removed.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

fn config(db: &TestDb, lake_url: &str, extra: &str) -> String {
    lake_config(
        &db.url(),
        lake_url,
        &format!(
            r#"
            endpoint = "{}"
            part_size_mb = 5
            {extra}
            [extract]
            memory_budget_mb = 2
            [[tables]]
            name = "courseware_studentmodule"
            partition_by = "course_id"
            "#,
            s3_endpoint()
        ),
    )
}

fn local_lake(db: &TestDb, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let out = edlake(
        &config(db, &dir.display().to_string(), ""),
        &["extract"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    files_under(dir)
        .into_iter()
        .map(|f| {
            let data = std::fs::read(dir.join(&f)).unwrap();
            (f, data)
        })
        .collect()
}

async fn s3_lake(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    root: &str,
) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for key in s3_keys(client, bucket, root).await {
        let data = s3_get(client, bucket, &key).await;
        out.insert(key.strip_prefix(root).unwrap().to_string(), data);
    }
    out
}

async fn assert_no_open_uploads(client: &aws_sdk_s3::Client, bucket: &str) {
    let uploads = client
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "{:?}", uploads.uploads());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_lake_matches_the_local_lake_byte_for_byte() {
    // ~4,000 rows of ~1.9 KB: the big partition spans several 5 MiB parts.
    let db = seed_studentmodule("s3_same_bytes", 4000).await;
    let client = s3_client().await;
    let dir = tempfile::tempdir().unwrap();
    let local = local_lake(&db, dir.path());
    let big = local
        .iter()
        .find(|(k, _)| k.contains("BigOrg"))
        .map(|(_, v)| v.len())
        .unwrap();
    assert!(big > 10 * 1024 * 1024, "big partition is multipart: {big}");

    // The second pass also asks for SSE-KMS, on single and multipart uploads alike.
    for (mode, test, sse) in [
        ("when_supported", "s3_same_a", ""),
        (
            "when_required",
            "s3_same_b",
            "sse_kms_key_id = \"alias/edlake-test\"",
        ),
    ] {
        let bucket = fresh_bucket(&client, test).await;
        let url = format!("s3://{bucket}/lake/root");
        let out = edlake(
            &config(&db, &url, &format!("checksums = \"{mode}\"\n{sse}")),
            &["extract"],
            &[],
        );
        assert_eq!(out.code, 0, "{mode}: {}", out.all());
        let remote = s3_lake(&client, &bucket, "lake/root/").await;
        assert_eq!(
            remote.keys().collect::<Vec<_>>(),
            local.keys().collect::<Vec<_>>(),
            "{mode}"
        );
        assert!(remote.contains_key(
            "openedx/courseware_studentmodule/lms=lms.example.com/course_id=course-v1%3AUnivCafé+X+Run%3A1/courseware_studentmodule.csv"
        ));
        for (k, v) in &local {
            assert!(remote[k] == *v, "{mode}: {k} differs");
        }
        assert_no_open_uploads(&client, &bucket).await;
        if !sse.is_empty() {
            for key in s3_keys(&client, &bucket, "lake/root/").await {
                let head = client
                    .head_object()
                    .bucket(&bucket)
                    .key(&key)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    head.server_side_encryption(),
                    Some(&aws_sdk_s3::types::ServerSideEncryption::AwsKms),
                    "{key}"
                );
                assert_eq!(head.ssekms_key_id(), Some("alias/edlake-test"), "{key}");
            }
        }
        // Read back under Athena's rules: every row is there.
        let rows: usize = remote.values().map(|v| read_table_file(v).1.len()).sum();
        assert_eq!(rows, 4052);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_stale_partitions_are_removed_and_others_kept() {
    let db = seed_studentmodule("s3_stale", 10).await;
    let client = s3_client().await;
    let bucket = fresh_bucket(&client, "s3_stale").await;
    // Another LMS shares the bucket and the table: its partitions are not ours to remove.
    let foreign = "openedx/courseware_studentmodule/lms=other.example.com/course_id=x/courseware_studentmodule.csv";
    client
        .put_object()
        .bucket(&bucket)
        .key(foreign)
        .body(b"id\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let cfg = config(&db, &format!("s3://{bucket}"), "");
    assert_eq!(edlake(&cfg, &["extract"], &[]).code, 0);
    assert_eq!(s3_keys(&client, &bucket, "").await.len(), 4);

    db.exec("DELETE FROM courseware_studentmodule WHERE course_id = 'course-v1:Org+Tiny+T1'")
        .await;
    let out = edlake(&cfg, &["extract", "--full"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let keys = s3_keys(&client, &bucket, "").await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|k| !k.contains("Tiny")));
    assert!(keys.iter().any(|k| k == foreign));
}
