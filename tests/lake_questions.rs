//! The demo's questions (scripts/lake-questions.sql), asked through the DuckDB catalog that
//! edlake keeps beside a local lake, answer what MySQL answers. A synthetic Open edX database
//! (scripts/seed.py, small) is extracted, a tracking log is shipped, then problems are
//! answered again and grades change, and an incremental run writes delta files: so the
//! views' decoding and their one-row-per-key deduplication are what the answers check. The
//! same file runs through DuckDB's Python package and its CLI (`-init`, as the demo and the
//! docs open the lake); events per day are checked against the events written.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::{json, Map, Value};

/// One answer: its rows, as column name → value.
type Answer = Vec<Map<String, Value>>;

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs every statement of `questions` after the catalog file, in DuckDB's Python package
/// (`duckdb.connect().execute(open(catalog).read())`, as docs/query-locally.md says); the
/// answers in order, empty ones included.
const ASK_PYTHON: &str = r#"
import duckdb, json, sys
catalog, questions = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(open(catalog, encoding="utf-8").read())
answers = []
for statement in duckdb.extract_statements(open(questions, encoding="utf-8").read()):
    cursor = con.execute(statement)
    names = [d[0] for d in cursor.description]
    answers.append([dict(zip(names, row)) for row in cursor.fetchall()])
print(json.dumps(answers, default=str))
"#;

fn ask_python(catalog: &Path, questions: &Path) -> Vec<Answer> {
    let out = Command::new(python())
        .arg("-c")
        .arg(ASK_PYTHON)
        .arg(catalog)
        .arg(questions)
        .output()
        .expect("run the Python with the duckdb package (EDLAKE_TEST_PYTHON)");
    assert!(
        out.status.success(),
        "duckdb (Python) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the answers as JSON")
}

/// The same through the CLI, `duckdb -json -init <catalog> < questions`. The CLI prints one
/// JSON array per statement that returned rows (none for an empty answer).
fn ask_cli(catalog: &Path, questions: &Path) -> Vec<Answer> {
    let out = Command::new(duckdb_cli())
        .arg("-json")
        .arg("-init")
        .arg(catalog)
        .stdin(std::fs::File::open(questions).unwrap())
        .stderr(Stdio::piped())
        .output()
        .expect("run the DuckDB CLI (EDLAKE_TEST_DUCKDB)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("Error"),
        "duckdb CLI failed: {stderr}"
    );
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Answer>()
        .map(|a| a.expect("a JSON array of rows"))
        .collect()
}

