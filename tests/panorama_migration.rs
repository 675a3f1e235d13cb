//! A lake Panorama wrote, with its folder spelling (Python's `urllib.parse.quote`: `+` as
//! `%2B`, `@` as `%40`, non-ASCII percent-encoded, `/` kept so old-style ids nest), ends
//! after one edlake run with exactly one folder per course in Hive's spelling, every Glue
//! partition moved to it, and Panorama's files gone, with no row lost.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use aws_sdk_glue::types::{PartitionInput, StorageDescriptor};
use common::*;

const TABLE: &str = "courseware_studentmodule";
const RAW: &str = "openedx_raw_courseware_studentmodule";

/// Course ids with every character course ids hold: `:` `+` `'` `~` `.` `@` `/`,
/// non-ASCII.
const COURSES: &[&str] = &[
    "course-v1:Org+X+Run",
    "course-v1:O'Brien+Y+1",
    "course-v1:T~X+A.B+R_2",
    "course-v1:UnivCafé+中文+Run",
    "ccx-v1:edX+DemoX+Demo_Course+ccx@3",
    "MITx/6.002x/2012_Fall",
];

/// Panorama's folder names: Python's own `urllib.parse.quote`, as panorama-elt calls it.
fn python_quote(values: &[&str]) -> Vec<String> {
    let mut child = Command::new(python())
        .args([
            "-c",
            "import json, sys, urllib.parse\n\
             print(json.dumps([urllib.parse.quote(v) for v in json.load(sys.stdin)]))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(values).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn s3_put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

async fn s3_delete(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panorama_lake_ends_with_one_folder_per_course_after_one_run() {
    let test = "panorama_spelling";
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            module_id varchar(255) NOT NULL,
            grade double NULL,
            modified datetime(6) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    for (i, course) in COURSES.iter().enumerate() {
        db.exec(&format!(
            "INSERT INTO courseware_studentmodule (course_id, module_id, grade, modified) VALUES
             ('{c}', 'block-v1:a', {i}, '2025-01-01 00:00:00'),
             ('{c}', 'block-v1:b', NULL, '2025-01-02 00:00:00')",
            c = course.replace('\'', "''")
        ))
        .await;
    }
    let (s3, glue) = (s3_client().await, glue_client().await);
    let bucket = fresh_bucket(&s3, "panorama-spelling").await;
    let gdb = fresh_glue_database(test);
    let cfg = lake_config(
        &db.url(),
        &format!("s3://{bucket}"),
        &format!(
            "endpoint = \"{}\"\n{}\n[[tables]]\nname = \"{TABLE}\"\npartition_by = \"course_id\"\n",
            s3_endpoint(),
            catalog_config(&gdb, &bucket)
        ),
    );
    let on = [("EDLAKE_CATALOG__ENABLED", "true")];

    // edlake's own layout first: the files and partitions the migrated lake must end with.
    let out = edlake(&cfg, &["extract"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    let table_dir = format!("openedx/{TABLE}/");
    let mut hive: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for key in all_s3_keys(&s3, &bucket, &table_dir).await {
        hive.insert(key.clone(), s3_get(&s3, &bucket, &key).await);
    }
    assert_eq!(hive.len(), COURSES.len(), "{:#?}", hive.keys());
    let hive_partitions = glue_partitions(&glue, &gdb, RAW).await;

    // Rewind to what Panorama leaves: its spelling of every folder and Glue location, and
    // none of edlake's records.
    let lms_dir = format!("{table_dir}lms=lms.example.com/");
    let panorama_dirs: Vec<String> = python_quote(COURSES)
        .into_iter()
        .map(|q| format!("{lms_dir}course_id={q}/"))
        .collect();
    assert!(panorama_dirs[0].ends_with("course_id=course-v1%3AOrg%2BX%2BRun/"));
    assert!(panorama_dirs[5].ends_with("course_id=MITx/6.002x/2012_Fall/"));
    for (course, panorama_dir) in COURSES.iter().zip(&panorama_dirs) {
        let hive_dir = format!(
            "{lms_dir}course_id={}/",
            edlake::lake::escape_path_name(course)
        );
        assert_ne!(
            &hive_dir, panorama_dir,
            "{course}: the same in both spellings"
        );
        let key = format!("{hive_dir}{TABLE}.csv");
        s3_put(
            &s3,
            &bucket,
            &format!("{panorama_dir}{TABLE}.csv"),
            hive[&key].clone(),
        )
        .await;
        s3_delete(&s3, &bucket, &key).await;
        glue.delete_partition()
            .database_name(&gdb)
            .table_name(RAW)
            .set_partition_values(Some(vec!["lms.example.com".into(), course.to_string()]))
            .send()
            .await
            .unwrap();
        glue.create_partition()
            .database_name(&gdb)
            .table_name(RAW)
            .partition_input(
                PartitionInput::builder()
                    .set_values(Some(vec!["lms.example.com".into(), course.to_string()]))
                    .storage_descriptor(
                        StorageDescriptor::builder()
                            .location(format!("s3://{bucket}/{panorama_dir}"))
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    for key in all_s3_keys(&s3, &bucket, "openedx/_edlake/").await {
        s3_delete(&s3, &bucket, &key).await;
    }
    assert!(all_s3_keys(&s3, &bucket, &table_dir)
        .await
        .iter()
        .all(|k| panorama_dirs.iter().any(|d| k.starts_with(d))));

    // A `catalog sync` before any extract reads Panorama's folders as the same partitions
    // (non-ASCII decoded as UTF-8, the nested old-style id whole): it changes nothing.
    let panorama_partitions = glue_partitions(&glue, &gdb, RAW).await;
    let out = edlake(&cfg, &["catalog", "sync"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(glue_partitions(&glue, &gdb, RAW).await, panorama_partitions);

    // One edlake run.
    let out = edlake(&cfg, &["extract"], &on);
    assert_eq!(out.code, 0, "{}", out.all());

    let mut after: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for key in all_s3_keys(&s3, &bucket, &table_dir).await {
        after.insert(key.clone(), s3_get(&s3, &bucket, &key).await);
    }
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        hive.keys().collect::<Vec<_>>(),
        "one folder per course, in Hive's spelling"
    );
    assert_eq!(after, hive, "every row is still there");
    assert_eq!(
        glue_partitions(&glue, &gdb, RAW).await,
        hive_partitions,
        "every Glue partition moved to edlake's folder"
    );
}
