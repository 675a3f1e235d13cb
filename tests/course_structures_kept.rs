//! course_structures: a course the run cannot read (an unusable course-index row, a
//! published structure missing from Mongo) fails the run but keeps its file, its Glue
//! partition and its entry in the versions record; only a course gone from the index leaves.
//! Real MariaDB course index, the Mongo wire test server, S3 and Glue on moto.

mod common;

use std::collections::BTreeMap;

use common::*;
use mongodb::bson::{doc, oid::ObjectId, Document};

const GOOD: &str = "course-v1:OrgX+Good+2025";
const BAD_ROW: &str = "course-v1:OrgX+BadRow+2025";
const NO_STRUCTURE: &str = "course-v1:OrgX+NoStructure+2025";

/// A small published structure: the course, one chapter, one html block.
async fn publish(db: &mongodb::Database, version: ObjectId, course_name: &str) {
    let block = |t: &str, id: &str, fields: Document| {
        doc! { "block_type": t, "block_id": id, "definition": ObjectId::new(), "fields": fields, "defaults": {} }
    };
    let structure = doc! { "_id": version, "root": ["course", "course"], "blocks": [
        block("course", "course", doc! { "display_name": course_name, "children": [["chapter", "c1"]] }),
        block("chapter", "c1", doc! { "display_name": "Week 1", "children": [["html", "h1"]] }),
        block("html", "h1", doc! { "display_name": "Welcome" }),
    ] };
    db.collection::<Document>("modulestore.structures")
        .insert_one(structure)
        .await
        .unwrap();
}

fn error_lines(out: &Output) -> Vec<String> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .map(str::to_string)
        .collect()
}

fn file_key(course_id: &str) -> String {
    format!(
        "openedx/course_structures/lms=lms.example.com/course_id={}/course_structures.csv",
        edlake::lake::escape_path_name(course_id)
    )
}

