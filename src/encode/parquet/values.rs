//! MySQL's text-protocol values parsed into their Arrow builders.

use std::any::Any;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use chrono::NaiveDate;

use crate::table::SqlType;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Appends `value` (None: NULL) to `builder`, the builder of `ty`; false when the value
/// is not NULL but the type cannot hold it (it is appended as NULL).
pub fn append(builder: &mut dyn Any, ty: SqlType, bits: bool, value: Option<&[u8]>) -> bool {
    macro_rules! put {
        ($builder:ty, $parsed:expr) => {{
            let b = builder
                .downcast_mut::<$builder>()
                .expect("the builder of the column's type");
            match value {
                None => {
                    b.append_null();
                    true
                }
                Some(v) => match $parsed(v) {
                    Some(x) => {
                        b.append_value(x);
                        true
                    }
                    None => {
                        b.append_null();
                        false
                    }
                },
            }
        }};
    }
    match ty {
        // MySQL's text is UTF-8 for utf8mb4 columns; anything else is kept, replaced.
        SqlType::Varchar => {
            let b = builder
                .downcast_mut::<StringBuilder>()
                .expect("the builder of the column's type");
            match value {
                None => b.append_null(),
                Some(v) => b.append_value(String::from_utf8_lossy(v)),
            }
            true
        }
        SqlType::Varbinary => put!(BinaryBuilder, |v: &[u8]| Some(v.to_vec())),
        SqlType::Boolean => put!(BooleanBuilder, |v: &[u8]| integer(v, bits).map(|i| i != 0)),
        SqlType::Integer => put!(Int32Builder, |v: &[u8]| integer(v, bits)
            .and_then(|i| i32::try_from(i).ok())),
        SqlType::Bigint => put!(Int64Builder, |v: &[u8]| integer(v, bits)
            .and_then(|i| i64::try_from(i).ok())),
        SqlType::Time => put!(Int64Builder, time_micros),
        SqlType::Decimal(_, scale) => put!(Decimal128Builder, |v: &[u8]| if bits {
            integer(v, true)
        } else {
            decimal(v, scale)
        }),
        SqlType::Double => put!(Float64Builder, |v: &[u8]| std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())),
        SqlType::Timestamp => put!(TimestampMicrosecondBuilder, datetime_micros),
        SqlType::Date => put!(Date32Builder, |v: &[u8]| {
            let s = std::str::from_utf8(v).ok()?;
            days(s.get(..10)?)
        }),
    }
}

/// An integer: decimal digits, or a BIT value's big-endian bytes.
fn integer(v: &[u8], bits: bool) -> Option<i128> {
    if bits {
        if v.len() > 8 {
            return None;
        }
        return Some(v.iter().fold(0i128, |acc, b| (acc << 8) | i128::from(*b)));
    }
    std::str::from_utf8(v).ok()?.parse::<i128>().ok()
}

/// A DECIMAL's text (`-12.50`) as an integer of `scale` fraction digits.
pub fn decimal(v: &[u8], scale: u32) -> Option<i128> {
    let s = std::str::from_utf8(v).ok()?;
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        || fraction.len() > scale as usize
    {
        return None;
    }
    let mut n: i128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        n = n.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    n = n.checked_mul(10i128.checked_pow(scale - fraction.len() as u32)?)?;
    Some(if negative { -n } else { n })
}

/// `YYYY-MM-DD` as days since 1970-01-01; None for MySQL's zero date and the like.
fn days(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        s[..4].parse().ok()?,
        s[5..7].parse().ok()?,
        s[8..10].parse().ok()?,
    )?;
    Some(chrono::Datelike::num_days_from_ce(&date) - UNIX_EPOCH_DAYS_FROM_CE)
}

