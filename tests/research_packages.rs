//! `edlake import` of edX research data packages written by scripts/gen_research_packages.py
//! (a month: weekly packages and daily event files, some encrypted, with the pitfalls
//! others met): the lake's views equal the generator's truth, locally with DuckDB and on S3
//! with Glue; a second import changes nothing; broken files fail with one line naming them
//! and publish nothing; kill -9 during an import loses and duplicates nothing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use sha2::{Digest, Sha256};

/// A generated month and where its key and truth are.
struct Month {
    _dir: tempfile::TempDir,
    out: PathBuf,
    gnupghome: PathBuf,
    truth: PathBuf,
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `scripts/gen_research_packages.py --make-key --truth` with `args`.
fn generate(args: &[&str]) -> Month {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rdp");
    let truth = dir.path().join("truth.json");
    let status = Command::new("python3")
        .arg(repo_file("scripts/gen_research_packages.py"))
        .arg("--out")
        .arg(&out)
        .arg("--make-key")
        .arg("--truth")
        .arg(&truth)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs the generator");
    assert!(status.success(), "the generator failed");
    Month {
        gnupghome: out.join("gnupg"),
        out,
        truth,
        _dir: dir,
    }
}

fn config(lake_url: &str, month: &Month, rest: &str) -> String {
    format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"{lake_url}\"\n{rest}\n[import]\ngnupghome = \"{}\"\n",
        month.gnupghome.display()
    )
}

/// scripts/rdp_compare.py over a DuckDB catalog file: its output, and whether it matched.
fn compare(catalog: &Path, truth: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(python())
        .arg(repo_file("scripts/rdp_compare.py"))
        .arg(catalog)
        .arg(truth)
        .args(extra)
        .output()
        .expect("python runs rdp_compare.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        match path.is_dir() {
            true => out.extend(walk(&path)),
            false => out.push(path),
        }
    }
    out
}

/// Every file of a local lake (leases aside: each run takes and frees them) and its hash.
fn lake_hashes(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for key in files_under(root) {
        let bytes = std::fs::read(root.join(&key)).unwrap();
        out.insert(key, format!("{:x}", Sha256::digest(&bytes)));
    }
    out
}

