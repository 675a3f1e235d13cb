//! `edlake check`: tests every configured endpoint for real and reports each probe.

use anyhow::Result;
use bytes::Bytes;

use crate::catalog::duckdb::DuckDbCatalog;
use crate::catalog::glue::athena::{self, SdkAthena};
use crate::catalog::glue::sdk_clients;
use crate::catalog::{
    self, merge_columns, source_columns, Catalog, GlueApi, GlueCatalog, VIRTUAL_VIEW,
};
use crate::config::{Config, CourseIndexSource};
use crate::lake::Layout;
use crate::lease;
use crate::source::course_structures::index;
use crate::source::course_structures::modulestore::ModuleStore;
use crate::source::mysql::{plan_columns, MysqlSource};
use crate::store::{self, Payload, Store};
use crate::table::TablePlan;
use crate::text_table::{Column, TextTable};

pub struct Probe {
    pub what: String,
    /// False fails `check` (exit 1).
    pub ok: bool,
    /// Ok, but only because the config accepts a risk: shown as `WARN`, exit 0.
    pub warning: bool,
    pub detail: String,
}

impl Probe {
    fn ok(what: impl Into<String>, detail: impl Into<String>) -> Probe {
        Probe {
            what: what.into(),
            ok: true,
            warning: false,
            detail: detail.into(),
        }
    }
    fn warn(what: impl Into<String>, detail: impl Into<String>) -> Probe {
        Probe {
            warning: true,
            ..Probe::ok(what, detail)
        }
    }
    fn fail(what: impl Into<String>, e: impl std::fmt::Display) -> Probe {
        Probe {
            what: what.into(),
            ok: false,
            warning: false,
            detail: e.to_string().replace('\n', " "),
        }
    }
}

pub async fn run(config: &Config) -> Vec<Probe> {
    let mut probes = Vec::new();
    // A tracking-log sidecar may have no database configured.
    let plans = if config.mysql.url.is_empty() && config.tables.is_empty() {
        Vec::new()
    } else {
        check_mysql(config, &mut probes).await
    };
    if config.course_structures_enabled() {
        check_mongodb(config, &mut probes).await;
    }
    check_lake(config, &mut probes).await;
    if config.tracking_logs_enabled() {
        check_tracking_logs(config, &mut probes).await;
    }
    if config.catalog_enabled() {
        check_catalog(config, &plans, &mut probes).await;
    }
    if config.duckdb_catalog_enabled() {
        check_duckdb_catalog(config, &mut probes).await;
    }
    probes
}

/// The DuckDB catalog file reads back and parses.
async fn check_duckdb_catalog(config: &Config, probes: &mut Vec<Probe>) {
    let catalog = match store::open(config).await {
        Ok(lake) => DuckDbCatalog::open(config, lake),
        Err(e) => Err(e),
    };
    let catalog = match catalog {
        Ok(c) => c,
        Err(e) => return probes.push(Probe::fail("duckdb catalog", format!("{e:#}"))),
    };
    let what = format!("duckdb catalog {}", catalog.describe());
    probes.push(match catalog.views().await {
        Ok(Some(views)) => Probe::ok(
            what,
            format!("{} views (open: duckdb -init <this file>)", views.len()),
        ),
        Ok(None) => Probe::ok(what, "not written yet: the first extract writes it"),
        Err(e) => Probe::fail(what, format!("{e:#}")),
    });
}

/// A real ping, then the course index and one published structure read back.
async fn check_mongodb(config: &Config, probes: &mut Vec<Probe>) {
    let endpoint = crate::source::course_structures::modulestore::endpoint(config);
    let what = format!("mongodb connect {endpoint}");
    let store = match ModuleStore::connect(config).await {
        Ok(s) => {
            probes.push(Probe::ok(what, "ping answered"));
            s
        }
        Err(e) => return probes.push(Probe::fail(what, format!("{e:#}"))),
    };
    let mysql = match config.course_structures.course_index {
        CourseIndexSource::Mongodb => None,
        _ => MysqlSource::connect(config).await.ok(),
    };
    let what = "course_structures course index".to_string();
    match index::active_courses(config, mysql.as_ref(), &store).await {
        Ok(index) => {
            let mut detail = format!(
                "{} active courses (from {})",
                index.courses.len(),
                index.source
            );
            if !index.invalid.is_empty() {
                detail.push_str(&format!("; {} unusable index rows", index.invalid.len()));
            }
            probes.push(Probe::ok(what, detail));
            if let Some(first) = index.courses.first() {
                let what = format!("modulestore.structures {}", first.course_id);
                match store.structures(&[first.version]).await {
                    Ok(s) if !s.is_empty() => probes.push(Probe::ok(
                        what,
                        format!(
                            "published structure {} read ({} blocks)",
                            first.version,
                            s[0].blocks.len()
                        ),
                    )),
                    Ok(_) => probes.push(Probe::fail(
                        what,
                        format!(
                            "published structure {} not found (check mongodb.database)",
                            first.version
                        ),
                    )),
                    Err(e) => probes.push(Probe::fail(what, format!("{e:#}"))),
                }
            }
        }
        Err(e) => probes.push(Probe::fail(what, format!("{e:#}"))),
    }
    if let Some(m) = mysql {
        m.close().await;
    }
    store.shutdown().await;
}

