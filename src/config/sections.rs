//! The sections of the configuration file, each with its defaults (docs/configuration.md),
//! and the parsers of the values they hold as text (durations, sizes, lists).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::tables::known_change_column;
pub use crate::lake::Format;
use crate::secret::{Secret, SecretUrl};

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
    /// How tables are written: `csv` (Panorama's layout) or `parquet`; `tables[].format`
    /// overrides it per table.
    pub format: Format,
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
    /// Keep the DuckDB catalog (`<root>/<prefix>.duckdb.sql`, docs/query-locally.md) in step
    /// with the lake, local or S3.
    pub duckdb: bool,
    /// Glue database (Panorama's `datalake_database`); also the DuckDB catalog's schema.
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
            duckdb: true,
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
    /// This table's file format, when not `datalake.format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Athena view name; default `<table_prefix>_table_<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// A table that may not exist in the database (an app the site has not installed):
    /// when absent it is skipped with one notice instead of failing the run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
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
            format: Format::Csv,
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
