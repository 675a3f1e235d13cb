//! `edlake run`: every job on its cron schedule, with HTTP health, readiness and metrics;
//! `edlake run --once`: every job once, for a Kubernetes CronJob.
//!
//! A job never overlaps itself: its next tick is computed after its run ends, so ticks
//! that pass during a long run are skipped. A failed job is logged and counted and runs
//! again at its next tick; it never stops the other jobs or the daemon.

pub mod dry_run;
pub mod http;
pub mod metrics;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::context::Context;
use crate::jobs::extract::{self, Selection};
use crate::jobs::{logs, sync};
use crate::schedule::Schedule;
use metrics::Metrics;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobKind {
    Extract,
    CourseStructures,
    Logs,
    Catalog,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        JobKind::Extract,
        JobKind::CourseStructures,
        JobKind::Logs,
        JobKind::Catalog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JobKind::Extract => "extract",
            JobKind::CourseStructures => "course_structures",
            JobKind::Logs => "logs",
            JobKind::Catalog => "catalog",
        }
    }

    fn expression(self, config: &Config) -> &str {
        let s = &config.schedule;
        match self {
            JobKind::Extract => &s.extract,
            JobKind::CourseStructures => &s.course_structures,
            JobKind::Logs => &s.logs,
            JobKind::Catalog => &s.catalog,
        }
    }

    /// Why the job is off, when it is: no schedule, or nothing configured for it.
    fn off_reason(self, config: &Config) -> Option<&'static str> {
        if self.expression(config).trim().is_empty() {
            return Some("schedule is empty");
        }
        let configured = match self {
            JobKind::Extract => !config.tables.is_empty(),
            JobKind::CourseStructures => config.course_structures_enabled(),
            JobKind::Logs => config.tracking_logs_enabled(),
            JobKind::Catalog => config.any_catalog_enabled(),
        };
        (!configured).then_some(match self {
            JobKind::Extract => "no tables configured",
            JobKind::CourseStructures => "mongodb.url is not set",
            JobKind::Logs => "tracking_logs.path is not set",
            JobKind::Catalog => "every catalog is disabled",
        })
    }
}

/// The jobs that run, each with its schedule.
pub fn jobs(config: &Config) -> Vec<(JobKind, Schedule)> {
    JobKind::ALL
        .into_iter()
        .filter_map(|job| match job.off_reason(config) {
            Some(why) => {
                tracing::info!(job = job.name(), "off: {why}");
                None
            }
            None => Some((
                job,
                Schedule::parse(job.expression(config)).expect("validated with the config"),
            )),
        })
        .collect()
}

/// Gap between the schedule's next two ticks.
fn period(schedule: &Schedule) -> Duration {
    let mut ticks = schedule.after(Utc::now());
    match (ticks.next(), ticks.next()) {
        (Some(a), Some(b)) => (b - a).to_std().unwrap_or(Duration::from_secs(3600)),
        _ => Duration::from_secs(86400 * 365),
    }
}

