//! `edlake run`: jobs on second-level schedules against MariaDB, moto and log files; the
//! HTTP endpoints; SIGTERM; `run --once`.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `(status, body)` of a GET, or None while nothing listens.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn metric(body: &str, sample: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(sample).map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0.0)
}

fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM, checks the daemon exits 0 within 10 s, returns its stderr.
fn stop_within_10s(child: &mut Child) -> String {
    let stopping = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (status, stderr) = wait_with_stderr(child);
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}: {stderr}");
    assert!(status.success(), "{stderr}");
    stderr
}

/// The daemon under test; killed if a failed assertion leaves it running, so no stray
/// `edlake run` outlives its test.
struct Daemon(Child);

impl std::ops::Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn start(dir: &Path, config: &str) -> Daemon {
    spawn(run_command(dir, config))
}

/// `edlake run` with `config`, written into `dir`.
fn run_command(dir: &Path, config: &str) -> Command {
    let file = dir.join("edlake.toml");
    std::fs::write(&file, config).unwrap();
    edlake_command(&file, &["run"])
}

fn spawn(mut command: Command) -> Daemon {
    Daemon(
        command
            .env("EDLAKE_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// The daemon with at most `limit` open files, through util-linux's `prlimit`, which sets
/// the limit and then execs it: the child's pid is the daemon's.
fn start_with_open_files_limit(dir: &Path, config: &str, limit: u32) -> Daemon {
    let daemon = run_command(dir, config);
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--nofile={limit}:{limit}"))
        .arg("--")
        .arg(daemon.get_program())
        .args(daemon.get_args());
    for (key, value) in daemon.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    spawn(command)
}

/// The HTTP endpoints alone: the only job (log shipping) runs once a year, on 1 January.
fn http_only_config(dir: &Path, port: u16, http: &str) -> String {
    format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"{}\"\n\
         [schedule]\nlogs = \"0 0 0 1 1 *\"\n[http]\nlisten = \"127.0.0.1:{port}\"\n{http}\n\
         [tracking_logs]\npath = \"{}\"\n",
        dir.join("lake").display(),
        dir.join("logs/tracking.log").display()
    )
}

/// CPU time (user + system) the process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces: state
    // is field 3, utime 14 and stime 15, in clock ticks.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    let per_second: u64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    Duration::from_millis(ticks * 1000 / per_second)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[tokio::test]
async fn jobs_run_on_schedule_endpoints_answer_and_sigterm_stops_it() {
    let db = seed_studentmodule("daemon_schedule", 20).await;
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("tracking.log"),
        "{\"time\": \"2024-01-01T00:00:00+00:00\", \"event\": {}}\n",
    )
    .unwrap();
    let port = free_port();
    let config = lake_config(
        &db.url(),
        &dir.path().join("lake").display().to_string(),
        &format!(
            "[[tables]]\nname = \"courseware_studentmodule\"\npartition_by = \"course_id\"\n\
             change_column = \"\"\n\
             [schedule]\nextract = \"* * * * * *\"\nlogs = \"*/2 * * * * *\"\n\
             course_structures = \"\"\ncatalog = \"\"\n\
             [http]\nlisten = \"127.0.0.1:{port}\"\n\
             [tracking_logs]\npath = \"{}\"\nrotate_age = \"0s\"\ngrace = \"0s\"\n",
            logs.join("tracking.log").display()
        ),
    );
    let mut child = start(dir.path(), &config);
    wait_for("/healthz", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, b)| s == 200 && b == "ok\n")
    });
    wait_for(
        "two extractions and a log pass",
        Duration::from_secs(30),
        || {
            let body = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
            metric(
                &body,
                "edlake_job_runs_total{job=\"extract\",outcome=\"success\"}",
            ) >= 2.0
                && metric(
                    &body,
                    "edlake_job_runs_total{job=\"logs\",outcome=\"success\"}",
                ) >= 1.0
        },
    );
    let (status, body) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        metric(
            &body,
            "edlake_table_rows{table=\"courseware_studentmodule\"}"
        ),
        72.0,
        "{body}"
    );
    assert_eq!(
        metric(&body, "edlake_logs_events_shipped_total"),
        1.0,
        "{body}"
    );
    assert_eq!(
        metric(
            &body,
            "edlake_job_runs_total{job=\"extract\",outcome=\"failure\"}"
        ),
        0.0
    );
    assert!(
        !body.contains("course_structures"),
        "off jobs are not listed: {body}"
    );
    assert_eq!(get(port, "/readyz").unwrap(), (200, "ready\n".to_string()));
    assert!(files_under(&dir.path().join("lake"))
        .iter()
        .any(|f| f.starts_with("openedx/tracking_logs/")));

    // A job that fails is counted, makes the daemon not ready, and does not stop the others.
    db.exec("DROP TABLE courseware_studentmodule").await;
    wait_for("a failed extraction", Duration::from_secs(20), || {
        let body = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
        metric(
            &body,
            "edlake_job_runs_total{job=\"extract\",outcome=\"failure\"}",
        ) >= 1.0
    });
    let (status, body) = get(port, "/readyz").unwrap();
    assert_eq!(status, 503);
    assert!(body.contains("extract: last run failed"), "{body}");
    let logs_before = metric(
        &get(port, "/metrics").unwrap().1,
        "edlake_job_runs_total{job=\"logs\",outcome=\"success\"}",
    );
    wait_for("log passes going on", Duration::from_secs(20), || {
        let body = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
        metric(
            &body,
            "edlake_job_runs_total{job=\"logs\",outcome=\"success\"}",
        ) > logs_before
    });

    let stderr = stop_within_10s(&mut child);
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(stderr.contains("job failed"), "{stderr}");
}

