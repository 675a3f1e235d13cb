//! The base partitions: the directories every file of an installation is under, and the
//! leading partition keys of every table. Panorama's `base_partitions`, with the same
//! default: `lms=<lms_host>` alone.

use anyhow::{bail, Context, Result};

use super::Config;
use crate::lake::{BasePartition, Layout, LMS};
use crate::table::validate_identifier;

impl Config {
    /// `base_partitions` as configured, or `lms = lms_host` when none are listed. An `lms`
    /// entry without a value takes `lms_host`.
    pub fn base_partitions(&self) -> Vec<BasePartition> {
        if self.base_partitions.is_empty() {
            return vec![BasePartition::new(LMS, &self.lms_host)];
        }
        self.base_partitions
            .iter()
            .map(|b| match b.value.is_empty() && b.name == LMS {
                true => BasePartition::new(LMS, &self.lms_host),
                false => b.clone(),
            })
            .collect()
    }

    /// Where this installation's files and records go in the lake.
    pub fn layout(&self) -> Layout {
        Layout::new(&self.datalake.prefix, &self.base_partitions())
    }

    pub(super) fn validate_base_partitions(&self) -> Result<()> {
        let lms_listed = self.base_partitions.iter().any(|b| b.name == LMS);
        if (self.base_partitions.is_empty() || lms_listed) && self.lms_host.trim().is_empty() {
            let lms_given = self
                .base_partitions
                .iter()
                .any(|b| b.name == LMS && !b.value.trim().is_empty());
            if !lms_given {
                bail!("invalid configuration: lms_host is empty (set it to the LMS host name, e.g. lms.example.com)");
            }
        }
        let mut seen = Vec::new();
        for b in &self.base_partitions {
            validate_identifier(&b.name).with_context(|| {
                format!("invalid configuration: base_partitions name {:?}", b.name)
            })?;
            // Hive lower-cases partition keys, so the path and the catalog agree only on
            // lower-case names.
            if b.name != b.name.to_ascii_lowercase() {
                bail!(
                    "invalid configuration: base_partitions name {:?} must be lower-case",
                    b.name
                );
            }
            if seen.contains(&b.name) {
                bail!(
                    "invalid configuration: base_partitions lists {:?} twice",
                    b.name
                );
            }
            seen.push(b.name.clone());
            if b.name == LMS {
                if !b.value.is_empty() && !self.lms_host.is_empty() && b.value != self.lms_host {
                    bail!("invalid configuration: base_partitions gives lms = {:?} but lms_host is {:?}; give one of them", b.value, self.lms_host);
                }
            } else if b.value.trim().is_empty() {
                bail!(
                    "invalid configuration: base_partitions {:?} has no value",
                    b.name
                );
            }
        }
        for t in &self.tables {
            if let Some(c) = t
                .partition_by
                .iter()
                .find(|c| seen.iter().any(|b| b.eq_ignore_ascii_case(c)))
            {
                bail!("invalid configuration: table {} is partitioned by {c}, which is a base partition", t.name);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lms_host: &str, base: &[(&str, &str)]) -> Config {
        Config {
            lms_host: lms_host.into(),
            base_partitions: base.iter().map(|(n, v)| BasePartition::new(n, v)).collect(),
            ..Config::default()
        }
    }

    #[test]
    fn lms_alone_by_default() {
        let c = config("lms.example.com", &[]);
        c.validate_base_partitions().unwrap();
        assert_eq!(
            c.base_partitions(),
            [BasePartition::new("lms", "lms.example.com")]
        );
        let err = config("", &[]).validate_base_partitions().unwrap_err();
        assert!(err.to_string().contains("lms_host is empty"), "{err}");
    }

    #[test]
    fn listed_partitions_in_order_and_lms_takes_lms_host() {
        let c = config("h", &[("year", "2026"), ("lms", ""), ("school", "s1")]);
        c.validate_base_partitions().unwrap();
        let names: Vec<_> = c
            .base_partitions()
            .into_iter()
            .map(|b| (b.name, b.value))
            .collect();
        assert_eq!(
            names,
            [
                ("year".to_string(), "2026".to_string()),
                ("lms".into(), "h".into()),
                ("school".into(), "s1".into())
            ]
        );
        // Without lms at all, lms_host is not needed.
        config("", &[("state", "CA"), ("school", "x")])
            .validate_base_partitions()
            .unwrap();
        config("", &[("lms", "given")])
            .validate_base_partitions()
            .unwrap();
    }

    #[test]
    fn bad_base_partitions_are_refused() {
        for (lms_host, base, expected) in [
            ("h", vec![("state", "")], "has no value"),
            ("h", vec![("State", "CA")], "lower-case"),
            ("h", vec![("a b", "CA")], "base_partitions name"),
            ("h", vec![("state", "CA"), ("state", "NY")], "twice"),
            ("h", vec![("lms", "other")], "give one of them"),
            ("", vec![("lms", "")], "lms_host is empty"),
        ] {
            let err = config(lms_host, &base)
                .validate_base_partitions()
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{base:?}: {err}");
        }
        let mut c = config("h", &[("course_id", "x")]);
        c.tables = vec![crate::config::TableConfig {
            name: "t".into(),
            partition_by: vec!["course_id".into()],
            ..Default::default()
        }];
        let err = c.validate_base_partitions().unwrap_err().to_string();
        assert!(err.contains("is a base partition"), "{err}");
    }
}
