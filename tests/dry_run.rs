//! `edlake run --dry-run`: every job, its expression and its next three fire times in UTC,
//! with crontab's day-of-week meaning, read from the binary's output and checked against
//! chrono's own calendar (never against a fixed date: the run happens whenever it happens).

mod common;

use std::net::TcpListener;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Timelike, Utc, Weekday};
use common::*;

/// The printed line of `job`, split on whitespace.
fn job_line<'a>(stdout: &'a str, job: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.first() == Some(&job))
        .unwrap_or_else(|| panic!("no line for {job}:\n{stdout}"))
}

/// The fire times printed for a job that is on: the last three words, RFC 3339 in UTC.
fn fire_times(stdout: &str, job: &str) -> Vec<DateTime<Utc>> {
    let words = job_line(stdout, job);
    assert_eq!(words[1], "on", "{job} is not on:\n{stdout}");
    let times: Vec<DateTime<Utc>> = words[words.len() - 3..]
        .iter()
        .map(|w| {
            assert!(w.ends_with('Z'), "{w} is not UTC:\n{stdout}");
            DateTime::parse_from_rfc3339(w)
                .unwrap_or_else(|e| panic!("{w}: {e}\n{stdout}"))
                .with_timezone(&Utc)
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    times
}

/// The first three days after `from` at `time` (UTC) on which `day_matches`, by walking
/// chrono's calendar day by day: the expectation, computed without edlake's code.
fn expected(
    from: DateTime<Utc>,
    time: NaiveTime,
    day_matches: impl Fn(DateTime<Utc>) -> bool,
) -> Vec<DateTime<Utc>> {
    (0..400)
        .map(|d| {
            (from.date_naive() + Duration::days(d))
                .and_time(time)
                .and_utc()
        })
        .filter(|t| *t > from && day_matches(*t))
        .take(3)
        .collect()
}

/// A listener that counts as a server edlake would reach, if it connected anywhere.
fn decoy() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

#[test]
fn dry_run_prints_each_job_and_its_next_fire_times_on_crontab_weekdays() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let live = dir.path().join("logs").join("tracking.log");
    let (mysql, mysql_port) = decoy();
    let (mongo, mongo_port) = decoy();
    let config = format!(
        "lms_host = \"lms.example.com\"\n\
         [mysql]\nurl = \"mysql://edlake:secret@127.0.0.1:{mysql_port}/openedx\"\n\
         [mongodb]\nurl = \"mongodb://127.0.0.1:{mongo_port}/?serverSelectionTimeoutMS=1000\"\n\
         [datalake]\nurl = \"{}\"\n\
         [tracking_logs]\npath = \"{}\"\n\
         [schedule]\n\
         extract = \"0 3 * * 1\"\n\
         course_structures = \"0 4 13 * FRI\"\n\
         logs = \"0 30 2 * * 0\"\n",
        lake.display(),
        live.display()
    );
    let before = Utc::now();
    let out = edlake(&config, &["run", "--dry-run"], &[]);
    let after = Utc::now();
    assert_eq!(out.code, 0, "{}", out.all());
    let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    // Each expectation is computed from both ends of the run: the binary read its clock
    // in between, so it printed one of the two.
    let check = |job: &str, time: NaiveTime, day_matches: &dyn Fn(DateTime<Utc>) -> bool| {
        let printed = fire_times(&out.stdout, job);
        assert!(
            printed == expected(before, time, day_matches)
                || printed == expected(after, time, day_matches),
            "{job}: {printed:?}\n{}",
            out.stdout
        );
        printed
    };

    // crontab: 1 is Monday (the `cron` crate's 1 was Sunday).
    let mondays = check("extract", at(3, 0), &|t| t.weekday() == Weekday::Mon);
    assert!(mondays.iter().all(|t| t.weekday() == Weekday::Mon));
    assert!(mondays.windows(2).all(|w| w[1] - w[0] == Duration::days(7)));
    // Both day fields restricted: the 13th OR a Friday.
    let days = check("course_structures", at(4, 0), &|t| {
        t.day() == 13 || t.weekday() == Weekday::Fri
    });
    assert!(days
        .iter()
        .all(|t| (t.hour(), t.minute(), t.second()) == (4, 0, 0)));
    // Six fields, seconds first: 0 is Sunday there too.
    let sundays = check("logs", at(2, 30), &|t| t.weekday() == Weekday::Sun);
    assert!(sundays.iter().all(|t| t.weekday() == Weekday::Sun));

    // Off jobs say why, with their expression.
    assert_eq!(
        job_line(&out.stdout, "catalog")[1..],
        ["off", "\"0", "30", "3", "*", "*", "*\"", "every", "catalog", "is", "disabled"],
        "{}",
        out.stdout
    );
    // Connected to nothing, wrote nothing.
    for (what, listener) in [("MySQL", &mysql), ("MongoDB", &mongo)] {
        assert!(
            listener
                .accept()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "the dry run connected to {what}"
        );
    }
    assert!(!lake.exists(), "the dry run wrote to the lake");
    assert!(
        !live.parent().unwrap().exists(),
        "the dry run wrote log state"
    );
}

#[test]
fn seven_and_names_are_crontab_days_and_once_with_dry_run_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("tracking.log");
    let config = format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"{}\"\n\
         [tracking_logs]\npath = \"{}\"\n[schedule]\nlogs = \"15 6 * * 7\"\n",
        dir.path().join("lake").display(),
        live.display()
    );
    let out = edlake(&config, &["run", "--dry-run"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let sundays = fire_times(&out.stdout, "logs");
    assert!(
        sundays
            .iter()
            .all(|t| t.weekday() == Weekday::Sun && (t.hour(), t.minute()) == (6, 15)),
        "{sundays:?}"
    );
    assert_eq!(job_line(&out.stdout, "extract")[1], "off", "{}", out.stdout);

    let weekdays = config.replace("15 6 * * 7", "15 6 * * mon-FRI");
    let out = edlake(&weekdays, &["run", "--dry-run"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let times = fire_times(&out.stdout, "logs");
    assert!(
        times
            .iter()
            .all(|t| !matches!(t.weekday(), Weekday::Sat | Weekday::Sun)),
        "{times:?}"
    );
    // Three weekdays in a row are never more than four days apart (Friday to Monday is three).
    assert!(
        times[2] - times[0] <= Duration::days(4),
        "{times:?}\n{}",
        out.stdout
    );

    let out = edlake(&config, &["run", "--once", "--dry-run"], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--dry-run"), "{}", out.all());

    // What Kubernetes and crontab refuse, edlake refuses as a config error.
    let bad = config.replace("15 6 * * 7", "15 6 L * *");
    let out = edlake(&bad, &["run", "--dry-run"], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("schedule.logs \"15 6 L * *\": day-of-month field"),
        "{}",
        out.all()
    );
}
