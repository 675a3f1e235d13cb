//! `/healthz`, `/readyz` and `/metrics` for `edlake run`.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::metrics::Metrics;
use crate::config::HttpConfig;

/// Binds `http.listen` (so a taken port fails the start) and serves until the task is
/// dropped.
pub async fn serve(
    http: &HttpConfig,
    metrics: Arc<Mutex<Metrics>>,
) -> Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
    let listen = &http.listen;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on http.listen {listen}"))?;
    let address = listener.local_addr()?;
    // A client that connects and sends its request head slowly, or not at all, holds a
    // task and a file descriptor: it is cut off after this long. Probes and scrapers send
    // theirs at once.
    let header_read_timeout = Duration::from_secs(http.header_read_timeout_secs);
    let accept = async move {
        let mut backoff = AcceptBackoff::default();
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => {
                    if let Some(failures) = backoff.succeeded() {
                        tracing::info!(%address, failures, "accepting HTTP connections again");
                    }
                    stream
                }
                // The connection went away before it was accepted: nothing to wait for.
                Err(e) if is_connection_error(&e) => continue,
                // Out of file descriptors (EMFILE, ENFILE) or memory: the pending connection
                // stays queued, so retrying at once fails again and spins a core. Wait,
                // longer each time, and say so once per burst, not once per failure.
                Err(e) => {
                    let (delay, first) = backoff.failed(Instant::now());
                    if first {
                        tracing::warn!(
                            %address,
                            "cannot accept HTTP connections: {e} (out of file descriptors? raise the open-files limit, ulimit -n); retrying with backoff, at most {:?} apart, until it works",
                            AcceptBackoff::MAX
                        );
                    }
                    tokio::time::sleep(delay).await;
                    continue;
                }
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let metrics = metrics.clone();
                    async move { Ok::<_, Infallible>(respond(&req, &metrics)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    };
    Ok((address, accept))
}

/// Errors of `accept` that concern only the connection being accepted.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Bounded exponential backoff between failing `accept` calls, and when to tell the
/// operator. The delay starts again from its shortest after a success; the log does not: a
/// burst lasts until `accept` has not failed for [`Self::QUIET`], so a listener flapping
/// between freed and exhausted descriptors logs one warning and one recovery, not one per
/// connection.
#[derive(Debug, Default)]
struct AcceptBackoff {
    /// Failures since the last successful accept: the next delay.
    consecutive: u32,
    /// Failures in the current burst.
    burst: u64,
    last_failure: Option<Instant>,
    recovery_logged: bool,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);
    const QUIET: Duration = Duration::from_secs(60);

    /// A failure at `now`: how long to wait before the next attempt, and whether it starts
    /// a burst (then it is logged).
    fn failed(&mut self, now: Instant) -> (Duration, bool) {
        let new_burst = self
            .last_failure
            .is_none_or(|t| now.saturating_duration_since(t) >= Self::QUIET);
        if new_burst {
            self.burst = 0;
            self.recovery_logged = false;
        }
        self.burst += 1;
        self.last_failure = Some(now);
        let delay = Self::FIRST
            .saturating_mul(1 << self.consecutive.min(16))
            .min(Self::MAX);
        self.consecutive += 1;
        (delay, new_burst)
    }

    /// A success: the number of failures so far in the burst when this is its first
    /// recovery (then it is logged).
    fn succeeded(&mut self) -> Option<u64> {
        self.consecutive = 0;
        if self.burst == 0 || self.recovery_logged {
            return None;
        }
        self.recovery_logged = true;
        Some(self.burst)
    }
}

fn respond(req: &Request<Incoming>, metrics: &Mutex<Metrics>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &str, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .expect("a valid response")
    };
    let text = "text/plain; charset=utf-8";
    let metrics = metrics.lock().unwrap_or_else(|e| e.into_inner());
    match req.uri().path() {
        "/healthz" => reply(StatusCode::OK, text, "ok\n".into()),
        "/readyz" => match metrics.readiness(SystemTime::now()) {
            Ok(()) => reply(StatusCode::OK, text, "ready\n".into()),
            Err(problems) => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                text,
                format!("not ready\n{}\n", problems.join("\n")),
            ),
        },
        "/metrics" => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            text,
            "not found: try /healthz, /readyz, /metrics\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_backoff_doubles_up_to_its_bound_and_resets_on_success() {
        let start = Instant::now();
        let mut backoff = AcceptBackoff::default();
        assert_eq!(backoff.succeeded(), None);
        let delays: Vec<(Duration, bool)> = (0..10).map(|_| backoff.failed(start)).collect();
        assert_eq!(delays[0], (Duration::from_millis(10), true));
        assert_eq!(delays[1], (Duration::from_millis(20), false));
        assert_eq!(delays[6], (Duration::from_millis(640), false));
        assert!(delays[7..]
            .iter()
            .all(|d| *d == (AcceptBackoff::MAX, false)));
        for _ in 0..100 {
            assert_eq!(backoff.failed(start).0, AcceptBackoff::MAX);
        }
        assert_eq!(backoff.succeeded(), Some(110));
        assert_eq!(backoff.succeeded(), None);
        // Failing again soon after: the delay starts over, the log stays quiet.
        let soon = start + Duration::from_secs(5);
        assert_eq!(backoff.failed(soon), (Duration::from_millis(10), false));
        assert_eq!(backoff.succeeded(), None);
        // After a quiet minute, a failure is a new burst, logged, and so is its end.
        let later = soon + AcceptBackoff::QUIET;
        assert_eq!(backoff.failed(later), (Duration::from_millis(10), true));
        assert_eq!(backoff.succeeded(), Some(1));
    }
}
