//! Hooks for the integration tests, which drive the real binary. `EDLAKE_TEST_PAUSE=<point>`
//! makes the process stop itself (SIGSTOP) when it reaches that point, so a test can
//! freeze it at an exact moment, act, then SIGCONT it: how the lease fencing is tested with
//! a real stalled process. Unset (always, outside tests), a point costs one cached lookup.

use std::sync::OnceLock;

static PAUSE_AT: OnceLock<Option<String>> = OnceLock::new();

/// Stops the process here when `EDLAKE_TEST_PAUSE` names `point`.
pub fn pause_point(point: &str) {
    let wanted = PAUSE_AT.get_or_init(|| std::env::var("EDLAKE_TEST_PAUSE").ok());
    if wanted.as_deref() == Some(point) {
        tracing::warn!(point, "EDLAKE_TEST_PAUSE: stopping this process (SIGSTOP)");
        let _ = std::process::Command::new("kill")
            .args(["-STOP", &std::process::id().to_string()])
            .status();
    }
}
