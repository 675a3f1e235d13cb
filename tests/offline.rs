//! A site whose link to the lake is down for days (issue 15, item 14): the S3, Glue and
//! Athena endpoint sits behind a TCP relay the test switches off (connections refused, or
//! accepted and never answered) for several runs of `extract`, `logs ship` and
//! `run --once`, then on again. While down each run fails with one `error:` line in
//! bounded time, the live tracking log keeps rotating and nothing unshipped is deleted or
//! recorded as shipped; once back, one pass ships every event exactly once into its day
//! and one extract catches the table up from its watermark.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use sqlx::Row;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Every connection is relayed to moto.
    Up,
    /// Nothing listens on the port: connections are refused at once.
    Refused,
    /// Connections are accepted and what is sent is read, but nothing ever comes back: a
    /// link that died after the handshake, or a middlebox that swallows traffic.
    Silent,
}

/// A TCP relay in front of moto, on a thread and runtime of its own (the test blocks on
/// edlake runs); it stops when dropped.
struct Relay {
    address: SocketAddr,
    link: watch::Sender<Link>,
}

impl Relay {
    fn start(upstream: SocketAddr) -> Relay {
        let (link, state) = watch::channel(Link::Up);
        let (bound, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let address = listener.local_addr().unwrap();
                bound.send(address).unwrap();
                serve(listener, address, upstream, state).await
            });
        });
        Relay {
            address: address.recv().unwrap(),
            link,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    fn set(&self, link: Link) {
        self.link.send_replace(link);
        // Let the relay drop or bind its listener before the next run connects.
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn serve(
    listener: TcpListener,
    address: SocketAddr,
    upstream: SocketAddr,
    mut state: watch::Receiver<Link>,
) {
    let mut listener = Some(listener);
    loop {
        let link = *state.borrow_and_update();
        match (link, &listener) {
            (Link::Refused, Some(_)) => listener = None,
            (Link::Up | Link::Silent, None) => {
                // SO_REUSEADDR (tokio sets it): the port comes back at once.
                listener = Some(TcpListener::bind(address).await.unwrap());
            }
            _ => {}
        }
        let Some(open) = &listener else {
            if state.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            accepted = open.accept() => {
                let Ok((client, _)) = accepted else { continue };
                tokio::spawn(connection(client, upstream, link, state.clone()));
            }
            changed = state.changed() => if changed.is_err() { return },
        }
    }
}

/// One connection, in the state the link had when it was accepted, until the link changes.
async fn connection(
    mut client: TcpStream,
    upstream: SocketAddr,
    link: Link,
    mut state: watch::Receiver<Link>,
) {
    let work = async {
        match link {
            Link::Up => {
                if let Ok(mut server) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            }
            _ => {
                let mut sink = [0u8; 8192];
                while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = state.changed() => {}
    }
}

const TABLE: &str = "courseware_studentmodule";
const LMS_DIR: &str = "openedx/courseware_studentmodule/lms=lms.example.com/";

type Record = BTreeMap<String, Option<String>>;

async fn studentmodule(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE courseware_studentmodule (
            id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
            course_id varchar(255) NOT NULL,
            module_id varchar(255) NOT NULL,
            grade double NULL,
            modified datetime(6) NOT NULL,
            KEY modified (modified)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    let mut conn = db.generator_conn().await;
    sqlx::raw_sql(
        "INSERT INTO courseware_studentmodule (course_id, module_id, grade, modified)
         WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 40)
         SELECT IF(n % 2 = 0, 'course-v1:Org+A+1', 'course-v1:Org+B+1'),
                CONCAT('block-v1:x+type@problem+block@', n), n / 4,
                TIMESTAMP('2024-01-01 00:00:00') + INTERVAL n HOUR
         FROM seq",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    db
}

/// Run `round`'s changes: one row updated, one inserted (in a new course), later than any
/// before.
async fn change_rows(db: &TestDb, round: u32) {
    let when = format!("2024-02-{:02} 10:00:00", round + 1);
    sqlx::query("UPDATE courseware_studentmodule SET grade = ?, modified = ? WHERE id = ?")
        .bind(100 + round)
        .bind(&when)
        .bind(round)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO courseware_studentmodule (course_id, module_id, grade, modified)
         VALUES (?, 'block-v1:x+type@problem+block@late', NULL, ?)",
    )
    .bind(format!("course-v1:Org+R{round}+1"))
    .bind(&when)
    .execute(&db.pool)
    .await
    .unwrap();
}

/// The source as MySQL's text, keyed by id.
async fn source(db: &TestDb) -> BTreeMap<String, Record> {
    let names = ["id", "module_id", "grade", "modified", "course_id"];
    let rows = sqlx::raw_sql(
        "SELECT id, module_id, grade, modified, course_id FROM courseware_studentmodule",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            let record: Record = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let v: Option<&[u8]> = row.try_get_unchecked(i).unwrap();
                    (
                        n.to_string(),
                        v.map(|v| String::from_utf8_lossy(v).into_owned()),
                    )
                })
                .collect();
            (record["id"].clone().unwrap(), record)
        })
        .collect()
}

/// The lake as the view reads it: every file of this LMS read as OpenCSVSerde does, then
/// per course and id the row with the latest `modified`, the later file on a tie.
async fn lake_view(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, Record> {
    let mut latest: BTreeMap<(String, String), (String, String, Record)> = BTreeMap::new();
    for key in s3_keys(s3, bucket, LMS_DIR).await {
        let rest = key.strip_prefix(LMS_DIR).unwrap();
        let (dir, _) = rest.rsplit_once('/').unwrap();
        let course = dir
            .strip_prefix("course_id=")
            .unwrap()
            .replace("%3A", ":")
            .replace("%2B", "+");
        for mut row in read_table_file(&s3_get(s3, bucket, &key).await).1 {
            row.insert("course_id".into(), Some(course.clone()));
            let id = row["id"].clone().unwrap();
            let modified = row["modified"].clone().unwrap();
            let slot = (course.clone(), id);
            let newer = match latest.get(&slot) {
                Some((m, k, _)) => (modified.as_str(), key.as_str()) > (m.as_str(), k.as_str()),
                None => true,
            };
            if newer {
                latest.insert(slot, (modified, key.clone(), row));
            }
        }
    }
    latest
        .into_values()
        .map(|(_, _, row)| (row["id"].clone().unwrap(), row))
        .collect()
}

const WATERMARK: &str =
    "openedx/_edlake/watermarks/lms=lms.example.com/courseware_studentmodule.json";

async fn watermark(s3: &aws_sdk_s3::Client, bucket: &str) -> String {
    let record: serde_json::Value =
        serde_json::from_slice(&s3_get(s3, bucket, WATERMARK).await).unwrap();
    record["watermark"].as_str().unwrap().to_string()
}

/// Events the LMS logs between two runs: `count` of writer `id`, through Python's
/// WatchedFileHandler as the LMS does, one per 10 ms of event time from `start` (so a
/// batch straddles midnight when `start` is just before it).
fn write_events(live: &Path, id: &str, count: u32, start: &str) {
    let status = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tracking_writer.py"))
        .arg(live)
        .args(["--writer", id, "--count", &count.to_string()])
        .args(["--rate", "100000", "--start", start, "--step-ms", "10"])
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs scripts/tracking_writer.py");
    assert!(status.success());
}

/// `(writer, seq) -> objects holding it`, over every tracking-log object; checks that each
/// event sits in the partition of its own UTC day.
async fn shipped_events(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> BTreeMap<(String, u64), Vec<String>> {
    let mut seen: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
    for key in s3_keys(s3, bucket, "openedx/tracking_logs/").await {
        let day: String = key
            .split('/')
            .filter_map(|s| {
                ["year=", "month=", "day="]
                    .iter()
                    .find_map(|p| s.strip_prefix(p))
            })
            .collect::<Vec<_>>()
            .join("-");
        for line in gunzip_lines(&s3_get(s3, bucket, &key).await) {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            let time = v["time"].as_str().unwrap();
            assert_eq!(&time[..10], day, "{key}: event at {time} in the wrong day");
            let event: serde_json::Value =
                serde_json::from_str(v["event"].as_str().unwrap()).unwrap();
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

/// Rotated files in the log directory (not the live file, not the state directory).
fn rotated(logs: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("tracking.log-")
        })
        .collect();
    files.sort();
    files
}

/// The records of the ledger (`<state_dir>/shipped/*.json`).
fn ledger(logs: &Path) -> Vec<serde_json::Value> {
    let Ok(entries) = std::fs::read_dir(logs.join(".edlake/shipped")) else {
        return Vec::new();
    };
    entries
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect()
}

/// `line` with the 16 hex digits of a file's fingerprint in an object key replaced.
fn no_fingerprint(line: &str) -> String {
    match line.split_once("-235959-") {
        Some((head, tail)) if tail.len() > 16 => {
            assert!(tail[..16].bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
            format!("{head}-235959-FINGERPRINT{}", &tail[16..])
        }
        _ => line.to_string(),
    }
}

/// How long one failing run may take with the test's settings: far more than it needs
/// (at most 17 s measured), far less than for ever.
const LIVENESS: Duration = Duration::from_secs(45);

/// The `error:` lines of a run.
fn error_lines(out: &Output) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect()
}

struct Site {
    config: String,
    dir: tempfile::TempDir,
}

impl Site {
    /// A run of edlake while the link is up.
    fn run(&self, args: &[&str]) -> Output {
        edlake(&self.config, args, &[("EDLAKE_CATALOG__ENABLED", "true")])
    }

    /// A run while the link is down, with short network timeouts (2 attempts of at most
    /// 2 s each): its output and how long it took. A run still going after [`LIVENESS`]
    /// is killed and fails the test.
    fn run_down(&self, args: &[&str]) -> (Output, Duration) {
        let file = self.dir.path().join("edlake.toml");
        std::fs::write(&file, &self.config).unwrap();
        let started = Instant::now();
        let mut child = edlake_command(&file, args)
            .env("EDLAKE_CATALOG__ENABLED", "true")
            .env("EDLAKE_DATALAKE__CONNECT_TIMEOUT_SECS", "2")
            .env("EDLAKE_DATALAKE__REQUEST_TIMEOUT_SECS", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > LIVENESS {
                child.kill().unwrap();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "edlake {args:?} still running after {LIVENESS:?}: killed\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let took = started.elapsed();
        let out = child.wait_with_output().unwrap();
        let out = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        (out, took)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_offline_for_days_catches_up_once_the_lake_is_back() {
    let test = "offline";
    let db = studentmodule(test).await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, test).await;
    let glue_db = fresh_glue_database(test);
    let moto: SocketAddr = s3_endpoint()
        .trim_start_matches("http://")
        .parse()
        .expect("moto's endpoint is http://IP:PORT");
    let relay = Relay::start(moto);
    let endpoint = relay.endpoint();

    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let live = logs.join("tracking.log");
    let config = format!(
        "lms_host = \"lms.example.com\"\n\
         [mysql]\nurl = \"{}\"\n\
         [datalake]\nurl = \"s3://{bucket}\"\nendpoint = \"{endpoint}\"\nmax_attempts = 2\n\
         [catalog]\nenabled = true\ndatabase = \"{glue_db}\"\nendpoint = \"{endpoint}\"\n\
         athena_output = \"s3://{bucket}/athena-results/\"\nmax_attempts = 2\n\
         [tracking_logs]\npath = \"{}\"\nrotate_age = \"0s\"\ngrace = \"100ms\"\nkeep = \"0s\"\n\
         [incremental]\noverlap = \"1m\"\n\
         [schedule]\ncourse_structures = \"\"\n\
         [http]\nlisten = \"\"\n\
         [[tables]]\nname = \"{TABLE}\"\npartition_by = \"course_id\"\n",
        db.url(),
        live.display()
    );
    let site = Site { config, dir };

    // Up: a first extract sets the watermark, a first pass ships a first batch.
    let out = site.run(&["extract"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let watermark_before = watermark(&s3, &bucket).await;
    write_events(&live, "up", 100, "2024-03-01T23:59:59.5+00:00");
    let out = site.run(&["logs", "ship"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(rotated(&logs).is_empty(), "keep = 0s: shipped, deleted");
    assert_eq!(ledger(&logs).len(), 1);

    // Down for days: refused, refused, then silent. Each run: one line saying what failed,
    // where, and what to check; in bounded time (2 attempts of at most 2 s, a small upload
    // 1 s more).
    let s3_down = |op: &str, what: &str, why: &str| {
        format!(
            "cannot reach S3 at {endpoint} to {op} s3://{bucket}/{what}: {why} \
             (2 attempts; check the network and datalake.endpoint)"
        )
    };
    let mut batches = vec![("up".to_string(), 100)];
    let mut runs = 0;
    for (round, link) in [(1, Link::Refused), (2, Link::Refused), (3, Link::Silent)] {
        relay.set(link);
        change_rows(&db, round).await;
        let (why, upload_why) = match link {
            Link::Silent => ("no answer within 2 s", "no answer within 3 s"),
            _ => ("connection refused", "connection refused"),
        };
        let extract_line = s3_down("list", "openedx/_edlake/", why);

        let (out, took) = site.run_down(&["extract"]);
        eprintln!("{link:?} extract: {took:?}");
        assert_eq!(out.code, 1, "{}", out.all());
        assert_eq!(
            error_lines(&out),
            [format!("error: {extract_line}")],
            "{}",
            out.stderr
        );

        for (i, args) in [&["logs", "ship"][..], &["run", "--once"][..]]
            .into_iter()
            .enumerate()
        {
            let writer = format!("r{round}c{i}");
            let start = format!("2024-03-{:02}T23:59:59+00:00", 2 * round + i as u32);
            write_events(&live, &writer, 200, &start);
            batches.push((writer, 200));
            let (out, took) = site.run_down(args);
            runs += 1;
            eprintln!("{link:?} {args:?}: {took:?}");
            assert_eq!(out.code, 1, "{}", out.all());
            // Rotated locally at every run, and kept.
            assert!(!live.exists(), "the live log was not rotated");
            let waiting = rotated(&logs);
            assert_eq!(waiting.len(), runs, "{waiting:?}");
            // The pass stops at the oldest file, whose first event opens 2024-03-02.
            let logs_line = format!(
                "tracking log {}: {}{}",
                waiting[0].display(),
                s3_down(
                    "upload",
                    "openedx/tracking_logs/lms=lms.example.com/year=2024/month=03/day=02/\
                     tracking.log-20240302-235959-FINGERPRINT.gz",
                    upload_why
                ),
                match runs - 1 {
                    0 => "; it stays on disk for the next pass".to_string(),
                    n =>
                        format!("; it and {n} other rotated file(s) stay on disk for the next pass"),
                }
            );
            let expected = match i {
                0 => format!("error: {logs_line}"),
                _ => format!(
                    "error: 3 of 3 job(s) failed: extract: {extract_line}; logs: {logs_line}; \
                     catalog: cannot reach Glue at {endpoint} for GetDatabase {glue_db}: {why} \
                     (2 attempts; check the network, the region and catalog.endpoint)"
                ),
            };
            let errors: Vec<String> = error_lines(&out).into_iter().map(no_fingerprint).collect();
            assert_eq!(errors, [expected], "{}", out.stderr);
            // Nothing recorded as shipped but the first batch: at most the pin of the part
            // being uploaded.
            let records = ledger(&logs);
            let shipped: Vec<_> = records.iter().filter(|r| r["shipped_bytes"] != 0).collect();
            assert_eq!(shipped.len(), 1, "{records:#?}");
            assert_eq!(shipped[0]["events"], 100, "{records:#?}");
            for pin in records.iter().filter(|r| r["shipped_bytes"] == 0) {
                assert_eq!(pin["objects"], serde_json::json!([]), "{pin}");
                assert_eq!(pin["source"], waiting[0].display().to_string(), "{pin}");
            }
        }
    }
    assert_eq!(watermark(&s3, &bucket).await, watermark_before);

    // Back: one pass ships every event once, into its day.
    relay.set(Link::Up);
    let out = site.run(&["logs", "ship"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(&format!("{runs} shipped")),
        "{}",
        out.all()
    );
    let seen = shipped_events(&s3, &bucket).await;
    for (writer, count) in &batches {
        for seq in 0..*count as u64 {
            match seen.get(&(writer.clone(), seq)).map(Vec::as_slice) {
                Some([_]) => {}
                None => panic!("{writer} event {seq} is missing"),
                Some(keys) => panic!("{writer} event {seq} is in {keys:?}"),
            }
        }
    }
    let total: u32 = batches.iter().map(|(_, n)| n).sum();
    assert_eq!(seen.len(), total as usize);
    // Shipped, so deleted (keep = 0s); each day with events is a Glue partition.
    assert!(rotated(&logs).is_empty(), "{:?}", rotated(&logs));
    let days = glue_partitions(&glue_client().await, &glue_db, "openedx_raw_tracking_logs").await;
    let days: Vec<String> = days
        .into_iter()
        .map(|(values, _)| values[1..].join("-"))
        .collect();
    let expected: Vec<String> = (1..=8).map(|d| format!("2024-03-{d:02}")).collect();
    assert_eq!(days, expected);

    // And one extract catches the table up from its watermark.
    let out = site.run(&["extract"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("incremental"), "{}", out.stdout);
    assert_eq!(lake_view(&s3, &bucket).await, source(&db).await);
    assert_eq!(watermark(&s3, &bucket).await, "2024-02-04 10:00:00.000000");
    let out = site.run(&["run", "--once"]);
    assert_eq!(out.code, 0, "{}", out.all());
}
