//! Several LMS replicas ship tracking logs into the same `lms=` partitions: a replica's
//! `logs ship` never deletes a day partition it does not see in its own listing (another
//! replica may have just added it); `catalog sync`, holding the table's lease, deletes a
//! partition only when a listing made after reading Glue still proves it stale.

mod common;

use std::path::Path;

use common::*;

const RAW: &str = "openedx_raw_tracking_logs";

fn event(time: &str, seq: u64) -> String {
    format!("{{\"name\": \"t\", \"time\": \"{time}\", \"event\": {{\"seq\": {seq}}}}}\n")
}

fn config(bucket: &str, database: &str, live: &Path) -> String {
    format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"s3://{bucket}\"\nendpoint = \"{}\"\n\
         [tracking_logs]\npath = \"{}\"\nrotate_age = \"0s\"\ngrace = \"0s\"\n{}",
        s3_endpoint(),
        live.display(),
        catalog_config(database, bucket)
    )
}

/// Registers day `day` of January 2024 as another replica does after its upload.
async fn register_day(glue: &aws_sdk_glue::Client, database: &str, bucket: &str, day: &str) {
    use aws_sdk_glue::types::{PartitionInput, StorageDescriptor};
    glue.create_partition()
        .database_name(database)
        .table_name(RAW)
        .partition_input(
            PartitionInput::builder()
                .set_values(Some(vec![
                    "lms.example.com".into(),
                    "2024".into(),
                    "01".into(),
                    day.into(),
                ]))
                .storage_descriptor(
                    StorageDescriptor::builder()
                        .location(format!(
                            "s3://{bucket}/openedx/tracking_logs/lms=lms.example.com/year=2024/month=01/day={day}/"
                        ))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn days(glue: &aws_sdk_glue::Client, database: &str) -> Vec<String> {
    glue_partitions(glue, database, RAW)
        .await
        .into_iter()
        .map(|(values, _)| values[3].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_sync_under_the_lease_deletes_a_day_partition_and_only_a_stale_one() {
    let s3 = s3_client().await;
    let glue = glue_client().await;
    let bucket = fresh_bucket(&s3, "replicas").await;
    let database = fresh_glue_database("replicas");
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("tracking.log");
    let config = config(&bucket, &database, &live);
    let on = [("EDLAKE_CATALOG__ENABLED", "true")];

    std::fs::write(&live, event("2024-01-01T10:00:00+00:00", 1)).unwrap();
    let out = edlake(&config, &["logs", "ship"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(days(&glue, &database).await, ["01"]);

    // Another replica registers day 05 after this replica has listed the lake (its objects
    // are not in this replica's listing); this replica's next pass must keep it.
    register_day(&glue, &database, &bucket, "05").await;
    std::fs::write(&live, event("2024-01-02T10:00:00+00:00", 2)).unwrap();
    let out = edlake(&config, &["logs", "ship"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("catalog: +1 -0"), "{}", out.stdout);
    assert_eq!(days(&glue, &database).await, ["01", "02", "05"]);

    // `catalog sync` holds the lease and lists again after reading Glue: day 05 still has
    // no object, so it is stale and goes; the others stay.
    let out = edlake(
        &config,
        &["catalog", "sync", "--table", "tracking_logs"],
        &on,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(days(&glue, &database).await, ["01", "02"]);
}
