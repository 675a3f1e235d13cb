//! A local lake survives a power cut in the order its records assume: the real binary runs
//! under `strace`, and the trace shows, for every file that lands in the lake (and in the
//! tracking-log state directory), an fsync of the file before its rename into place and an
//! fsync of its directory after; for every directory created, an fsync of its parent; for
//! every file deleted, an fsync of its directory; and every record (the watermark,
//! `versions.json`, a ledger entry) renamed into place only after all of that is done for
//! the files it records.

mod common;
#[path = "durable/strace.rs"]
mod strace;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use mongodb::bson::{doc, oid::ObjectId, Document};
use strace::{durability, parse_trace, record_after, Op, Scope};

const TABLE: &str = "courseware_studentmodule";

// ---------------------------------------------------------------------------------------
// Running edlake under strace.

/// Runs edlake as [`edlake`] does, under `strace -f -y`, writing the trace to `trace`.
fn traced(config: &str, args: &[&str], trace: &Path) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edlake.toml");
    std::fs::write(&file, config).unwrap();
    let plain = edlake_command(&file, args);
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-y", "-e"])
        .arg("trace=fsync,fdatasync,rename,renameat,renameat2,openat,mkdir,mkdirat,unlink,unlinkat,rmdir")
        .arg("-o")
        .arg(trace)
        .arg("--")
        .arg(plain.get_program())
        .args(plain.get_args());
    for (k, v) in plain.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd
        .output()
        .expect("strace runs (install it: scripts/stack-up.sh does)");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Fails with the violations; the trace is kept in cargo's test scratch directory.
