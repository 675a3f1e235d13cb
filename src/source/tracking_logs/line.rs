//! One tracking-log line: the event's JSON, its UTC time, and the text edlake stores.
//!
//! The JSON is taken from the first `{` to the end of the line, as the analytics pipeline
//! and Panorama's Fluent Bit parser do, which strips Tutor's `standard` logger prefix
//! (`2024-03-05 14:02:11,532 INFO 19 [tracking] [user 42] … - {…}`) and a syslog tag alike.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Why a line is quarantined instead of shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rejection {
    /// No `{`, invalid UTF-8, or not one JSON object.
    NotJson,
    /// Valid JSON without a `time` string that parses as an ISO-8601 timestamp.
    NoTime,
    /// Longer than [`MAX_LINE`]: no event is (the LMS drops events over 50,000 bytes).
    TooLong,
    /// The rest of a line whose start ended an earlier shipment without its `\n` (a
    /// writer was cut off mid-line, then went on): never an event on its own.
    LineRest,
}

impl Rejection {
    pub fn describe(self) -> &'static str {
        match self {
            Rejection::NotJson => "not JSON",
            Rejection::NoTime => "no usable time",
            Rejection::TooLong => "longer than 1 MiB",
            Rejection::LineRest => "rest of a line shipped in part",
        }
    }
}

/// Lines longer than this are quarantined as they stream by, never held in memory whole.
pub const MAX_LINE: usize = 1 << 20;

/// An event ready to store.
#[derive(Debug)]
pub struct Event<'a> {
    /// The event's `time`, in UTC: its day is the partition.
    pub time: OffsetDateTime,
    /// The stored JSON, without the logger prefix and with `event` always a JSON string.
    pub json: Cow<'a, [u8]>,
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
}

/// Parses one line (without its `\n`).
///
/// `event` is a JSON object in server events and a JSON-encoded string in browser events;
/// a non-string `event` is re-encoded as a string holding its JSON text, so the `event`
/// column has one shape whatever the source (`json_parse(event)` reads both).
pub fn parse(line: &[u8]) -> Result<Event<'_>, Rejection> {
    let line = trim_end(line);
    let start = memchr::memchr(b'{', line).ok_or(Rejection::NotJson)?;
    let json = std::str::from_utf8(&line[start..]).map_err(|_| Rejection::NotJson)?;
    let head: Head = serde_json::from_str(json).map_err(|_| Rejection::NotJson)?;
    let time = head
        .time
        .and_then(|raw| serde_json::from_str::<Cow<str>>(raw.get()).ok())
        .and_then(|text| parse_time(&text))
        .ok_or(Rejection::NoTime)?;
    let json = match head.event {
        Some(event) if !matches!(event.get().as_bytes().first(), Some(b'"') | Some(b'n')) => {
            let text = event.get();
            let offset = text.as_ptr() as usize - json.as_ptr() as usize;
            let mut out = Vec::with_capacity(json.len() + text.len() / 8 + 8);
            out.extend_from_slice(&json.as_bytes()[..offset]);
            serde_json::to_writer(&mut out, text).expect("writing to a Vec");
            out.extend_from_slice(&json.as_bytes()[offset + text.len()..]);
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(json.as_bytes()),
    };
    Ok(Event { time, json })
}

fn trim_end(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., last] = line {
        if last.is_ascii_whitespace() {
            line = rest;
        } else {
            break;
        }
    }
    line
}

