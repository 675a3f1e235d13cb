//! Effective configuration: built-in defaults ← TOML file ← `EDLAKE_*` environment.
//!
//! Every key is documented in docs/configuration.md. Secrets (the MySQL password) come from
//! the URL, from `mysql.password` (meant for the environment) or from `mysql.password_file`
//! (a Kubernetes secret mount). They are held in [`crate::secret`] types, which never print
//! them: not in `edlake config`, not in a `{:?}` of the config.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

pub use crate::lake::{BasePartition, LakeLocation};
use crate::secret::{Secret, SecretUrl};
use crate::table::validate_identifier;

mod base;
mod import;
pub use import::ImportConfig;
mod sections;
mod tables;
pub use sections::*;
pub use tables::*;

/// The config file read when neither `--config` nor `EDLAKE_CONFIG` names one.
pub const DEFAULT_CONFIG_FILE: &str = "config/edlake.toml";

/// Secrets read verbatim from the environment: figment would parse `EDLAKE_*` values as
/// TOML-like values, turning a password `98765432` into a number (and printing it in the
/// type error) and stripping quotes from `"pw"`.
type SetSecret = fn(&mut Config, String);
const RAW_ENV_SECRETS: &[(&str, SetSecret)] = &[
    ("EDLAKE_MYSQL__PASSWORD", |c, v| {
        c.mysql.password = Some(Secret::new(v))
    }),
    ("EDLAKE_MYSQL__URL", |c, v| c.mysql.url = SecretUrl::new(v)),
    ("EDLAKE_MONGODB__PASSWORD", |c, v| {
        c.mongodb.password = Some(Secret::new(v))
    }),
    ("EDLAKE_MONGODB__URL", |c, v| {
        c.mongodb.url = SecretUrl::new(v)
    }),
    ("EDLAKE_PRIVACY__KEY", |c, v| {
        c.privacy.key = Some(Secret::new(v))
    }),
];

