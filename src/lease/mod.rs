//! One writer at a time: a lease per table of an LMS, kept in the lake itself, so that two
//! edlake processes (a CronJob overlapping a daemon, two replicas, an operator's one-off
//! command) never interleave their writes to a table's files or its Glue entries.
//!
//! The lease is a small JSON record at `<prefix>/_edlake/leases/lms=<host>/<table>.json`,
//! written only by compare-and-swap ([`Store::put_if`]: S3 conditional writes, a `flock`
//! locally). Its holder renews it every third of its ttl; a record not renewed for a ttl
//! (its holder died) or marked released is free to take. A holder that finds its lease
//! taken over (it stalled longer than the ttl) stops its work before publishing more.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Result};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::LeaseSettings;
use crate::lake::Layout;
use crate::store::Store;

/// The record in the lake.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    /// `host:pid:nonce`: who holds it, for messages and to recognise one's own record.
    holder: String,
    /// What the holder is doing (`extract`, `catalog sync`).
    command: String,
    acquired_at: u64,
    renewed_at: u64,
    ttl_seconds: u64,
    released: bool,
}

impl Record {
    fn free_at(&self, now: u64) -> bool {
        self.released || now >= self.renewed_at.saturating_add(self.ttl_seconds)
    }

    fn bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec_pretty(self).expect("a record serializes"))
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn holder_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into());
    let nonce = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!("{host}:{}:{nonce:08x}", std::process::id())
}

/// Where the lease of `table` lives.
pub fn key(layout: &Layout, table: &str) -> String {
    format!("{}{table}.json", layout.state_dir("leases"))
}

/// What an operator can do about a lake store that ignores conditional writes.
pub const WITHOUT_CONDITIONAL_WRITES: &str = "upgrade the store to one that honours If-None-Match and If-Match (MinIO since RELEASE.2024-05-07), or set lease.run_without_locking = true and never run two edlake processes on this lake at once";

/// Whether `store` really refuses a second create of the same key (`If-None-Match: *`), on
/// a fresh probe key under edlake's records; the probe is removed after.
pub async fn conditional_writes_work(store: &dyn Store, layout: &Layout) -> Result<bool> {
    if store.conditional_writes_known() {
        return Ok(true);
    }
    let key = format!(
        "{}conditional-write-{}.json",
        layout.state_dir("probes"),
        uuid::Uuid::new_v4().simple()
    );
    let first = store.put_if(&key, Bytes::from_static(b"{}"), None).await?;
    let second = store.put_if(&key, Bytes::from_static(b"{}"), None).await;
    let _ = store.delete(std::slice::from_ref(&key)).await;
    anyhow::ensure!(
        first.is_some(),
        "the first conditional create of {key} was refused on a new key"
    );
    Ok(second?.is_none())
}

/// Fails when the store ignores conditional writes (older MinIO, Ceph), on which a lease
/// would silently exclude nobody, unless `lease.run_without_locking` accepts it.
pub async fn require_conditional_writes(
    store: &dyn Store,
    layout: &Layout,
    settings: LeaseSettings,
) -> Result<()> {
    if conditional_writes_work(store, layout).await? {
        return Ok(());
    }
    if settings.run_without_locking {
        tracing::warn!(
            store = %store.describe(),
            "the store ignores conditional writes: running without locking (lease.run_without_locking); never run two edlake processes on this lake at once"
        );
        return Ok(());
    }
    bail!(
        "the lake store {} ignores conditional writes (a second If-None-Match: * create of the same key succeeded), so edlake cannot keep two processes from writing a table at once: {WITHOUT_CONDITIONAL_WRITES}",
        store.describe()
    )
}

/// The leases one command takes: the lake, the LMS, what the command is, and how long to
/// wait; or none at all (a dry run writes nothing).
pub struct Leases {
    store: Arc<dyn Store>,
    layout: Layout,
    command: &'static str,
    settings: Option<LeaseSettings>,
    stop: CancellationToken,
}

impl Leases {
    /// `stop` ends a wait for another holder: a stopping process starts no new work.
    pub fn new(
        store: Arc<dyn Store>,
        layout: &Layout,
        command: &'static str,
        settings: LeaseSettings,
        stop: CancellationToken,
    ) -> Leases {
        Leases {
            store,
            layout: layout.clone(),
            command,
            settings: Some(settings),
            stop,
        }
    }

