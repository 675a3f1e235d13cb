//! Cron schedules of `edlake run`, in UTC, meaning what crontab(5) and a Kubernetes CronJob
//! mean: day of week 0 and 7 are Sunday, 1 is Monday; names (`MON`, `JAN`) in any case;
//! lists, ranges and steps; `@hourly` … `@yearly`; and when both day fields are restricted
//! a day matches if EITHER matches. An optional seconds field first (six fields) keeps
//! second-level schedules; its day of week means the same.
//!
//! The `croner` crate computes the fire times. This module only pins its dialect to
//! crontab's: croner also knows `L`, `W`, `#` and `+` (Quartz-like extensions Kubernetes
//! rejects), a seventh year field, and replaces names anywhere in the line; those are
//! refused here, so an expression that works in edlake works in a CronJob and in crontab.
//! And it decides which day field is "restricted" the way Kubernetes' robfig/cron does.

use chrono::{DateTime, Datelike as _, TimeZone, Utc};
use croner::parser::{CronParser, Seconds, Year};

/// A parsed schedule: the times it fires.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: croner::Cron,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The macros Kubernetes accepts, as the five fields they stand for.
const MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// The names this field takes, if any.
    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTHS,
            Field::DayOfWeek => &WEEKDAYS,
            _ => &[],
        }
    }
}

impl Schedule {
    /// Parses a five-field crontab line (`"55 * * * *"`), the same with seconds first
    /// (`"0 55 * * * *"`), or a macro (`"@daily"`). The error is one line for the
    /// operator, without the expression (the caller names it).
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let expression = expression.trim();
        let line = if expression.starts_with('@') {
            MACROS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(expression))
                .map(|(_, line)| *line)
                .ok_or_else(|| {
                    format!(
                        "unknown macro; use one of {}",
                        MACROS.map(|(name, _)| name).join(", ")
                    )
                })?
        } else {
            expression
        };
        let mut fields: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let kinds: &[Field] = match fields.len() {
            5 => &[
                Field::Minute,
                Field::Hour,
                Field::DayOfMonth,
                Field::Month,
                Field::DayOfWeek,
            ],
            6 => &[
                Field::Second,
                Field::Minute,
                Field::Hour,
                Field::DayOfMonth,
                Field::Month,
                Field::DayOfWeek,
            ],
            n => {
                return Err(format!(
                    "{n} field(s); a schedule has five (minute hour day-of-month month \
                     day-of-week) or six (seconds first)"
                ))
            }
        };
        for (field, kind) in fields.iter_mut().zip(kinds) {
            check_field(field, *kind)?;
            if matches!(kind, Field::DayOfMonth | Field::DayOfWeek) && is_unrestricted(field) {
                // croner counts a day field as unrestricted only when it is exactly `*`.
                *field = "*".into();
            }
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            // `N/step` means `N-max/step`, as in robfig/cron (Kubernetes) and as the
            // `cron` crate edlake used before accepted it.
            .sloppy_ranges(true)
            .dom_and_dow(false)
            .alternative_weekdays(false)
            .build()
            .parse(&fields.join(" "))
            .map_err(|e| e.to_string())?;
        let schedule = Schedule { cron };
        // Any expression that can fire does so within eight years (29 February on a given
        // weekday is the rarest); one that never fires is a mistake (`0 0 30 2 *`).
        let start = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        match schedule.next_after(start) {
            Some(t) if t.year_ce().1 < 2009 => Ok(schedule),
            _ => Err("never fires (no such day)".into()),
        }
    }

    /// The first fire time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }

    /// The fire times strictly after `after`, in order.
    pub fn after(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        std::iter::successors(self.next_after(after), |t| self.next_after(*t))
    }
}

/// Refuses what crontab does not know: characters outside its syntax (croner's `L`, `W`,
/// `#`, `+`) and names in a field that has none or that are not this field's.
fn check_field(field: &str, kind: Field) -> Result<(), String> {
    let names = kind.names();
    let day = matches!(kind, Field::DayOfMonth | Field::DayOfWeek);
    if let Some(c) = field.chars().find(|&c| {
        !(c.is_ascii_digit()
            || matches!(c, '*' | ',' | '-' | '/')
            || (c == '?' && day)
            || (c.is_ascii_alphabetic() && !names.is_empty()))
    }) {
        return Err(format!(
            "{} field {field:?}: {c:?} is not crontab syntax (digits, names, * , - / and ? \
             in the day fields)",
            kind.name()
        ));
    }
    for word in field
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
    {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(word)) {
            return Err(format!(
                "{} field {field:?}: {word:?} is not a {} name ({})",
                kind.name(),
                kind.name(),
                names.join(" ")
            ));
        }
    }
    Ok(())
}

