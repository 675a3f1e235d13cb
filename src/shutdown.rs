//! How every command ends on SIGTERM or SIGINT (docs/operations.md, "Signals and exit
//! statuses"): the first signal stops new work from starting, lets what is in flight finish
//! for `schedule.drain`, then cancels it; cancelled work leaves nothing half-done (uploads
//! aborted, spool removed, leases released, no record written); the process then exits. A
//! second signal exits at once.
//!
//! The cleanup that cancelled work owes the world (aborting a multipart upload, releasing a
//! lease) is async and must outlive the future that was dropped: such tasks go to one
//! process-wide [`cleanup`] tracker, which `main` waits for before it exits.

use std::future::Future;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The signal that asked the process to stop, once one has: 15 (SIGTERM) or 2 (SIGINT).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

static CLEANUP: OnceLock<TaskTracker> = OnceLock::new();

/// The tasks that finish what cancelled work leaves (aborts, lease releases).
pub fn cleanup() -> &'static TaskTracker {
    CLEANUP.get_or_init(TaskTracker::new)
}

/// Runs `task` to completion even when the future that started it is dropped; `main`
/// waits for it before exiting. Outside a runtime (a plain unit test) it is dropped.
pub fn spawn_cleanup(
    task: impl Future<Output = ()> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    Some(cleanup().spawn_on(task, &runtime))
}

/// Waits up to `limit` for the cleanup tasks spawned so far.
pub async fn finish_cleanup(limit: Duration) -> bool {
    let tracker = cleanup();
    tracker.close();
    let done = tokio::time::timeout(limit, tracker.wait()).await.is_ok();
    tracker.reopen();
    done
}

/// The signal number that stopped the process, if one did.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    }
}

/// The exit status of a command stopped by `signal`: 128 + its number, as a shell reports
/// a process killed by it (130 for SIGINT, 143 for SIGTERM), so a CronJob or a script sees
/// the run did not complete. The work was cleaned up; the status says it was cut short.
pub fn exit_status(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(1)
}

fn name(signal: i32) -> &'static str {
    match signal {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

/// Installs the SIGTERM and SIGINT handlers and returns the token they cancel on the first
/// signal. The second signal exits at once, with the status of [`exit_status`]: the
/// operator asked twice, and objects are written atomically, so nothing partial becomes
/// visible even then (an open multipart upload may be left for the bucket's lifecycle rule).
pub fn install() -> std::io::Result<CancellationToken> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let token = CancellationToken::new();
    let stop = token.clone();
    tokio::spawn(async move {
        let first = tokio::select! {
            _ = term.recv() => 15,
            _ = int.recv() => 2,
        };
        RECEIVED.store(first, Ordering::SeqCst);
        tracing::warn!(
            signal = name(first),
            "stopping: no new work starts, work in flight is finished or cancelled; a second signal exits at once"
        );
        stop.cancel();
        let second = tokio::select! {
            _ = term.recv() => 15,
            _ = int.recv() => 2,
        };
        eprintln!(
            "error: {} received while stopping: exiting at once",
            name(second)
        );
        std::process::exit(i32::from(exit_status(first)));
    });
    Ok(token)
}

/// Runs `work` until it ends, or, once `stop` is cancelled, for at most `drain` more; then
/// drops it (cancels it). `None` when it was cancelled.
pub async fn run_until_stopped<T>(
    work: impl Future<Output = T>,
    stop: &CancellationToken,
    drain: Duration,
) -> Option<T> {
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => return Some(out),
        _ = stop.cancelled() => {}
    }
    match tokio::time::timeout(drain, &mut work).await {
        Ok(out) => Some(out),
        Err(_) => {
            tracing::warn!(
                "work still running {drain:?} after the stop: cancelling it (uploads aborted, nothing partial published)"
            );
            None
        }
    }
}

/// Why work did not start: the process is stopping. Its text is what the operator reads
/// against a table that was not extracted.
#[derive(Debug, thiserror::Error)]
#[error("not done: edlake is stopping (signal received); the next run does it")]
pub struct Stopping;

/// `Err(Stopping)` once `stop` is cancelled: the check before starting a unit of work.
pub fn check(stop: &CancellationToken) -> anyhow::Result<()> {
    if stop.is_cancelled() {
        Err(Stopping.into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_gets_the_drain_then_is_dropped() {
        let stop = CancellationToken::new();
        stop.cancel();
        // Finishes within the drain: its result is kept.
        let quick = run_until_stopped(
            async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                7
            },
            &stop,
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(quick, Some(7));
        // Does not: dropped, and its guard runs.
        struct Flag(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Flag(dropped.clone());
        let slow = run_until_stopped(
            async move {
                let _flag = flag;
                tokio::time::sleep(Duration::from_secs(60)).await;
                1
            },
            &stop,
            Duration::from_millis(50),
        )
        .await;
        assert_eq!(slow, None);
        assert!(dropped.load(Ordering::SeqCst));
        assert!(check(&stop).unwrap_err().to_string().contains("stopping"));
        assert!(check(&CancellationToken::new()).is_ok());
    }

    #[tokio::test]
    async fn cleanup_outlives_the_work_that_spawned_it() {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        spawn_cleanup(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            flag.store(true, Ordering::SeqCst);
        });
        assert!(finish_cleanup(Duration::from_secs(5)).await);
        assert!(done.load(Ordering::SeqCst));
        assert_eq!(exit_status(15), 143);
        assert_eq!(exit_status(2), 130);
    }
}
