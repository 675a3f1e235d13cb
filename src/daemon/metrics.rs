//! What `edlake run` has done, for `/metrics` (Prometheus text format) and `/readyz`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::JobKind;
use crate::catalog::SyncReport;
use crate::jobs::extract::TableReport;
use crate::jobs::logs::ShipReport;

#[derive(Debug, Default, Clone)]
struct JobStats {
    succeeded: u64,
    failed: u64,
    running: bool,
    last_ok: Option<bool>,
    last_success: Option<SystemTime>,
    last_duration: f64,
    /// Gap between two ticks of the job's schedule: readiness allows two.
    period: Duration,
}

#[derive(Debug, Default, Clone)]
struct TableStats {
    rows: u64,
    bytes: u64,
    files: u64,
    partitions: u64,
}

#[derive(Debug)]
pub struct Metrics {
    started: SystemTime,
    jobs: BTreeMap<JobKind, JobStats>,
    tables: BTreeMap<String, TableStats>,
    log_files: u64,
    log_events: u64,
    log_quarantined: u64,
    glue_calls: u64,
    athena_queries: u64,
    catalog_errors: u64,
}

impl Metrics {
    pub fn new(jobs: &[(JobKind, Duration)]) -> Metrics {
        Metrics {
            started: SystemTime::now(),
            jobs: jobs
                .iter()
                .map(|(kind, period)| {
                    (
                        *kind,
                        JobStats {
                            period: *period,
                            ..Default::default()
                        },
                    )
                })
                .collect(),
            tables: BTreeMap::new(),
            log_files: 0,
            log_events: 0,
            log_quarantined: 0,
            glue_calls: 0,
            athena_queries: 0,
            catalog_errors: 0,
        }
    }

    pub fn started(&mut self, job: JobKind) {
        self.jobs.entry(job).or_default().running = true;
    }

    pub fn finished(&mut self, job: JobKind, ok: bool, duration: Duration) {
        let stats = self.jobs.entry(job).or_default();
        stats.running = false;
        stats.last_ok = Some(ok);
        stats.last_duration = duration.as_secs_f64();
        if ok {
            stats.succeeded += 1;
            stats.last_success = Some(SystemTime::now());
        } else {
            stats.failed += 1;
        }
    }