/// Returns the plan of every table the source could resolve, for the drift report.
async fn check_mysql(config: &Config, probes: &mut Vec<Probe>) -> Vec<TablePlan> {
    let mut plans = Vec::new();
    let endpoint = crate::source::mysql::endpoint_of(config);
    let source = match MysqlSource::connect(config).await {
        Ok(s) => {
            probes.push(Probe::ok(format!("mysql connect {endpoint}"), "connected"));
            s
        }
        Err(e) => {
            probes.push(Probe::fail(
                format!("mysql connect {endpoint}"),
                format!("{e:#}"),
            ));
            return plans;
        }
    };
    let db = source.database().to_string();
    match source.database_exists().await {
        Ok(true) => probes.push(Probe::ok(format!("mysql database {db}"), "exists")),
        Ok(false) => {
            probes.push(Probe::fail(
                format!("mysql database {db}"),
                "does not exist (check mysql.url)",
            ));
            return plans;
        }
        Err(e) => {
            probes.push(Probe::fail(
                format!("mysql database {db}"),
                format!("{e:#}"),
            ));
            return plans;
        }
    }
    for table in &config.tables {
        let what = format!("mysql table {}", table.name);
        let probe = match source.columns(&table.name).await {
            Ok(cols) if cols.is_empty() && table.optional => Probe::ok(
                what,
                "absent: skipped (optional table, its app is not installed)",
            ),
            Ok(cols) if cols.is_empty() => Probe::fail(
                what,
                "table does not exist (fix tables in the config, or set optional = true on it)",
            ),
            Ok(cols) => match plan_columns(table, &config.column_policy(table), &cols) {
                Ok(plan) => {
                    let probe = Probe::ok(
                        what,
                        format!(
                            "{} columns, {} exported{}",
                            cols.len(),
                            plan.data_columns.len(),
                            if plan.partition_columns.is_empty() {
                                String::new()
                            } else {
                                format!(", partitioned by {}", plan.partition_names().join(", "))
                            }
                        ),
                    );
                    plans.push(plan);
                    probe
                }
                Err(e) => Probe::fail(what, format!("{e:#}")),
            },
            Err(e) => Probe::fail(what, format!("{e:#}")),
        };
        probes.push(probe);
    }
    source.close().await;
    plans
}

