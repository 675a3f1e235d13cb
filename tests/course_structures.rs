//! course_structures through the real `mongodb` driver against the wire-compatible test
//! server (mockupdb + mongomock), with the course index in MariaDB: the tree, weights,
//! orphans and bad input; unchanged courses skipped; a republished course rewritten alone;
//! per-course failures; an unreachable server; `check`; Glue registration on moto.

mod common;

use std::collections::BTreeMap;

use common::*;
use mongodb::bson::{doc, oid::ObjectId, Document};

const REALISTIC: &str = "course-v1:OrgX+Real+2025";
const BIG: &str = "course-v1:OrgX+Big+2025";
const MISSING: &str = "course-v1:OrgX+Missing+2025";

/// A realistic course: chapters, sequentials, verticals, problems, html, video, a
/// library_content block, an orphan, a missing definition, malformed OLX, an explicit
/// weight of 0. Returns the structure and its definitions.
fn realistic(version: ObjectId, course_name: &str) -> (Document, Vec<Document>) {
    let mut defs = Vec::new();
    let mut def = |data: Option<&str>| {
        let id = ObjectId::new();
        let mut fields = Document::new();
        if let Some(d) = data {
            fields.insert("data", d);
        }
        defs.push(doc! { "_id": id, "block_type": "problem", "fields": fields });
        id
    };
    let two_inputs = def(Some("<problem><!-- <stringresponse><textline/></stringresponse> --><optionresponse><optioninput/><optioninput/></optionresponse></problem>"));
    let malformed = def(Some("<problem><stringresponse><textline/></problem>"));
    let html_def = def(Some("<p>hello</p>"));
    let gone = ObjectId::new();
    let blocks = vec![
        block(
            "problem",
            "p_zero",
            ObjectId::new(),
            doc! { "display_name": "Zero weight", "weight": 0, "markdown": "m".repeat(500) },
        ),
        block(
            "problem",
            "p_counted",
            two_inputs,
            doc! { "display_name": "Two inputs" },
        ),
        block(
            "problem",
            "p_gone",
            gone,
            doc! { "display_name": "No definition" },
        ),
        block(
            "problem",
            "p_bad",
            malformed,
            doc! { "display_name": "Bad OLX" },
        ),
        block(
            "html",
            "h1",
            html_def,
            doc! { "display_name": "Welcome, \"friends\"\nline two" },
        ),
        block(
            "video",
            "vid",
            ObjectId::new(),
            doc! { "display_name": "Lecture 1" },
        ),
        block(
            "vertical",
            "v1",
            ObjectId::new(),
            doc! { "display_name": "Unit 1", "children": kids(&[("html", "h1"), ("video", "vid"), ("problem", "p_zero")]) },
        ),
        block(
            "vertical",
            "v2",
            ObjectId::new(),
            doc! { "display_name": "Unit 2", "children": kids(&[("problem", "p_counted"), ("problem", "p_gone"), ("problem", "p_bad"), ("library_content", "lib")]) },
        ),
        block(
            "library_content",
            "lib",
            ObjectId::new(),
            doc! { "display_name": "Random", "children": kids(&[("problem", "lp1")]) },
        ),
        doc! { "block_type": "problem", "block_id": "lp1", "definition": ObjectId::new(), "fields": {},
        "defaults": { "display_name": "Library problem", "weight": 3 } },
        block(
            "sequential",
            "s1",
            ObjectId::new(),
            doc! { "display_name": "Homework 1", "graded": true, "format": "Homework", "due": "2025-03-01T12:00:00Z", "children": kids(&[("vertical", "v1"), ("vertical", "v2")]) },
        ),
        block(
            "chapter",
            "c1",
            ObjectId::new(),
            doc! { "display_name": "Week 1", "children": kids(&[("sequential", "s1")]) },
        ),
        block(
            "course",
            "course",
            ObjectId::new(),
            doc! { "display_name": course_name, "start": mongodb::bson::DateTime::parse_rfc3339_str("2025-01-06T09:00:00Z").unwrap(), "children": kids(&[("chapter", "c1")]) },
        ),
        block("about", "overview", ObjectId::new(), doc! {}),
        block(
            "html",
            "orphan",
            ObjectId::new(),
            doc! { "display_name": "Orphaned text" },
        ),
    ];
    let structure = doc! { "_id": version, "root": ["course", "course"], "schema_version": 1, "blocks": blocks };
    (structure, defs)
}