/// Whether a day field leaves the day unrestricted, as robfig/cron (Kubernetes) decides:
/// one of its list items is `*` or `?` without a step above 1. Such a field holds every
/// value, so writing it `*` changes nothing else. `*/2` does restrict (Vixie cron, which
/// looks only at a leading `*`, would say it does not).
fn is_unrestricted(field: &str) -> bool {
    field.split(',').any(|item| {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        matches!(range, "*" | "?") && step.is_none_or(|s| s.parse::<u32>() == Ok(1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike, Weekday};

    /// A Wednesday, noon: far from any edge the tests look at.
    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap()
    }

    fn next(expression: &str, n: usize) -> Vec<DateTime<Utc>> {
        Schedule::parse(expression)
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
            .after(start())
            .take(n)
            .collect()
    }

    fn weekdays(expression: &str, n: usize) -> Vec<Weekday> {
        next(expression, n).iter().map(|t| t.weekday()).collect()
    }

    #[test]
    fn start_is_a_wednesday() {
        assert_eq!(start().weekday(), Weekday::Wed);
    }

    #[test]
    fn one_is_monday_zero_and_seven_are_sunday() {
        assert_eq!(weekdays("0 3 * * 1", 4), [Weekday::Mon; 4]);
        assert_eq!(weekdays("0 3 * * 0", 4), [Weekday::Sun; 4]);
        assert_eq!(weekdays("0 3 * * 7", 4), [Weekday::Sun; 4]);
        assert_eq!(
            next("0 3 * * 1", 1)[0],
            Utc.with_ymd_and_hms(2025, 1, 6, 3, 0, 0).unwrap()
        );
        for t in next("0 3 * * 1", 3) {
            assert_eq!((t.hour(), t.minute(), t.second()), (3, 0, 0));
        }
    }

    #[test]
    fn six_fields_count_weekdays_the_same_way() {
        assert_eq!(weekdays("0 0 3 * * 1", 3), [Weekday::Mon; 3]);
        assert_eq!(weekdays("0 0 3 * * 0", 3), [Weekday::Sun; 3]);
        assert_eq!(weekdays("0 0 3 * * 7", 3), [Weekday::Sun; 3]);
        assert_eq!(next("30 0 3 * * 1", 1)[0].second(), 30);
    }

    #[test]
    fn names_in_any_case_ranges_and_lists() {
        assert_eq!(weekdays("0 3 * * MON", 2), [Weekday::Mon; 2]);
        assert_eq!(weekdays("0 3 * * sun", 2), [Weekday::Sun; 2]);
        // Wed 1 January 2025 at noon: next are Thu, Fri, then Mon..Fri.
        assert_eq!(
            weekdays("0 3 * * MON-FRI", 7),
            [
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri
            ]
        );
        assert_eq!(weekdays("0 3 * * 1-5", 7), weekdays("0 3 * * MON-FRI", 7));
        assert_eq!(
            weekdays("0 3 * * sat,Sun", 4),
            [Weekday::Sat, Weekday::Sun, Weekday::Sat, Weekday::Sun]
        );
        assert_eq!(
            weekdays("0 3 * * FRI-SUN", 3),
            [Weekday::Fri, Weekday::Sat, Weekday::Sun]
        );
        let march: Vec<u32> = next("0 0 1 mar,Jun *", 2)
            .iter()
            .map(|t| t.month())
            .collect();
        assert_eq!(march, [3, 6]);
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        // The 15th, plus every Friday. January 2025: Fridays 3, 10, 17, 24, 31.
        let days: Vec<u32> = next("0 0 15 * FRI", 6).iter().map(|t| t.day()).collect();
        assert_eq!(days, [3, 10, 15, 17, 24, 31]);
        // One day field restricted: only it counts.
        let days: Vec<u32> = next("0 0 15 * *", 2).iter().map(|t| t.day()).collect();
        assert_eq!(days, [15, 15]);
        assert_eq!(weekdays("0 0 * * FRI", 3), [Weekday::Fri; 3]);
        // A step restricts the field (robfig/cron): odd days, or Fridays.
        let days: Vec<u32> = next("0 0 */2 * FRI", 4).iter().map(|t| t.day()).collect();
        assert_eq!(days, [3, 5, 7, 9]);
        let days: Vec<u32> = next("0 0 */2 * FRI", 8).iter().map(|t| t.day()).collect();
        assert_eq!(days[4..], [10, 11, 13, 15]);
        // `*/1`, `?` and a list with `*` leave it unrestricted, as in robfig/cron: Fridays only.
        for expression in [
            "0 0 */1 * FRI",
            "0 0 ? * FRI",
            "0 0 1,* * FRI",
            "0 0 1 * */1",
        ] {
            let ts = next(expression, 3);
            if expression.ends_with("*/1") {
                assert!(ts.iter().all(|t| t.day() == 1), "{expression}: {ts:?}");
            } else {
                assert!(
                    ts.iter().all(|t| t.weekday() == Weekday::Fri),
                    "{expression}: {ts:?}"
                );
            }
        }
    }

    #[test]
    fn steps() {
        let minutes: Vec<u32> = next("*/15 * * * *", 5).iter().map(|t| t.minute()).collect();
        assert_eq!(minutes, [15, 30, 45, 0, 15]);
        let hours: Vec<u32> = next("0 1-10/3 * * *", 4).iter().map(|t| t.hour()).collect();
        assert_eq!(hours, [1, 4, 7, 10]);
        // `N/step` is `N-max/step`, as robfig/cron reads it.
        let minutes: Vec<u32> = next("5/20 * * * *", 3).iter().map(|t| t.minute()).collect();
        assert_eq!(minutes, [5, 25, 45]);
        let seconds: Vec<u32> = next("*/2 * * * * *", 3)
            .iter()
            .map(|t| t.second())
            .collect();
        assert_eq!(seconds, [2, 4, 6]);
        // Every other weekday from Monday: Mon, Wed, Fri.
        assert_eq!(
            weekdays("0 0 * * 1-5/2", 3),
            [Weekday::Fri, Weekday::Mon, Weekday::Wed]
        );
    }

    #[test]
    fn macros() {
        let at = |e: &str| next(e, 1)[0];
        let ymd = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap();
        assert_eq!(
            at("@hourly"),
            Utc.with_ymd_and_hms(2025, 1, 1, 13, 0, 0).unwrap()
        );
        assert_eq!(at("@daily"), ymd(2025, 1, 2));
        assert_eq!(at("@midnight"), ymd(2025, 1, 2));
        assert_eq!(at("@weekly"), ymd(2025, 1, 5));
        assert_eq!(at("@weekly").weekday(), Weekday::Sun);
        assert_eq!(at("@monthly"), ymd(2025, 2, 1));
        assert_eq!(at("@yearly"), ymd(2026, 1, 1));
        assert_eq!(at("@Annually"), ymd(2026, 1, 1));
    }

    #[test]
    fn fire_times_are_strictly_after_the_start() {
        let s = Schedule::parse("0 12 * * *").unwrap();
        assert_eq!(s.next_after(start()).unwrap().day(), 2);
        let just_after = start() + chrono::Duration::milliseconds(500);
        let every_second = Schedule::parse("* * * * * *").unwrap();
        assert_eq!(
            every_second.next_after(just_after).unwrap(),
            start() + chrono::Duration::seconds(1)
        );
    }

    #[test]
    fn refuses_what_crontab_does_not_know() {
        for (expression, says) in [
            ("", "0 field(s)"),
            ("* * * *", "4 field(s)"),
            ("0 0 0 1 1 * 2030", "7 field(s)"),
            ("0 3 L * *", "day-of-month field \"L\": 'L'"),
            ("0 3 15W * *", "'W'"),
            ("0 3 * * 5#2", "'#'"),
            ("0 3 * * 5L", "\"L\" is not a day-of-week name"),
            ("0 3 1 * +MON", "'+'"),
            ("0 3 MON * *", "day-of-month field \"MON\""),
            ("0 3 * MON *", "\"MON\" is not a month name"),
            ("0 3 * * MONDAY", "\"MONDAY\" is not a day-of-week name"),
            ("0 3 * * 8", ""),
            ("60 * * * *", ""),
            ("0 24 * * *", ""),
            ("0 3 0 * *", ""),
            ("0 3 * 13 *", ""),
            ("0 3 * * 5-1", ""),
            ("0 0 30 2 *", "never fires"),
            ("@reboot", "unknown macro"),
            ("@every 5m", "unknown macro"),
        ] {
            match Schedule::parse(expression) {
                Ok(_) => panic!("{expression:?} accepted"),
                Err(e) => assert!(e.contains(says), "{expression:?}: {e}"),
            }
        }
        // Leap days do come.
        assert_eq!(next("0 0 29 2 *", 1)[0].year(), 2028);
    }
}