/// Glue: the database and each table (with source columns vs Glue columns); Athena: the
/// workgroup and a trivial query.
async fn check_catalog(config: &Config, plans: &[TablePlan], probes: &mut Vec<Probe>) {
    let db = &config.catalog.database;
    let (glue, athena_client) = sdk_clients(config).await;
    match glue.database_exists(db).await {
        Ok(true) => probes.push(Probe::ok(format!("glue database {db}"), "exists")),
        Ok(false) => probes.push(Probe::fail(
            format!("glue database {db}"),
            "does not exist (run `edlake catalog sync` or `edlake extract`)",
        )),
        Err(e) => {
            probes.push(Probe::fail(format!("glue database {db}"), format!("{e:#}")));
            return;
        }
    }
    for table in &config.tables {
        // An optional table whose probe found it absent has nothing to register.
        if table.optional && !plans.iter().any(|p| p.table == table.name) {
            continue;
        }
        let raw = catalog::raw_table_name(config, table);
        let what = format!("glue table {raw}");
        let existing = match glue.get_table(db, &raw).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                probes.push(Probe::fail(
                    what,
                    "missing (run `edlake catalog sync` or `edlake extract`)",
                ));
                continue;
            }
            Err(e) => {
                probes.push(Probe::fail(what, format!("{e:#}")));
                continue;
            }
        };
        let mut detail = match plans.iter().find(|p| p.table == table.name) {
            Some(plan) => {
                let (_, added, absent) =
                    merge_columns(&existing.columns, &source_columns(&plan.data_columns));
                let mut parts = vec![format!("{} columns", existing.columns.len())];
                if added.is_empty() && absent.is_empty() {
                    parts.push("in step with the source".into());
                }
                if !added.is_empty() {
                    parts.push(format!(
                        "new in the source: {} (the next extract or catalog sync appends them)",
                        added.join(", ")
                    ));
                }
                if !absent.is_empty() {
                    parts.push(format!(
                        "gone from the source: {} (kept, read as NULL)",
                        absent.join(", ")
                    ));
                }
                parts.join(", ")
            }
            None => format!("{} columns", existing.columns.len()),
        };
        let view = catalog::view_name(config, table);
        match glue.get_table(db, &view).await {
            Ok(Some(v)) if v.table_type == VIRTUAL_VIEW => {}
            Ok(Some(_)) => detail.push_str(&format!("; {view} is a table, not a view")),
            Ok(None) => detail.push_str(&format!("; view {view} missing")),
            Err(e) => detail.push_str(&format!("; view {view}: {e:#}")),
        }
        probes.push(Probe::ok(what, detail));
    }
    let workgroup = &config.catalog.athena_workgroup;
    let athena = SdkAthena::new(
        athena_client,
        workgroup,
        config.catalog.athena_output.as_deref(),
        db,
    );
    match athena.check_workgroup().await {
        Ok(()) => probes.push(Probe::ok(
            format!("athena workgroup {workgroup}"),
            "enabled",
        )),
        Err(e) => {
            probes.push(Probe::fail(
                format!("athena workgroup {workgroup}"),
                format!("{e:#}"),
            ));
            return;
        }
    }
    match athena::wait_for(&athena, "SELECT 1", "(check)", GlueCatalog::polling(config)).await {
        Ok(()) => probes.push(Probe::ok("athena query SELECT 1", "succeeded")),
        Err(e) => probes.push(Probe::fail("athena query SELECT 1", format!("{e:#}"))),
    }
}

async fn check_lake(config: &Config, probes: &mut Vec<Probe>) {
    let store = match store::open(config).await {
        Ok(s) => s,
        Err(e) => {
            probes.push(Probe::fail(
                format!("lake {}", config.datalake.url),
                format!("{e:#}"),
            ));
            return;
        }
    };
    let layout = config.layout();
    // `_edlake/` is edlake's own corner of the lake, never read as a table.
    let key = format!("{}check-{}.txt", layout.state_root(), uuid::Uuid::new_v4());
    let body = Bytes::from(format!("edlake check probe {key}\n"));
    let where_ = format!("{}/{key}", store.describe());
    if let Err(e) = store.put(&key, Payload::Bytes(body.clone())).await {
        probes.push(Probe::fail(
            format!("lake write {where_}"),
            format!("{e:#}"),
        ));
        return;
    }
    probes.push(Probe::ok(format!("lake write {where_}"), "written"));
    match store.get(&key).await {
        Ok(read) if read == body => probes.push(Probe::ok("lake read back", "identical")),
        Ok(_) => probes.push(Probe::fail(
            "lake read back",
            "content differs from what was written",
        )),
        Err(e) => probes.push(Probe::fail("lake read back", format!("{e:#}"))),
    }
    match delete_and_confirm(store.as_ref(), &key).await {
        Ok(()) => probes.push(Probe::ok("lake delete", "deleted")),
        Err(e) => probes.push(Probe::fail("lake delete", format!("{e:#}"))),
    }
    probes.push(check_conditional_writes(config, store.as_ref(), &layout).await);
}