/// A small synthetic Open edX database: every table edlake extracts by default.
async fn seeded(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    let out = Command::new(python())
        .arg(repo_file("scripts/seed.py"))
        .args(["--mysql-url", &db.url()])
        .args([
            "--users",
            "200",
            "--courses",
            "8",
            "--studentmodule-rows",
            "5000",
        ])
        .arg("--quiet")
        .output()
        .expect("run scripts/seed.py");
    assert!(
        out.status.success(),
        "scripts/seed.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// Writes a tracking log as the LMS does (Tutor's logger prefix, then the event's JSON):
/// server events on three UTC days, and a browser event (its `event` a JSON string) stamped
/// 01:30 at +02:00, which is the day before in UTC.
fn write_tracking_log(path: &Path) {
    let mut lines = Vec::new();
    for (day, count, users) in [
        ("2024-03-04", 5, 2),
        ("2024-03-05", 12, 4),
        ("2024-03-06", 7, 3),
    ] {
        for i in 0..count {
            let event = json!({
                "name": "problem_check",
                "event_type": "problem_check",
                "time": format!("{day}T{:02}:{:02}:{:02}.{:06}+00:00", 8 + i % 10, (i * 7) % 60, (i * 13) % 60, i * 1001),
                "username": format!("learner{}", i % users),
                "event_source": "server",
                "context": {"course_id": "course-v1:Org+C+R", "org_id": "Org", "user_id": i % users, "path": "/event"},
                "event": {"seq": i, "grade": 1},
                "page": null,
                "session": format!("{i:032x}"),
                "host": "lms.example.com",
            });
            lines.push(format!(
                "{day} 09:00:00,000 INFO 19 [tracking] [user {}] [ip 10.0.0.1] logger.py:41 - {event}",
                i % users
            ));
        }
    }
    let browser = json!({
        "name": "play_video",
        "event_type": "play_video",
        "time": "2024-03-06T01:30:00.250000+02:00",
        "username": "",
        "event_source": "browser",
        "context": {"course_id": "course-v1:Org+C+R", "org_id": "Org", "user_id": null, "path": "/event"},
        "event": "{\"id\": \"video-1\", \"currentTime\": 12.5}",
        "page": "https://lms.example.com/courses/course-v1:Org+C+R/courseware",
        "session": "b".repeat(32),
        "host": "lms.example.com",
    });
    lines.push(format!(
        "2024-03-05 23:30:00,250 INFO 19 [tracking] [user None] [ip 10.0.0.2] logger.py:41 - {browser}"
    ));
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Events and distinct users per UTC day, read back from the lines written.
fn events_per_day(log: &str) -> BTreeMap<String, (i64, i64)> {
    let mut days: BTreeMap<String, (i64, BTreeSet<String>)> = BTreeMap::new();
    for line in log.lines() {
        let event: Value = serde_json::from_str(&line[line.find('{').unwrap()..]).unwrap();
        let time = chrono::DateTime::parse_from_rfc3339(event["time"].as_str().unwrap()).unwrap();
        let day = time.with_timezone(&chrono::Utc).date_naive().to_string();
        let entry = days.entry(day).or_default();
        entry.0 += 1;
        entry
            .1
            .insert(event["username"].as_str().unwrap().to_string());
    }
    days.into_iter()
        .map(|(day, (events, users))| (day, (events, users.len() as i64)))
        .collect()
}

/// `column` of every row of an answer, keyed by its first column (`course_id`, `utc_day`).
fn by_key(answer: &Answer, key: &str) -> BTreeMap<String, Map<String, Value>> {
    answer
        .iter()
        .map(|row| {
            let k = row[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} is text: {row:?}"))
                .to_string();
            (k, row.clone())
        })
        .collect()
}

fn int(row: &Map<String, Value>, column: &str) -> i64 {
    row[column]
        .as_i64()
        .unwrap_or_else(|| panic!("{column} is an integer: {row:?}"))
}

fn float(row: &Map<String, Value>, column: &str) -> f64 {
    row[column]
        .as_f64()
        .unwrap_or_else(|| panic!("{column} is a number: {row:?}"))
}

/// A percentage rounded to one decimal against the exact fraction MySQL computed.
fn assert_pct(what: &str, course: &str, rounded: f64, fraction: f64) {
    assert!(
        (rounded - 100.0 * fraction).abs() <= 0.05 + 1e-9,
        "{what} of {course}: DuckDB says {rounded}, MySQL {}",
        100.0 * fraction
    );
}

/// MySQL groups by course id byte for byte, as DuckDB does (the tables' collation is
/// case- and accent-insensitive); the driver then reads it as bytes.
const COURSE: &str = "course_id COLLATE utf8mb4_bin AS course";

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("a UTF-8 course id")
}

async fn mysql_rows<T>(db: &TestDb, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::mysql::MySqlRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(sql)
        .fetch_all(&db.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_questions_answer_what_mysql_answers() {
    let db = seeded("lake_questions").await;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let live = dir.path().join("tracking.log");
    write_tracking_log(&live);
    let written = std::fs::read_to_string(&live).unwrap();
    let config = lake_config(
        &db.url(),
        lake.to_str().unwrap(),
        &format!(
            "[tracking_logs]\npath = \"{}\"\nrotate_age = \"0s\"\ngrace = \"200ms\"\n",
            live.display()
        ),
    );
    let duckdb_on = [DUCKDB_ON];

    let out = edlake(&config, &["extract"], &duckdb_on);
    assert_eq!(out.code, 0, "extract: {}", out.all());
    let out = edlake(&config, &["logs", "ship"], &duckdb_on);
    assert_eq!(out.code, 0, "logs ship: {}", out.all());

    // Learners answer problems again and course grades are recomputed; one problem is
    // answered for the first time. The rows get a new `modified`, as Django's auto_now.
    db.exec(
        "UPDATE courseware_studentmodule SET grade = max_grade, modified = UTC_TIMESTAMP(6)
           WHERE max_grade > 0 ORDER BY id LIMIT 400;
         INSERT INTO courseware_studentmodule
           (module_type, module_id, course_id, state, grade, max_grade, done, created, modified, student_id)
           SELECT module_type, module_id, course_id, '{}', 0, max_grade, 'na',
                  UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), student_id + 1000000
           FROM courseware_studentmodule WHERE max_grade > 0 ORDER BY id DESC LIMIT 30;
         UPDATE grades_persistentcoursegrade
           SET percent_grade = 1, passed_timestamp = COALESCE(passed_timestamp, UTC_TIMESTAMP(6)),
               modified = UTC_TIMESTAMP(6)
           ORDER BY id LIMIT 60;
         UPDATE student_courseenrollment SET is_active = 0 ORDER BY id LIMIT 25;",
    )
    .await;
    let out = edlake(&config, &["extract"], &duckdb_on);
    assert_eq!(out.code, 0, "incremental extract: {}", out.all());
    let files = files_under(&lake);
    for table in ["courseware_studentmodule", "grades_persistentcoursegrade"] {
        assert!(
            files
                .iter()
                .any(|f| f.starts_with(&format!("openedx/{table}/")) && f.contains(".delta-")),
            "no delta file of {table} after the incremental run: {files:?}"
        );
    }

    let catalog = catalog_file(&lake);
    assert!(
        catalog.exists(),
        "no DuckDB catalog at {}",
        catalog.display()
    );
    let questions = repo_file("scripts/lake-questions.sql");
    let answers = ask_python(&catalog, &questions);
    assert_eq!(answers.len(), 4, "four questions: {answers:?}");
    assert_eq!(
        ask_cli(&catalog, &questions),
        answers,
        "the CLI and the Python package answer alike"
    );

    // 1. Learners per course.
    let duck = by_key(&answers[0], "course_id");
    let mysql: Vec<(Vec<u8>, i64, i64, i64)> = mysql_rows(
        &db,
        &format!(
            "SELECT {COURSE}, COUNT(*), COUNT(CASE WHEN is_active THEN 1 END),
                    COUNT(CASE WHEN is_active AND mode = 'verified' THEN 1 END)
             FROM student_courseenrollment GROUP BY course"
        ),
    )
    .await;
    assert!(
        mysql.len() >= 8,
        "the seed enrolls learners in every course"
    );
    assert_eq!(duck.len(), mysql.len(), "courses with enrollments");
    for (course, enrollments, active, verified) in &mysql {
        let course = text(course);
        let row = &duck[&course];
        assert_eq!(
            (
                int(row, "enrollments"),
                int(row, "active"),
                int(row, "verified")
            ),
            (*enrollments, *active, *verified),
            "enrollments of {course}"
        );
    }
    let order: Vec<i64> = answers[0].iter().map(|r| int(r, "enrollments")).collect();
    assert!(
        order.windows(2).all(|w| w[0] >= w[1]),
        "biggest course first: {order:?}"
    );

    // 2. Course grades per course.
    let duck = by_key(&answers[1], "course_id");
    let mysql: Vec<(Vec<u8>, i64, f64, i64)> = mysql_rows(
        &db,
        &format!(
            "SELECT {COURSE}, COUNT(*), AVG(percent_grade), COUNT(passed_timestamp)
             FROM grades_persistentcoursegrade GROUP BY course"
        ),
    )
    .await;
    assert_eq!(duck.len(), mysql.len(), "courses with grades");
    for (course, graded, avg, passed) in &mysql {
        let course = text(course);
        let row = &duck[&course];
        assert_eq!(
            (int(row, "graded"), int(row, "passed")),
            (*graded, *passed),
            "grades of {course}"
        );
        assert_pct("average grade", &course, float(row, "avg_grade_pct"), *avg);
    }

    // 3. Problem scores per course.
    let duck = by_key(&answers[2], "course_id");
    let mysql: Vec<(Vec<u8>, i64, i64, f64)> = mysql_rows(
        &db,
        &format!(
            "SELECT {COURSE}, COUNT(*), COUNT(DISTINCT student_id), AVG(grade / max_grade)
             FROM courseware_studentmodule WHERE max_grade > 0 GROUP BY course"
        ),
    )
    .await;
    assert_eq!(duck.len(), mysql.len(), "courses with answered problems");
    for (course, answered, learners, avg) in &mysql {
        let course = text(course);
        let row = &duck[&course];
        assert_eq!(
            (int(row, "answers"), int(row, "learners")),
            (*answered, *learners),
            "answers of {course}"
        );
        assert_pct("average score", &course, float(row, "avg_score_pct"), *avg);
    }

    // 4. Events per day.
    let duck: BTreeMap<String, (i64, i64)> = by_key(&answers[3], "utc_day")
        .into_iter()
        .map(|(day, row)| (day, (int(&row, "events"), int(&row, "users"))))
        .collect();
    let expected = events_per_day(&written);
    assert_eq!(expected.len(), 3, "the log covers three UTC days");
    assert_eq!(duck, expected, "events and users per UTC day");
}