    pub fn running_jobs(&self) -> Vec<&'static str> {
        self.jobs
            .iter()
            .filter(|(_, s)| s.running)
            .map(|(j, _)| j.name())
            .collect()
    }

    pub fn record_table(&mut self, report: &TableReport) {
        self.tables.insert(
            report.table.clone(),
            TableStats {
                rows: report.rows,
                bytes: report.bytes,
                files: report.files as u64,
                partitions: report.partitions as u64,
            },
        );
        if let Some(c) = &report.catalog {
            self.record_catalog(c);
        }
    }

    pub fn record_catalog(&mut self, report: &SyncReport) {
        self.glue_calls += report.glue_calls;
        self.athena_queries += report.athena_queries;
    }

    pub fn record_catalog_error(&mut self) {
        self.catalog_errors += 1;
    }

    pub fn record_logs(&mut self, report: &ShipReport) {
        self.log_files += report.shipped.len() as u64;
        for s in &report.shipped {
            self.log_events += s.events;
            self.log_quarantined += s.rejected.values().sum::<u64>();
        }
        match &report.catalog {
            Some(Ok(c)) => self.record_catalog(c),
            Some(Err(_)) => self.catalog_errors += 1,
            None => {}
        }
    }

    /// Ready when no job's last run failed and each has succeeded within two of its
    /// periods (counted from the daemon's start until its first success). The reasons
    /// otherwise.
    pub fn readiness(&self, now: SystemTime) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        for (job, stats) in &self.jobs {
            if stats.last_ok == Some(false) {
                problems.push(format!("{}: last run failed", job.name()));
                continue;
            }
            let since = stats.last_success.unwrap_or(self.started);
            let window = stats.period * 2 + Duration::from_secs(60);
            if now.duration_since(since).unwrap_or_default() > window && !stats.running {
                problems.push(format!(
                    "{}: no success for {}s",
                    job.name(),
                    now.duration_since(since).unwrap_or_default().as_secs()
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let job = |j: &JobKind| format!("job=\"{}\"", j.name());
        family(
            "edlake_job_runs_total",
            "counter",
            "Job runs by outcome.",
            self.jobs
                .iter()
                .flat_map(|(j, s)| {
                    [
                        (
                            format!("{{{},outcome=\"success\"}}", job(j)),
                            s.succeeded as f64,
                        ),
                        (
                            format!("{{{},outcome=\"failure\"}}", job(j)),
                            s.failed as f64,
                        ),
                    ]
                })
                .collect(),
        );
        family(
            "edlake_job_last_success_timestamp_seconds",
            "gauge",
            "When the job last succeeded (0: never since the daemon started).",
            self.jobs
                .iter()
                .map(|(j, s)| {
                    (
                        format!("{{{}}}", job(j)),
                        s.last_success.map(unix).unwrap_or(0.0),
                    )
                })
                .collect(),
        );
        family(
            "edlake_job_last_duration_seconds",
            "gauge",
            "Duration of the job's last run.",
            self.jobs
                .iter()
                .map(|(j, s)| (format!("{{{}}}", job(j)), s.last_duration))
                .collect(),
        );
        family(
            "edlake_job_running",
            "gauge",
            "1 while the job runs.",
            self.jobs
                .iter()
                .map(|(j, s)| (format!("{{{}}}", job(j)), f64::from(u8::from(s.running))))
                .collect(),
        );
        let table = |t: &str| format!("{{table=\"{}\"}}", escape_label(t));
        for (name, help, get) in [
            (
                "edlake_table_rows",
                "Rows written by the table's last extraction.",
                (|s: &TableStats| s.rows) as fn(&TableStats) -> u64,
            ),
            (
                "edlake_table_bytes",
                "Bytes written by the table's last extraction.",
                |s| s.bytes,
            ),
            (
                "edlake_table_files",
                "Files written by the table's last extraction.",
                |s| s.files,
            ),
            (
                "edlake_table_partitions",
                "Partitions of the table's last extraction.",
                |s| s.partitions,
            ),
        ] {
            family(
                name,
                "gauge",
                help,
                self.tables
                    .iter()
                    .map(|(t, s)| (table(t), get(s) as f64))
                    .collect(),
            );
        }
        for (name, help, value) in [
            (
                "edlake_logs_files_shipped_total",
                "Rotated tracking-log files shipped.",
                self.log_files,
            ),
            (
                "edlake_logs_events_shipped_total",
                "Tracking events shipped.",
                self.log_events,
            ),
            (
                "edlake_logs_lines_quarantined_total",
                "Tracking-log lines quarantined (not events).",
                self.log_quarantined,
            ),
            (
                "edlake_catalog_glue_calls_total",
                "Glue API calls made.",
                self.glue_calls,
            ),
            (
                "edlake_catalog_athena_queries_total",
                "Athena statements run.",
                self.athena_queries,
            ),
            (
                "edlake_catalog_errors_total",
                "Catalog syncs that failed.",
                self.catalog_errors,
            ),
        ] {
            family(name, "counter", help, vec![(String::new(), value as f64)]);
        }
        out
    }
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let mut m = Metrics::new(&[(JobKind::Logs, Duration::from_secs(300))]);
        m.started(JobKind::Logs);
        m.finished(JobKind::Logs, true, Duration::from_millis(1500));
        m.record_table(&TableReport {
            table: "auth_user".into(),
            rows: 42,
            partitions: 1,
            files: 1,
            bytes: 1000,
            stale_removed: 0,
            seconds: 0.1,
            catalog: None,
            unchanged: 0,
            failures: vec![],
            ..TableReport::default()
        });
        let text = m.render();
        assert!(
            text.contains("edlake_job_runs_total{job=\"logs\",outcome=\"success\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("edlake_job_last_duration_seconds{job=\"logs\"} 1.5"),
            "{text}"
        );
        assert!(
            text.contains("edlake_table_rows{table=\"auth_user\"} 42"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE edlake_logs_events_shipped_total counter"),
            "{text}"
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
        }
    }

    #[test]
    fn readiness_follows_failures_and_staleness() {
        let mut m = Metrics::new(&[(JobKind::Extract, Duration::from_secs(3600))]);
        let now = SystemTime::now();
        assert!(m.readiness(now).is_ok(), "not run yet, within its window");
        assert!(
            m.readiness(now + Duration::from_secs(3 * 3600)).is_err(),
            "never succeeded"
        );
        m.finished(JobKind::Extract, false, Duration::ZERO);
        assert_eq!(m.readiness(now).unwrap_err(), ["extract: last run failed"]);
        m.finished(JobKind::Extract, true, Duration::ZERO);
        assert!(m.readiness(SystemTime::now()).is_ok());
    }
}
