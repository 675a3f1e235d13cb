//! What a file of a research data package is, from its name (edX's exporter names them;
//! docs/research-packages.md has the templates and their sources).

/// One file of a package or of the daily event exports, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// `{org}-{course}-{run}-{table}-{site}-analytics.sql`: one table of one course run.
    /// `course` is the file name's `{org}-{course}-{run}`, which may not spell the course
    /// id exactly (the exporter replaces non-ASCII characters by `_`); the rows carry the
    /// real one.
    Table {
        course: String,
        table: String,
        site: String,
    },
    /// `{org}-{course}-{run}-course_structure-{site}-analytics.json`.
    CourseStructure { course: String, site: String },
    /// `{org}-{site}-events-{date}.log.gz`: one UTC day of an org's events.
    Events {
        org: String,
        site: String,
        date: String,
    },
    /// Anything else (forum `.mongo` dumps, the OLX tarball, email opt-in CSVs, …): not
    /// imported.
    Other,
}

/// The suffix every encrypted file gets.
pub const ENCRYPTED_SUFFIX: &str = ".gpg";

impl Member {
    /// What the file named `name` (a path's last component; `.gpg` or not) is.
    pub fn of(name: &str) -> Member {
        let name = name.rsplit('/').next().unwrap_or(name);
        let name = name.strip_suffix(ENCRYPTED_SUFFIX).unwrap_or(name);
        if let Some(stem) = name.strip_suffix("-analytics.sql") {
            // From the right: site, then the table (table names have no `-`), then the
            // course part, which may hold `-` of its own (`DelftX-EX101x-2T2018`).
            if let Some((rest, site)) = stem.rsplit_once('-') {
                if let Some((course, table)) = rest.rsplit_once('-') {
                    if is_name(table) && !course.is_empty() && !site.is_empty() {
                        return Member::Table {
                            course: course.to_string(),
                            table: table.to_string(),
                            site: site.to_string(),
                        };
                    }
                }
            }
            return Member::Other;
        }
        if let Some(stem) = name.strip_suffix("-analytics.json") {
            if let Some((rest, site)) = stem.rsplit_once('-') {
                if let Some(course) = rest.strip_suffix("-course_structure") {
                    if !course.is_empty() && !site.is_empty() {
                        return Member::CourseStructure {
                            course: course.to_string(),
                            site: site.to_string(),
                        };
                    }
                }
            }
            return Member::Other;
        }
        if let Some(stem) = name.strip_suffix(".log.gz") {
            // `{org}-{site}-events-{date}`, the date `YYYY-MM-DD`.
            let split = stem
                .len()
                .checked_sub(10)
                .filter(|&i| stem.is_char_boundary(i));
            if let Some((head, date)) = split.map(|i| stem.split_at(i)) {
                let head = head.strip_suffix("-events-");
                if let Some((org, site)) = head.and_then(|h| h.rsplit_once('-')) {
                    if is_date(date) && !org.is_empty() && !site.is_empty() {
                        return Member::Events {
                            org: org.to_string(),
                            site: site.to_string(),
                            date: date.to_string(),
                        };
                    }
                }
            }
        }
        Member::Other
    }
}

/// An Open edX table name: lower-case letters, digits and `_`.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `YYYY-MM-DD`.
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_the_exporter_and_the_event_export() {
        assert_eq!(
            Member::of("DelftX-EX101x-2T2018-auth_userprofile-prod-analytics.sql"),
            Member::Table {
                course: "DelftX-EX101x-2T2018".into(),
                table: "auth_userprofile".into(),
                site: "prod".into()
            }
        );
        // Encrypted, in the zip's folder; a course part with `-` of its own; a CCX.
        assert_eq!(
            Member::of("DelftX-2026-03-02/DelftX-ES-Lang-2-3T2025-ccx-3-user_id_map-edge-analytics.sql.gpg"),
            Member::Table {
                course: "DelftX-ES-Lang-2-3T2025-ccx-3".into(),
                table: "user_id_map".into(),
                site: "edge".into()
            }
        );
        assert_eq!(
            Member::of("MITx-6.002x-2012_Fall-course_structure-prod-analytics.json.gpg"),
            Member::CourseStructure {
                course: "MITx-6.002x-2012_Fall".into(),
                site: "prod".into()
            }
        );
        assert_eq!(
            Member::of("delftx/edx/events/2018/delftx-edx-events-2018-12-13.log.gz.gpg"),
            Member::Events {
                org: "delftx".into(),
                site: "edx".into(),
                date: "2018-12-13".into()
            }
        );
        for other in [
            "DelftX-EX101x-2T2018-prod.mongo.gpg",
            "DelftX-EX101x-2T2018-course-prod-analytics.xml.tar.gz.gpg",
            "DelftX-email_opt_in-prod-analytics.csv.gpg",
            "-analytics.sql",
            "x-Table-prod-analytics.sql",
            "delftx-edx-events-2018-1-13.log.gz",
            "events-2018-12-13.log.gz",
        ] {
            assert_eq!(Member::of(other), Member::Other, "{other}");
        }
    }
}