/// An ISO-8601 timestamp as the LMS writes it (`2016-08-04T13:43:34.967980+00:00`, the
/// fraction omitted when zero), `Z` or any offset, or no offset at all (taken as UTC), in
/// UTC. Stricter than Athena's `from_iso8601_timestamp`, so a shipped time always parses.
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    // RFC 3339 also allows a space before the time; ISO 8601 (and Athena) does not.
    if text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.to_offset(UtcOffset::UTC));
    }
    let naive = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(text, naive)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(line: &str) -> String {
        String::from_utf8(parse(line.as_bytes()).unwrap().json.into_owned()).unwrap()
    }

    #[test]
    fn strips_the_tutor_prefix() {
        let line = r#"2024-03-05 14:02:11,532 INFO 19 [tracking] [user 42] [ip 172.18.0.1] logger.py:41 - {"name": "x", "time": "2024-03-05T14:02:11.532000+00:00", "event": "{\"a\": 1}"}"#;
        let e = parse(line.as_bytes()).unwrap();
        assert_eq!(
            e.json.as_ref(),
            br#"{"name": "x", "time": "2024-03-05T14:02:11.532000+00:00", "event": "{\"a\": 1}"}"#
        );
        assert!(matches!(e.json, Cow::Borrowed(_)), "nothing to re-encode");
        assert_eq!(e.time.date().to_string(), "2024-03-05");
        // Bare JSON (native installs) and a trailing CR are fine too.
        assert_eq!(
            stored("{\"time\": \"2024-03-05T14:02:11+00:00\"}\r"),
            "{\"time\": \"2024-03-05T14:02:11+00:00\"}"
        );
    }

    #[test]
    fn object_events_become_json_strings() {
        assert_eq!(
            stored(
                r#"{"time": "2024-03-05T14:02:11Z", "event": {"user_id": 7, "s": "a\"b"}, "page": null}"#
            ),
            r#"{"time": "2024-03-05T14:02:11Z", "event": "{\"user_id\": 7, \"s\": \"a\\\"b\"}", "page": null}"#
        );
        assert_eq!(
            stored(r#"{"event": [1, 2], "time": "2024-03-05T14:02:11Z"}"#),
            r#"{"event": "[1, 2]", "time": "2024-03-05T14:02:11Z"}"#
        );
        assert_eq!(
            stored(r#"{"event": null, "time": "2024-03-05T14:02:11Z"}"#),
            r#"{"event": null, "time": "2024-03-05T14:02:11Z"}"#
        );
        // The stored line is still one valid JSON object.
        let v: serde_json::Value = serde_json::from_str(&stored(
            r#"{"time": "2024-03-05T14:02:11Z", "event": {"k": "é\u0001"}}"#,
        ))
        .unwrap();
        let inner: serde_json::Value = serde_json::from_str(v["event"].as_str().unwrap()).unwrap();
        assert_eq!(inner["k"], "é\u{1}");
    }

    #[test]
    fn times_are_utc() {
        let t = |s: &str| parse_time(s).map(|t| t.to_string());
        assert_eq!(
            t("2016-08-04T13:43:34.967980+00:00").as_deref(),
            Some("2016-08-04 13:43:34.96798 +00:00:00")
        );
        assert_eq!(
            t("2016-08-04T13:43:34+00:00").as_deref(),
            Some("2016-08-04 13:43:34.0 +00:00:00")
        );
        // An offset moves the event to its UTC day.
        assert_eq!(
            parse_time("2024-01-01T01:30:00+03:00")
                .unwrap()
                .date()
                .to_string(),
            "2023-12-31"
        );
        assert_eq!(
            t("2024-01-01T00:00:00.5").as_deref(),
            Some("2024-01-01 0:00:00.5 +00:00:00")
        );
        for bad in [
            "",
            "yesterday",
            "2024-01-01",
            "2024-13-01T00:00:00Z",
            "2024-01-01 00:00:00+00:00",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn rejections() {
        let r = |s: &[u8]| parse(s).unwrap_err();
        assert_eq!(r(b"Traceback (most recent call last):"), Rejection::NotJson);
        assert_eq!(
            r(b"prefix - {\"time\": \"2024-01-01T00:00:00Z\""),
            Rejection::NotJson
        );
        assert_eq!(
            r(b"{\"time\": \"2024-01-01T00:00:00Z\"} trailing"),
            Rejection::NotJson
        );
        assert_eq!(r(b"{\"time\": \"\xff\"}"), Rejection::NotJson);
        assert_eq!(r(b"{\"name\": \"x\"}"), Rejection::NoTime);
        assert_eq!(r(b"{\"time\": 1704067200}"), Rejection::NoTime);
        assert_eq!(r(b"{\"time\": \"soon\"}"), Rejection::NoTime);
    }
}