fn assert_none(what: &str, trace: &Path, violations: &[String]) {
    if violations.is_empty() {
        return;
    }
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join(trace.file_name().unwrap());
    let _ = std::fs::copy(trace, &kept);
    panic!(
        "{what}: {} violation(s), trace kept in {}:\n{}",
        violations.len(),
        kept.display(),
        violations
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Checks one traced run: every change in `scope` durable, and each `(record, data dir)`
/// renamed into place after every change under its data directory is durable. Returns the
/// files that landed under each data directory.
fn check_run(trace: &Path, scope: &Scope, records: &[(PathBuf, PathBuf)]) -> Vec<Vec<PathBuf>> {
    let text = std::fs::read_to_string(trace).unwrap();
    let calls = parse_trace(&text);
    let durable = durability(&calls, scope);
    assert_none(
        "files, directories and deletions",
        trace,
        &durable.violations,
    );
    let mut landed = Vec::new();
    for (record, data) in records {
        let depends: Vec<PathBuf> = durable
            .changes
            .iter()
            .map(|(_, p, _)| p.clone())
            .filter(|p| p.starts_with(data))
            .collect();
        let (count, violations) = record_after(&calls, &durable, record, &depends);
        assert_none(&format!("{}", record.display()), trace, &violations);
        assert!(count >= depends.len(), "{}: {count}", record.display());
        landed.push(
            calls
                .iter()
                .filter_map(|c| match &c.op {
                    Op::Rename { to, .. } if to.starts_with(data) && scope.covers(to) => {
                        Some(to.clone())
                    }
                    _ => None,
                })
                .collect(),
        );
    }
    landed
}

fn removed_under(trace: &Path, dir: &Path) -> usize {
    parse_trace(&std::fs::read_to_string(trace).unwrap())
        .iter()
        .filter(|c| matches!(&c.op, Op::Unlink(p) if p.starts_with(dir)))
        .count()
}

/// A course with one chapter, as the split modulestore keeps a published structure.
async fn one_structure(mongo: &mongodb::Database, version: ObjectId) {
    let block = |t: &str, id: &str, fields: Document| {
        doc! { "block_type": t, "block_id": id, "definition": ObjectId::new(), "fields": fields,
        "defaults": {}, "edit_info": { "edited_by": 3 } }
    };
    let structure = doc! {
        "_id": version,
        "root": ["course", "course"],
        "blocks": [
            block("course", "course", doc! { "display_name": "Durable", "children": [["chapter", "c1"]] }),
            block("chapter", "c1", doc! { "display_name": "Chapter 1" }),
        ],
    };
    mongo
        .collection::<Document>("modulestore.structures")
        .insert_one(structure)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn extract_makes_files_durable_before_the_watermark_and_versions() {
    let db = TestDb::new("durable_extract").await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            module_id varchar(255) NOT NULL,
            state longtext NULL,
            modified datetime(6) NOT NULL,
            KEY modified (modified)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        INSERT INTO courseware_studentmodule (course_id, module_id, state, modified) VALUES
            ('course-v1:Org+A+1', 'block-v1:a', '{}', '2024-01-01 00:00:00'),
            ('course-v1:Org+A+1', 'block-v1:b', NULL, '2024-01-01 01:00:00'),
            ('course-v1:Org+B+1', 'block-v1:c', '{}', '2024-01-01 02:00:00');",
    )
    .await;
    create_course_index(&db).await;
    let mongo = fresh_mongo_db("durable").await;
    let version = ObjectId::new();
    one_structure(&mongo, version).await;
    index_course(&db, "course-v1:Org+Durable+1", &version.to_hex(), "").await;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let lake = root.join("lake");
    let cfg = lake_config(
        &db.url(),
        lake.to_str().unwrap(),
        &format!(
            "[mongodb]\nurl = \"{}\"\ndatabase = \"{}\"\nconnect_timeout_secs = 3\n\
             [incremental]\noverlap = \"1m\"\n\
             [[tables]]\nname = \"{TABLE}\"\npartition_by = \"course_id\"\n",
            mongo_url(),
            mongo.name()
        ),
    );
    let openedx = lake.join("openedx");
    let state = openedx.join("_edlake");
    let watermark = (
        state.join(format!("watermarks/lms=lms.example.com/{TABLE}.json")),
        openedx.join(TABLE),
    );
    let versions = (
        state.join("course_structures/lms=lms.example.com/versions.json"),
        openedx.join("course_structures"),
    );
    let scope = Scope {
        roots: vec![lake.clone()],
    };

    // The first run: every directory new, the table in full, the course's structure.
    let trace = root.join("full.trace");
    let out = traced(&cfg, &["extract"], &trace);
    assert_eq!(out.code, 0, "{}", out.all());
    let landed = check_run(&trace, &scope, &[watermark.clone(), versions]);
    assert_eq!(landed[0].len(), 2, "a file per course: {:?}", landed[0]);
    assert_eq!(landed[1].len(), 1, "{:?}", landed[1]);

    // An incremental run: a changed row and a new course, in delta files.
    db.exec(
        "UPDATE courseware_studentmodule SET state = '{\"changed\": 1}', modified = UTC_TIMESTAMP(6) WHERE id = 1;
         INSERT INTO courseware_studentmodule (course_id, module_id, state, modified)
         VALUES ('course-v1:Org+C+1', 'block-v1:d', '{}', UTC_TIMESTAMP(6));",
    )
    .await;
    let trace = root.join("incremental.trace");
    let out = traced(&cfg, &["extract", "--table", TABLE], &trace);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("incremental"), "{}", out.stdout);
    let landed = check_run(&trace, &scope, std::slice::from_ref(&watermark));
    assert_eq!(landed[0].len(), 2, "two delta files: {:?}", landed[0]);

    // A full run drops the delta files: gone durably before the watermark says so.
    let trace = root.join("compaction.trace");
    let out = traced(&cfg, &["extract", "--full", "--table", TABLE], &trace);
    assert_eq!(out.code, 0, "{}", out.all());
    check_run(&trace, &scope, std::slice::from_ref(&watermark));
    assert_eq!(removed_under(&trace, &watermark.1), 2, "the delta files");
}

fn event(time: &str, seq: u64) -> String {
    format!(
        "2024-01-01 00:00:00,000 INFO 7 [tracking] [user 1] [ip 1.2.3.4] logger.py:41 - \
         {{\"name\": \"t\", \"time\": \"{time}\", \"event\": {{\"seq\": {seq}}}}}\n"
    )
}

#[test]
fn logs_ship_makes_objects_durable_before_their_record() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (logs, lake, state) = (root.join("logs"), root.join("lake"), root.join("state"));
    std::fs::create_dir_all(&logs).unwrap();
    // Two days and a line that is not an event (quarantined): three objects.
    let content = format!(
        "{}{}not an event\n{}",
        event("2024-01-01T23:59:59+00:00", 1),
        event("2024-01-02T00:00:00+00:00", 2),
        event("2024-01-02T00:00:01+00:00", 3)
    );
    let rotated = logs.join("tracking.log-20240102-1704153600");
    std::fs::write(&rotated, content).unwrap();
    // Settled: untouched for `grace` (the inode change time cannot be set back).
    std::thread::sleep(std::time::Duration::from_millis(700));
    let cfg = format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"{}\"\n\
         [tracking_logs]\npath = \"{}\"\nstate_dir = \"{}\"\ngrace = \"300ms\"\nkeep = \"0s\"\n",
        lake.display(),
        logs.join("tracking.log").display(),
        state.display()
    );
    let trace = root.join("ship.trace");
    let out = traced(&cfg, &["logs", "ship"], &trace);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 shipped"), "{}", out.all());
    assert!(!rotated.exists(), "shipped with keep = 0s: deleted");

    let calls = parse_trace(&std::fs::read_to_string(&trace).unwrap());
    let scope = Scope {
        roots: vec![lake.clone(), state.clone()],
    };
    let durable = durability(&calls, &scope);
    assert_none(
        "objects and the state directory",
        &trace,
        &durable.violations,
    );
    let records: Vec<PathBuf> = std::fs::read_dir(state.join("shipped"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&records[0]).unwrap()).unwrap();
    let objects: Vec<PathBuf> = record["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| lake.join(k.as_str().unwrap()))
        .collect();
    assert_eq!(objects.len(), 3, "{record}");
    let (count, violations) = record_after(&calls, &durable, &records[0], &objects);
    assert_none(&format!("{}", records[0].display()), &trace, &violations);
    // Each object's rename, and the directories made for it.
    assert!(count > objects.len(), "{count}");
}
