//! The tables that do not come from MySQL, through the local DuckDB catalog: tracking logs
//! shipped by `logs ship` (gzip JSON lines) read back as the events written, in any session
//! time zone; course structures from the Mongo wire test server read back as their lake
//! files, typed.

mod common;

use std::path::Path;

use common::*;
use edlake::jobs::extract::course_structures::COLUMNS as COURSE_STRUCTURE_COLUMNS;
use mongodb::bson::{doc, oid::ObjectId, Document};

// ---------------------------------------------------------------------------------------
// Tracking logs

/// Events as the LMS writes them (Tutor's logger prefix on some), and the view row each
/// must read back as: name, event_type, time (UTC, µs), username, event_source, course_id,
/// user_id, org_id, path, page, session, host, event, then the day partition.
const EVENTS: &[(&str, [Option<&str>; 13], &str)] = &[
    (
        // name and event_type, a +02:00 offset that moves the event to the previous UTC
        // day, user_id a number, an object event with unicode and quotes.
        "2024-03-05 01:30:00,123 INFO 7 [tracking] [user 42] [ip 1.2.3.4] logger.py:41 - \
         {\"name\": \"problem_check\", \"event_type\": \"problem_check\", \
         \"time\": \"2024-03-05T01:30:00.123456+02:00\", \"username\": \"zoë\", \
         \"event_source\": \"server\", \"context\": {\"course_id\": \"course-v1:Org+X+1\", \
         \"org_id\": \"Org\", \"user_id\": 42, \"path\": \"/courses/x/handler\"}, \"page\": null, \
         \"session\": \"s1\", \"host\": \"lms.example.com\", \
         \"event\": {\"answers\": {\"q\": \"é 🎓 \\\"quoted\\\"\"}, \"grade\": 1}}",
        [
            Some("problem_check"),
            Some("problem_check"),
            Some("2024-03-04 23:30:00.123456"),
            Some("zoë"),
            Some("server"),
            Some("course-v1:Org+X+1"),
            Some("42"),
            Some("Org"),
            Some("/courses/x/handler"),
            None,
            Some("s1"),
            Some("lms.example.com"),
            Some("{\"answers\": {\"q\": \"é 🎓 \\\"quoted\\\"\"}, \"grade\": 1}"),
        ],
        "2024/03/04",
    ),
    (
        // event_type only (a browser event): name falls back to it; user_id ''; the event
        // a JSON string; a -05:00 offset.
        "{\"event_type\": \"/courses/course-v1:Org+X+1/courseware\", \
         \"time\": \"2024-03-05T10:00:00.000001-05:00\", \"event_source\": \"browser\", \
         \"context\": {\"course_id\": \"course-v1:Org+X+1\", \"org_id\": \"Org\", \"user_id\": \"\", \
         \"path\": \"/event\"}, \"page\": \"https://lms.example.com/x?a=1&b=2\", \
         \"event\": \"{\\\"POST\\\": {\\\"k\\\": [\\\"v\\\"]}}\"}",
        [
            Some("/courses/course-v1:Org+X+1/courseware"),
            Some("/courses/course-v1:Org+X+1/courseware"),
            Some("2024-03-05 15:00:00.000001"),
            None,
            Some("browser"),
            Some("course-v1:Org+X+1"),
            None,
            Some("Org"),
            Some("/event"),
            Some("https://lms.example.com/x?a=1&b=2"),
            None,
            None,
            Some("{\"POST\": {\"k\": [\"v\"]}}"),
        ],
        "2024/03/05",
    ),
    (
        // No user_id in the context (and a field the table does not declare); Z.
        "{\"name\": \"edx.course.enrollment.activated\", \"event_type\": \"edx.course.enrollment.activated\", \
         \"time\": \"2024-03-05T23:59:59.999999Z\", \"context\": {\"course_id\": \"\", \"org_id\": \"\", \
         \"path\": \"/api/enrollment\", \"course_user_tags\": {}}, \"event\": {}}",
        [
            Some("edx.course.enrollment.activated"),
            Some("edx.course.enrollment.activated"),
            Some("2024-03-05 23:59:59.999999"),
            None,
            None,
            Some(""),
            None,
            Some(""),
            Some("/api/enrollment"),
            None,
            None,
            None,
            Some("{}"),
        ],
        "2024/03/05",
    ),
    (
        // No context at all; a time without an offset, which edlake takes as UTC; name
        // and event_type differ (name wins); user_id as a numeric string elsewhere.
        "{\"name\": \"edx.ui.lms.link_clicked\", \"event_type\": \"legacy\", \
         \"time\": \"2024-03-06T00:00:00.5\", \"username\": \"名前\", \"event\": \"ünïcödé\\n\"}",
        [
            Some("edx.ui.lms.link_clicked"),
            Some("legacy"),
            Some("2024-03-06 00:00:00.500000"),
            Some("名前"),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            Some("ünïcödé\n"),
        ],
        "2024/03/06",
    ),
    (
        "{\"name\": \"n\", \"time\": \"2024-03-06T12:00:00+00:00\", \
         \"context\": {\"user_id\": \"7\"}, \"event\": null}",
        [
            Some("n"),
            None,
            Some("2024-03-06 12:00:00.000000"),
            None,
            None,
            None,
            Some("7"),
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        "2024/03/06",
    ),
];

const EVENT_COLUMNS: [&str; 13] = [
    "name",
    "event_type",
    "time",
    "username",
    "event_source",
    "course_id",
    "user_id",
    "org_id",
    "path",
    "page",
    "session",
    "host",
    "event",
];

fn expected_events() -> Vec<Record> {
    EVENTS
        .iter()
        .map(|(_, values, day)| {
            let mut r: Record = EVENT_COLUMNS
                .iter()
                .zip(values)
                .map(|(c, v)| (c.to_string(), v.map(str::to_string)))
                .collect();
            let parts: Vec<&str> = day.split('/').collect();
            r.insert("lms".into(), Some("lms.example.com".into()));
            r.insert("year".into(), Some(parts[0].into()));
            r.insert("month".into(), Some(parts[1].into()));
            r.insert("day".into(), Some(parts[2].into()));
            r
        })
        .collect()
}

#[test]
fn shipped_tracking_logs_read_back_as_the_events_written_in_any_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let live = dir.path().join("logs/tracking.log");
    std::fs::create_dir_all(live.parent().unwrap()).unwrap();
    let lines: String = EVENTS
        .iter()
        .map(|(line, ..)| format!("{line}\n"))
        .collect();
    std::fs::write(&live, lines).unwrap();
    let config = format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"{}\"\n\
         [tracking_logs]\npath = \"{}\"\nrotate_age = \"0s\"\ngrace = \"0s\"\n",
        lake.display(),
        live.display()
    );
    let out = edlake(&config, &["logs", "ship"], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("catalog: "), "{}", out.all());

    let sql = "SELECT * FROM openedx_table_tracking_logs";
    // DuckDB's session time zone is the machine's: the view must not depend on it.
    for zone in [None, Some("America/New_York"), Some("Asia/Kolkata")] {
        let opts = DuckDbOptions {
            time_zone: zone.map(str::to_string),
            ..Default::default()
        };
        let view = duckdb_query(&catalog_file(&lake), sql, &opts);
        let mut names: Vec<&str> = EVENT_COLUMNS.to_vec();
        names.extend(["lms", "year", "month", "day"]);
        assert_eq!(view.names(), names);
        assert_eq!(view.type_of("time"), "TIMESTAMP");
        assert_eq!(view.type_of("user_id"), "BIGINT");
        assert_same_rows(
            &format!("openedx_table_tracking_logs in time zone {zone:?}"),
            "name",
            &view.records(),
            &expected_events(),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Course structures

const COURSE: &str = "course-v1:OrgX+Real+2025";

/// A published course: every column's kind of value (weights explicit, fractional, zero,
/// counted from OLX and unknown; inherited graded, format and due; a staff-only unit; an
/// orphan; names with quotes, commas and line breaks). Returns the structure and its
/// definitions.
fn course(version: ObjectId) -> (Document, Vec<Document>) {
    let olx = ObjectId::new();
    let defs = vec![
        doc! { "_id": olx, "block_type": "problem", "fields": { "data":
        "<problem><optionresponse><optioninput/><optioninput/></optionresponse><stringresponse><textline/></stringresponse></problem>" } },
    ];
    let blocks = vec![
        block(
            "problem",
            "p_zero",
            ObjectId::new(),
            doc! { "display_name": "Zero", "weight": 0 },
        ),
        block(
            "problem",
            "p_frac",
            ObjectId::new(),
            doc! { "display_name": "Frac, \"tion\"", "weight": 2.5 },
        ),
        block(
            "problem",
            "p_olx",
            olx,
            doc! { "display_name": "Three inputs" },
        ),
        block(
            "problem",
            "p_gone",
            ObjectId::new(),
            doc! { "display_name": "No definition" },
        ),
        block(
            "html",
            "h1",
            ObjectId::new(),
            doc! { "display_name": "Line one\nline two\r\nthree \\ é🎓" },
        ),
        block(
            "video",
            "vid",
            ObjectId::new(),
            doc! { "display_name": "Lecture" },
        ),
        block(
            "vertical",
            "v1",
            ObjectId::new(),
            doc! { "display_name": "Unit 1",
            "children": kids(&[("html", "h1"), ("video", "vid"), ("problem", "p_zero")]) },
        ),
        block(
            "vertical",
            "v2",
            ObjectId::new(),
            doc! { "display_name": "Unit 2", "visible_to_staff_only": true,
            "children": kids(&[("problem", "p_frac"), ("problem", "p_olx"), ("problem", "p_gone")]) },
        ),
        block(
            "sequential",
            "s1",
            ObjectId::new(),
            doc! { "display_name": "Homework 1", "graded": true,
            "format": "Homework", "due": "2025-03-01T12:00:00.123Z",
            "children": kids(&[("vertical", "v1"), ("vertical", "v2")]) },
        ),
        block(
            "chapter",
            "c1",
            ObjectId::new(),
            doc! { "display_name": "Week 1",
            "children": kids(&[("sequential", "s1")]) },
        ),
        block(
            "course",
            "course",
            ObjectId::new(),
            doc! { "display_name": "Real, \"course\"",
            "start": mongodb::bson::DateTime::parse_rfc3339_str("2025-01-06T09:00:00Z").unwrap(),
            "children": kids(&[("chapter", "c1")]) },
        ),
        block("about", "overview", ObjectId::new(), doc! {}),
        block(
            "html",
            "orphan",
            ObjectId::new(),
            doc! { "display_name": "Orphaned" },
        ),
    ];
    let structure = doc! { "_id": version, "root": ["course", "course"], "blocks": blocks };
    (structure, defs)
}

/// The course of [`course`] published in a fresh Mongo database and the MySQL course index.
async fn published_course(test: &str) -> (TestDb, mongodb::Database) {
    let mysql = TestDb::new(test).await;
    create_course_index(&mysql).await;
    let mongo = fresh_mongo_db(test).await;
    let version = ObjectId::new();
    let (structure, defs) = course(version);
    mongo
        .collection::<Document>("modulestore.structures")
        .insert_one(structure)
        .await
        .unwrap();
    mongo
        .collection::<Document>("modulestore.definitions")
        .insert_many(defs)
        .await
        .unwrap();
    index_course(&mysql, COURSE, &version.to_hex(), "").await;
    (mysql, mongo)
}

/// Extracts the course structures (and no MySQL table) into the local `lake`, in `format`.
fn extract_structures(mysql: &TestDb, mongo: &mongodb::Database, lake: &Path, format: &str) {
    let config = "tables = []\n".to_string()
        + &lake_config(
            &mysql.url(),
            &lake.display().to_string(),
            &format!(
                "format = \"{format}\"\n[mongodb]\nurl = \"{}\"\ndatabase = \"{}\"\n",
                mongo_url(),
                mongo.name()
            ),
        );
    let out = edlake(&config, &["extract"], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
}

const STRUCTURES_VIEW: &str = "SELECT * FROM openedx_table_course_structures";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn course_structures_read_back_as_their_lake_files_typed() {
    let (mysql, mongo) = published_course("duck_course_structures").await;
    let lake = tempfile::tempdir().unwrap();
    extract_structures(&mysql, &mongo, lake.path(), "csv");

    let view = duckdb_query(
        &catalog_file(lake.path()),
        STRUCTURES_VIEW,
        &DuckDbOptions::default(),
    );
    // Panorama's order (course_id second), then `lms`; typed.
    let names = view.names();
    assert_eq!(names[..2], ["module_location", "course_id"]);
    assert_eq!(names.last(), Some(&"lms"));
    for (column, ty) in [
        ("module_location", "VARCHAR"),
        ("display_name", "VARCHAR"),
        ("weight", "DOUBLE"),
        ("position", "BIGINT"),
        ("depth", "BIGINT"),
        ("graded", "BOOLEAN"),
        ("visible_to_staff_only", "BOOLEAN"),
        ("orphan", "BOOLEAN"),
        ("start", "TIMESTAMP"),
        ("due", "TIMESTAMP"),
    ] {
        assert_eq!(view.type_of(column), ty, "{column}");
    }
    let actual = view.records();
    let expected = lake_records(lake.path(), "course_structures", COURSE_STRUCTURE_COLUMNS);
    assert_eq!(expected.len(), 13);
    assert_same_rows(
        "openedx_table_course_structures",
        "module_location",
        &actual,
        &expected,
    );

    // The values that matter, spelled out.
    let row = |block: &str| {
        actual
            .iter()
            .find(|r| r["block_id"].as_deref() == Some(block))
            .unwrap_or_else(|| panic!("block {block}"))
            .clone()
    };
    let cell = |block: &str, column: &str| row(block)[column].clone();
    assert_eq!(cell("p_zero", "weight").as_deref(), Some("0.0"));
    assert_eq!(cell("p_frac", "weight").as_deref(), Some("2.5"));
    assert_eq!(cell("p_olx", "weight").as_deref(), Some("3.0"));
    assert_eq!(cell("p_gone", "weight"), None);
    assert_eq!(
        cell("p_frac", "due").as_deref(),
        Some("2025-03-01 12:00:00.123000")
    );
    assert_eq!(
        cell("p_frac", "start").as_deref(),
        Some("2025-01-06 09:00:00.000000")
    );
    assert_eq!(cell("p_frac", "graded").as_deref(), Some("true"));
    assert_eq!(
        cell("p_frac", "visible_to_staff_only").as_deref(),
        Some("true")
    );
    assert_eq!(
        cell("p_zero", "visible_to_staff_only").as_deref(),
        Some("false")
    );
    assert_eq!(
        (cell("vid", "position"), cell("vid", "depth")),
        (Some("2".into()), Some("4".into()))
    );
    assert_eq!(cell("orphan", "orphan").as_deref(), Some("true"));
    assert_eq!(
        cell("h1", "display_name").as_deref(),
        Some("Line one\nline two\r\nthree \\ é🎓")
    );
    assert_eq!(cell("h1", "course_id").as_deref(), Some(COURSE));
    assert_eq!(
        cell("h1", "course_name").as_deref(),
        Some("Real, \"course\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn course_structures_read_the_same_from_a_parquet_lake() {
    let (mysql, mongo) = published_course("duck_course_structures_parquet").await;
    let (csv, parquet) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    extract_structures(&mysql, &mongo, csv.path(), "csv");
    extract_structures(&mysql, &mongo, parquet.path(), "parquet");
    let files: Vec<String> = files_under(parquet.path())
        .into_iter()
        .filter(|f| f.starts_with("openedx/course_structures/"))
        .collect();
    assert_eq!(
        files,
        ["openedx/course_structures/lms=lms.example.com/course_id=course-v1%3AOrgX+Real+2025/course_structures.parquet"]
    );

    let read = |lake: &Path| {
        duckdb_query(
            &catalog_file(lake),
            STRUCTURES_VIEW,
            &DuckDbOptions::default(),
        )
    };
    let (from_csv, from_parquet) = (read(csv.path()), read(parquet.path()));
    assert_eq!(
        from_parquet.columns, from_csv.columns,
        "names, order and types"
    );
    assert_eq!(from_parquet.rows.len(), 13);
    assert_same_rows(
        "course_structures from Parquet",
        "module_location",
        &from_parquet.records(),
        &from_csv.records(),
    );
}