#[test]
fn a_month_equals_the_truth_and_a_second_import_changes_nothing() {
    let month = generate(&["--mixed"]);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let cfg = config(&lake.display().to_string(), &month, "");
    let out = edlake(&cfg, &["import", month.out.to_str().unwrap()], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout.matches(" imported\n").count(),
        8,
        "{}",
        out.stdout
    );
    let (same, report) = compare(&catalog_file(&lake), &month.truth, &[]);
    assert!(same, "{report}");
    // The secret a .gpg held never reached the lake in the clear as a ciphertext would.
    let before = lake_hashes(&lake);
    assert!(before
        .keys()
        .any(|k| k.contains("auth_user/lms=courses.edx.org/")));

    let out = edlake(&cfg, &["import", month.out.to_str().unwrap()], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout.matches("already imported").count(),
        68,
        "{}",
        out.stdout
    );
    let imported = |l: &&str| l.ends_with("  imported") || l.contains("imported:");
    assert_eq!(
        out.stdout.lines().filter(imported).count(),
        0,
        "{}",
        out.stdout
    );
    assert_eq!(
        lake_hashes(&lake),
        before,
        "a second import changed the lake"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn from_an_s3_prefix_into_s3_the_glue_catalog_and_the_views_equal_the_truth() {
    let test = "rdp_s3";
    let month = generate(&["--mixed"]);
    let (s3, glue) = (s3_client().await, glue_client().await);
    let bucket = fresh_bucket(&s3, "rdp-s3").await;
    // Where the packages land: a prefix of the same bucket, beside the lake's `openedx/`.
    let mut uploaded = 0;
    for file in walk(&month.out) {
        let key = format!("inbox/{}", file.strip_prefix(&month.out).unwrap().display());
        if key.contains("/gnupg/") {
            continue;
        }
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(std::fs::read(&file).unwrap().into())
            .send()
            .await
            .unwrap();
        uploaded += 1;
    }
    assert!(uploaded > 60, "{uploaded}");
    let gdb = fresh_glue_database(test);
    let cfg = config(
        &format!("s3://{bucket}"),
        &month,
        &format!(
            "endpoint = \"{}\"\n{}",
            s3_endpoint(),
            catalog_config(&gdb, &bucket)
        ),
    );
    let on = [("EDLAKE_CATALOG__ENABLED", "true"), DUCKDB_ON];
    let inbox = format!("s3://{bucket}/inbox");
    let out = edlake(&cfg, &["import", &inbox], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout.matches(" imported\n").count(),
        8,
        "{}",
        out.stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("openedx.duckdb.sql");
    std::fs::write(&catalog, s3_get(&s3, &bucket, "openedx.duckdb.sql").await).unwrap();
    let (same, report) = compare(
        &catalog,
        &month.truth,
        &[
            "--lake",
            &format!("s3://{bucket}"),
            "--s3-endpoint",
            &s3_endpoint(),
            "--extensions",
            &duckdb_extensions(),
            "--schema",
            &gdb,
        ],
    );
    assert!(same, "{report}");
    for (table, keys) in [
        ("auth_user", vec!["lms"]),
        ("courseware_studentmodule", vec!["lms", "course_id"]),
        ("tracking_logs", vec!["lms", "year", "month", "day"]),
    ] {
        let raw = glue
            .get_table()
            .database_name(&gdb)
            .name(format!("openedx_raw_{table}"))
            .send()
            .await
            .unwrap();
        let names: Vec<&str> = raw
            .table()
            .unwrap()
            .partition_keys()
            .iter()
            .map(|k| k.name())
            .collect();
        assert_eq!(names, keys, "{table}");
        let parts = glue_partitions(&glue, &gdb, &format!("openedx_raw_{table}")).await;
        assert!(!parts.is_empty(), "{table}: no partition");
        assert!(
            parts
                .iter()
                .all(|(values, location)| values[0] == "courses.edx.org"
                    && location.contains("/lms=courses.edx.org/")),
            "{table}: {parts:?}"
        );
    }
}

#[test]
fn a_broken_file_fails_with_one_line_naming_it_and_publishes_nothing() {
    let month = generate(&["--weeks", "1", "--days", "1"]);
    let faults = tempfile::tempdir().unwrap();
    let fpr = String::from_utf8(
        Command::new("gpg")
            .args(["--batch", "--with-colons", "--homedir"])
            .arg(&month.gnupghome)
            .arg("--list-keys")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .lines()
    .find(|l| l.starts_with("fpr:"))
    .and_then(|l| l.split(':').nth(9))
    .unwrap()
    .to_string();
    let status = Command::new("python3")
        .arg(repo_file("scripts/gen_research_packages.py"))
        .arg("--faults")
        .arg(faults.path())
        .arg("--gnupghome")
        .arg(&month.gnupghome)
        .args(["--recipient", &fpr])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    for (case, file, expected) in [
        (
            "wrong-key",
            "student_courseenrollment-prod-analytics.sql.gpg",
            "not decryptable: encrypted to another key (",
        ),
        (
            "truncated-gpg",
            "delftx-edx-events-2026-03-31.log.gz.gpg",
            "not decryptable",
        ),
        (
            "truncated-gz",
            "delftx-edx-events-2026-03-31.log.gz",
            "truncated or damaged",
        ),
        (
            "truncated-zip",
            "DelftX-2026-03-30.zip",
            "not a readable zip",
        ),
        (
            "unknown-table",
            "no_such_table-prod-analytics.sql",
            "unknown table no_such_table",
        ),
        (
            "malformed-row",
            "student_courseenrollment-prod-analytics.sql",
            "line 3 has 5 fields, the header 6",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        let cfg = config(&lake.display().to_string(), &month, "");
        let out = edlake(
            &cfg,
            &["import", faults.path().join(case).to_str().unwrap()],
            &[DUCKDB_ON],
        );
        assert_eq!(out.code, 1, "{case}: {}", out.all());
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{case}: {}", out.stderr);
        assert!(
            errors[0].contains(file) && errors[0].contains(expected),
            "{case}: {}",
            errors[0]
        );
        let published: Vec<String> = files_under(&lake)
            .into_iter()
            .filter(|k| !k.contains("/_edlake/") && !k.ends_with(".duckdb.sql"))
            .collect();
        assert!(published.is_empty(), "{case}: {published:?}");
    }
}

#[test]
fn kill_9_during_imports_loses_and_duplicates_nothing() {
    let month = generate(&["--weeks", "2", "--days", "6", "--events-per-day", "3000"]);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // A killed run's lease is free after `ttl`: short, so the next run need not wait long.
    let cfg = config(&lake.display().to_string(), &month, "[lease]\nttl = \"3s\"");
    let file = dir.path().join("edlake.toml");
    std::fs::write(&file, &cfg).unwrap();
    let ledger_path = lake.join("openedx/_edlake/imports/lms=courses.edx.org/ledger.json");
    let recorded = || -> (usize, usize) {
        let ledger = std::fs::read(&ledger_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let count = |what: &str| {
            ledger
                .as_ref()
                .and_then(|l| l[what].as_object().map(|o| o.len()))
                .unwrap_or(0)
        };
        (count("packages"), count("events"))
    };
    // Each run is killed once it has recorded something more, a little (and each time a
    // different little) later: the kills land all along the run, between and inside the
    // writes of packages and of event files.
    let mut progress = Vec::new();
    for round in 0..12u64 {
        let before = recorded();
        let mut child = edlake_command(&file, &["import", month.out.to_str().unwrap()])
            .env(DUCKDB_ON.0, DUCKDB_ON.1)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while recorded() == before && child.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(120), "no progress");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(round * 37 % 150));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let now = recorded();
        eprintln!(
            "round {round}: {status}; {} packages, {} event files recorded",
            now.0, now.1
        );
        progress.push(now);
        if status.success() {
            break;
        }
    }
    // Killed among the packages, and among the event files.
    assert!(progress.iter().any(|&(p, _)| p < 4), "{progress:?}");
    assert!(
        progress.iter().any(|&(p, e)| p == 4 && e > 0 && e < 12),
        "{progress:?}"
    );
    let out = edlake(&cfg, &["import", month.out.to_str().unwrap()], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    let (same, report) = compare(&catalog_file(&lake), &month.truth, &[]);
    assert!(same, "{report}");
}

#[test]
fn an_older_package_imported_after_a_newer_one_replaces_nothing() {
    let month = generate(&["--plain"]);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let cfg = config(&lake.display().to_string(), &month, "");
    // The newest week first, alone; then everything, the older weeks included.
    let newest: Vec<String> = walk(&month.out)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("-2026-03-23.zip"))
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(newest.len(), 2, "{newest:?}");
    let mut args = vec!["import"];
    args.extend(newest.iter().map(String::as_str));
    let out = edlake(&cfg, &args, &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    let out = edlake(&cfg, &["import", month.out.to_str().unwrap()], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("older: newer snapshots kept"),
        "{}",
        out.stdout
    );
    let (same, report) = compare(&catalog_file(&lake), &month.truth, &[]);
    assert!(same, "{report}");
}

#[test]
fn into_a_parquet_lake_the_typed_views_equal_the_truth() {
    let month = generate(&["--plain", "--weeks", "2", "--days", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let cfg = config(&lake.display().to_string(), &month, "format = \"parquet\"");
    let out = edlake(&cfg, &["import", month.out.to_str().unwrap()], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(files_under(&lake)
        .iter()
        .any(|k| k.starts_with("openedx/auth_user/") && k.ends_with(".parquet")));
    let (same, report) = compare(&catalog_file(&lake), &month.truth, &[]);
    assert!(same, "{report}");
}

#[test]
fn an_event_file_delivered_again_with_other_content_replaces_its_events() {
    let month = generate(&["--plain", "--weeks", "1", "--days", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let cfg = config(&lake.display().to_string(), &month, "");
    let out = edlake(&cfg, &["import", month.out.to_str().unwrap()], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    let events = || {
        let result = duckdb_query(
            &catalog_file(&lake),
            "SELECT count(*) FROM panorama.openedx_table_tracking_logs",
            &DuckDbOptions::default(),
        );
        result.rows[0][0].clone().unwrap().parse::<u64>().unwrap()
    };
    let before = events();
    // The same file name, one event less (a corrected delivery).
    let file = walk(&month.out)
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(".log.gz"))
        .unwrap();
    let lines = gunzip_lines(&std::fs::read(&file).unwrap());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    use std::io::Write;
    for line in &lines[1..] {
        writeln!(gz, "{line}").unwrap();
    }
    std::fs::write(&file, gz.finish().unwrap()).unwrap();
    let out = edlake(&cfg, &["import", month.out.to_str().unwrap()], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout.matches("imported:").count(), 1, "{}", out.stdout);
    assert_eq!(events(), before - 1);
}