/// Top-level keys the environment may set. Other `EDLAKE_*` variables (EDLAKE_CONFIG,
/// test harness variables, …) are not configuration and must not trip unknown-key checks.
const TOP_LEVEL_KEYS: &[&str] = &[
    "lms_host",
    "base_partitions",
    "mysql",
    "mongodb",
    "datalake",
    "extract",
    "catalog",
    "course_structures",
    "tracking_logs",
    "schedule",
    "http",
    "lease",
    "incremental",
    "privacy",
    "import",
    "tables",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Value of the `lms=` partition of every table.
    pub lms_host: String,
    /// The partitions every file of this installation is under, in path order; empty:
    /// `lms = lms_host` alone (see [`Config::base_partitions`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub base_partitions: Vec<BasePartition>,
    pub mysql: MysqlConfig,
    pub mongodb: MongodbConfig,
    pub datalake: DatalakeConfig,
    pub extract: ExtractConfig,
    pub catalog: CatalogConfig,
    pub course_structures: CourseStructuresConfig,
    pub tracking_logs: TrackingLogsConfig,
    pub schedule: ScheduleConfig,
    pub http: HttpConfig,
    pub lease: LeaseConfig,
    pub incremental: IncrementalConfig,
    pub privacy: PrivacyConfig,
    pub import: ImportConfig,
    pub tables: Vec<TableConfig>,
}
impl Config {
    /// Loads defaults ← `file` (or `EDLAKE_CONFIG`, or `config/edlake.toml` when present) ←
    /// `EDLAKE_*` environment, then validates.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let file = match file {
            Some(f) => Some(f.to_path_buf()),
            None => match std::env::var_os("EDLAKE_CONFIG") {
                Some(f) if !f.is_empty() => Some(PathBuf::from(f)),
                _ => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.exists()),
            },
        };
        // Built without the defaults first, to tell "no tables listed" from `tables = []`.
        let mut figment = Figment::new();
        if let Some(path) = &file {
            if !path.is_file() {
                bail!(
                    "config file {} not found (give --config FILE or EDLAKE_CONFIG)",
                    path.display()
                );
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("EDLAKE_")
                .filter(|key| {
                    let top = key.as_str().split("__").next().unwrap_or_default();
                    let raw = RAW_ENV_SECRETS.iter().any(|(name, _)| {
                        name["EDLAKE_".len()..].eq_ignore_ascii_case(key.as_str())
                    });
                    !raw && TOP_LEVEL_KEYS.iter().any(|k| top.eq_ignore_ascii_case(k))
                })
                .split("__"),
        );
        let tables_listed = figment.contains("tables");
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(figment)
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {}", one_line(&e)))?;
        for (name, set) in RAW_ENV_SECRETS {
            if let Some(value) = std::env::var_os(name) {
                let value = value.into_string().map_err(|_| {
                    anyhow::anyhow!("invalid configuration: {name} is not valid UTF-8")
                })?;
                set(&mut config, value);
            }
        }
        // A config that names a database but no tables gets Panorama's; one without a
        // database (a tracking-log sidecar) extracts none.
        if !tables_listed && !config.mysql.url.is_empty() {
            config.tables = default_tables();
        }
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<()> {
        self.validate_base_partitions()?;
        if self.import.lms.trim().is_empty() {
            bail!("invalid configuration: import.lms is empty (the site research packages come from, e.g. courses.edx.org)");
        }
        // A tracking-log sidecar needs no database; commands that do say so when it is unset.
        if !self.mysql.url.is_empty() {
            let url = url::Url::parse(self.mysql.url.expose()).map_err(|_| {
                anyhow::anyhow!("invalid configuration: mysql.url is not a URL (expected mysql://user:password@host:port/database)")
            })?;
            if url.scheme() != "mysql" && url.scheme() != "mariadb" {
                bail!("invalid configuration: mysql.url must start with mysql://");
            }
            if url.path().trim_matches('/').is_empty() {
                bail!("invalid configuration: mysql.url names no database (mysql://user@host:3306/openedx)");
            }
        }
        if self.mysql.max_connections == 0 {
            bail!("invalid configuration: mysql.max_connections must be at least 1");
        }
        self.lake_location()?;
        if self.datalake.upload_concurrency == 0 {
            bail!("invalid configuration: datalake.upload_concurrency must be at least 1");
        }
        if self.datalake.part_size_mb < 5 || self.datalake.part_size_mb > 5 * 1024 {
            bail!("invalid configuration: datalake.part_size_mb must be between 5 and 5120 (S3 multipart limits)");
        }
        if self.datalake.max_attempts == 0 {
            bail!("invalid configuration: datalake.max_attempts must be at least 1");
        }
        if self.datalake.connect_timeout_secs == 0 || self.datalake.request_timeout_secs == 0 {
            bail!("invalid configuration: datalake.connect_timeout_secs and datalake.request_timeout_secs must be at least 1");
        }
        if self.extract.memory_budget_mb == 0 {
            bail!("invalid configuration: extract.memory_budget_mb must be at least 1");
        }
        if self.datalake.prefix.contains("//") || self.datalake.prefix.starts_with('/') {
            bail!("invalid configuration: datalake.prefix {:?} must be a relative path without empty segments", self.datalake.prefix);
        }
        self.validate_catalog()?;
        self.validate_mongodb()?;
        self.validate_tracking_logs()?;
        for (key, expression) in [
            ("schedule.extract", &self.schedule.extract),
            (
                "schedule.course_structures",
                &self.schedule.course_structures,
            ),
            ("schedule.logs", &self.schedule.logs),
            ("schedule.catalog", &self.schedule.catalog),
        ] {
            if !expression.trim().is_empty() {
                crate::schedule::Schedule::parse(expression).map_err(|e| {
                    anyhow::anyhow!("invalid configuration: {key} {expression:?}: {e} (a crontab expression in UTC such as \"55 * * * *\", \"0 55 * * * *\" with seconds, or \"\" for off; see docs/configuration.md)")
                })?;
            }
        }
        self.lease_settings()?;
        self.incremental_settings()?;
        self.validate_privacy()?;
        if !self.http.listen.is_empty() && self.http.listen.parse::<std::net::SocketAddr>().is_err()
        {
            bail!("invalid configuration: http.listen {:?} is not address:port (e.g. \"0.0.0.0:9090\"), or \"\" for off", self.http.listen);
        }
        if self.http.header_read_timeout_secs == 0 {
            bail!("invalid configuration: http.header_read_timeout_secs must be at least 1");
        }
        let mut seen = std::collections::HashSet::new();
        for t in &self.tables {
            validate_identifier(&t.name)
                .with_context(|| format!("invalid configuration: table name {:?}", t.name))?;
            if t.name.eq_ignore_ascii_case(crate::table::COURSE_STRUCTURES) {
                bail!("invalid configuration: {} is extracted from MongoDB (set mongodb.url), not listed in tables", t.name);
            }
            if t.name.eq_ignore_ascii_case(crate::table::TRACKING_LOGS) {
                bail!("invalid configuration: {} is shipped from the log files (set tracking_logs.path), not listed in tables", t.name);
            }
            if !seen.insert(t.name.as_str()) {
                bail!(
                    "invalid configuration: table {} is listed twice in tables",
                    t.name
                );
            }
            for c in t
                .columns
                .iter()
                .flatten()
                .chain(&t.exclude_columns)
                .chain(&t.partition_by)
                .chain(t.change_column.iter().filter(|c| !c.is_empty()))
            {
                validate_identifier(c).with_context(|| {
                    format!("invalid configuration: column {:?} of table {}", c, t.name)
                })?;
            }
        }
        Ok(())
    }

    fn validate_privacy(&self) -> Result<()> {
        let p = &self.privacy;
        if !matches!(p.profile.as_str(), "" | "pseudonymous") {
            bail!(
                "invalid configuration: privacy.profile {:?} is not \"pseudonymous\" or \"\"",
                p.profile
            );
        }
        for (key, entries) in [("drop", &p.drop), ("pseudonymize", &p.pseudonymize)] {
            for entry in entries {
                let Some((table, column)) = entry.split_once('.') else {
                    bail!("invalid configuration: privacy.{key} entry {entry:?} is not \"table.column\"");
                };
                validate_identifier(table)
                    .and_then(|_| validate_identifier(column))
                    .with_context(|| {
                        format!("invalid configuration: privacy.{key} entry {entry:?}")
                    })?;
                if !self
                    .tables
                    .iter()
                    .any(|t| t.name.eq_ignore_ascii_case(table))
                {
                    bail!("invalid configuration: privacy.{key} names {entry}, but {table} is not an extracted table");
                }
            }
        }
        if let Some(key) = &p.key {
            if p.key_file.is_none() && key.expose().len() < 32 {
                bail!("invalid configuration: privacy.key must be at least 32 bytes (e.g. `openssl rand -hex 32`)");
            }
        }
        let pseudonyms = self
            .tables
            .iter()
            .any(|t| !self.column_policy(t).pseudonymize.is_empty());
        if pseudonyms && p.key.is_none() && p.key_file.is_none() {
            bail!("invalid configuration: columns are pseudonymized but there is no key (set EDLAKE_PRIVACY__KEY or privacy.key_file; keep the same key for good, or pseudonyms change)");
        }
        Ok(())
    }

    /// The privacy policy of `table`: the profile's entries, `[privacy]`'s and the table's own.
    pub fn column_policy(&self, table: &TableConfig) -> crate::table::ColumnPolicy {
        use crate::privacy::{PSEUDONYMOUS_DROP, PSEUDONYMOUS_HASH};
        let mut policy = crate::table::ColumnPolicy::default();
        let this = |entry: &str| {
            entry
                .split_once('.')
                .filter(|(t, _)| t.eq_ignore_ascii_case(&table.name))
                .map(|(_, c)| c.to_string())
        };
        if self.privacy.profile == "pseudonymous" {
            let profile = |list: &[(&str, &str)]| {
                list.iter()
                    .filter(|(t, _)| t.eq_ignore_ascii_case(&table.name))
                    .map(|(_, c)| c.to_string())
                    .collect::<Vec<_>>()
            };
            policy.drop = profile(PSEUDONYMOUS_DROP);
            policy.pseudonymize = profile(PSEUDONYMOUS_HASH);
        }
        let drops: Vec<String> = self.privacy.drop.iter().filter_map(|e| this(e)).collect();
        let hashes: Vec<String> = self
            .privacy
            .pseudonymize
            .iter()
            .filter_map(|e| this(e))
            .chain(table.pseudonymize.iter().cloned())
            .collect();
        policy.required.extend(drops.iter().chain(&hashes).cloned());
        policy.drop.extend(drops);
        policy.pseudonymize.extend(hashes);
        // Dropping wins: a column both dropped and pseudonymized is not exported.
        let drop = policy.drop.clone();
        policy
            .pseudonymize
            .retain(|c| !drop.iter().any(|d| d.eq_ignore_ascii_case(c)));
        policy
    }

    /// The HMAC key, when pseudonyms are configured.
    pub fn privacy_key(&self) -> Result<Option<Vec<u8>>> {
        if let Some(file) = &self.privacy.key_file {
            let key = std::fs::read(file).with_context(|| {
                format!(
                    "cannot read privacy.key_file {} (check the secret mount)",
                    file.display()
                )
            })?;
            let key = key.strip_suffix(b"\n").unwrap_or(&key).to_vec();
            anyhow::ensure!(
                key.len() >= 32,
                "privacy.key_file {} holds fewer than 32 bytes (e.g. `openssl rand -hex 32`)",
                file.display()
            );
            return Ok(Some(key));
        }
        Ok(self
            .privacy
            .key
            .as_ref()
            .map(|k| k.expose().as_bytes().to_vec()))
    }

    /// `schedule.drain`: how long work in flight gets after a stop (validated at load).
    pub fn drain(&self) -> Duration {
        parse_duration(&self.schedule.drain).unwrap_or(Duration::from_secs(7))
    }

    pub fn lease_settings(&self) -> Result<LeaseSettings> {
        let parse = |key: &str, text: &str| {
            parse_duration(text)
                .map_err(|e| anyhow::anyhow!("invalid configuration: lease.{key} {text:?}: {e}"))
        };
        let settings = LeaseSettings {
            wait: parse("wait", &self.lease.wait)?,
            ttl: parse("ttl", &self.lease.ttl)?,
            run_without_locking: self.lease.run_without_locking,
        };
        if settings.ttl < Duration::from_secs(3) {
            bail!("invalid configuration: lease.ttl must be at least 3s (it is renewed every third of it)");
        }
        Ok(settings)
    }

    pub fn incremental_settings(&self) -> Result<IncrementalSettings> {
        let parse = |key: &str, text: &str| {
            parse_duration(text).map_err(|e| {
                anyhow::anyhow!("invalid configuration: incremental.{key} {text:?}: {e}")
            })
        };
        let i = &self.incremental;
        Ok(IncrementalSettings {
            enabled: i.enabled,
            overlap: parse("overlap", &i.overlap)?,
            full_every: parse("full_every", &i.full_every)?,
            max_deltas: i.max_deltas,
        })
    }

    fn validate_mongodb(&self) -> Result<()> {
        let m = &self.mongodb;
        let url = m.url.expose();
        if !url.is_empty() && !url.starts_with("mongodb://") && !url.starts_with("mongodb+srv://") {
            bail!(
                "invalid configuration: mongodb.url must start with mongodb:// or mongodb+srv://"
            );
        }
        if m.database.trim().is_empty() || m.database.contains(['/', '.', ' ', '$', '"']) {
            bail!(
                "invalid configuration: mongodb.database {:?} is not a MongoDB database name",
                m.database
            );
        }
        if m.connect_timeout_secs == 0 || self.course_structures.batch_size == 0 {
            bail!("invalid configuration: mongodb.connect_timeout_secs and course_structures.batch_size must be at least 1");
        }
        Ok(())
    }

    fn validate_tracking_logs(&self) -> Result<()> {
        let t = &self.tracking_logs;
        for (key, value) in [
            ("schedule.drain", &self.schedule.drain),
            ("tracking_logs.rotate_age", &t.rotate_age),
            ("tracking_logs.grace", &t.grace),
            ("tracking_logs.keep", &t.keep),
        ] {
            parse_duration(value).map_err(|e| {
                anyhow::anyhow!("invalid configuration: {key} {value:?}: {e} (e.g. \"90s\", \"15m\", \"1h\", \"7d\")")
            })?;
        }
        if let Some(url) = &t.url {
            crate::lake::parse_location("tracking_logs.url", url)?;
        }
        if let Some(path) = &t.path {
            if path.as_os_str().is_empty() || path.file_name().is_none() {
                bail!(
                    "invalid configuration: tracking_logs.path {:?} names no file",
                    path
                );
            }
            if let Some(glob) = &t.rotated_glob {
                glob::Pattern::new(glob).map_err(|e| {
                    anyhow::anyhow!(
                        "invalid configuration: tracking_logs.rotated_glob {glob:?}: {e}"
                    )
                })?;
            }
        }
        Ok(())
    }

    /// Whether tracking logs are shipped (`tracking_logs.path` is set).
    pub fn tracking_logs_enabled(&self) -> bool {
        self.tracking_logs
            .path
            .as_ref()
            .is_some_and(|p| !p.as_os_str().is_empty())
    }

    /// Whether course structures are extracted (a MongoDB URL is configured).
    pub fn course_structures_enabled(&self) -> bool {
        !self.mongodb.url.is_empty()
    }

    fn validate_catalog(&self) -> Result<()> {
        let c = &self.catalog;
        let glue_name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 255
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !glue_name_ok(&c.database) {
            bail!("invalid configuration: catalog.database {:?} must be lower-case letters, digits and _", c.database);
        }
        if let Some(p) = &c.table_prefix {
            if !p.is_empty() && !glue_name_ok(p) {
                bail!("invalid configuration: catalog.table_prefix {p:?} must be lower-case letters, digits and _");
            }
        }
        let structures = &self.course_structures;
        let logs = &self.tracking_logs;
        for (key, name) in [
            ("course_structures.raw_table", &structures.raw_table),
            ("course_structures.view", &structures.view),
            ("tracking_logs.raw_table", &logs.raw_table),
            ("tracking_logs.view", &logs.view),
        ] {
            if let Some(n) = name {
                if !glue_name_ok(n) {
                    bail!("invalid configuration: {key} {n:?} must be lower-case letters, digits and _");
                }
            }
        }
        for t in &self.tables {
            for (key, name) in [("raw_table", &t.raw_table), ("view", &t.view)] {
                if let Some(n) = name {
                    if !glue_name_ok(n) {
                        bail!("invalid configuration: {key} {n:?} of table {} must be lower-case letters, digits and _", t.name);
                    }
                }
            }
        }
        if c.athena_workgroup.trim().is_empty() {
            bail!("invalid configuration: catalog.athena_workgroup is empty (Athena's default is \"primary\")");
        }
        if let Some(out) = &c.athena_output {
            if !out.starts_with("s3://") {
                bail!("invalid configuration: catalog.athena_output {out:?} must be an s3:// URL");
            }
        }
        if c.athena_timeout_secs == 0 || c.max_attempts == 0 {
            bail!("invalid configuration: catalog.athena_timeout_secs and catalog.max_attempts must be at least 1");
        }
        if c.enabled == Some(true) && matches!(self.lake_location()?, LakeLocation::Local(_)) {
            bail!("invalid configuration: catalog.enabled is true but datalake.url is a local directory; Glue and Athena need an s3:// lake");
        }
        Ok(())
    }

    /// Whether Glue and Athena are kept in step (explicit, or on for an s3:// lake).
    pub fn catalog_enabled(&self) -> bool {
        self.catalog
            .enabled
            .unwrap_or_else(|| matches!(self.lake_location(), Ok(LakeLocation::S3 { .. })))
    }

    /// The file format of a configured table.
    pub fn format_of(&self, table: &TableConfig) -> Format {
        table.format.unwrap_or(self.datalake.format)
    }

    /// Whether the DuckDB catalog file is kept in step.
    pub fn duckdb_catalog_enabled(&self) -> bool {
        self.catalog.duckdb
    }

    /// Whether any catalog (Glue and Athena, or DuckDB) is kept in step.
    pub fn any_catalog_enabled(&self) -> bool {
        self.catalog_enabled() || self.duckdb_catalog_enabled()
    }

    pub fn lake_location(&self) -> Result<LakeLocation> {
        crate::lake::parse_location("datalake.url", &self.datalake.url)
    }

    /// The effective configuration as TOML: secrets print as `REDACTED` by their type
    /// ([`crate::secret`]), so no copy needs scrubbing first.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}

/// Figment errors can span lines; the operator gets one.
fn one_line(e: &figment::Error) -> String {
    e.to_string().replace('\n', " ")
}

#[cfg(test)]
mod tests;
