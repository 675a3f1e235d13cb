//! `/healthz`, `/readyz` and `/metrics` for `edlake run`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

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
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
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
