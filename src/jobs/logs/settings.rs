//! The tracking-log settings, resolved from `[tracking_logs]`: durations parsed, defaults
//! filled in (the rotated-file glob, the state directory beside the live file).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::config::{Config, LakeLocation, TableConfig};

/// The tracking-log settings with durations parsed and defaults resolved.
#[derive(Debug, Clone)]
pub struct TrackingLogsSettings {
    pub path: PathBuf,
    pub rotated_glob: String,
    pub rotate_bytes: u64,
    pub rotate_age: Duration,
    pub grace: Duration,
    pub keep: Duration,
    pub state_dir: PathBuf,
}

/// The tracking-log settings, or an error naming the missing key.
pub fn settings(config: &Config) -> Result<TrackingLogsSettings> {
    let t = &config.tracking_logs;
    let Some(path) = t.path.clone().filter(|p| !p.as_os_str().is_empty()) else {
        bail!("tracking_logs.path is not set (the live tracking log, e.g. /openedx/data/logs/tracking.log)");
    };
    let dir = crate::source::tracking_logs::parent_dir(&path);
    Ok(TrackingLogsSettings {
        rotated_glob: t
            .rotated_glob
            .clone()
            .unwrap_or_else(|| format!("{}-*", glob::Pattern::escape(&path.to_string_lossy()))),
        rotate_bytes: t.rotate_bytes,
        rotate_age: crate::config::parse_duration(&t.rotate_age)
            .map_err(|e| anyhow::anyhow!("tracking_logs.rotate_age: {e}"))?,
        grace: crate::config::parse_duration(&t.grace)
            .map_err(|e| anyhow::anyhow!("tracking_logs.grace: {e}"))?,
        keep: crate::config::parse_duration(&t.keep)
            .map_err(|e| anyhow::anyhow!("tracking_logs.keep: {e}"))?,
        state_dir: t.state_dir.clone().unwrap_or_else(|| dir.join(".edlake")),
        path,
    })
}

/// Where tracking-log objects go: `tracking_logs.url`, else the lake.
pub fn location(config: &Config) -> Result<LakeLocation> {
    match &config.tracking_logs.url {
        Some(url) if !url.trim().is_empty() => {
            crate::lake::parse_location("tracking_logs.url", url)
        }
        _ => config.lake_location(),
    }
}

/// The tracking logs as a lake table (for names and the catalog).
pub fn table_config(config: &Config) -> TableConfig {
    TableConfig {
        name: crate::table::TRACKING_LOGS.into(),
        partition_by: vec!["year".into(), "month".into(), "day".into()],
        raw_table: config.tracking_logs.raw_table.clone(),
        view: config.tracking_logs.view.clone(),
        ..TableConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_defaults_and_location() {
        let mut c = Config {
            lms_host: "lms.example.com".into(),
            ..Default::default()
        };
        let e = settings(&c).unwrap_err().to_string();
        assert!(e.contains("tracking_logs.path is not set"), "{e}");
        c.tracking_logs.path = Some("/openedx/data/logs/tracking.log".into());
        let s = settings(&c).unwrap();
        assert_eq!(s.rotated_glob, "/openedx/data/logs/tracking.log-*");
        assert_eq!(s.state_dir, PathBuf::from("/openedx/data/logs/.edlake"));
        assert_eq!(s.rotate_age, Duration::from_secs(3600));
        assert_eq!(location(&c).unwrap(), c.lake_location().unwrap());
        c.tracking_logs.url = Some("s3://logs-bucket/x".into());
        assert_eq!(
            location(&c).unwrap(),
            LakeLocation::S3 {
                bucket: "logs-bucket".into(),
                root: "x".into()
            }
        );
    }
}
