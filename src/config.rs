//! Effective configuration: built-in defaults ← TOML file ← `EDLAKE_*` environment.
//!
//! Every key is documented in docs/configuration.md. Secrets (the MySQL password) come from
//! the URL, from `mysql.password` (meant for the environment) or from `mysql.password_file`
//! (a Kubernetes secret mount). They are held in [`crate::secret`] types, which never print
//! them: not in `edlake config`, not in a `{:?}` of the config.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};

pub use crate::lake::LakeLocation;
use crate::secret::{Secret, SecretUrl};
use crate::table::validate_identifier;

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
    "tables",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Value of the `lms=` partition of every table.
    pub lms_host: String,
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
    pub tables: Vec<TableConfig>,
}

/// Incremental extraction of the tables with a change column (docs/incremental.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncrementalConfig {
    /// Off: every run re-extracts every table whole, as `extract --full` does.
    pub enabled: bool,
    /// Each run re-reads rows changed this long before the last run's newest change, for
    /// transactions that committed after that run's snapshot with an older timestamp.
    pub overlap: String,
    /// A full extract (which also removes rows deleted in the source and merges the delta
    /// files into one file per partition) once the last one is this old ...
    pub full_every: String,
    /// ... or once this many incremental runs wrote delta files since.
    pub max_deltas: u32,
}

impl Default for IncrementalConfig {
    fn default() -> Self {
        IncrementalConfig {
            enabled: true,
            overlap: "15m".into(),
            full_every: "7d".into(),
            max_deltas: 24,
        }
    }
}

/// [`IncrementalConfig`] parsed.
#[derive(Debug, Clone, Copy)]
pub struct IncrementalSettings {
    pub enabled: bool,
    pub overlap: Duration,
    pub full_every: Duration,
    pub max_deltas: u32,
}

/// Columns dropped or pseudonymized on top of each table's `exclude_columns` and
/// `pseudonymize` (docs/privacy.md).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// `""` (none) or `"pseudonymous"`: the built-in profile of drops and pseudonyms.
    pub profile: String,
    /// `"table.column"` entries never exported.
    pub drop: Vec<String>,
    /// `"table.column"` entries exported as keyed pseudonyms.
    pub pseudonymize: Vec<String>,
    /// The HMAC key (meant for the environment: EDLAKE_PRIVACY__KEY); at least 32 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Secret>,
    /// File holding the key (a Kubernetes secret mount); overrides `key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

/// One writer at a time per table of an LMS: the lease each extraction and catalog sync of a
/// table holds, kept in the lake.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaseConfig {
    /// How long to wait for a table another edlake is writing; `"0s"`: fail that table at
    /// once with a message naming the holder.
    pub wait: String,
    /// A lease not renewed for this long is free (its holder died); renewed every third of
    /// it.
    pub ttl: String,
    /// `extract` refuses a store that ignores conditional writes (older MinIO or Ceph): on
    /// it a lease excludes nobody. `true` runs anyway, the operator accepting that two
    /// edlake processes must then never write the same lake at once.
    pub run_without_locking: bool,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            wait: "30m".into(),
            ttl: "60s".into(),
            run_without_locking: false,
        }
    }
}

/// [`LeaseConfig`] parsed.
#[derive(Debug, Clone, Copy)]
pub struct LeaseSettings {
    pub wait: Duration,
    pub ttl: Duration,
    pub run_without_locking: bool,
}

/// `edlake run`: when each job runs. Crontab expressions in UTC ([`crate::schedule`]): the
/// classic five fields (`"55 * * * *"`) or six with seconds first (`"0 55 * * * *"`);
/// `""` turns a job off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// The MySQL tables (Panorama's hourly run at minute 55).
    pub extract: String,
    /// Course structures from MongoDB.
    pub course_structures: String,
    /// `logs ship`.
    pub logs: String,
    /// `catalog sync` of everything: a safety net, since extraction and log shipping keep
    /// the catalog in step themselves.
    pub catalog: String,
    /// After SIGTERM, how long running jobs get to finish before they are cancelled
    /// (uploads in flight aborted, nothing partial published). Keep it under the
    /// orchestrator's kill timeout minus 2 s (Kubernetes: 30 s by default).
    pub drain: String,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            extract: "0 55 * * * *".into(),
            course_structures: "0 55 * * * *".into(),
            logs: "0 */5 * * * *".into(),
            catalog: "0 30 3 * * *".into(),
            drain: "7s".into(),
        }
    }
}

