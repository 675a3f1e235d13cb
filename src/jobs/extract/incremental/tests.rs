//! Unit tests.

use super::*;
use std::time::Duration;
use time::macros::datetime;

fn settings() -> IncrementalSettings {
    IncrementalSettings {
        enabled: true,
        overlap: Duration::from_secs(900),
        full_every: Duration::from_secs(7 * 86400),
        max_deltas: 3,
    }
}

fn record(deltas: u32, full_at: &str) -> Watermark {
    Watermark {
        table: "t".into(),
        change_column: "modified".into(),
        fingerprint: "f".into(),
        watermark: Some("2026-11-20 10:00:00.000000".into()),
        full_at: full_at.into(),
        deltas,
        recent: String::new(),
    }
}

#[test]
fn full_when_asked_new_changed_or_due() {
    let now = datetime!(2026-11-22 12:00 UTC);
    let s = settings();
    let fresh = record(1, "2026-11-21T12:00:00Z");
    assert_eq!(
        decide(Some(&fresh), "f", &s, false, now),
        Mode::Incremental {
            since: Some("2026-11-20 10:00:00.000000".into()),
            delta: 2
        }
    );
    assert_eq!(
        decide(Some(&fresh), "f", &s, true, now),
        Mode::Full("requested")
    );
    assert!(matches!(decide(None, "f", &s, false, now), Mode::Full(_)));
    assert!(
        matches!(decide(Some(&fresh), "g", &s, false, now), Mode::Full(w) if w.contains("columns"))
    );
    let many = record(3, "2026-11-21T12:00:00Z");
    assert!(
        matches!(decide(Some(&many), "f", &s, false, now), Mode::Full(w) if w.contains("max_deltas"))
    );
    let old = record(0, "2026-11-15T11:59:59Z");
    assert!(
        matches!(decide(Some(&old), "f", &s, false, now), Mode::Full(w) if w.contains("full_every"))
    );
    let garbled = record(0, "yesterday");
    assert!(matches!(
        decide(Some(&garbled), "f", &s, false, now),
        Mode::Full(_)
    ));
    let off = IncrementalSettings {
        enabled: false,
        ..s
    };
    assert!(matches!(
        decide(Some(&fresh), "f", &off, false, now),
        Mode::Full(_)
    ));
}

#[test]
fn watermark_moves_forward_only_and_never_past_the_snapshot() {
    let snap = "2026-11-22 12:00:00.000000";
    assert_eq!(
        advance(None, Some(b"2026-11-22 11:00:00.000000"), snap).as_deref(),
        Some("2026-11-22 11:00:00.000000")
    );
    // A row stamped by an app server whose clock ran a day ahead.
    assert_eq!(
        advance(None, Some(b"2026-11-23 11:00:00.000000"), snap).as_deref(),
        Some(snap)
    );
    // Re-read rows of the overlap never move it back.
    assert_eq!(
        advance(
            Some("2026-11-22 11:30:00.000000"),
            Some(b"2026-11-22 11:20:00.000000"),
            snap
        )
        .as_deref(),
        Some("2026-11-22 11:30:00.000000")
    );
    assert_eq!(advance(Some("x"), None, snap).as_deref(), Some("x"));
    assert_eq!(advance(None, None, snap), None);
    // DATETIME without fractions sorts with the snapshot's microseconds.
    assert_eq!(
        advance(None, Some(b"2026-11-22 12:00:00"), snap).as_deref(),
        Some("2026-11-22 12:00:00")
    );
}

#[test]
fn recent_rows_keep_the_overlap_of_the_newest_change() {
    let t = |s: &str| datetime_micros(s.as_bytes()).unwrap();
    assert_eq!(t("2024-01-01 00:00:01") - t("2024-01-01"), 1_000_000);
    assert_eq!(
        t("2024-03-01 00:00:00.5") - t("2024-02-29 23:59:59.999999"),
        500_001
    );
    assert_eq!(datetime_micros(b"0000-00-00 00:00:00"), None);
    let mut recent = RecentRows::new(Duration::from_secs(60));
    // Many rows, in key order with rising times: only the last minute's survive.
    for i in 0..10_000 {
        let at = t("2024-01-01") + i * 1_000_000;
        assert!(recent.wants(at));
        recent.push(at, i as u64);
    }
    assert!(!recent.wants(t("2023-01-01")));
    let kept = recent.finish(Some("2024-01-01 02:46:39"));
    let rows = Watermark {
        recent: kept,
        ..record(0, "")
    }
    .recent_rows();
    assert_eq!(rows.len(), 61);
    assert!(rows.contains(&9_999) && rows.contains(&9_939) && !rows.contains(&9_938));
    assert_ne!(
        row_hash([Some(&b"1"[..])].into_iter(), b"2024-01-01 00:00:00"),
        row_hash([Some(&b"1"[..])].into_iter(), b"2024-01-01 00:00:01")
    );
    assert_ne!(
        row_hash([Some(&b"1"[..]), None].into_iter(), b"x"),
        row_hash([None, Some(&b"1"[..])].into_iter(), b"x")
    );
}
