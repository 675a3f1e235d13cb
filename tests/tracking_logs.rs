//! `edlake logs ship` against real writers (Python's WatchedFileHandler, as the LMS logs),
//! moto S3 and Glue, and a local lake.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::*;

fn writer(path: &Path, id: &str, count: usize, rate: u32) -> Child {
    Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tracking_writer.py"))
        .arg(path)
        .args(["--writer", id, "--count", &count.to_string()])
        .args(["--rate", &rate.to_string()])
        .args(["--start", "2024-03-05T23:59:57+00:00", "--step-ms", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs scripts/tracking_writer.py")
}

fn logs_config(lake_url: &str, live: &Path, tracking: &str) -> String {
    format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"{lake_url}\"\nendpoint = \"{}\"\n\
         [tracking_logs]\npath = \"{}\"\n{tracking}\n",
        s3_endpoint(),
        live.display()
    )
}

/// A tiny deterministic generator: the seed is printed, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// `(writer, seq) -> day partitions it was found in`, from every object under `tracking_logs/`.
fn events_by_seq(objects: &BTreeMap<String, Vec<u8>>) -> BTreeMap<(String, u64), Vec<String>> {
    let mut seen: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
    for (key, data) in objects {
        let day = key
            .split('/')
            .filter(|s| s.starts_with("year=") || s.starts_with("month=") || s.starts_with("day="))
            .map(|s| s.split_once('=').unwrap().1)
            .collect::<Vec<_>>()
            .join("-");
        for line in gunzip_lines(data) {
            let v: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("{key}: stored line is not JSON ({e}): {line}"));
            // `event` is stored as JSON text.
            let event: serde_json::Value =
                serde_json::from_str(v["event"].as_str().expect("event is a string")).unwrap();
            let time = v["time"].as_str().unwrap();
            assert_eq!(&time[..10], day, "{key}: event at {time} in the wrong day");
            seen.entry((
                event["writer"].as_str().unwrap().to_string(),
                event["seq"].as_u64().unwrap(),
            ))
            .or_default()
            .push(key.clone());
        }
    }
    seen
}