/// The versions record on S3: course id → version.
async fn s3_versions(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, String> {
    let key = "openedx/_edlake/course_structures/lms=lms.example.com/versions.json";
    let record: serde_json::Value = serde_json::from_slice(&s3_get(s3, bucket, key).await).unwrap();
    record["courses"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_course_that_cannot_be_read_keeps_its_file_partition_and_record() {
    let mysql = TestDb::new("cs_keep").await;
    create_course_index(&mysql).await;
    let mongo = fresh_mongo_db("cs_keep").await;
    let (v_good, v_bad, v_gone) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
    for (course, v) in [(GOOD, v_good), (BAD_ROW, v_bad), (NO_STRUCTURE, v_gone)] {
        publish(&mongo, v, course).await;
        index_course(&mysql, course, &v.to_hex(), "").await;
    }
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "cs-keep").await;
    let glue_db = fresh_glue_database("cs_keep");
    let cfg = "tables = []\n".to_string()
        + &lake_config(
            &mysql.url(),
            &format!("s3://{bucket}"),
            &format!(
                "endpoint = \"{}\"\n[mongodb]\nurl = \"{}\"\ndatabase = \"{}\"\nconnect_timeout_secs = 3\n{}",
                s3_endpoint(),
                mongo_url(),
                mongo.name(),
                catalog_config(&glue_db, &bucket)
            ),
        );
    let catalog_on = &[("EDLAKE_CATALOG__ENABLED", "true")];
    let glue = glue_client().await;
    let partitions = || async {
        glue_partitions(&glue, &glue_db, "openedx_raw_course_structures")
            .await
            .into_iter()
            .map(|(values, _)| values[1].clone())
            .collect::<Vec<_>>()
    };
    let all_three = vec![
        BAD_ROW.to_string(),
        GOOD.to_string(),
        NO_STRUCTURE.to_string(),
    ];

    let out = edlake(&cfg, &["extract"], catalog_on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(partitions().await, all_three);
    let bad_file = s3_get(&s3, &bucket, &file_key(BAD_ROW)).await;

    // One index row corrupted, one published structure missing from Mongo: both courses
    // fail the run, and neither loses what the lake holds.
    mysql
        .exec(&format!("UPDATE split_modulestore_django_splitmodulestorecourseindex SET published_version = 'not-an-objectid' WHERE course_id = '{BAD_ROW}'"))
        .await;
    let v_missing = ObjectId::new();
    index_course(&mysql, NO_STRUCTURE, &v_missing.to_hex(), "").await;
    let out = edlake(&cfg, &["extract"], catalog_on);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 2, "{}", out.all());
    assert!(
        errors.iter().any(|e| e.contains(&format!("course {BAD_ROW}: its version \"not-an-objectid\" in the course index is not an ObjectId"))),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains(&format!("course {NO_STRUCTURE}: its published structure {v_missing} is not in modulestore.structures"))),
        "{errors:?}"
    );
    assert!(!out.stdout.contains("stale removed"), "{}", out.stdout);
    assert_eq!(s3_get(&s3, &bucket, &file_key(BAD_ROW)).await, bad_file);
    let keys = s3_keys(&s3, &bucket, "openedx/course_structures/").await;
    assert_eq!(
        keys,
        all_three.iter().map(|c| file_key(c)).collect::<Vec<_>>()
    );
    assert_eq!(partitions().await, all_three);
    assert_eq!(
        s3_versions(&s3, &bucket).await,
        BTreeMap::from([
            (BAD_ROW.to_string(), v_bad.to_hex()),
            (GOOD.to_string(), v_good.to_hex()),
            (NO_STRUCTURE.to_string(), v_gone.to_hex()),
        ])
    );

    // The row fixed (to a newly published version): the course is written again.
    let v_bad2 = ObjectId::new();
    publish(&mongo, v_bad2, "Bad row, fixed").await;
    index_course(&mysql, BAD_ROW, &v_bad2.to_hex(), "").await;
    index_course(&mysql, NO_STRUCTURE, &v_gone.to_hex(), "").await;
    let out = edlake(&cfg, &["extract"], catalog_on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("(2 unchanged)"), "{}", out.stdout);
    let (_, rows) = read_table_file(&s3_get(&s3, &bucket, &file_key(BAD_ROW)).await);
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["course_version"] == Some(v_bad2.to_hex())),
        "{rows:?}"
    );
    assert_eq!(s3_versions(&s3, &bucket).await[BAD_ROW], v_bad2.to_hex());
    assert_eq!(partitions().await, all_three);

    // Gone from the index: only then does a course leave (file, partition and record).
    mysql
        .exec(&format!("DELETE FROM split_modulestore_django_splitmodulestorecourseindex WHERE course_id = '{BAD_ROW}'"))
        .await;
    let out = edlake(&cfg, &["extract"], catalog_on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("(1 stale removed)"), "{}", out.stdout);
    assert_eq!(partitions().await, all_three[1..]);
    assert!(!s3_versions(&s3, &bucket).await.contains_key(BAD_ROW));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_active_versions_entry_that_is_not_an_objectid_keeps_the_course() {
    // Releases before Nutmeg: the index is Mongo's active_versions.
    let mysql = TestDb::new("cs_av_bad").await;
    let mongo = fresh_mongo_db("cs_av_bad").await;
    let v = ObjectId::new();
    publish(&mongo, v, "Old course").await;
    let active = mongo.collection::<Document>("modulestore.active_versions");
    let entry = |branch: mongodb::bson::Bson| {
        doc! { "_id": 1, "org": "OrgX", "course": "Good", "run": "2025", "versions": { "published-branch": branch } }
    };
    active.insert_one(entry(v.into())).await.unwrap();
    let lake = tempfile::tempdir().unwrap();
    let cfg = "tables = []\n".to_string()
        + &lake_config(
            &mysql.url(),
            lake.path().to_str().unwrap(),
            &format!(
                "[mongodb]\nurl = \"{}\"\ndatabase = \"{}\"\nconnect_timeout_secs = 3\n[course_structures]\ncourse_index = \"mongodb\"",
                mongo_url(),
                mongo.name()
            ),
        );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let file = lake_path(lake.path(), &file_key(GOOD));
    let written = std::fs::read(&file).unwrap();

    // The version as text instead of an ObjectId (the test server has no `update`).
    active.delete_one(doc! { "_id": 1 }).await.unwrap();
    active.insert_one(entry(v.to_hex().into())).await.unwrap();
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "{}", out.all());
    assert!(
        errors[0].contains(&format!(
            "course {GOOD}: its published-branch \"{v}\" in modulestore.active_versions is not an ObjectId"
        )),
        "{}",
        errors[0]
    );
    assert!(!out.stdout.contains("stale removed"), "{}", out.stdout);
    assert_eq!(std::fs::read(&file).unwrap(), written, "the file stays");
}
