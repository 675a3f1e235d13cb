//! What edlake's AWS clients (S3, Glue, Athena) share: how long one request may wait on
//! the network, and the line that says why an endpoint could not be reached.
//!
//! A poor link fails in three ways. Nothing takes the connection (refused, no route, a
//! name that does not resolve): the request fails at once. The connection never opens
//! (packets dropped): the connect timeout ends it. Or the connection opens and the answer
//! never comes (a link that died after the handshake, a middlebox that swallows traffic):
//! the SDK sets no limit there by default, so one such request would hang a run, and
//! every later run of the daemon's job with it, for ever. So every attempt also has a
//! limit, scaled to what it uploads, since a slow link must still be able to upload.

use std::time::Duration;

use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::error::SdkError;

use crate::config::DatalakeConfig;

/// The slowest upload an attempt is given time for (128 kbit/s): on top of the answer
/// timeout, one second per this many bytes it sends.
pub const UPLOAD_FLOOR_BYTES_PER_SEC: u64 = 16 * 1024;

/// One AWS endpoint as the operator configured it, for timeouts and messages.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `S3`, `Glue`, `Athena`.
    pub service: &'static str,
    /// Where requests go: the configured endpoint, else AWS's regional one.
    pub url: String,
    /// What to check when it cannot be reached, e.g. `the network and datalake.endpoint`.
    pub check: &'static str,
    pub attempts: u32,
    pub connect: Duration,
    /// How long one attempt may wait for its answer (uploads get more, see
    /// [`Endpoint::upload_timeout`]).
    pub answer: Duration,
}

impl Endpoint {
    /// `service` at `configured` (else `https://<host>.<region>.amazonaws.com`), with the
    /// timeouts of `[datalake]`, which every AWS client of edlake shares (one link).
    pub fn new(
        service: &'static str,
        host: &str,
        configured: Option<&str>,
        region: &str,
        check: &'static str,
        attempts: u32,
        datalake: &DatalakeConfig,
    ) -> Endpoint {
        Endpoint {
            service,
            url: configured
                .map(str::to_string)
                .unwrap_or_else(|| format!("https://{host}.{region}.amazonaws.com")),
            check,
            attempts,
            connect: Duration::from_secs(datalake.connect_timeout_secs),
            answer: Duration::from_secs(datalake.request_timeout_secs),
        }
    }

    /// The client's timeouts: the connect timeout, and the answer timeout per attempt.
    pub fn timeouts(&self) -> TimeoutConfig {
        self.timeouts_for(self.answer)
    }

    /// The limit of one attempt that uploads `bytes`: the answer timeout plus the time
    /// the bytes take at [`UPLOAD_FLOOR_BYTES_PER_SEC`].
    pub fn upload_timeout(&self, bytes: u64) -> Duration {
        self.answer + Duration::from_secs(bytes.div_ceil(UPLOAD_FLOOR_BYTES_PER_SEC))
    }

    /// The client's timeouts with `attempt` as the limit of one attempt.
    pub fn timeouts_for(&self, attempt: Duration) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(attempt)
            .build()
    }

    /// When `err` is the network (no connection, no answer within `limit`): why, how many
    /// attempts were made and what to check, e.g. `connection refused (5 attempts; check
    /// the network and datalake.endpoint)`. `None` for an answer from the service.
    pub fn network_failure<E, R>(&self, err: &SdkError<E, R>, limit: Duration) -> Option<String>
    where
        E: std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let cause = match err {
            SdkError::TimeoutError(_) => format!("no answer within {} s", limit.as_secs()),
            SdkError::DispatchFailure(d) if d.is_timeout() => {
                format!("no connection within {} s", self.connect.as_secs())
            }
            SdkError::DispatchFailure(_) => root_cause(err),
            _ => return None,
        };
        let attempts = match self.attempts {
            1 => "1 attempt".to_string(),
            n => format!("{n} attempts"),
        };
        Some(format!("{cause} ({attempts}; check {})", self.check))
    }
}

/// The innermost error's message, without the OS error number: `connection refused`,
/// `failed to lookup address information: Name or service not known`.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = err;
    while let Some(next) = inner.source() {
        inner = next;
    }
    let text = inner.to_string();
    let text = match text.rsplit_once(" (os error ") {
        Some((head, _)) => head.to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        // `Connection refused`, not `DNS …`.
        (Some(first), Some(second)) if second.is_lowercase() => {
            first.to_lowercase().chain(text.chars().skip(1)).collect()
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        let datalake = DatalakeConfig {
            connect_timeout_secs: 10,
            request_timeout_secs: 30,
            ..Default::default()
        };
        Endpoint::new(
            "S3",
            "s3",
            None,
            "eu-west-1",
            "the network and datalake.endpoint",
            5,
            &datalake,
        )
    }

    #[test]
    fn the_default_url_and_the_timeouts() {
        let e = endpoint();
        assert_eq!(e.url, "https://s3.eu-west-1.amazonaws.com");
        let t = e.timeouts();
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(30)));
        // A 16 MiB part: 30 s plus 1,024 s at 16 KiB/s.
        assert_eq!(e.upload_timeout(16 << 20), Duration::from_secs(30 + 1024));
        assert_eq!(e.upload_timeout(1), Duration::from_secs(31));
    }

    #[test]
    fn the_cause_of_a_network_failure() {
        let refused = std::io::Error::from_raw_os_error(111);
        assert_eq!(root_cause(&refused), "connection refused");
        let dns = std::io::Error::other("DNS error: no record");
        assert_eq!(root_cause(&dns), "DNS error: no record");
        let e = endpoint();
        let timeout: SdkError<std::io::Error, ()> =
            SdkError::timeout_error(std::io::Error::other("attempt timeout"));
        assert_eq!(
            e.network_failure(&timeout, Duration::from_secs(31))
                .as_deref(),
            Some("no answer within 31 s (5 attempts; check the network and datalake.endpoint)")
        );
        let answered: SdkError<std::io::Error, ()> =
            SdkError::construction_failure(std::io::Error::other("bad input"));
        assert_eq!(e.network_failure(&answered, e.answer), None);
    }
}
