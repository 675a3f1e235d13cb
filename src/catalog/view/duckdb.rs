//! The view model in DuckDB's SQL (DuckDB 1.3 or later: Python-style lambdas).
//!
//! DuckDB's string literals take no backslash escapes, as Trino's, so `'\N'` is the two
//! characters. DuckDB's `regexp_replace` has no lambda replacement; the one-pass decoding
//! of layer 1 splits on `\\` instead: in layer 1 every backslash starts a two-character
//! escape, so the pieces between `\\` pairs hold only `\n` and `\r` escapes, which plain
//! `replace` undoes, and the pieces are joined back with one backslash.

use super::{Dialect, SqlType};

pub struct DuckDb;

impl Dialect for DuckDb {
    fn type_name(&self, ty: SqlType) -> String {
        match ty {
            SqlType::Varchar => "VARCHAR".into(),
            SqlType::Boolean => "BOOLEAN".into(),
            SqlType::Integer => "INTEGER".into(),
            SqlType::Bigint => "BIGINT".into(),
            SqlType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
            SqlType::Double => "DOUBLE".into(),
            SqlType::Timestamp => "TIMESTAMP".into(),
            SqlType::Date => "DATE".into(),
            SqlType::Time => "TIME".into(),
            SqlType::Varbinary => "BLOB".into(),
        }
    }

    fn decoded_text(&self, c: &str) -> String {
        format!(
            "CASE WHEN {c} = '\\N' THEN NULL WHEN strpos({c}, '\\') = 0 THEN {c} \
             ELSE array_to_string(list_transform(string_split({c}, '\\\\'), \
             lambda s: replace(replace(s, '\\n', chr(10)), '\\r', chr(13))), '\\') END"
        )
    }

    fn hex_to_bytes(&self, c: &str) -> String {
        format!("TRY(unhex({c}))")
    }

    fn micros_to_time(&self, c: &str) -> String {
        format!("(TIME '00:00:00' + to_microseconds({c}))")
    }

    // DuckDB's TIME also holds 24:00:00, which Trino's time(6) rejects (hour > 23): a MySQL
    // TIME of 24:00:00 reads as NULL in both, as every TIME past a day does.
    fn try_cast(&self, c: &str, ty: SqlType) -> String {
        match ty {
            SqlType::Time => format!("NULLIF(TRY_CAST({c} AS TIME), TIME '24:00:00')"),
            ty => format!("TRY_CAST({c} AS {})", self.type_name(ty)),
        }
    }

    // `timezone('UTC', …)` gives the UTC wall time whatever the session's TimeZone. A text
    // without an offset is UTC to edlake (it files the event under that UTC day) and to
    // Athena (whose sessions are UTC), but a TIMESTAMPTZ cast would read it in the session's
    // TimeZone, the machine's by default: it is cast as the naive UTC timestamp it is.
    fn iso8601_utc(&self, c: &str) -> String {
        format!(
            "CASE WHEN regexp_matches({c}, ':[0-9][0-9](\\.[0-9]*)?([Zz]|[+-][0-9][0-9](:?[0-9][0-9])?)$') \
             THEN timezone('UTC', TRY_CAST({c} AS TIMESTAMPTZ)) \
             ELSE TRY_CAST({c} AS TIMESTAMP) END"
        )
    }
}