/// A course of 10,111 blocks: 10 chapters × 10 sequentials × 10 verticals × 9 html.
fn big(version: ObjectId) -> Document {
    let mut blocks = Vec::with_capacity(10_111);
    // Adds a block with these children and returns its id.
    let mut add = |t: &str, id: String, name: String, children: &[(&str, String)]| {
        let list: Vec<(&str, &str)> = children.iter().map(|(ct, ci)| (*ct, ci.as_str())).collect();
        blocks.push(block(
            t,
            &id,
            ObjectId::new(),
            doc! { "display_name": name, "children": kids(&list) },
        ));
        id
    };
    let mut chapters = Vec::new();
    for c in 0..10 {
        let mut seqs = Vec::new();
        for s in 0..10 {
            let mut verts = Vec::new();
            for v in 0..10 {
                let leaves: Vec<(&str, String)> = (0..9)
                    .map(|h| {
                        (
                            "html",
                            add(
                                "html",
                                format!("h{c}_{s}_{v}_{h}"),
                                format!("Text {h}"),
                                &[],
                            ),
                        )
                    })
                    .collect();
                verts.push((
                    "vertical",
                    add(
                        "vertical",
                        format!("v{c}_{s}_{v}"),
                        format!("Unit {v}"),
                        &leaves,
                    ),
                ));
            }
            seqs.push((
                "sequential",
                add(
                    "sequential",
                    format!("s{c}_{s}"),
                    format!("Seq {s}"),
                    &verts,
                ),
            ));
        }
        chapters.push((
            "chapter",
            add("chapter", format!("c{c}"), format!("Chapter {c}"), &seqs),
        ));
    }
    add("course", "course".into(), "Big course".into(), &chapters);
    doc! { "_id": version, "root": ["course", "course"], "blocks": blocks }
}

async fn insert(db: &mongodb::Database, structures: Vec<Document>, definitions: Vec<Document>) {
    if !structures.is_empty() {
        db.collection::<Document>("modulestore.structures")
            .insert_many(structures)
            .await
            .unwrap();
    }
    if !definitions.is_empty() {
        db.collection::<Document>("modulestore.definitions")
            .insert_many(definitions)
            .await
            .unwrap();
    }
}

/// MySQL with the course index listing REALISTIC, and its published structure in Mongo.
async fn one_course(test: &str) -> (TestDb, mongodb::Database, ObjectId) {
    let mysql = TestDb::new(test).await;
    create_course_index(&mysql).await;
    let mongo = fresh_mongo_db(test).await;
    let v = ObjectId::new();
    let (s, defs) = realistic(v, "One course");
    insert(&mongo, vec![s], defs).await;
    index_course(&mysql, REALISTIC, &v.to_hex(), "").await;
    (mysql, mongo, v)
}

/// Course structures only: `tables = []` turns off the default MySQL tables.
fn config(mysql: &TestDb, mongo: &mongodb::Database, lake: &str, more: &str) -> String {
    "tables = []\n".to_string()
        + &lake_config(
            &mysql.url(),
            lake,
            &format!(
                "[mongodb]\nurl = \"{}\"\ndatabase = \"{}\"\nconnect_timeout_secs = 3\n{more}",
                mongo_url(),
                mongo.name()
            ),
        )
}

fn partition_file(root: &std::path::Path, course_id: &str) -> std::path::PathBuf {
    let escaped = edlake::lake::escape_path_name(course_id);
    root.join(format!(
        "openedx/course_structures/lms=lms.example.com/course_id={escaped}/course_structures.csv"
    ))
}

fn rows_by_block(path: &std::path::Path) -> BTreeMap<String, BTreeMap<String, Option<String>>> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (_, rows) = read_table_file(&data);
    rows.into_iter()
        .map(|r| (r["block_id"].clone().unwrap(), r))
        .collect()
}