/// `edlake run`'s HTTP endpoints: `/healthz`, `/readyz`, `/metrics`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// `address:port` to listen on; `""` turns the endpoints off. All interfaces by
    /// default: kubelet probes and Prometheus reach the pod IP, not loopback, and a
    /// published container port forwards to the container's own interface.
    pub listen: String,
    /// A connection that has not sent a whole request head this long after it opened (or
    /// after its previous response) is closed.
    pub header_read_timeout_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "0.0.0.0:9090".into(),
            header_read_timeout_secs: 10,
        }
    }
}

/// The tables extracted when the config lists none: Panorama's, in its layout, with the
/// big per-learner table partitioned by course as Panorama does.
const DEFAULT_TABLES: &[(&str, &[&str])] = &[
    ("auth_user", &[]),
    ("auth_userprofile", &[]),
    ("student_courseenrollment", &[]),
    ("student_courseaccessrole", &[]),
    ("course_overviews_courseoverview", &[]),
    ("courseware_studentmodule", &["course_id"]),
    ("grades_persistentcoursegrade", &[]),
    ("student_manualenrollmentaudit", &[]),
    ("student_courseenrollmentallowed", &[]),
    ("certificates_generatedcertificate", &[]),
    ("course_groups_cohortmembership", &[]),
    ("course_groups_coursecohort", &[]),
    ("course_groups_coursecohortssettings", &[]),
    ("course_groups_courseusergroup", &[]),
    ("course_groups_courseusergroup_users", &[]),
    ("course_groups_courseusergrouppartitiongroup", &[]),
    ("course_groups_unregisteredlearnercohortassignments", &[]),
];

pub fn default_tables() -> Vec<TableConfig> {
    DEFAULT_TABLES
        .iter()
        .map(|(name, partition_by)| TableConfig {
            name: name.to_string(),
            partition_by: partition_by.iter().map(|c| c.to_string()).collect(),
            ..TableConfig::default()
        })
        .collect()
}

/// `edlake logs ship`: rotation of the live tracking log and shipping of rotated files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackingLogsConfig {
    /// The live file the LMS appends to (`/openedx/data/logs/tracking.log` in Tutor's
    /// containers); unset: no tracking logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Files rotated by others (logrotate, plain or .gz); default `<path>-*`, which also
    /// matches the files edlake rotates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_glob: Option<String>,
    /// Rotate the live file once it holds this much (`134217728`, `"128MiB"`, `"1GB"`).
    #[serde(deserialize_with = "byte_size")]
    pub rotate_bytes: u64,
    /// … or once its first event is this old (`"1h"`, `"15m"`; `"0s"` rotates at every run).
    pub rotate_age: String,
    /// Wait after renaming the live file before reading it, so writers that still hold it
    /// open finish their line and reopen; rotated files written to more recently than this
    /// are left for the next pass.
    pub grace: String,
    /// How long a shipped local file is kept before edlake deletes it (`"0s"`: at once).
    pub keep: String,
    /// `edlake run`: on SIGTERM, after the running jobs, rotate the live file whatever its
    /// age and ship it. For a log directory that dies with the process (a Kubernetes
    /// sidecar's emptyDir); it makes stopping take `grace` plus the shipping time.
    pub ship_on_stop: bool,
    /// Destination root (local directory, `file://` or `s3://bucket[/root]`); default
    /// `datalake.url`. Objects go under `<prefix>/tracking_logs/` there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where the record of shipped files and the lock live; default `.edlake/` next to
    /// `path`. Must persist as long as the log directory does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    /// Glue raw table name; default `<table_prefix>_raw_tracking_logs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_table: Option<String>,
    /// Athena view name; default `<table_prefix>_table_tracking_logs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
}

