//! MySQL source: introspects tables from information_schema and streams a table in one
//! sequential, read-only, consistent-snapshot scan through the text protocol, so values reach
//! the encoder as MySQL's own text (exact decimals, microseconds, zero dates) with no
//! per-type decoding.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures::TryStreamExt;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{ConnectOptions, Connection, Executor, Row};
use tokio::sync::{mpsc, Semaphore, SemaphorePermit};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, TableConfig};
pub use crate::table::validate_identifier;
use crate::table::{Column, ColumnKind, ColumnPolicy, Incremental, TablePlan};

/// Columns never exported, whatever the configuration says.
const ALWAYS_EXCLUDED: &[(&str, &str)] = &[("auth_user", "password")];

/// An incremental scan's filter: rows whose change column is at or after `since` minus
/// `overlap`.
#[derive(Debug, Clone)]
pub struct ChangedSince {
    pub column: String,
    /// MySQL text of a DATETIME.
    pub since: String,
    pub overlap_seconds: u64,
}

/// What a scan saw besides its rows.
#[derive(Debug, Clone)]
pub struct ScanSummary {
    pub rows: u64,
    /// `UTC_TIMESTAMP(6)` at the start of the snapshot: no change read can honestly be
    /// later, so a watermark is never set past it (an app server whose clock ran ahead).
    pub snapshot_utc: String,
}

pub struct MysqlSource {
    pool: MySqlPool,
    database: String,
    endpoint: String,
    /// One per pooled connection: a unit of work (a table's extraction, the course index)
    /// holds one for as long as it uses MySQL, so jobs sharing the pool queue here instead
    /// of timing out in the pool's acquire behind a long scan.
    slots: Semaphore,
}

/// Rows travel from the scan to the encoder in batches: one channel message per batch
/// keeps the hand-off cheap, and the bounded channel bounds the memory in between.
pub type RowBatch = Vec<MySqlRow>;
pub const BATCH_ROWS: usize = 256;

/// Backquotes a validated identifier.
pub fn quote_identifier(name: &str) -> Result<String> {
    validate_identifier(name)?;
    Ok(format!("`{name}`"))
}

