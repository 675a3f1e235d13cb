//! `edlake run --dry-run`: what the daemon would schedule, for an operator to read before
//! deploying. Reads only the config: connects to nothing, writes nothing.

use chrono::{DateTime, SecondsFormat, Utc};

use super::JobKind;
use crate::config::Config;
use crate::schedule::Schedule;

/// How many fire times each job that is on shows.
const SHOWN: usize = 3;

/// One line per job: on or off (and why), its expression, and for a job that is on its next
/// fire times after `now`, in UTC (RFC 3339).
pub fn render(config: &Config, now: DateTime<Utc>) -> String {
    let rows: Vec<(JobKind, String, String, String)> = JobKind::ALL
        .into_iter()
        .map(|job| {
            let expression = format!("{:?}", job.expression(config));
            let (state, detail) = match job.off_reason(config) {
                Some(why) => ("off", why.to_string()),
                None => ("on", fire_times(job.expression(config), now)),
            };
            (job, state.to_string(), expression, detail)
        })
        .collect();
    let job_width = rows.iter().map(|r| r.0.name().len()).max().unwrap_or(3);
    let expression_width = rows
        .iter()
        .map(|r| r.2.len())
        .max()
        .unwrap_or(8)
        .max("SCHEDULE".len());
    let mut out = format!(
        "{:<job_width$}  {:<5}  {:<expression_width$}  NEXT (UTC), OR WHY OFF\n",
        "JOB", "STATE", "SCHEDULE"
    );
    for (job, state, expression, detail) in &rows {
        out.push_str(&format!(
            "{:<job_width$}  {state:<5}  {expression:<expression_width$}  {detail}\n",
            job.name()
        ));
    }
    if rows.iter().all(|r| r.1 == "off") {
        out.push_str("no job is on: `edlake run` would refuse to start\n");
    }
    out
}

fn fire_times(expression: &str, now: DateTime<Utc>) -> String {
    match Schedule::parse(expression) {
        Ok(schedule) => schedule
            .after(now)
            .take(SHOWN)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .collect::<Vec<_>>()
            .join(" "),
        // Config::load validated every schedule; this only keeps the dry run total.
        Err(e) => format!("invalid: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn shows_each_job_its_state_expression_and_next_three_times() {
        let mut config = Config {
            tables: crate::config::default_tables(),
            ..Config::default()
        };
        config.schedule.extract = "0 3 * * 1".into();
        config.schedule.logs = "".into();
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
        let out = render(&config, now);
        let line = |job: &str| {
            out.lines()
                .find(|l| l.split_whitespace().next() == Some(job))
                .unwrap_or_else(|| panic!("no {job} line in\n{out}"))
                .to_string()
        };
        assert!(out.starts_with("JOB"), "{out}");
        let extract = line("extract");
        assert!(
            extract.contains("on     \"0 3 * * 1\"")
                && extract
                    .ends_with("2025-01-06T03:00:00Z 2025-01-13T03:00:00Z 2025-01-20T03:00:00Z"),
            "{out}"
        );
        assert_eq!(
            line("logs").split_whitespace().collect::<Vec<_>>(),
            ["logs", "off", "\"\"", "schedule", "is", "empty"],
            "{out}"
        );
        assert!(
            line("course_structures").ends_with("mongodb.url is not set"),
            "{out}"
        );
        assert!(!out.contains("no job is on"), "{out}");
    }
}