#[tokio::test]
async fn sigterm_during_an_upload_leaves_nothing_partial() {
    // About 36 MB in one partition: a multipart upload of several parts.
    let db = seed_studentmodule("daemon_sigterm", 20_000).await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "daemon-sigterm").await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = lake_config(
        &db.url(),
        &format!("s3://{bucket}"),
        &format!(
            "endpoint = \"{}\"\npart_size_mb = 5\n\
             [[tables]]\nname = \"courseware_studentmodule\"\npartition_by = \"course_id\"\n\
             [schedule]\nextract = \"* * * * * *\"\nlogs = \"\"\ncourse_structures = \"\"\ncatalog = \"\"\n\
             drain = \"0s\"\n[http]\nlisten = \"127.0.0.1:{port}\"\n",
            s3_endpoint()
        ),
    );
    let mut child = start(dir.path(), &config);
    // Stop it as soon as the first extraction has a multipart upload open (a fixed wait
    // after the job starts can find the extraction already done).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while open_multipart_uploads(&s3, &bucket).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no upload started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stderr = stop_within_10s(&mut child);
    assert!(
        stderr.contains("cancelling jobs still running"),
        "not stopped mid-job: {stderr}"
    );

    // Whatever was published is whole; no part of an unfinished upload is left.
    let multipart = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(
        multipart.uploads().is_empty(),
        "{:?} / {stderr}",
        multipart.uploads()
    );
    for key in s3_keys(&s3, &bucket, "openedx/").await {
        let data = s3_get(&s3, &bucket, &key).await;
        let (_, rows) = read_table_file(&data);
        let expected = if key.contains("Huge") {
            20_000
        } else if key.contains("Tiny") {
            2
        } else {
            50
        };
        assert_eq!(rows.len(), expected, "{key} is partial");
    }
}

#[tokio::test]
async fn ship_on_stop_ships_the_live_log_before_exit() {
    // A sidecar whose log directory dies with the pod: what the live file holds at SIGTERM
    // is shipped, though the next scheduled pass is far away and rotation not due.
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let live = logs.join("tracking.log");
    let events: String = (0..50)
        .map(|i| format!("{{\"time\": \"2024-01-01T00:00:{i:02}+00:00\", \"name\": \"e{i}\"}}\n"))
        .collect();
    std::fs::write(&live, &events).unwrap();
    let port = free_port();
    let lake = dir.path().join("lake");
    let config = format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"{}\"\n\
         [schedule]\nlogs = \"0 0 0 1 1 *\"\n[http]\nlisten = \"127.0.0.1:{port}\"\n\
         [tracking_logs]\npath = \"{}\"\ngrace = \"1s\"\nship_on_stop = true\n",
        lake.display(),
        live.display()
    );
    let mut child = start(dir.path(), &config);
    wait_for("/healthz", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    });
    assert!(
        files_under(&lake).is_empty(),
        "nothing shipped before the stop"
    );
    let stderr = stop_within_10s(&mut child);
    assert!(stderr.contains("final log pass done"), "{stderr}");
    let objects: Vec<String> = files_under(&lake)
        .into_iter()
        .filter(|f| {
            f.starts_with("openedx/tracking_logs/lms=lms.example.com/year=2024/month=01/day=01/")
        })
        .collect();
    assert_eq!(objects.len(), 1, "{objects:?}");
    let lines = gunzip_lines(&std::fs::read(lake.join(&objects[0])).unwrap());
    assert_eq!(lines.len(), 50);
    assert!(!live.exists(), "the live file was rotated");
}