impl MysqlSource {
    pub async fn connect(config: &Config) -> Result<MysqlSource> {
        if config.mysql.url.is_empty() {
            bail!("invalid configuration: mysql.url is empty (mysql://user@host:3306/database)");
        }
        let endpoint = endpoint_of(config);
        let database = database_of(config);
        validate_identifier(&database)
            .context("invalid configuration: database name in mysql.url")?;
        let options = connect_options(config)?;
        // One direct connection first: the pool retries a refused connection until its
        // acquire timeout and then reports only "timed out", hiding the real cause.
        let timeout = Duration::from_secs(config.mysql.connect_timeout_secs);
        match tokio::time::timeout(timeout, options.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(e)) => bail!(describe_error(&e, &endpoint)),
            Err(_) => bail!(describe_error(&sqlx::Error::PoolTimedOut, &endpoint)),
        }
        let pool = MySqlPoolOptions::new()
            .max_connections(config.mysql.max_connections)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(config.mysql.connect_timeout_secs))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // Extraction never writes, and a slow consumer must not be cut off by the
                    // server's default 60 s write timeout in the middle of a big table.
                    conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
                    conn.execute("SET SESSION net_write_timeout = 3600").await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| anyhow!(describe_error(&e, &endpoint)))?;
        Ok(MysqlSource {
            pool,
            database,
            endpoint,
            slots: Semaphore::new(config.mysql.max_connections as usize),
        })
    }

    /// Waits for a connection slot (see [`MysqlSource::slots`]), or fails once `stop` is
    /// cancelled: a stopping process starts no new work.
    pub async fn slot(&self, stop: &CancellationToken) -> Result<SemaphorePermit<'_>> {
        tokio::select! {
            permit = self.slots.acquire() => Ok(permit.expect("the semaphore is never closed")),
            _ = stop.cancelled() => Err(crate::shutdown::Stopping.into()),
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    pub async fn database_exists(&self) -> Result<bool> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
                .bind(&self.database)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| anyhow!(describe_error(&e, &self.endpoint)))?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// The table's columns in physical order; empty when the table does not exist.
    pub async fn columns(&self, table: &str) -> Result<Vec<Column>> {
        validate_identifier(table)?;
        let rows = self
            .schema_rows(
                "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                table,
                "columns",
            )
            .await?;
        rows.iter()
            .map(|row| {
                let text = |i: usize| schema_text(row, i);
                let data_type = text(1)?.to_ascii_lowercase();
                Ok(Column {
                    name: text(0)?,
                    kind: ColumnKind::from_mysql(&data_type),
                    data_type,
                    column_type: text(2)?.to_ascii_lowercase(),
                    absent: false,
                })
            })
            .collect()
    }

    /// The split course index (Nutmeg and later): `(course_id, published_version,
    /// library_version)` per course, or None when the table does not exist.
    pub async fn course_index(&self) -> Result<Option<Vec<(String, String, String)>>> {
        const TABLE: &str = "split_modulestore_django_splitmodulestorecourseindex";
        if self.columns(TABLE).await?.is_empty() {
            return Ok(None);
        }
        let sql = format!(
            "SELECT course_id, published_version, library_version FROM {}.{}",
            quote_identifier(&self.database)?,
            quote_identifier(TABLE)?
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.map_err(|e| {
            anyhow!(
                "{} (reading the course index {TABLE})",
                describe_error(&e, &self.endpoint)
            )
        })?;
        rows.iter()
            .map(|row| {
                let text = |i: usize| -> Result<String> {
                    let raw: Option<&[u8]> = row.try_get_unchecked(i)?;
                    Ok(String::from_utf8_lossy(raw.unwrap_or_default()).into_owned())
                };
                Ok((text(0)?, text(1)?, text(2)?))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// The primary key's columns in key order; empty when the table has none.
    pub async fn primary_key(&self, table: &str) -> Result<Vec<String>> {
        let rows = self
            .schema_rows(
                "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
                 ORDER BY ORDINAL_POSITION",
                table,
                "primary key",
            )
            .await?;
        rows.iter().map(|row| schema_text(row, 0)).collect()
    }

    /// An information_schema query bound to this database and `table`; `what` names it in
    /// errors.
    async fn schema_rows(&self, sql: &str, table: &str, what: &str) -> Result<Vec<MySqlRow>> {
        sqlx::query(sql)
            .bind(&self.database)
            .bind(table)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| {
                anyhow!(
                    "{} (reading the table's {what})",
                    describe_error(&e, &self.endpoint)
                )
            })
    }

    /// Resolves a configured table against the live schema.
    pub async fn plan(&self, table: &TableConfig, policy: &ColumnPolicy) -> Result<TablePlan> {
        let all = self.columns(&table.name).await?;
        if all.is_empty() {
            bail!(
                "does not exist in database {} on {} (fix tables in the config)",
                self.database,
                self.endpoint
            );
        }
        let mut plan = plan_columns(table, policy, &all)?;
        if table.change_column().is_some() {
            let key = self.primary_key(&table.name).await?;
            plan.incremental = resolve_incremental(table, &plan, &key)?;
        }
        Ok(plan)
    }

    /// Streams the rows of the plan's columns (data columns, then partition columns) to
    /// `rows` in batches, in one query inside a read-only consistent snapshot: every row, or
    /// with `changed` only those changed since. Stops with [`crate::shutdown::Stopping`]
    /// once `stop` is cancelled, and with an error when the receiver is gone.
    pub async fn scan(
        &self,
        plan: &TablePlan,
        changed: Option<&ChangedSince>,
        rows: mpsc::Sender<RowBatch>,
        stop: &CancellationToken,
    ) -> Result<ScanSummary> {
        let sql = select_sql(&self.database, plan, changed.map(|c| c.column.as_str()))?;
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| anyhow!(describe_error(&e, &self.endpoint)))?;
        let map_err = |e: sqlx::Error| {
            anyhow!(
                "{} (while reading the table)",
                describe_error(&e, &self.endpoint)
            )
        };
        conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .await
            .map_err(map_err)?;
        let now = sqlx::raw_sql("SELECT UTC_TIMESTAMP(6)")
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
        let snapshot_utc =
            String::from_utf8_lossy(now.try_get_unchecked::<&[u8], _>(0)?).into_owned();
        if let Some(changed) = changed {
            // A session variable keeps the watermark a bound value while the scan itself
            // stays on the text protocol.
            sqlx::query("SET @edlake_since = DATE_SUB(CAST(? AS DATETIME(6)), INTERVAL ? SECOND)")
                .bind(&changed.since)
                .bind(changed.overlap_seconds)
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
        let mut count = 0u64;
        let streamed: Result<()> = async {
            // raw_sql runs through the text protocol: the SQL carries only validated,
            // backquoted identifiers and no values.
            let mut stream = sqlx::raw_sql(&sql).fetch(&mut *conn);
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            let send = |batch: RowBatch| async {
                crate::shutdown::check(stop)?;
                rows.send(batch)
                    .await
                    .map_err(|_| anyhow!("the row encoder stopped"))
            };
            while let Some(row) = stream.try_next().await.map_err(map_err)? {
                batch.push(row);
                count += 1;
                if batch.len() == BATCH_ROWS {
                    send(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(BATCH_ROWS),
                    ))
                    .await?;
                }
            }
            if !batch.is_empty() {
                send(batch).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = streamed {
            // Returned to the pool, the connection would first drain the rest of the
            // table; closing it ends the query and rolls the snapshot back at once.
            conn.close_on_drop();
            return Err(e);
        }
        conn.execute("COMMIT").await.map_err(map_err)?;
        Ok(ScanSummary {
            rows: count,
            snapshot_utc,
        })
    }

    /// InnoDB's row-count estimate (statistics, often off by tens of percent): enough for
    /// a progress bar, never for a result. None when unknown.
    pub async fn estimated_rows(&self, table: &str) -> Option<u64> {
        sqlx::query_scalar::<_, Option<u64>>(
            "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
        )
        .bind(&self.database)
        .bind(table)
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten()
        .flatten()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Connection options with the password resolved from its highest-priority source.
pub fn connect_options(config: &Config) -> Result<sqlx::mysql::MySqlConnectOptions> {
    let mut options = sqlx::mysql::MySqlConnectOptions::from_str(config.mysql.url.expose())
        .map_err(|_| anyhow::anyhow!("invalid configuration: mysql.url could not be parsed as mysql://user:password@host:port/database"))?;
    if let Some(password) = &config.mysql.password {
        options = options.password(password.expose());
    }
    if let Some(file) = &config.mysql.password_file {
        let password = std::fs::read_to_string(file).with_context(|| {
            format!(
                "cannot read mysql.password_file {} (check the secret mount)",
                file.display()
            )
        })?;
        options = options.password(password.trim_end_matches(['\r', '\n']));
    }
    // A whole-table scan is slow by nature; sqlx would warn about every one.
    use sqlx::ConnectOptions;
    Ok(options
        .charset("utf8mb4")
        .log_statements(log::LevelFilter::Debug)
        .log_slow_statements(log::LevelFilter::Off, std::time::Duration::from_secs(3600)))
}

/// `host:port/database` of the MySQL URL, safe to print.
pub fn endpoint_of(config: &Config) -> String {
    match url::Url::parse(config.mysql.url.expose()) {
        Ok(u) => format!(
            "{}:{}{}",
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(3306),
            u.path()
        ),
        Err(_) => "<unparseable mysql.url>".into(),
    }
}

pub fn database_of(config: &Config) -> String {
    url::Url::parse(config.mysql.url.expose())
        .map(|u| u.path().trim_matches('/').to_string())
        .unwrap_or_default()
}

/// Column `i` of an information_schema row as text: it comes back as binary strings on
/// some servers.
fn schema_text(row: &MySqlRow, i: usize) -> Result<String> {
    let raw: &[u8] = row.try_get_unchecked(i)?;
    Ok(String::from_utf8_lossy(raw).into_owned())
}

/// Data columns: pinned list (in its order) or every column, minus exclusions and the
/// partition columns (Athena forbids a partition key that is also a data column).
pub fn plan_columns(
    table: &TableConfig,
    policy: &ColumnPolicy,
    all: &[Column],
) -> Result<TablePlan> {
    let find = |name: &str| all.iter().find(|c| c.name.eq_ignore_ascii_case(name));
    for name in &policy.required {
        if find(name).is_none() {
            bail!("column {name} named by the privacy settings does not exist (fix [privacy] or pseudonymize in the config)");
        }
    }
    let excluded = |name: &str| {
        policy.drops(name)
            || table
                .exclude_columns
                .iter()
                .any(|x| x.eq_ignore_ascii_case(name))
            || ALWAYS_EXCLUDED
                .iter()
                .any(|(t, c)| t.eq_ignore_ascii_case(&table.name) && c.eq_ignore_ascii_case(name))
            || table
                .partition_by
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name))
    };
    let mut partition_columns = Vec::new();
    for p in &table.partition_by {
        let col = find(p).ok_or_else(|| {
            anyhow!("partition column {p} does not exist (fix partition_by in the config)")
        })?;
        partition_columns.push(col.clone());
    }
    let data_columns: Vec<Column> = match &table.columns {
        Some(pinned) => {
            let mut cols = Vec::new();
            for name in pinned {
                let col = find(name).ok_or_else(|| {
                    anyhow!("column {name} does not exist (fix columns in the config)")
                })?;
                if !excluded(&col.name) {
                    cols.push(col.clone());
                }
            }
            cols
        }
        None => all.iter().filter(|c| !excluded(&c.name)).cloned().collect(),
    };
    if data_columns.is_empty() {
        bail!("no column left to export (check columns and exclude_columns)");
    }
    let mut pseudonymized = Vec::new();
    for name in &policy.pseudonymize {
        if partition_columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
        {
            bail!("column {name} cannot be both a partition column and pseudonymized (fix partition_by or [privacy])");
        }
        if let Some(col) = data_columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
        {
            if col.kind != ColumnKind::Text {
                bail!("column {} is {}: only text columns can be pseudonymized (fix [privacy] or pseudonymize)", col.name, col.column_type);
            }
            pseudonymized.push(col.name.clone());
        }
    }
    Ok(TablePlan {
        table: table.name.clone(),
        data_columns,
        partition_columns,
        pseudonymized,
        incremental: None,
    })
}

/// The table's incremental settings when its change column and primary key are exported.
/// A table that cannot be incremental stays a full snapshot; only a change column the
/// config names explicitly makes that an error.
pub fn resolve_incremental(
    table: &TableConfig,
    plan: &TablePlan,
    primary_key: &[String],
) -> Result<Option<Incremental>> {
    let Some(wanted) = table.change_column() else {
        return Ok(None);
    };
    let explicit = table.change_column.is_some();
    let problem = |why: String| -> Result<Option<Incremental>> {
        if explicit {
            bail!("{why} (fix change_column in the config, or set it to \"\" for full snapshots)");
        }
        tracing::debug!(table = %table.name, "full snapshots: {why}");
        Ok(None)
    };
    let Some(column) = plan
        .data_columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(wanted) && !c.absent)
    else {
        return problem(format!("change column {wanted} is not exported"));
    };
    if !matches!(column.data_type.as_str(), "datetime" | "timestamp" | "date") {
        return problem(format!(
            "change column {} is {}, not a date or time",
            column.name, column.column_type
        ));
    }
    if primary_key.is_empty() {
        return problem("the table has no primary key to keep one row per".into());
    }
    let exported = |name: &str| {
        plan.data_columns
            .iter()
            .chain(&plan.partition_columns)
            .any(|c| c.name.eq_ignore_ascii_case(name) && !c.absent)
    };
    if let Some(missing) = primary_key.iter().find(|k| !exported(k)) {
        return problem(format!("primary key column {missing} is not exported"));
    }
    Ok(Some(Incremental {
        change_column: column.name.clone(),
        key: primary_key.to_vec(),
    }))
}

fn select_sql(database: &str, plan: &TablePlan, changed_column: Option<&str>) -> Result<String> {
    let columns = plan
        .data_columns
        .iter()
        .chain(&plan.partition_columns)
        .map(|c| {
            if c.absent {
                Ok("NULL".to_string())
            } else {
                quote_identifier(&c.name)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let filter = match changed_column {
        Some(c) => format!(" WHERE {} >= @edlake_since", quote_identifier(c)?),
        None => String::new(),
    };
    Ok(format!(
        "SELECT {} FROM {}.{}{filter}",
        columns.join(", "),
        quote_identifier(database)?,
        quote_identifier(&plan.table)?
    ))
}

/// One operator-facing line for a MySQL failure: what failed, where, and what to check.
/// sqlx error texts never contain the password.
pub fn describe_error(e: &sqlx::Error, endpoint: &str) -> String {
    match e {
        sqlx::Error::Io(io) => format!(
            "cannot reach MySQL at {endpoint}: {io} (check mysql.url and that the server is up)"
        ),
        sqlx::Error::Tls(t) => format!("TLS failure talking to MySQL at {endpoint}: {t}"),
        sqlx::Error::PoolTimedOut => format!(
            "timed out connecting to MySQL at {endpoint} (check mysql.url, the network, and mysql.connect_timeout_secs)"
        ),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let msg = db.message();
            match code.as_ref() {
                "28000" => format!(
                    "MySQL at {endpoint} refused the login: {msg} (check the user and password in mysql.url, mysql.password or mysql.password_file)"
                ),
                "42000" if msg.contains("Unknown database") => format!(
                    "MySQL at {endpoint}: {msg} (check the database name in mysql.url)"
                ),
                _ => format!("MySQL at {endpoint} failed: {msg}"),
            }
        }
        other => format!("MySQL at {endpoint} failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, data_type: &str) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            column_type: data_type.into(),
            kind: ColumnKind::from_mysql(data_type),
            absent: false,
        }
    }

    fn table(name: &str) -> TableConfig {
        TableConfig {
            name: name.into(),
            ..TableConfig::default()
        }
    }

    #[test]
    fn identifiers_are_validated() {
        assert!(validate_identifier("courseware_studentmodule").is_ok());
        assert!(validate_identifier("_location").is_ok());
        for bad in [
            "",
            "a b",
            "a`b",
            "a;drop",
            "x.y",
            "123",
            &"a".repeat(65),
            "é",
        ] {
            assert!(validate_identifier(bad).is_err(), "{bad:?}");
        }
        assert_eq!(quote_identifier("key").unwrap(), "`key`");
    }

    #[test]
    fn password_never_planned() {
        let all = vec![
            col("id", "int"),
            col("password", "varchar"),
            col("username", "varchar"),
        ];
        let plan = plan_columns(&table("auth_user"), &ColumnPolicy::default(), &all).unwrap();
        let names: Vec<_> = plan.data_columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "username"]);
        let mut pinned = table("auth_user");
        pinned.columns = Some(vec!["password".into(), "id".into()]);
        let plan = plan_columns(&pinned, &ColumnPolicy::default(), &all).unwrap();
        assert_eq!(plan.data_columns.len(), 1);
        assert_eq!(plan.data_columns[0].name, "id");
    }

    #[test]
    fn partition_columns_leave_the_data_columns() {
        let all = vec![
            col("id", "bigint"),
            col("course_id", "varchar"),
            col("state", "longtext"),
        ];
        let mut t = table("courseware_studentmodule");
        t.partition_by = vec!["course_id".into()];
        let plan = plan_columns(&t, &ColumnPolicy::default(), &all).unwrap();
        assert_eq!(plan.data_columns.len(), 2);
        assert_eq!(plan.partition_names(), ["course_id"]);
        assert_eq!(
            select_sql("openedx", &plan, None).unwrap(),
            "SELECT `id`, `state`, `course_id` FROM `openedx`.`courseware_studentmodule`"
        );
    }

    #[test]
    fn files_follow_the_catalog_order_with_lost_columns_as_null() {
        let all = vec![
            col("grade", "double"),
            col("id", "bigint"),
            col("new", "int"),
        ];
        let mut plan = plan_columns(&table("t"), &ColumnPolicy::default(), &all).unwrap();
        plan.follow_order(&[
            ("id".into(), "bigint(20)".into()),
            ("gone".into(), "datetime(6)".into()),
            ("grade".into(), "double".into()),
        ]);
        let names: Vec<_> = plan.data_columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "gone", "grade", "new"]);
        assert!(plan.data_columns[1].absent);
        assert_eq!(
            select_sql("db", &plan, None).unwrap(),
            "SELECT `id`, NULL, `grade`, `new` FROM `db`.`t`"
        );
    }

    #[test]
    fn unknown_columns_are_named() {
        let all = vec![col("id", "int")];
        let mut t = table("t");
        t.columns = Some(vec!["id".into(), "nope".into()]);
        let e = plan_columns(&t, &ColumnPolicy::default(), &all)
            .unwrap_err()
            .to_string();
        assert!(e.contains("column nope does not exist"), "{e}");
        let mut t = table("t");
        t.partition_by = vec!["course_id".into()];
        let e = plan_columns(&t, &ColumnPolicy::default(), &all)
            .unwrap_err()
            .to_string();
        assert!(e.contains("partition column course_id"), "{e}");
    }

    #[test]
    fn privacy_drops_pseudonymizes_text_only_and_requires_named_columns() {
        let all = vec![
            col("id", "int"),
            col("email", "varchar"),
            col("meta", "longtext"),
            col("course_id", "varchar"),
        ];
        let policy = ColumnPolicy {
            drop: vec!["meta".into(), "not_in_this_release".into()],
            pseudonymize: vec!["email".into()],
            required: vec!["email".into()],
        };
        let plan = plan_columns(&table("t"), &policy, &all).unwrap();
        let names: Vec<&str> = plan.data_columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "email", "course_id"]);
        assert_eq!(plan.pseudonymized, ["email"]);

        let numbers = ColumnPolicy {
            pseudonymize: vec!["id".into()],
            ..ColumnPolicy::default()
        };
        let e = plan_columns(&table("t"), &numbers, &all)
            .unwrap_err()
            .to_string();
        assert!(e.contains("only text columns can be pseudonymized"), "{e}");

        let mut partitioned = table("t");
        partitioned.partition_by = vec!["course_id".into()];
        let key = ColumnPolicy {
            pseudonymize: vec!["course_id".into()],
            ..ColumnPolicy::default()
        };
        let e = plan_columns(&partitioned, &key, &all)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("both a partition column and pseudonymized"),
            "{e}"
        );

        let typo = ColumnPolicy {
            pseudonymize: vec!["emial".into()],
            required: vec!["emial".into()],
            ..ColumnPolicy::default()
        };
        let e = plan_columns(&table("t"), &typo, &all)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column emial named by the privacy settings"),
            "{e}"
        );
    }

    #[test]
    fn incremental_needs_an_exported_change_time_and_key() {
        let all = vec![
            col("id", "int"),
            col("course_id", "varchar"),
            col("modified", "datetime"),
            col("state", "longtext"),
        ];
        let mut t = table("courseware_studentmodule");
        t.partition_by = vec!["course_id".into()];
        let plan = plan_columns(&t, &ColumnPolicy::default(), &all).unwrap();
        let inc = resolve_incremental(&t, &plan, &["id".into()])
            .unwrap()
            .unwrap();
        assert_eq!(inc.change_column, "modified");
        assert_eq!(inc.key, ["id"]);
        let changed = select_sql("db", &plan, Some(&inc.change_column)).unwrap();
        assert_eq!(
            changed,
            "SELECT `id`, `modified`, `state`, `course_id` FROM `db`.`courseware_studentmodule` WHERE `modified` >= @edlake_since"
        );
        // A built-in table that lost what it needs stays a full snapshot...
        assert_eq!(resolve_incremental(&t, &plan, &[]).unwrap(), None);
        let dropped = ColumnPolicy {
            drop: vec!["modified".into()],
            ..ColumnPolicy::default()
        };
        let plan_without = plan_columns(&t, &dropped, &all).unwrap();
        assert_eq!(
            resolve_incremental(&t, &plan_without, &["id".into()]).unwrap(),
            None
        );
        // ... a change column the config names must work, and "" turns it off.
        let mut named = table("t");
        named.change_column = Some("state".into());
        let plan = plan_columns(&named, &ColumnPolicy::default(), &all).unwrap();
        let e = resolve_incremental(&named, &plan, &["id".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a date or time"), "{e}");
        named.change_column = Some(String::new());
        assert_eq!(
            resolve_incremental(&named, &plan, &["id".into()]).unwrap(),
            None
        );
        assert_eq!(table("auth_user").change_column(), None);
    }
}
