//! MySQL source: introspects tables from information_schema and streams a table in one
//! sequential, read-only, consistent-snapshot scan through the text protocol, so values reach
//! the encoder as MySQL's own text (exact decimals, microseconds, zero dates) with no
//! per-type decoding.
//!
//! plan.rs resolves a configured table against the live columns; options.rs builds the
//! connection options from `[mysql]`.

mod options;
mod plan;

pub use options::{connect_options, database_of, endpoint_of};
pub use plan::{plan_columns, resolve_incremental};

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures::TryStreamExt;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{ConnectOptions, Connection, Executor, Row};
use tokio::sync::{mpsc, Semaphore, SemaphorePermit};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, TableConfig};
pub use crate::table::validate_identifier;
use crate::table::{Column, ColumnKind, ColumnPolicy, TablePlan};

/// Columns never exported, whatever the configuration says.
const ALWAYS_EXCLUDED: &[(&str, &str)] = &[("auth_user", "password")];

/// Columns not exported unless the table's `columns` names them (the opt-in), under every
/// privacy profile: `site_values` is the site's settings JSON, where operators keep API
/// keys and passwords (docs/privacy.md).
const SECRET_BY_DEFAULT: &[(&str, &str)] =
    &[("site_configuration_siteconfiguration", "site_values")];

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

    /// An `optional` table the database does not have (its app is not installed): skipped,
    /// where a table without `optional` fails.
    pub async fn optional_and_absent(&self, table: &TableConfig) -> Result<bool> {
        Ok(table.optional && self.columns(&table.name).await?.is_empty())
    }

    /// The one line that says a table was skipped as [`Self::optional_and_absent`].
    pub fn log_absent(&self, table: &str) {
        tracing::info!(
            table = %table,
            "skipped: optional table not in database {} (its app is not installed)",
            self.database
        );
    }

    /// Resolves a configured table against the live schema.
    pub async fn plan(&self, table: &TableConfig, policy: &ColumnPolicy) -> Result<TablePlan> {
        let all = self.columns(&table.name).await?;
        if all.is_empty() {
            bail!(
                "does not exist in database {} on {} (fix tables in the config, or set optional = true on it)",
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

/// Column `i` of an information_schema row as text: it comes back as binary strings on
/// some servers.
fn schema_text(row: &MySqlRow, i: usize) -> Result<String> {
    let raw: &[u8] = row.try_get_unchecked(i)?;
    Ok(String::from_utf8_lossy(raw).into_owned())
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
mod tests;