/// Whether the store refuses a second `If-None-Match: *` create of a key: without that the
/// table leases exclude nobody, and `extract` refuses the store
/// ([`lease::require_conditional_writes`]). Accepted by `lease.run_without_locking`, it is a
/// warning, not a failure: `check` passes for a config that `extract` runs with.
async fn check_conditional_writes(config: &Config, store: &dyn Store, layout: &Layout) -> Probe {
    let what = format!("lake conditional writes {}", store.describe());
    if store.conditional_writes_known() {
        return Probe::ok(what, "a local directory: leases are taken under flock");
    }
    match lease::conditional_writes_work(store, layout).await {
        Ok(true) => Probe::ok(
            what,
            "a second If-None-Match: * create was refused: a lease excludes other writers",
        ),
        Ok(false) if config.lease.run_without_locking => Probe::warn(
            what,
            "ignored by the store (a second If-None-Match: * create succeeded); accepted by lease.run_without_locking = true: never run two edlake processes on this lake at once",
        ),
        Ok(false) => Probe::fail(
            what,
            format!(
                "ignored by the store (a second If-None-Match: * create of the same key succeeded), so a lease excludes nobody and extract refuses this lake: {}",
                lease::WITHOUT_CONDITIONAL_WRITES
            ),
        ),
        Err(e) => Probe::fail(what, format!("{e:#}")),
    }
}

/// The log directory and the state directory are writable (rotation renames, retention
/// deletes), rotated files are found, and a separate destination takes a probe object.
async fn check_tracking_logs(config: &Config, probes: &mut Vec<Probe>) {
    let settings = match crate::jobs::logs::settings::settings(config) {
        Ok(s) => s,
        Err(e) => return probes.push(Probe::fail("tracking_logs", format!("{e:#}"))),
    };
    let dir = crate::source::tracking_logs::parent_dir(&settings.path);
    for (what, dir) in [
        ("tracking_logs directory", &dir),
        ("tracking_logs state_dir", &settings.state_dir),
    ] {
        let what = format!("{what} {}", dir.display());
        let probe = || -> std::io::Result<()> {
            std::fs::create_dir_all(dir)?;
            let file = dir.join(format!(".edlake-check-{}", uuid::Uuid::new_v4()));
            std::fs::write(&file, b"probe")?;
            std::fs::remove_file(&file)
        };
        match probe() {
            Ok(()) => probes.push(Probe::ok(what, "writable")),
            Err(e) => probes.push(Probe::fail(
                what,
                format!("{e} (edlake renames and deletes files here)"),
            )),
        }
    }
    match crate::source::tracking_logs::discover(
        &settings.path,
        &settings.rotated_glob,
        &settings.state_dir,
    ) {
        Ok((files, skipped)) => {
            let live = match std::fs::metadata(&settings.path) {
                Ok(m) => format!("live file {} bytes", m.len()),
                Err(_) => "no live file yet".into(),
            };
            probes.push(Probe::ok(
                format!("tracking_logs files {}", settings.rotated_glob),
                format!(
                    "{live}; {} rotated file(s); {} skipped",
                    files.len(),
                    skipped.len()
                ),
            ));
        }
        Err(e) => probes.push(Probe::fail("tracking_logs files", format!("{e:#}"))),
    }
    let separate = config
        .tracking_logs
        .url
        .as_ref()
        .is_some_and(|u| !u.trim().is_empty() && u != &config.datalake.url);
    if separate {
        let what = format!(
            "tracking_logs destination {}",
            config.tracking_logs.url.as_deref().unwrap_or_default()
        );
        let result = async {
            let store =
                store::open_location(config, crate::jobs::logs::settings::location(config)?)
                    .await?;
            let layout = config.layout();
            let key = format!("{}check-{}.txt", layout.state_root(), uuid::Uuid::new_v4());
            store
                .put(
                    &key,
                    Payload::Bytes(Bytes::from_static(b"edlake check probe\n")),
                )
                .await?;
            delete_and_confirm(store.as_ref(), &key).await
        }
        .await;
        match result {
            Ok(()) => probes.push(Probe::ok(what, "written and deleted")),
            Err(e) => probes.push(Probe::fail(what, format!("{e:#}"))),
        }
    }
}

async fn delete_and_confirm(store: &dyn store::Store, key: &str) -> Result<()> {
    store.delete(&[key.to_string()]).await?;
    if store.list(key).await?.iter().any(|k| k == key) {
        anyhow::bail!("the probe object is still listed after delete");
    }
    Ok(())
}

/// The result table printed by `edlake check`.
pub fn render(probes: &[Probe]) -> String {
    let mut table = TextTable::new(&[
        Column::left("CHECK", 5, ""),
        Column::left("RESULT", 6, "  "),
        Column::left("DETAIL", 0, "  "),
    ]);
    for p in probes {
        let result = match (p.ok, p.warning) {
            (false, _) => "FAILED",
            (true, true) => "WARN",
            (true, false) => "ok",
        };
        table.row(vec![p.what.clone(), result.to_string(), p.detail.clone()]);
    }
    table.render()
}
