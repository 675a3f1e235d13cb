//! The view model in Trino's SQL, the dialect Athena runs.

use super::{Dialect, SqlType};

pub struct Trino;

impl Dialect for Trino {
    fn type_name(&self, ty: SqlType) -> String {
        match ty {
            SqlType::Varchar => "varchar".into(),
            SqlType::Boolean => "boolean".into(),
            SqlType::Integer => "integer".into(),
            SqlType::Bigint => "bigint".into(),
            SqlType::Decimal(p, s) => format!("decimal({p},{s})"),
            SqlType::Double => "double".into(),
            SqlType::Timestamp => "timestamp(6)".into(),
            SqlType::Date => "date".into(),
            SqlType::Time => "time(6)".into(),
            SqlType::Varbinary => "varbinary".into(),
        }
    }

    // A lambda replacement: one left-to-right pass over every `\x` pair.
    fn decoded_text(&self, c: &str) -> String {
        format!(
            "CASE WHEN {c} = '\\N' THEN NULL WHEN strpos({c}, '\\') = 0 THEN {c} \
             ELSE regexp_replace({c}, '\\\\(.)', x -> CASE x[1] WHEN 'n' THEN chr(10) \
             WHEN 'r' THEN chr(13) ELSE x[1] END) END"
        )
    }

    fn hex_to_bytes(&self, c: &str) -> String {
        format!("TRY(from_hex({c}))")
    }

    // Trino's date_add on a TIME takes only millisecond, second, minute and hour (any other
    // unit fails every query: "'microsecond' is not a valid TIME field"), so the µs go
    // through a UTC instant, whose time of day is exact to the nanosecond.
    fn micros_to_time(&self, c: &str) -> String {
        format!("CAST(from_unixtime_nanos({c} * 1000) AT TIME ZONE 'UTC' AS time(6))")
    }

    fn iso8601_utc(&self, c: &str) -> String {
        format!("TRY(CAST(from_iso8601_timestamp_nanos({c}) AT TIME ZONE 'UTC' AS timestamp(6)))")
    }
}