fn error_lines(out: &Output) -> Vec<String> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_published_tree_is_extracted_and_unchanged_courses_are_skipped() {
    let mysql = TestDb::new("cs_tree").await;
    create_course_index(&mysql).await;
    let mongo = fresh_mongo_db("cs_tree").await;
    let (v_real, v_big, v_missing) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
    let (real, defs) = realistic(v_real, "Real course");
    insert(&mongo, vec![real, big(v_big)], defs).await;
    index_course(&mysql, REALISTIC, &v_real.to_hex(), "").await;
    index_course(&mysql, BIG, &v_big.to_hex(), "").await;
    index_course(&mysql, MISSING, &v_missing.to_hex(), "").await;
    // Never published, and a library: neither is a course to export.
    index_course(&mysql, "course-v1:OrgX+Draft+2025", "", "").await;
    index_course(&mysql, "library-v1:OrgX+Lib", "", &ObjectId::new().to_hex()).await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&mysql, &mongo, lake.path().to_str().unwrap(), "");

    let out = edlake(&cfg, &["extract"], &[]);
    // The missing structure makes the run incomplete, with exactly one line naming it.
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "{}", out.all());
    assert!(errors[0].starts_with(&format!("error: table course_structures: course {MISSING}: its published structure {v_missing} is not in modulestore.structures")), "{}", errors[0]);
    assert!(
        out.stdout.contains("INCOMPLETE (1 failed)"),
        "{}",
        out.stdout
    );
    // Problems whose weight is unknown are named in warnings.
    for bad in ["p_gone", "p_bad"] {
        assert!(
            out.stderr
                .contains(&format!("block-v1:OrgX+Real+2025+type@problem+block@{bad}")),
            "{}",
            out.stderr
        );
    }

    let rows = rows_by_block(&partition_file(lake.path(), REALISTIC));
    assert_eq!(
        rows.len(),
        15,
        "every block, orphan and about page included"
    );
    let cell = |id: &str, col: &str| rows[id][col].clone();
    assert_eq!(
        cell("course", "module_location").as_deref(),
        Some(REALISTIC)
    );
    assert_eq!(
        cell("course", "course_name").as_deref(),
        Some("Real course")
    );
    assert_eq!(
        (
            cell("p_counted", "chapter"),
            cell("p_counted", "sequential"),
            cell("p_counted", "vertical")
        ),
        (
            Some("Week 1".into()),
            Some("Homework 1".into()),
            Some("Unit 2".into())
        )
    );
    assert_eq!(
        cell("p_counted", "parent").as_deref(),
        Some("block-v1:OrgX+Real+2025+type@vertical+block@v2")
    );
    assert_eq!(cell("p_counted", "organization").as_deref(), Some("OrgX"));
    assert_eq!(cell("p_counted", "course_code").as_deref(), Some("Real"));
    assert_eq!(cell("p_counted", "course_edition").as_deref(), Some("2025"));
    assert_eq!(
        cell("p_zero", "weight").as_deref(),
        Some("0"),
        "explicit 0 wins"
    );
    assert_eq!(
        cell("p_counted", "weight").as_deref(),
        Some("2"),
        "comment not counted"
    );
    assert_eq!(cell("p_gone", "weight"), None);
    assert_eq!(cell("p_bad", "weight"), None);
    assert_eq!(cell("lp1", "weight").as_deref(), Some("3"));
    assert_eq!(cell("lp1", "library").as_deref(), Some("Random"));
    assert_eq!(
        cell("h1", "display_name").as_deref(),
        Some("Welcome, \"friends\"\nline two")
    );
    assert_eq!(
        cell("h1", "component").as_deref(),
        Some("Welcome, \"friends\"\nline two")
    );
    assert_eq!(cell("h1", "weight"), None);
    assert_eq!(
        (cell("vid", "position"), cell("vid", "depth")),
        (Some("2".into()), Some("4".into()))
    );
    assert_eq!(
        cell("p_zero", "due").as_deref(),
        Some("2025-03-01 12:00:00.000000")
    );
    assert_eq!(
        cell("p_zero", "start").as_deref(),
        Some("2025-01-06 09:00:00.000000")
    );
    assert_eq!(
        (cell("p_zero", "graded"), cell("p_zero", "format")),
        (Some("1".into()), Some("Homework".into()))
    );
    assert_eq!(
        (cell("orphan", "orphan"), cell("orphan", "parent")),
        (Some("1".into()), None)
    );
    assert_eq!(cell("p_zero", "orphan").as_deref(), Some("0"));
    assert_eq!(cell("p_zero", "course_version"), Some(v_real.to_hex()));
    let big_rows = rows_by_block(&partition_file(lake.path(), BIG));
    assert_eq!(
        big_rows.len(),
        9000 + 1000 + 100 + 10 + 1,
        "html, verticals, sequentials, chapters, course"
    );
    assert_eq!(
        big_rows["h9_9_9_8"]["chapter"].as_deref(),
        Some("Chapter 9")
    );
    let files = files_under(lake.path());
    assert!(
        !files
            .iter()
            .any(|f| f.contains("Draft") || f.contains("Lib")),
        "{files:?}"
    );
    assert!(!files.iter().any(|f| f.contains("Missing")), "{files:?}");

    // Nothing published: nothing is fetched or written again.
    let real_file = partition_file(lake.path(), REALISTIC);
    let before = std::fs::metadata(&real_file).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("(2 unchanged)"), "{}", out.stdout);
    assert_eq!(
        std::fs::metadata(&real_file).unwrap().modified().unwrap(),
        before
    );

    // One course republished: only it is rewritten.
    let v_real2 = ObjectId::new();
    let (real2, defs2) = realistic(v_real2, "Real course, 2nd edition");
    insert(&mongo, vec![real2], defs2).await;
    index_course(&mysql, REALISTIC, &v_real2.to_hex(), "").await;
    let big_before = std::fs::metadata(partition_file(lake.path(), BIG))
        .unwrap()
        .modified()
        .unwrap();
    let out = edlake(&cfg, &["extract", "--table", "course_structures"], &[]);
    assert!(out.stdout.contains("(1 unchanged)"), "{}", out.stdout);
    let rows = rows_by_block(&real_file);
    assert_eq!(
        rows["course"]["course_name"].as_deref(),
        Some("Real course, 2nd edition")
    );
    assert_eq!(rows["p_zero"]["course_version"], Some(v_real2.to_hex()));
    assert_eq!(
        std::fs::metadata(partition_file(lake.path(), BIG))
            .unwrap()
            .modified()
            .unwrap(),
        big_before
    );

    // A course gone from the index leaves the lake; --full rewrites the rest.
    mysql.exec(&format!("DELETE FROM split_modulestore_django_splitmodulestorecourseindex WHERE course_id IN ('{BIG}', '{MISSING}')")).await;
    let out = edlake(&cfg, &["extract", "--full"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("(1 stale removed)"), "{}", out.stdout);
    assert!(!out.stdout.contains("unchanged"), "{}", out.stdout);
    assert!(!partition_file(lake.path(), BIG).exists());
    assert!(real_file.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn releases_before_nutmeg_read_active_versions_and_libraries_when_asked() {
    // No course index table in MySQL: auto falls back to Mongo's active_versions.
    let mysql = TestDb::new("cs_active").await;
    let mongo = fresh_mongo_db("cs_active").await;
    let (v_course, v_lib) = (ObjectId::new(), ObjectId::new());
    let (course, defs) = realistic(v_course, "Old course");
    let library = doc! { "_id": v_lib, "root": ["library", "library"], "blocks": [
        block("library", "library", ObjectId::new(), doc! { "display_name": "Lib", "children": kids(&[("problem", "lp")]) }),
        block("problem", "lp", ObjectId::new(), doc! { "display_name": "Pool problem", "weight": 1 }),
    ] };
    insert(&mongo, vec![course, library], defs).await;
    mongo
        .collection::<Document>("modulestore.active_versions")
        .insert_many(vec![
            doc! { "org": "OrgX", "course": "Real", "run": "2025", "versions": { "draft-branch": ObjectId::new(), "published-branch": v_course } },
            doc! { "org": "OrgX", "course": "Lib", "run": "library", "versions": { "library": v_lib } },
        ])
        .await
        .unwrap();
    let lake = tempfile::tempdir().unwrap();

    let cfg = config(&mysql, &mongo, lake.path().to_str().unwrap(), "");
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(partition_file(lake.path(), REALISTIC).exists());
    assert!(
        !partition_file(lake.path(), "library-v1:OrgX+Lib").exists(),
        "libraries are skipped by default"
    );

    let cfg = config(
        &mysql,
        &mongo,
        lake.path().to_str().unwrap(),
        "[course_structures]\ninclude_libraries = true\ncourse_index = \"mongodb\"",
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let rows = rows_by_block(&partition_file(lake.path(), "library-v1:OrgX+Lib"));
    assert_eq!(
        rows["lp"]["module_location"].as_deref(),
        Some("lib-block-v1:OrgX+Lib+type@problem+block@lp")
    );
    assert_eq!(
        rows["library"]["module_location"].as_deref(),
        Some("library-v1:OrgX+Lib")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_structure_the_server_refuses_fails_only_its_course() {
    let mysql = TestDb::new("cs_refused").await;
    create_course_index(&mysql).await;
    let mongo = fresh_mongo_db("cs_refused").await;
    let (v_ok, v_huge) = (ObjectId::new(), ObjectId::new());
    let (ok, defs) = realistic(v_ok, "Fine");
    let (huge, _) = realistic(v_huge, "Huge");
    insert(&mongo, vec![ok, huge], defs).await;
    // The test server answers any find returning this document with the server's error.
    mongo
        .collection::<Document>("edlake_faults")
        .insert_one(doc! { "_id": v_huge, "code": 10334, "codeName": "BSONObjectTooLarge", "errmsg": "BSONObj size: 17825792 (0x1100000) is invalid" })
        .await
        .unwrap();
    index_course(&mysql, REALISTIC, &v_ok.to_hex(), "").await;
    index_course(&mysql, "course-v1:OrgX+Huge+2025", &v_huge.to_hex(), "").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&mysql, &mongo, lake.path().to_str().unwrap(), "");
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "{}", out.all());
    assert!(
        errors[0].contains("course course-v1:OrgX+Huge+2025")
            && errors[0].contains("BSONObjectTooLarge"),
        "{}",
        errors[0]
    );
    assert!(
        partition_file(lake.path(), REALISTIC).exists(),
        "the other course still extracts"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_mongodb_is_one_line_and_mysql_tables_still_extract() {
    let mysql = TestDb::new("cs_down").await;
    mysql
        .exec("CREATE TABLE auth_user (id int PRIMARY KEY, username varchar(30))")
        .await;
    mysql.exec("INSERT INTO auth_user VALUES (1, 'ana')").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = lake_config(
        &mysql.url(),
        lake.path().to_str().unwrap(),
        "[mongodb]\nurl = \"mongodb://edlake:s3cr3tpw@127.0.0.1:9/\"\nconnect_timeout_secs = 1\n[[tables]]\nname = \"auth_user\"",
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "{}", out.all());
    assert!(
        errors[0].starts_with(
            "error: table course_structures: cannot reach MongoDB at 127.0.0.1:9/openedx"
        ),
        "{}",
        errors[0]
    );
    assert!(!out.all().contains("s3cr3tpw"), "{}", out.all());
    assert!(lake
        .path()
        .join("openedx/auth_user/lms=lms.example.com/auth_user.csv")
        .exists());
    assert!(
        !lake.path().join("openedx/course_structures").exists(),
        "nothing half-written"
    );

    // check pings for real (and fails) …
    let out = edlake(&cfg, &["check"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("mongodb connect 127.0.0.1:9/openedx"),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains("s3cr3tpw"));
    // … and `config` shows the URL without its password.
    let out = edlake(
        &cfg,
        &["config"],
        &[("EDLAKE_MONGODB__PASSWORD", "other-secret")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("mongodb://edlake:REDACTED@127.0.0.1:9/"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("other-secret") && !out.stdout.contains("s3cr3tpw"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reads_the_course_index_and_a_structure() {
    let (mysql, mongo, v) = one_course("cs_check").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = config(&mysql, &mongo, lake.path().to_str().unwrap(), "");
    let out = edlake(&cfg, &["check"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("ping answered"), "{}", out.stdout);
    assert!(
        out.stdout.contains("1 active courses (from mysql)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("published structure {v} read (15 blocks)")),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn course_partitions_and_the_view_are_registered_in_glue() {
    let (mysql, mongo, _) = one_course("cs_glue").await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "cs-glue").await;
    let glue_db = fresh_glue_database("cs_glue");
    let cfg = "tables = []\n".to_string()
        + &lake_config(
            &mysql.url(),
            &format!("s3://{bucket}"),
            &format!(
                "endpoint = \"{}\"\n[mongodb]\nurl = \"{}\"\ndatabase = \"{}\"\n{}",
                s3_endpoint(),
                mongo_url(),
                mongo.name(),
                catalog_config(&glue_db, &bucket)
            ),
        );
    let out = edlake(&cfg, &["extract"], &[("EDLAKE_CATALOG__ENABLED", "true")]);
    assert_eq!(out.code, 0, "{}", out.all());
    let glue = glue_client().await;
    let parts = glue_partitions(&glue, &glue_db, "openedx_raw_course_structures").await;
    assert_eq!(
        parts,
        vec![(
            vec!["lms.example.com".to_string(), REALISTIC.to_string()],
            format!("s3://{bucket}/openedx/course_structures/lms=lms.example.com/course_id=course-v1%3AOrgX+Real+2025/")
        )]
    );
    let keys = s3_keys(&s3, &bucket, "openedx/course_structures/").await;
    assert_eq!(keys, vec!["openedx/course_structures/lms=lms.example.com/course_id=course-v1%3AOrgX+Real+2025/course_structures.csv"]);
    let athena = athena_client().await;
    let views = athena_queries(
        &athena,
        &format!("\"{glue_db}\".\"openedx_table_course_structures\""),
    )
    .await;
    assert_eq!(views.len(), 1, "{views:?}");
    let first_columns: Vec<&str> = views[0].lines().skip(2).take(2).collect();
    // The partition column, passed through, comes second (Panorama's order).
    assert_eq!(
        first_columns[1].trim(),
        "\"course_id\",",
        "{first_columns:?}"
    );
}