#[tokio::test]
async fn every_line_once_through_rotations_and_kill_9() {
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "tracking-kill9").await;
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("tracking.log");
    let config_file = dir.path().join("edlake.toml");
    std::fs::write(
        &config_file,
        logs_config(
            &format!("s3://{bucket}"),
            &live,
            "rotate_age = \"0s\"\ngrace = \"200ms\"\nkeep = \"0s\"",
        ),
    )
    .unwrap();

    // The LMS and a Celery worker append to the same file.
    let count = 6000;
    let mut writers = vec![
        writer(&live, "lms", count, 1000),
        writer(&live, "worker", count, 800),
    ];
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill schedule seed {seed}");
    let mut rng = Lcg(seed);
    let (mut kills, mut runs) = (0, 0);
    // A liveness bound only: on a loaded machine (the whole suite at once) the writers and
    // the passes are slower.
    let deadline = Instant::now() + Duration::from_secs(150);
    while writers.iter_mut().any(|w| w.try_wait().unwrap().is_none()) || kills < 15 {
        assert!(Instant::now() < deadline, "writers did not finish");
        let mut child = edlake_command(&config_file, &["logs", "ship"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        runs += 1;
        // A pass with nothing new takes well under 250 ms: most draws land inside one.
        std::thread::sleep(Duration::from_millis(rng.below(250)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    for w in &mut writers {
        assert!(w.wait().unwrap().success());
    }
    eprintln!("{runs} runs, {kills} killed with SIGKILL");
    assert!(kills >= 15);

    // Clean passes pick up whatever the killed ones left.
    let config = std::fs::read_to_string(&config_file).unwrap();
    for _ in 0..2 {
        let out = edlake(&config, &["logs", "ship"], &[]);
        assert_eq!(out.code, 0, "{}", out.all());
    }
    let out = edlake(&config, &["logs", "ship"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("0 shipped"), "{}", out.all());

    let mut objects = BTreeMap::new();
    for key in s3_keys(&s3, &bucket, "").await {
        let data = s3_get(&s3, &bucket, &key).await;
        objects.insert(key, data);
    }
    assert!(
        !objects.keys().any(|k| k.contains("quarantine")),
        "nothing to quarantine: {:?}",
        objects.keys().collect::<Vec<_>>()
    );
    let seen = events_by_seq(&objects);
    for writer in ["lms", "worker"] {
        for seq in 0..count as u64 {
            match seen.get(&(writer.to_string(), seq)).map(Vec::as_slice) {
                Some([_]) => {}
                None => panic!("{writer} event {seq} is missing"),
                Some(keys) => panic!(
                    "{writer} event {seq} is in {} objects: {keys:?}",
                    keys.len()
                ),
            }
        }
    }
    assert_eq!(seen.len(), 2 * count);
    // Both sides of midnight, under the right partitions.
    let days: std::collections::BTreeSet<&str> = objects
        .keys()
        .filter_map(|k| k.split("/day=").nth(1).map(|r| &r[..2]))
        .collect();
    assert_eq!(days.into_iter().collect::<Vec<_>>(), ["05", "06"]);
    // Shipped files are gone (keep = 0s); the last pass rotated the idle live file too.
    let left: Vec<String> = files_under(dir.path())
        .into_iter()
        .filter(|f| !f.starts_with(".edlake/") && f != "edlake.toml")
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    assert!(
        dir.path()
            .join(".edlake/shipped")
            .read_dir()
            .unwrap()
            .count()
            > 0
    );
}

fn gzip(path: &Path, content: &[u8]) {
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(content).unwrap();
    enc.finish().unwrap();
}

/// Files count as settled once neither written nor renamed for `grace`; the inode change
/// time cannot be set back, so tests wait it out.
const GRACE: Duration = Duration::from_millis(2000);

fn settle() {
    std::thread::sleep(GRACE + Duration::from_millis(200));
}

fn event(time: &str, seq: u64, extra: &str) -> String {
    format!(
        "2024-01-01 00:00:00,000 INFO 7 [tracking] [user 1] [ip 1.2.3.4] logger.py:41 - \
         {{\"name\": \"t\", \"time\": \"{time}\", \"event\": {{\"seq\": {seq}{extra}}}}}\n"
    )
}

#[test]
fn rotated_files_of_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let lake = dir.path().join("lake");
    std::fs::create_dir_all(&logs).unwrap();
    let live = logs.join("tracking.log");

    // logrotate's compressed output, straddling midnight.
    let straddling: String = (0..10)
        .map(|i| event(&format!("2024-01-01T23:59:5{i}+00:00"), i, ""))
        .chain((10..20).map(|i| event(&format!("2024-01-02T00:00:0{}+00:00", i - 10), i, "")))
        .collect();
    let gz = logs.join("tracking.log-20240102-1704153600.gz");
    gzip(&gz, straddling.as_bytes());
    // The same file while logrotate was compressing it: the plain copy is still there.
    let plain_copy = logs.join("tracking.log-20240102-1704153600");
    std::fs::write(&plain_copy, &straddling).unwrap();
    // A 50 KB event, a non-JSON line, an event without time, and a partial last line.
    let big = format!(", \"blob\": \"{}\"", "x".repeat(50_000));
    let mixed = format!(
        "{}Traceback (most recent call last): not an event\n{}{{\"name\": \"no time\"}}\n{}",
        event("2024-01-03T10:00:00+00:00", 100, &big),
        event("2024-01-03T10:00:01+00:00", 101, ""),
        event("2024-01-03T10:00:02.5+00:00", 102, "").trim_end()
    );
    let mixed_file = logs.join("tracking.log-20240103-1704276000");
    std::fs::write(&mixed_file, &mixed).unwrap();
    // An empty rotated file.
    let empty = logs.join("tracking.log-20240104-1704362400");
    std::fs::write(&empty, b"").unwrap();
    settle();
    // A gzip still being written (recent): left for the next pass …
    let growing = logs.join("tracking.log-20240105-1704448800.gz");
    let full = {
        let tmp = dir.path().join("full.gz");
        gzip(
            &tmp,
            event("2024-01-05T00:00:00+00:00", 200, "")
                .repeat(50)
                .as_bytes(),
        );
        std::fs::read(&tmp).unwrap()
    };
    std::fs::write(&growing, &full[..full.len() / 2]).unwrap();
    // … and the live file, not due for rotation.
    std::fs::write(&live, event(&now_iso(), 300, "")).unwrap();

    let config = logs_config(
        &lake.display().to_string(),
        &live,
        "rotate_age = \"1h\"\ngrace = \"2s\"\nkeep = \"1h\"",
    );
    let out = edlake(&config, &["logs", "ship"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("not due for rotation"), "{}", out.all());
    assert!(
        out.stdout
            .contains("2 shipped, 1 already shipped, 1 empty, 1 waiting, 0 deleted"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("2 line(s) quarantined"),
        "{}",
        out.all()
    );

    let files = files_under(&lake);
    let read = |f: &str| gunzip_lines(&std::fs::read(lake.join(f)).unwrap());
    let tracking: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with("openedx/tracking_logs/"))
        .collect();
    let by_day = |day: &str| -> Vec<String> {
        tracking
            .iter()
            .filter(|f| f.contains(day))
            .flat_map(|f| read(f))
            .collect()
    };
    assert_eq!(
        tracking.len(),
        3,
        "one object per day and file: {tracking:?}"
    );
    assert_eq!(by_day("year=2024/month=01/day=01/").len(), 10);
    assert_eq!(by_day("year=2024/month=01/day=02/").len(), 10);
    let jan3 = by_day("year=2024/month=01/day=03/");
    assert_eq!(
        jan3.len(),
        3,
        "the big event, the next one and the partial last line"
    );
    assert!(jan3[0].len() > 50_000 && jan3[0].starts_with("{\"name\""));
    assert!(jan3[2].contains("10:00:02.5"));
    let quarantine: Vec<&String> = files.iter().filter(|f| f.contains("quarantine")).collect();
    assert_eq!(quarantine.len(), 1, "{files:?}");
    assert!(quarantine[0]
        .starts_with("openedx/_edlake/quarantine/tracking_logs/lms=lms.example.com/tracking.log-"));
    assert_eq!(
        read(quarantine[0]),
        [
            "Traceback (most recent call last): not an event",
            "{\"name\": \"no time\"}"
        ]
    );
    // keep = 1h: everything shipped is still on disk.
    for f in [&gz, &plain_copy, &mixed_file, &empty] {
        assert!(f.exists(), "{} deleted too early", f.display());
    }

    // The truncated gzip settles without ever being completed: an unreadable file is an
    // error that names it, is left in place, and does not stop the others.
    settle();
    let out = edlake(&config, &["logs", "ship"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "error: tracking log {}: cannot read it",
            growing.display()
        )),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("0 shipped, 3 already shipped"),
        "{}",
        out.all()
    );
    assert!(growing.exists());
    assert_eq!(files_under(&lake), files, "nothing new written");

    // Completed by its writer, it ships.
    std::fs::write(&growing, &full).unwrap();
    settle();
    let out = edlake(&config, &["logs", "ship"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 shipped"), "{}", out.all());
    assert_eq!(by_day_count(&lake, "day=05/"), 50);
}

fn by_day_count(lake: &Path, day: &str) -> usize {
    files_under(lake)
        .iter()
        .filter(|f| f.contains(day))
        .map(|f| gunzip_lines(&std::fs::read(lake.join(f)).unwrap()).len())
        .sum()
}

fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn shipping_registers_the_table_day_partitions_and_view() {
    let s3 = s3_client().await;
    let glue = glue_client().await;
    let athena = athena_client().await;
    let bucket = fresh_bucket(&s3, "tracking-catalog").await;
    let database = fresh_glue_database("tracking");
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("tracking.log");
    let content: String = [
        event("2024-01-01T23:59:59.999999+00:00", 1, ""),
        event("2024-01-02T00:00:00+00:00", 2, ""),
    ]
    .concat();
    std::fs::write(&live, content).unwrap();
    let config = format!(
        "{}{}",
        logs_config(
            &format!("s3://{bucket}/root"),
            &live,
            "rotate_age = \"0s\"\ngrace = \"0s\"",
        ),
        catalog_config(&database, &bucket)
    );
    let on = [("EDLAKE_CATALOG__ENABLED", "true")];
    let out = edlake(&config, &["logs", "ship"], &on);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("catalog: "), "{}", out.all());

    let table = glue
        .get_table()
        .database_name(&database)
        .name("openedx_raw_tracking_logs")
        .send()
        .await
        .unwrap();
    let table = table.table().unwrap();
    let sd = table.storage_descriptor().unwrap();
    assert_eq!(
        sd.serde_info().unwrap().serialization_library(),
        Some("org.apache.hive.hcatalog.data.JsonSerDe")
    );
    assert_eq!(
        sd.location(),
        Some(format!("s3://{bucket}/root/openedx/tracking_logs/").as_str())
    );
    let columns: Vec<(&str, &str)> = sd
        .columns()
        .iter()
        .map(|c| (c.name(), c.r#type().unwrap()))
        .collect();
    assert!(columns.contains(&("event", "string")), "{columns:?}");
    assert!(
        columns.contains(&(
            "context",
            "struct<course_id:string,org_id:string,user_id:string,path:string>"
        )),
        "{columns:?}"
    );
    let keys: Vec<&str> = table.partition_keys().iter().map(|k| k.name()).collect();
    assert_eq!(keys, ["lms", "year", "month", "day"]);
    let partitions = glue_partitions(&glue, &database, "openedx_raw_tracking_logs").await;
    let prefix = format!("s3://{bucket}/root/openedx/tracking_logs/lms=lms.example.com");
    assert_eq!(
        partitions,
        [
            (
                vec![
                    "lms.example.com".into(),
                    "2024".into(),
                    "01".into(),
                    "01".into()
                ],
                format!("{prefix}/year=2024/month=01/day=01/")
            ),
            (
                vec![
                    "lms.example.com".into(),
                    "2024".into(),
                    "01".into(),
                    "02".into()
                ],
                format!("{prefix}/year=2024/month=01/day=02/")
            ),
        ]
    );
    let views = athena_queries(
        &athena,
        &format!("\"{database}\".\"openedx_table_tracking_logs\""),
    )
    .await;
    assert_eq!(views.len(), 1, "{views:?}");
    assert!(
        views[0].contains("from_iso8601_timestamp_nanos(\"time\")"),
        "{}",
        views[0]
    );

    // Everything is in place: a dry run has nothing to do.
    emulate_athena_views(&glue, &views).await;
    let out = edlake(
        &config,
        &["catalog", "sync", "--table", "tracking_logs", "--dry-run"],
        &on,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("tracking_logs"), "{}", out.all());
    assert!(!out.stdout.contains("would"), "{}", out.all());
}

#[test]
fn one_pass_at_a_time_and_no_database_needed() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("tracking.log");
    std::fs::write(&live, event("2024-01-01T00:00:00+00:00", 1, "")).unwrap();
    let config_file = dir.path().join("edlake.toml");
    let config = logs_config(
        &dir.path().join("lake").display().to_string(),
        &live,
        "rotate_age = \"0s\"\ngrace = \"3s\"",
    );
    std::fs::write(&config_file, &config).unwrap();

    // `check` of a sidecar config (no [mysql]): the log and state directories, the files.
    let out = edlake(&config, &["check"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("tracking_logs state_dir"),
        "{}",
        out.all()
    );
    assert!(!out.stdout.contains("mysql"), "{}", out.all());

    // A pass waiting out its grace holds the lock; a second one does nothing and says why.
    let mut first = edlake_command(&config_file, &["logs", "ship"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while live.exists() {
        assert!(Instant::now() < deadline, "the first pass did not rotate");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = edlake(&config, &["logs", "ship"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("another `edlake logs ship` holds"),
        "{}",
        out.all()
    );
    assert!(first.wait().unwrap().success());
    let out = edlake(&config, &["logs", "ship"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("0 shipped, 1 already shipped"),
        "{}",
        out.all()
    );

    // Without tracking_logs.path there is nothing to ship: a configuration error.
    let out = edlake(
        &format!(
            "lms_host = \"h\"\n[datalake]\nurl = \"{}\"\n",
            dir.path().display()
        ),
        &["logs", "ship"],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("tracking_logs.path is not set"),
        "{}",
        out.all()
    );
}