/// `HH:MM:SS[.ffffff]` as microseconds; the fraction padded or cut to six digits.
fn clock_micros(s: &str) -> Option<i64> {
    let mut parts = s.splitn(3, ':');
    let hours = parts.next()?;
    // Digits only: MySQL sends a negative TIME of under an hour as `-00:…`, which would
    // parse as hour 0 and lose its sign.
    if hours.is_empty() || !hours.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    let (seconds, fraction) = rest.split_once('.').unwrap_or((rest, ""));
    let seconds: i64 = seconds.parse().ok()?;
    if !(0..60).contains(&minutes) || !(0..60).contains(&seconds) || hours < 0 {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut micros: i64 = 0;
    for i in 0..6 {
        micros = micros * 10
            + fraction
                .as_bytes()
                .get(i)
                .map_or(0, |d| i64::from(d - b'0'));
    }
    Some(((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + micros)
}

/// A DATETIME or TIMESTAMP (`YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC) as microseconds since
/// the epoch; None for a zero date.
fn datetime_micros(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    let (date, clock) = s.split_once(' ')?;
    let micros = clock_micros(clock)?;
    if micros >= MICROS_PER_DAY {
        return None;
    }
    Some(i64::from(days(date)?) * MICROS_PER_DAY + micros)
}

/// A TIME as microseconds since midnight; None outside 00:00:00–23:59:59.999999 (MySQL's
/// TIME is a duration up to ±838 h; the views read those as NULL too).
fn time_micros(v: &[u8]) -> Option<i64> {
    let micros = clock_micros(std::str::from_utf8(v).ok()?)?;
    (micros < MICROS_PER_DAY).then_some(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_at_their_scale() {
        assert_eq!(decimal(b"-12.50", 2), Some(-1250));
        assert_eq!(decimal(b"0.0000000000", 10), Some(0));
        assert_eq!(
            decimal(b"18446744073709551615", 0),
            Some(18446744073709551615)
        );
        assert_eq!(decimal(b"12.5", 3), Some(12500));
        assert_eq!(
            decimal(b"-9999999999999999999999999999.9999999999", 10),
            Some(-99999999999999999999999999999999999999)
        );
        assert_eq!(decimal(b"1.234", 2), None);
        assert_eq!(decimal(b"1e5", 0), None);
        assert_eq!(decimal(b"", 0), None);
    }

    #[test]
    fn datetimes_keep_microseconds_and_zero_dates_are_none() {
        assert_eq!(datetime_micros(b"1970-01-01 00:00:00.000001"), Some(1));
        assert_eq!(
            datetime_micros(b"2024-03-05 14:02:11.5"),
            Some(1_709_647_331_500_000)
        );
        assert_eq!(datetime_micros(b"1969-12-31 23:59:59.999999"), Some(-1));
        assert_eq!(datetime_micros(b"0000-00-00 00:00:00.000000"), None);
        assert_eq!(datetime_micros(b"2024-02-30 00:00:00"), None);
        assert_eq!(days("2024-02-29"), Some(19_782));
        assert_eq!(days("0000-00-00"), None);
    }

    #[test]
    fn times_outside_a_day_are_none() {
        assert_eq!(time_micros(b"00:00:00"), Some(0));
        assert_eq!(time_micros(b"23:59:59.999999"), Some(MICROS_PER_DAY - 1));
        assert_eq!(time_micros(b"24:00:00"), None);
        assert_eq!(time_micros(b"-838:59:59.500000"), None);
        assert_eq!(time_micros(b"838:59:59"), None);
        // Negative with zero hours: "-00" parses as hour 0, the sign must not be lost.
        assert_eq!(time_micros(b"-00:00:01.000000"), None);
        assert_eq!(time_micros(b"-00:59:59"), None);
    }

    #[test]
    fn bits_are_big_endian_and_integers_checked() {
        assert_eq!(integer(&[0x02, 0x01], true), Some(513));
        assert_eq!(integer(&[0xff; 8], true), Some(u64::MAX as i128));
        assert_eq!(integer(b"-2147483648", false), Some(-2147483648));
        assert_eq!(integer(b"x", false), None);
    }
}