/// Runs one job; `Ok` carries a one-line summary.
pub async fn run_job(
    config: &Config,
    ctx: &Context,
    job: JobKind,
    metrics: &Mutex<Metrics>,
) -> Result<String> {
    match job {
        JobKind::Extract | JobKind::CourseStructures => {
            // Course structures have their own schedule: each job extracts only its part.
            let structures = job == JobKind::CourseStructures;
            let selection = Selection {
                tables: if structures {
                    Vec::new()
                } else {
                    config.tables.iter().collect()
                },
                course_structures: structures,
                tracking_logs: false,
            };
            let outcomes = extract::run(config, ctx, &selection, false).await?;
            let mut failed = Vec::new();
            let mut rows = 0;
            for o in &outcomes {
                match &o.result {
                    Ok(r) => {
                        metrics
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .record_table(r);
                        rows += r.rows;
                        failed.extend(r.failures.iter().map(|f| format!("{}: {f}", o.table)));
                    }
                    Err(e) => failed.push(format!("{}: {e:#}", o.table)),
                }
            }
            anyhow::ensure!(
                failed.is_empty(),
                "{} failed: {}",
                failed.len(),
                failed.join("; ")
            );
            Ok(format!("{} table(s), {rows} rows", outcomes.len()))
        }
        JobKind::Logs => {
            let report = logs::ship(config, &ctx.stop).await?;
            metrics
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record_logs(&report);
            anyhow::ensure!(
                report.is_complete(),
                "{}",
                report
                    .failures
                    .iter()
                    .cloned()
                    .chain(
                        report
                            .catalog
                            .iter()
                            .filter_map(|c| c.as_ref().err().cloned())
                    )
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            Ok(format!(
                "{} file(s) shipped, {} already shipped, {} waiting",
                report.shipped.len(),
                report.already_shipped,
                report.waiting.len()
            ))
        }
        JobKind::Catalog => {
            let selection = extract::select_tables(config, &[])?;
            let (_, outcomes) = sync::run(config, ctx, &selection, false).await?;
            let mut failed = Vec::new();
            for o in &outcomes {
                let mut m = metrics.lock().unwrap_or_else(|e| e.into_inner());
                match &o.result {
                    Ok(r) => m.record_catalog(r),
                    Err(e) => {
                        m.record_catalog_error();
                        failed.push(format!("{}: {e:#}", o.table));
                    }
                }
            }
            anyhow::ensure!(failed.is_empty(), "{}", failed.join("; "));
            Ok(format!("{} table(s) in step", outcomes.len()))
        }
    }
}

/// Runs `job`, logs and counts the outcome; why it failed, on one line.
async fn run_and_record(
    config: &Config,
    ctx: &Context,
    job: JobKind,
    metrics: &Mutex<Metrics>,
) -> Result<(), String> {
    metrics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .started(job);
    tracing::info!(job = job.name(), "job started");
    let started = Instant::now();
    let result = run_job(config, ctx, job, metrics).await;
    let elapsed = started.elapsed();
    let outcome = match result {
        Ok(summary) => {
            tracing::info!(
                job = job.name(),
                seconds = elapsed.as_secs_f64(),
                "job succeeded: {summary}"
            );
            Ok(())
        }
        Err(e) => {
            let why = format!("{e:#}").replace('\n', " ");
            tracing::error!(
                job = job.name(),
                seconds = elapsed.as_secs_f64(),
                "job failed: {why}"
            );
            Err(why)
        }
    };
    metrics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .finished(job, outcome.is_ok(), elapsed);
    outcome
}

/// What `edlake run --once` did.
#[derive(Debug, Default)]
pub struct OnceReport {
    /// The jobs that were on.
    pub jobs: usize,
    /// The jobs that failed or were not started, each with why.
    pub failed: Vec<(JobKind, String)>,
}

impl OnceReport {
    /// The line a failed `run --once` ends with: which jobs failed and why, so that a
    /// CronJob's last line is enough.
    pub fn failure_line(&self) -> Option<String> {
        if self.failed.is_empty() {
            return None;
        }
        let each: Vec<String> = self
            .failed
            .iter()
            .map(|(job, why)| format!("{}: {why}", job.name()))
            .collect();
        Some(format!(
            "{} of {} job(s) failed: {}",
            self.failed.len(),
            self.jobs,
            each.join("; ")
        ))
    }
}

/// `edlake run --once`: every job once, in order, none started after `ctx.stop`.
pub async fn run_once(config: &Config, ctx: &Context) -> OnceReport {
    let jobs = jobs(config);
    let metrics = Mutex::new(Metrics::new(&[]));
    let mut report = OnceReport {
        jobs: jobs.len(),
        failed: Vec::new(),
    };
    for (job, _) in jobs {
        if ctx.stop.is_cancelled() {
            tracing::warn!(job = job.name(), "not started: edlake is stopping");
            report
                .failed
                .push((job, "not started: edlake is stopping".into()));
            continue;
        }
        if let Err(why) = run_and_record(config, ctx, job, &metrics).await {
            report.failed.push((job, why));
        }
    }
    report
}

/// `edlake run`: schedules every job until `ctx.stop` (SIGTERM or SIGINT).
pub async fn run(config: Config, ctx: &Context) -> Result<()> {
    let config = Arc::new(config);
    let jobs = jobs(&config);
    anyhow::ensure!(
        !jobs.is_empty(),
        "no job to run: every job is off (see the schedule and what is configured)"
    );
    let metrics = Arc::new(Mutex::new(Metrics::new(
        &jobs
            .iter()
            .map(|(j, s)| (*j, period(s)))
            .collect::<Vec<_>>(),
    )));
    let mut tasks = JoinSet::new();
    if !config.http.listen.is_empty() {
        let (address, server) = http::serve(&config.http, metrics.clone()).await?;
        tracing::info!(%address, "serving /healthz, /readyz, /metrics");
        tasks.spawn(server);
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    // The job loops run in this task (the jobs' futures borrow the config), concurrently;
    // their heavy parts run on blocking threads.
    let loops = jobs.into_iter().map(|(job, schedule)| {
        tracing::info!(job = job.name(), schedule = %job.expression(&config), "scheduled");
        job_loop(&config, ctx, job, schedule, &metrics, stop_rx.clone())
    });
    // Boxed, so that dropping it below really drops (cancels) the running jobs.
    let mut all = Box::pin(futures::future::join_all(loops));
    tokio::select! {
        _ = &mut all => {}
        _ = ctx.stop.cancelled() => {}
    }
    let drain = crate::config::parse_duration(&config.schedule.drain).unwrap_or_default();
    tracing::info!("stopping: no new job starts; running jobs get {drain:?}");
    let _ = stop_tx.send(true);
    let finished = tokio::time::timeout(drain, &mut all).await.is_ok();
    let cancelled = metrics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .running_jobs();
    if !finished {
        tracing::warn!(jobs = ?cancelled, "cancelling jobs still running; uploads in flight are aborted, nothing partial is published");
    }
    // Dropping the loops cancels what still runs.
    drop(all);
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    if !finished {
        // Let the aborts of cancelled multipart uploads and the lease releases go out.
        crate::shutdown::finish_cleanup(Duration::from_secs(2)).await;
    }
    if config.tracking_logs.ship_on_stop && config.tracking_logs_enabled() {
        ship_before_exit(&config).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The last log pass of a process whose log directory dies with it: the live file is
/// rotated whatever its age and shipped. Exactly-once still holds: a pass killed here
/// leaves only what any killed pass leaves.
async fn ship_before_exit(config: &Config) {
    let mut last = config.clone();
    last.tracking_logs.rotate_age = "0s".into();
    tracing::info!("tracking_logs.ship_on_stop: rotating and shipping the live log before exit");
    // A token of its own: the pass runs after the stop that cancelled the others.
    match logs::ship(&last, &CancellationToken::new()).await {
        Ok(report) if report.is_complete() => tracing::info!(
            shipped = report.shipped.len(),
            waiting = report.waiting.len(),
            "final log pass done"
        ),
        Ok(report) => tracing::error!("final log pass incomplete: {}", report.failures.join("; ")),
        Err(e) => tracing::error!("final log pass failed: {e:#}"),
    }
}

async fn job_loop(
    config: &Config,
    ctx: &Context,
    job: JobKind,
    schedule: Schedule,
    metrics: &Mutex<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let Some(next) = schedule.next_after(Utc::now()) else {
            return;
        };
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        // Logged and counted; the job runs again at its next tick.
        let _ = run_and_record(config, ctx, job, metrics).await;
    }
}