impl Default for TrackingLogsConfig {
    fn default() -> Self {
        TrackingLogsConfig {
            path: None,
            rotated_glob: None,
            rotate_bytes: 128 * 1024 * 1024,
            rotate_age: "1h".into(),
            grace: "5s".into(),
            keep: "1d".into(),
            ship_on_stop: false,
            url: None,
            state_dir: None,
            raw_table: None,
            view: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MongodbConfig {
    /// `mongodb://user:password@host:27017/?authSource=admin` (any standard MongoDB URI,
    /// `mongodb+srv://` too); empty: no course structures.
    pub url: SecretUrl,
    /// Overrides the URL's password; meant for `EDLAKE_MONGODB__PASSWORD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// File holding the password (trailing newline ignored); overrides both of the above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Database holding the `modulestore.*` collections: `openedx` (Tutor) or `edxapp`
    /// (native installs).
    pub database: String,
    /// How long to look for a reachable server before giving up.
    pub connect_timeout_secs: u64,
}

impl Default for MongodbConfig {
    fn default() -> Self {
        MongodbConfig {
            url: SecretUrl::default(),
            password: None,
            password_file: None,
            database: "openedx".into(),
            connect_timeout_secs: 10,
        }
    }
}

/// Where the list of active courses and their published versions comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CourseIndexSource {
    /// MySQL's split course index when the table exists (Nutmeg and later), else Mongo.
    Auto,
    /// `split_modulestore_django_splitmodulestorecourseindex` in MySQL.
    Mysql,
    /// `modulestore.active_versions` in MongoDB (releases before Nutmeg).
    Mongodb,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CourseStructuresConfig {
    pub course_index: CourseIndexSource,
    /// Also export legacy (v1) content libraries, which are not courses.
    pub include_libraries: bool,
    /// Structures fetched per MongoDB query (`_id: {$in: [...]}`); bounds memory.
    pub batch_size: usize,
    /// Glue raw table name; default `<table_prefix>_raw_course_structures`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_table: Option<String>,
    /// Athena view name; default `<table_prefix>_table_course_structures`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
}

impl Default for CourseStructuresConfig {
    fn default() -> Self {
        CourseStructuresConfig {
            course_index: CourseIndexSource::Auto,
            include_libraries: false,
            batch_size: 20,
            raw_table: None,
            view: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MysqlConfig {
    /// `mysql://user:password@host:port/database[?ssl-mode=…]`.
    pub url: SecretUrl,
    /// Overrides the URL's password; meant for `EDLAKE_MYSQL__PASSWORD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// File holding the password (trailing newline ignored); overrides both of the above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Upper bound on connections edlake opens to this (production) database.
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatalakeConfig {
    /// Local directory, `file://` URL, or `s3://bucket[/root]`.
    pub url: String,
    /// Folder under the root that holds the tables (Panorama's `base_prefix`).
    pub prefix: String,
    /// S3-compatible endpoint; path-style addressing is used when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region; default from the AWS chain, else us-east-1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `when_supported` (SDK default: CRC32 on every upload) or `when_required`
    /// (for S3-compatible stores that reject flexible checksums).
    pub checksums: ChecksumMode,
    /// Server-side encryption with this KMS key when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sse_kms_key_id: Option<String>,
    /// Parallel object uploads per table.
    pub upload_concurrency: usize,
    /// Multipart part size; files larger than one part are uploaded in parts.
    pub part_size_mb: u64,
    /// Attempts per S3 request (standard retry mode with jittered backoff).
    pub max_attempts: u32,
    /// How long one attempt may take to connect (DNS, TCP and TLS) to S3, Glue or Athena.
    pub connect_timeout_secs: u64,
    /// How long one attempt may wait for S3's, Glue's or Athena's answer; an upload gets
    /// one more second per 16 KiB it sends (src/aws.rs).
    pub request_timeout_secs: u64,
    /// Where partitions spill before upload to S3 (default: the system temp dir).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spool_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecksumMode {
    WhenSupported,
    WhenRequired,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtractConfig {
    /// Memory for partition buffers per table being extracted; beyond it partitions spill
    /// to disk.
    pub memory_budget_mb: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// Keep Glue and Athena in step with the lake; default: on for an s3:// lake, off for a
    /// local one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Glue database (Panorama's `datalake_database`).
    pub database: String,
    /// Prefix of Glue table and view names; default: `datalake.prefix` with every
    /// character other than `[a-z0-9_]` replaced by `_` (Panorama's `base_prefix`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_prefix: Option<String>,
    pub athena_workgroup: String,
    /// `s3://…` for query results; default: the workgroup's own setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub athena_output: Option<String>,
    /// How long to wait for one Athena statement.
    pub athena_timeout_secs: u64,
    /// Region for Glue and Athena; default `datalake.region`, then the AWS chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Glue and Athena endpoint (an emulator); default AWS's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Attempts per Glue/Athena request (standard retry mode: throttling is retried).
    pub max_attempts: u32,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            enabled: None,
            database: "panorama".into(),
            table_prefix: None,
            athena_workgroup: "primary".into(),
            athena_output: None,
            athena_timeout_secs: 300,
            region: None,
            endpoint: None,
            max_attempts: 8,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    pub name: String,
    /// Pins the exported columns and their order; default: every column but the excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Columns never exported (on top of the built-in exclusions such as
    /// `auth_user.password`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_columns: Vec<String>,
    /// Hive partition columns after `lms`, e.g. `["course_id"]` (a single string works too).
    #[serde(
        default,
        deserialize_with = "string_or_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub partition_by: Vec<String>,
    /// Columns exported as keyed pseudonyms (`[privacy]` key), e.g. `["email"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pseudonymize: Vec<String>,
    /// The row's last-change timestamp, which makes the table incremental (`"modified"`);
    /// `""`: always a full snapshot. Default: the known Open edX column for the built-in
    /// tables that have one (see [`known_change_column`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_column: Option<String>,
    /// Glue raw table name; default `<table_prefix>_raw_<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_table: Option<String>,
    /// Athena view name; default `<table_prefix>_table_<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
}

impl TableConfig {
    /// The change column incremental runs read by, if any.
    pub fn change_column(&self) -> Option<&str> {
        match &self.change_column {
            Some(c) if c.is_empty() => None,
            Some(c) => Some(c),
            None => known_change_column(&self.name),
        }
    }
}

/// Open edX tables whose rows carry a Django `auto_now` timestamp, updated by every save.
pub fn known_change_column(table: &str) -> Option<&'static str> {
    match table {
        "courseware_studentmodule"
        | "grades_persistentcoursegrade"
        | "grades_persistentsubsectiongrade"
        | "course_overviews_courseoverview" => Some("modified"),
        "certificates_generatedcertificate" => Some("modified_date"),
        _ => None,
    }
}

impl Default for MysqlConfig {
    fn default() -> Self {
        MysqlConfig {
            url: SecretUrl::default(),
            password: None,
            password_file: None,
            max_connections: 2,
            connect_timeout_secs: 10,
        }
    }
}

impl Default for DatalakeConfig {
    fn default() -> Self {
        DatalakeConfig {
            url: "./datalake".into(),
            prefix: "openedx".into(),
            endpoint: None,
            region: None,
            checksums: ChecksumMode::WhenSupported,
            sse_kms_key_id: None,
            upload_concurrency: 4,
            part_size_mb: 16,
            max_attempts: 5,
            connect_timeout_secs: 10,
            request_timeout_secs: 30,
            spool_dir: None,
        }
    }
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            memory_budget_mb: 16,
        }
    }
}

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) if s.is_empty() => Vec::new(),
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
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
        if self.lms_host.trim().is_empty() {
            bail!("invalid configuration: lms_host is empty (set it to the LMS host name, e.g. lms.example.com)");
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

    pub fn lake_location(&self) -> Result<LakeLocation> {
        crate::lake::parse_location("datalake.url", &self.datalake.url)
    }

    /// The effective configuration as TOML: secrets print as `REDACTED` by their type
    /// ([`crate::secret`]), so no copy needs scrubbing first.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}

/// A duration as the `humantime` crate reads it: `"90s"`, `"15m"`, `"1h30m"`, `"1h 30m"`,
/// `"7d"`, `"250ms"`, `"2 weeks"`; a bare `"0"` is zero.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| e.to_string())
}

/// A byte count: an integer, or a string with a unit (`"64MiB"`, `"1GB"`, `"512KiB"`).
fn byte_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Number(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Number(n) => Ok(n),
        Size::Text(t) => parse_byte_size(&t).map_err(serde::de::Error::custom),
    }
}

/// A size as the `bytesize` crate reads it: `"64MiB"` (binary), `"1GB"` (decimal), `"4096"`.
pub fn parse_byte_size(text: &str) -> std::result::Result<u64, String> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|e| format!("{text:?} is not a size like \"64MiB\" ({e})"))
}

/// Figment errors can span lines; the operator gets one.
fn one_line(e: &figment::Error) -> String {
    e.to_string().replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Config {
        Config {
            lms_host: "lms.example.com".into(),
            mysql: MysqlConfig {
                url: "mysql://openedx:s3cret@db.internal:3307/openedx".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn redaction_hides_every_secret() {
        let mut c = base();
        c.mysql.password = Some("other-secret".into());
        c.mongodb.url = "mongodb://edx:mongo-secret@a:27017,b:27017/?authSource=admin".into();
        c.mongodb.password = Some("mongo-other-secret".into());
        c.privacy.key = Some("k".repeat(40).as_str().into());
        let text = c.to_toml().unwrap();
        // Debug too: a `{:?}` in a log line or a panic message must not leak them.
        let debug = format!("{c:?} {c:#?}");
        for shown in [&text, &debug] {
            for secret in ["s3cret", "other-secret", "mongo-secret", &"k".repeat(40)] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
        assert!(text.contains("mysql://openedx:REDACTED@db.internal:3307/openedx"));
        assert!(debug.contains("db.internal:3307"), "{debug}");
        // The driver still gets the real values.
        assert_eq!(c.mysql.password.as_ref().unwrap().expose(), "other-secret");
    }

    #[test]
    fn lake_locations() {
        let mut c = base();
        assert_eq!(
            c.lake_location().unwrap(),
            LakeLocation::Local("./datalake".into())
        );
        c.datalake.url = "s3://bucket/some/root/".into();
        assert_eq!(
            c.lake_location().unwrap(),
            LakeLocation::S3 {
                bucket: "bucket".into(),
                root: "some/root".into()
            }
        );
        c.datalake.url = "file:///srv/lake".into();
        assert_eq!(
            c.lake_location().unwrap(),
            LakeLocation::Local("/srv/lake".into())
        );
        c.datalake.url = "gs://x".into();
        assert!(c.lake_location().is_err());
    }

    #[test]
    fn validation_names_the_bad_key() {
        let mut c = base();
        c.mysql.url = "mysql://u:p@h:3306".into();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("mysql.url names no database"), "{e}");
        assert!(!e.contains(":p@"), "{e}");

        let mut c = base();
        c.tables.push(TableConfig {
            name: "auth_user; drop table x".into(),
            ..TableConfig::default()
        });
        let e = format!("{:#}", c.validate().unwrap_err());
        assert!(e.contains("table name"), "{e}");
    }

    #[test]
    fn durations_and_sizes() {
        let d = |s: &str| parse_duration(s);
        assert_eq!(d("0s"), Ok(Duration::ZERO));
        assert_eq!(d("0"), Ok(Duration::ZERO));
        assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(d("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(d("1h 30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "5", "h", "-1s", "5 parsecs"] {
            assert!(d(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_byte_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_byte_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_byte_size("4096"), Ok(4096));
        assert!(parse_byte_size("MiB").is_err());
        assert!(parse_byte_size("lots").is_err());
    }

    #[test]
    fn tracking_logs_validation() {
        let mut c = base();
        assert!(!c.tracking_logs_enabled());
        c.tracking_logs.path = Some("/openedx/data/logs/tracking.log".into());
        c.validate().unwrap();
        c.tracking_logs.grace = "5 parsecs".into();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("tracking_logs.grace"), "{e}");
        let t: TrackingLogsConfig = toml::from_str("rotate_bytes = '64MiB'").unwrap();
        assert_eq!(t.rotate_bytes, 64 << 20);
        // A sidecar needs no database.
        let mut c = base();
        c.mysql.url = Default::default();
        c.validate().unwrap();
    }

    #[test]
    fn partition_by_accepts_string_or_list() {
        let t: TableConfig = toml::from_str("name = 'a'\npartition_by = 'course_id'").unwrap();
        assert_eq!(t.partition_by, vec!["course_id"]);
        let t: TableConfig = toml::from_str("name = 'a'\npartition_by = ['x', 'y']").unwrap();
        assert_eq!(t.partition_by, vec!["x", "y"]);
        let t: TableConfig = toml::from_str("name = 'a'").unwrap();
        assert!(t.partition_by.is_empty());
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn panorama_tables_when_none_listed() {
        figment::Jail::expect_with(|jail| {
            let head = "lms_host = 'lms'\n[mysql]\nurl = 'mysql://u@h:3306/db'\n";
            jail.create_file("none.toml", head)?;
            jail.create_file("empty.toml", &format!("tables = []\n{head}"))?;
            jail.create_file("sidecar.toml", "lms_host = 'lms'\n")?;
            let load = |f: &str| Config::load(Some(Path::new(f))).map_err(|e| e.to_string());
            let c = load("none.toml")?;
            assert_eq!(c.tables.len(), 17);
            let studentmodule = c
                .tables
                .iter()
                .find(|t| t.name == "courseware_studentmodule")
                .unwrap();
            assert_eq!(studentmodule.partition_by, ["course_id"]);
            assert!(
                load("empty.toml")?.tables.is_empty(),
                "tables = [] means none"
            );
            assert!(
                load("sidecar.toml")?.tables.is_empty(),
                "no database, no tables"
            );
            // The shipped config relies on the defaults.
            let shipped = Config::load(Some(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG_FILE),
            ))
            .map_err(|e| e.to_string())?;
            assert_eq!(shipped.tables, default_tables());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn file_then_env_precedence() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "edlake.toml",
                r#"
                lms_host = "from-file"
                [mysql]
                url = "mysql://u:p@h:3306/db"
                [[tables]]
                name = "auth_user"
                "#,
            )?;
            jail.set_env("EDLAKE_LMS_HOST", "from-env");
            jail.set_env("EDLAKE_DATALAKE__PREFIX", "lake");
            jail.set_env("EDLAKE_TEST_SOMETHING", "ignored");
            jail.set_env("EDLAKE_MYSQL__PASSWORD", "\"0123\"");
            let c = Config::load(Some(Path::new("edlake.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.lms_host, "from-env");
            assert_eq!(c.datalake.prefix, "lake");
            assert_eq!(c.datalake.url, "./datalake");
            assert_eq!(c.tables.len(), 1);
            assert_eq!(
                c.mysql.password.as_ref().map(|p| p.expose()),
                Some("\"0123\""),
                "taken verbatim"
            );
            jail.set_env("EDLAKE_MYSQL__URLL", "typo");
            let e = Config::load(Some(Path::new("edlake.toml")))
                .unwrap_err()
                .to_string();
            assert!(e.contains("urll"), "{e}");
            Ok(())
        });
    }
}