    /// No lease is taken: `hold` just runs the work, with a fence that never closes.
    pub fn off(store: Arc<dyn Store>, layout: &Layout) -> Leases {
        Leases {
            store,
            layout: layout.clone(),
            command: "",
            settings: None,
            stop: CancellationToken::new(),
        }
    }

    /// [`hold`] for `table`.
    pub async fn hold<T, W>(&self, table: &str, work: impl FnOnce(Fence) -> W) -> Result<T>
    where
        W: Future<Output = Result<T>>,
    {
        match self.settings {
            Some(settings) => {
                hold(
                    self.store.clone(),
                    &self.layout,
                    table,
                    self.command,
                    settings,
                    &self.stop,
                    work,
                )
                .await
            }
            None => work(Fence::none()).await,
        }
    }
}

/// What the work done under a lease checks before each write it makes visible (a data
/// file, a deletion, a catalog change, a record): whether the lease may have passed to
/// another process. The holder renews every third of the ttl; a taker waits a whole ttl
/// after the last renewal it sees. Publishing is allowed only within two thirds of the ttl
/// of the last renewal that succeeded (timed from when its request was sent, on the
/// monotonic clock, which runs on while the process is stopped), which leaves a third of
/// the ttl for clock skew between hosts and request latency. A process that stalled (GC,
/// SIGSTOP, a frozen node) therefore publishes nothing after it resumes.
#[derive(Clone)]
pub struct Fence(Option<Arc<FenceState>>);

struct FenceState {
    key: String,
    window: Duration,
    lost: AtomicBool,
    renewed: Mutex<tokio::time::Instant>,
}

impl Fence {
    /// For work under no lease (dry runs, `Leases::off`).
    pub fn none() -> Fence {
        Fence(None)
    }

    /// `Err` when the lease may belong to another process now: publish nothing more.
    pub fn check(&self) -> Result<()> {
        let Some(state) = &self.0 else {
            return Ok(());
        };
        let since = state
            .renewed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed();
        if state.lost.load(Ordering::SeqCst) || since >= state.window {
            bail!(
                "lost the lease {}: not renewed for {}s (lease.ttl {}s), another edlake may have taken the table over; stopped without publishing more (see why this process stalled)",
                state.key,
                since.as_secs(),
                state.window.as_secs() * 3 / 2
            );
        }
        Ok(())
    }
}

/// Runs `work` while holding the lease of `table`: waits up to `settings.wait` for another
/// holder (or until `stop`), renews the lease while `work` runs, and releases it afterwards.
/// `work` gets the lease's [`Fence`]. When the lease is lost, `work` is dropped (cancelled)
/// and an error returned.
pub async fn hold<T, W>(
    store: Arc<dyn Store>,
    layout: &Layout,
    table: &str,
    command: &str,
    settings: LeaseSettings,
    stop: &CancellationToken,
    work: impl FnOnce(Fence) -> W,
) -> Result<T>
where
    W: Future<Output = Result<T>>,
{
    let key = key(layout, table);
    let (record, tag, asked) =
        acquire(store.as_ref(), &key, table, command, settings, stop).await?;
    let fence = Arc::new(FenceState {
        key: key.clone(),
        window: settings.ttl * 2 / 3,
        lost: AtomicBool::new(false),
        renewed: Mutex::new(asked),
    });
    let (lost_tx, mut lost_rx) = watch::channel(false);
    let (stop_tx, stop_rx) = watch::channel(false);
    // A cleanup task: when this future is dropped (a cancelled command), the renewer still
    // releases the lease, and the process waits for it before exiting.
    let renewer = crate::shutdown::spawn_cleanup(renew_then_release(
        store,
        record,
        tag,
        settings.ttl,
        fence.clone(),
        lost_tx,
        stop_rx,
    ));
    let stop_renewing = StopOnDrop(stop_tx);
    let result = tokio::select! {
        result = work(Fence(Some(fence))) => result,
        _ = lost_rx.wait_for(|lost| *lost) => Err(anyhow!(
            "lost the lease {key}: not renewed for lease.ttl, and another edlake took the table over; stopped without publishing more (see why this process stalled)"
        )),
    };
    drop(stop_renewing);
    // Wait for the release, so that a command that exits next has let go of the table.
    if let Some(renewer) = renewer {
        let _ = tokio::time::timeout(Duration::from_secs(10), renewer).await;
    }
    result
}

struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

async fn acquire(
    store: &dyn Store,
    key: &str,
    table: &str,
    command: &str,
    settings: LeaseSettings,
    stop: &CancellationToken,
) -> Result<(Record, String, tokio::time::Instant)> {
    let started = tokio::time::Instant::now();
    let holder = holder_id();
    let mut announced = false;
    loop {
        let now = now_secs();
        let mine = Record {
            holder: holder.clone(),
            command: command.to_string(),
            acquired_at: now,
            renewed_at: now,
            ttl_seconds: settings.ttl.as_secs(),
            released: false,
        };
        // Free: no record, a released or expired one, or one that is not a lease record
        // (only edlake writes there). Taken by compare-and-swap; a lost race goes round again.
        let (expected, other) = match store.get_versioned(key).await? {
            None => (None, None),
            Some((data, tag)) => match serde_json::from_slice::<Record>(&data) {
                Ok(record) if !record.free_at(now) => (Some(tag), Some(record)),
                _ => (Some(tag), None),
            },
        };
        match other {
            None => {
                // The fence counts from when the winning request was sent.
                let sent = tokio::time::Instant::now();
                if let Some(tag) = store.put_if(key, mine.bytes(), expected.as_deref()).await? {
                    return Ok((mine, tag, sent));
                }
            }
            Some(other) => {
                let waited = started.elapsed();
                if waited >= settings.wait {
                    bail!(
                        "another edlake is writing this table: {} (`{}`) holds the lease {key}, renewed {}s ago; wait for it to finish, raise lease.wait (now {:?}), or if it is gone, the lease frees itself {}s after its last renewal",
                        other.holder,
                        other.command,
                        now.saturating_sub(other.renewed_at),
                        settings.wait,
                        other.ttl_seconds
                    );
                }
                if !announced {
                    tracing::info!(
                        table,
                        holder = %other.holder,
                        command = %other.command,
                        "another edlake is writing this table; waiting for its lease (up to {:?})",
                        settings.wait
                    );
                    announced = true;
                }
                let pause = Duration::from_secs(2).min(settings.wait - waited);
                tokio::select! {
                    _ = tokio::time::sleep(pause.max(Duration::from_millis(100))) => {}
                    _ = stop.cancelled() => return Err(crate::shutdown::Stopping.into()),
                }
            }
        }
    }
}

/// Renews the lease every third of the ttl until told to stop, then releases it. Signals
/// `lost` and ends when another writer took the lease over; keeps the fence's time of the
/// last renewal.
async fn renew_then_release(
    store: Arc<dyn Store>,
    mut record: Record,
    mut tag: String,
    ttl: Duration,
    fence: Arc<FenceState>,
    lost: watch::Sender<bool>,
    mut stop: watch::Receiver<bool>,
) {
    let key = fence.key.clone();
    let every = ttl / 3;
    let mut last_renewal = tokio::time::Instant::now();
    let mark_lost = || {
        fence.lost.store(true, Ordering::SeqCst);
        let _ = lost.send(true);
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|stop| *stop) => break,
        }
        record.renewed_at = now_secs();
        let sent = tokio::time::Instant::now();
        match store.put_if(&key, record.bytes(), Some(&tag)).await {
            Ok(Some(new_tag)) => {
                tag = new_tag;
                last_renewal = sent;
                *fence.renewed.lock().unwrap_or_else(|e| e.into_inner()) = sent;
            }
            Ok(None) => {
                mark_lost();
                return;
            }
            Err(e) => {
                // A passing store error: retried at the next third, until the ttl is spent.
                tracing::warn!(lease = %key, "cannot renew the lease: {e:#}");
                if last_renewal.elapsed() >= ttl {
                    mark_lost();
                    return;
                }
            }
        }
    }
    record.released = true;
    record.renewed_at = now_secs();
    match store.put_if(&key, record.bytes(), Some(&tag)).await {
        Ok(Some(_)) => {}
        Ok(None) => tracing::warn!(lease = %key, "the lease was taken over before its release"),
        Err(e) => {
            tracing::warn!(lease = %key, "cannot release the lease (it frees itself after lease.ttl): {e:#}")
        }
    }
}

#[cfg(test)]
mod tests;