#[tokio::test]
async fn run_once_runs_every_job_and_reports_failure() {
    let db = seed_studentmodule("daemon_once", 5).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let config = lake_config(
        &db.url(),
        &lake.display().to_string(),
        "[[tables]]\nname = \"courseware_studentmodule\"\npartition_by = \"course_id\"\n",
    );
    // Off a terminal, logs are JSON lines (the harness asks for text; this run does not).
    let out = edlake(
        &config,
        &["run", "--once"],
        &[("EDLAKE_LOG_FORMAT", "json"), ("EDLAKE_LOG", "info")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let events: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        events.iter().any(|e| e["level"] == "INFO"
            && e["job"] == "extract"
            && e["message"].as_str().unwrap().starts_with("job succeeded")),
        "{}",
        out.stderr
    );
    let password = url::Url::parse(&db.url())
        .unwrap()
        .password()
        .map(str::to_string);
    if let Some(password) = password.filter(|p| p.len() > 3) {
        assert!(!out.stderr.contains(&password), "a secret in the log");
    }
    assert_eq!(
        files_under(&lake)
            .iter()
            .filter(|f| f.ends_with("courseware_studentmodule.csv"))
            .count(),
        3
    );
    let bad = config.replace("courseware_studentmodule", "no_such_table");
    let out = edlake(&bad, &["run", "--once"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    // The last line says which job failed and why.
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(
        errors[0].starts_with("error: 1 of 1 job(s) failed: extract: ")
            && errors[0].contains("no_such_table"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = http_only_config(dir.path(), port, "header_read_timeout_secs = 1");
    let mut child = start(dir.path(), &config);
    wait_for("/healthz", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    });

    // Half a request line and then nothing; and a connection that sends nothing at all.
    let mut partial = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let sent = Instant::now();
    partial.write_all(b"GET /heal").unwrap();
    for (name, stream) in [("partial", &mut partial), ("silent", &mut silent)] {
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let mut answer = Vec::new();
        match stream.read_to_end(&mut answer) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("{name}: still connected after {:?}: {e}", sent.elapsed()),
        }
        let took = sent.elapsed();
        // The timeout is 1 s; 4 s more is the margin for a loaded machine.
        assert!(
            took < Duration::from_secs(5),
            "{name}: closed after {took:?}"
        );
        assert!(
            took > Duration::from_millis(500),
            "{name}: closed after {took:?}"
        );
    }
    assert_eq!(get(port, "/healthz"), Some((200, "ok\n".to_string())));
    stop_within_10s(&mut child);
}

#[tokio::test]
async fn out_of_file_descriptors_the_accept_loop_backs_off_and_recovers() {
    const LIMIT: u32 = 64;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Held connections must stay open for the whole test.
    let config = http_only_config(dir.path(), port, "header_read_timeout_secs = 120");
    let mut child = start_with_open_files_limit(dir.path(), &config, LIMIT);
    let pid = child.id();
    wait_for("/healthz", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    });

    // More connections than the daemon has descriptors left: it accepts until `accept`
    // fails with EMFILE; the rest wait in the listen queue.
    let held: Vec<TcpStream> = (0..2 * LIMIT)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    wait_for(
        "every descriptor of the daemon in use",
        Duration::from_secs(20),
        || open_files(pid) >= LIMIT as usize,
    );
    let before = cpu_time(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(pid) - before;
    // Spinning on `accept` burns all the CPU it gets (a core when the machine is idle);
    // backing off, a few attempts in 2 s cost almost nothing.
    assert!(
        used < Duration::from_millis(250),
        "{used:?} of CPU in 2 s while accept fails"
    );

    drop(held);
    wait_for("/healthz again", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    });
    let stderr = stop_within_10s(&mut child);
    let warnings = stderr
        .lines()
        .filter(|l| l.contains("cannot accept HTTP connections"))
        .count();
    assert_eq!(warnings, 1, "one warning per burst: {stderr}");
    assert!(
        stderr.contains("accepting HTTP connections again"),
        "{stderr}"
    );
}
