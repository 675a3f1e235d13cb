//! The course_structures table: one row per block of every active course's published
//! structure, one partition (`course_id=`) per course.
//!
//! A structure is immutable and its `_id` is the course's published version, so a course
//! whose version has not moved since the last run has nothing new: its file stays as it is.
//! The versions written are recorded in `<prefix>/_edlake/course_structures/lms=<host>/
//! versions.json`, after the files; a course is skipped only when the record says so and
//! its file is in the lake.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};

use super::TableReport;
use crate::catalog::{self, CatalogColumn, Catalogs, Deletes, PartitionSpec, TableSpec};
use crate::config::{Config, CourseIndexSource, TableConfig};
use crate::encode::FileFormat;
use crate::encode::{self, Content, FileColumn};
use crate::lake::Format;
use crate::lake::Layout;
use crate::lease::Fence;
use crate::source::course_structures::index::{self, CourseIndex};
use crate::source::course_structures::modulestore::{self, ModuleStore};
use crate::source::course_structures::{
    build_rows, definitions_needed, BlockRow, CourseRef, StructureDoc,
};
use crate::source::mysql::MysqlSource;
use crate::store::{Payload, Store};
use crate::table::ColumnKind;
use tokio_util::sync::CancellationToken;

pub use crate::table::COURSE_STRUCTURES as TABLE;

/// Raised when the rows made from an unchanged structure change (new columns, a fix in the
/// tree logic): every course is then written again on the next run.
const ROWS_REVISION: u32 = 1;

/// File columns, with the MySQL-style type the typed view casts them to. Panorama's columns
/// come first, in its order (its `course_id` is the partition); edlake's additions follow.
pub const COLUMNS: &[(&str, &str)] = &[
    ("module_location", "varchar(255)"),
    ("organization", "varchar(255)"),
    ("course_code", "varchar(255)"),
    ("course_edition", "varchar(255)"),
    ("parent", "varchar(255)"),
    ("block_type", "varchar(64)"),
    ("block_id", "varchar(255)"),
    ("display_name", "longtext"),
    ("course_name", "longtext"),
    ("chapter", "longtext"),
    ("sequential", "longtext"),
    ("vertical", "longtext"),
    ("library", "longtext"),
    ("component", "longtext"),
    ("weight", "double"),
    ("position", "int(11)"),
    ("depth", "int(11)"),
    ("graded", "tinyint(1)"),
    ("format", "varchar(255)"),
    ("start", "datetime(6)"),
    ("due", "datetime(6)"),
    ("visible_to_staff_only", "tinyint(1)"),
    ("orphan", "tinyint(1)"),
    ("course_version", "varchar(24)"),
];

/// What was recorded after the last successful write of each course.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    /// The rows revision and columns the files were written with.
    fingerprint: String,
    /// course id → published version written.
    courses: BTreeMap<String, String>,
}

/// What the files were made with: a course is written again when its rows or the file
/// format change.
fn fingerprint(format: Format) -> String {
    let names: Vec<&str> = COLUMNS.iter().map(|(n, _)| *n).collect();
    let base = format!("rows-{ROWS_REVISION}:{}", names.join(","));
    match format {
        // CSV lakes written before formats existed keep their record.
        Format::Csv => base,
        other => format!("{base}:{}", other.extension()),
    }
}

fn manifest_key(layout: &Layout) -> String {
    format!("{}versions.json", layout.state_dir(TABLE))
}

/// The course_structures table as a lake table: partitioned by course, so one course's
/// new version rewrites one file.
pub fn table_config(config: &Config) -> TableConfig {
    TableConfig {
        name: crate::table::COURSE_STRUCTURES.into(),
        partition_by: vec!["course_id".into()],
        raw_table: config.course_structures.raw_table.clone(),
        view: config.course_structures.view.clone(),
        ..TableConfig::default()
    }
}

/// The catalog spec of the table.
pub fn table_spec(config: &Config) -> Result<TableSpec> {
    let table = table_config(config);
    let format = catalog::TableFormat::of(config.format_of(&table));
    let layout = config.layout();
    let mut view_order: Vec<String> = COLUMNS.iter().map(|(n, _)| n.to_string()).collect();
    // Panorama's column order: course_id second.
    view_order.insert(1, "course_id".into());
    Ok(TableSpec {
        table: TABLE.into(),
        raw_table: catalog::raw_table_name(config, &table),
        view: catalog::view_name(config, &table),
        location: catalog::lake_url(config, &layout.table_dir(TABLE))?,
        columns: COLUMNS
            .iter()
            .map(|(n, t)| catalog::spec::file_column(format, n, t))
            .collect(),
        partition_keys: catalog::spec::base_partition_keys(&layout)
            .into_iter()
            .chain([CatalogColumn::new("course_id", "varchar(255)")])
            .collect(),
        base_keys: layout.base().len(),
        view_order: Some(view_order),
        format,
        view_select: None,
        dedup: None,
    })
}

/// Extracts the table. Per-course problems (missing structure, a server error on one
/// structure) land in `report.failures` while the other courses go on; an unreachable
/// server or an unreadable course index fails the whole table.
#[allow(clippy::too_many_arguments)]
pub async fn extract(
    config: &Config,
    stop: &CancellationToken,
    mysql: Option<&MysqlSource>,
    store: &dyn Store,
    catalog: Option<&Catalogs>,
    layout: &Layout,
    full: bool,
    fence: Fence,
) -> Result<TableReport> {
    let started = Instant::now();
    let modulestore = ModuleStore::connect(config).await?;
    let job = Job {
        config,
        stop,
        mysql,
        modulestore: &modulestore,
        store,
        catalog,
        layout,
        full,
        fence,
    };
    let result = extract_with(&job).await;
    modulestore.shutdown().await;
    let mut report = result?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// What one extraction of the table works with.
struct Job<'a> {
    config: &'a Config,
    stop: &'a CancellationToken,
    mysql: Option<&'a MysqlSource>,
    modulestore: &'a ModuleStore,
    store: &'a dyn Store,
    catalog: Option<&'a Catalogs>,
    layout: &'a Layout,
    full: bool,
    /// Checked before every write that becomes visible: a run that lost the table's lease
    /// publishes nothing more.
    fence: Fence,
}

async fn extract_with(job: &Job<'_>) -> Result<TableReport> {
    let Job {
        config,
        stop,
        mysql,
        modulestore,
        store,
        catalog,
        layout,
        full,
        ref fence,
    } = *job;
    let lake_format = config.format_of(&table_config(config));
    let format = encode::format(lake_format);
    // The index query takes one of the shared pool's connection slots, like a table.
    let slot = match mysql {
        Some(m) if config.course_structures.course_index != CourseIndexSource::Mongodb => {
            Some(m.slot(stop).await?)
        }
        _ => None,
    };
    let CourseIndex {
        source,
        courses,
        invalid,
    } = index::active_courses(config, mysql, modulestore).await?;
    drop(slot);
    tracing::info!(courses = courses.len(), source, "active courses");
    let mut report = TableReport {
        table: TABLE.into(),
        ..Default::default()
    };
    for (course_id, reason) in &invalid {
        report
            .failures
            .push(format!("course {course_id}: {reason}"));
    }
    // Every course the index still lists, usable or not. A row that cannot be used this
    // run (a version that is not an ObjectId, a key that does not parse) is a failure, not
    // a removal: the course keeps its file, its Glue partition and its recorded version
    // until its row is fixed. Only courses gone from the index leave the lake.
    let listed: BTreeSet<&str> = courses
        .iter()
        .map(|c| c.course_id.as_str())
        .chain(invalid.iter().map(|(id, _)| id.as_str()))
        .collect();

    let partition_names = vec!["course_id".to_string()];
    let key_of = |course_id: &str| {
        layout.object_key(
            TABLE,
            &partition_names,
            &[Some(course_id.to_string())],
            format.extension(),
        )
    };
    let in_lake: HashSet<String> = store
        .list(&layout.base_dir(TABLE))
        .await?
        .into_iter()
        .collect();
    let manifest_key = manifest_key(layout);
    let (mut manifest, manifest_tag) = read_manifest(store, &manifest_key).await?;
    if manifest.fingerprint != fingerprint(lake_format) {
        manifest.courses.clear();
    }

    let (unchanged, changed): (Vec<&CourseRef>, Vec<&CourseRef>) = courses.iter().partition(|c| {
        !full
            && manifest.courses.get(&c.course_id) == Some(&c.version.to_hex())
            && in_lake.contains(&key_of(&c.course_id))
    });
    report.unchanged = unchanged.len();
    tracing::info!(
        changed = changed.len(),
        unchanged = unchanged.len(),
        "course structures to extract"
    );

    let mut written: HashMap<String, String> = HashMap::new();
    // Data warnings (a problem whose weight is unknown) and orphan blocks are logged per
    // course as they come, and summed up once the courses are written.
    let (mut warnings, mut orphans) = (0usize, 0usize);
    for batch in changed.chunks(config.course_structures.batch_size) {
        crate::shutdown::check(stop)?;
        let fetched: Vec<_> = fetch_batch(modulestore, batch, &mut report)
            .await?
            .into_iter()
            .map(|(course, structure, definitions)| (course.clone(), structure, definitions))
            .collect();
        // The tree logic and the encoding are CPU work: off the async threads.
        let built = tokio::task::spawn_blocking(move || {
            fetched
                .into_iter()
                .map(|(course, structure, definitions)| {
                    let built = build_rows(&course, &structure, &definitions).and_then(|rows| {
                        let file = encode_rows(format, &course, &rows.rows)?;
                        Ok((rows, file))
                    });
                    (course, built)
                })
                .collect::<Vec<_>>()
        })
        .await?;
        let mut payloads = Vec::with_capacity(built.len());
        for (course, built) in built {
            match built {
                Ok((rows, csv)) => {
                    for w in &rows.warnings {
                        tracing::warn!(course = %course.course_id, "{w}");
                    }
                    if rows.orphans > 0 {
                        tracing::warn!(
                            course = %course.course_id, orphans = rows.orphans,
                            "blocks not reachable from the course root (exported with orphan = true)"
                        );
                    }
                    warnings += rows.warnings.len();
                    orphans += rows.orphans;
                    report.rows += rows.rows.len() as u64;
                    payloads.push((course, csv));
                }
                Err(e) => report
                    .failures
                    .push(format!("course {}: {e:#}", course.course_id)),
            }
        }
        fence.check()?;
        futures::stream::iter(payloads)
            .map(|(course, csv)| {
                let key = key_of(&course.course_id);
                async move {
                    fence.check()?;
                    let bytes = csv.len() as u64;
                    store
                        .put(&key, Payload::Bytes(csv))
                        .await
                        .with_context(|| format!("writing {key}"))?;
                    Ok::<_, anyhow::Error>((course, bytes))
                }
            })
            .buffer_unordered(config.datalake.upload_concurrency)
            .try_for_each(|(course, bytes)| {
                report.bytes += bytes;
                report.files += 1;
                written.insert(course.course_id.clone(), course.version.to_hex());
                futures::future::ready(Ok(()))
            })
            .await?;
    }

    if warnings > 0 || orphans > 0 {
        tracing::info!(
            warnings,
            orphans,
            "course structures written with data warnings or orphan blocks (see above)"
        );
    }

    // Record what the lake now holds: the versions just written, the unchanged ones, and
    // for a failed course (unreadable structure or unusable index row) its previous
    // version (its old file stays until it succeeds).
    let mut next = Manifest {
        fingerprint: fingerprint(lake_format),
        courses: BTreeMap::new(),
    };
    for &id in &listed {
        let version = written
            .get(id)
            .or_else(|| manifest.courses.get(id))
            .cloned();
        if let Some(v) = version {
            next.courses.insert(id.to_string(), v);
        }
    }
    let json = serde_json::to_vec_pretty(&next).expect("manifest serializes");
    fence.check()?;
    // Over the version read at the start only: another process that took the table over
    // meanwhile owns the record now.
    let swapped = store
        .put_if(&manifest_key, Bytes::from(json), manifest_tag.as_deref())
        .await
        .with_context(|| format!("writing {manifest_key}"))?;
    anyhow::ensure!(
        swapped.is_some(),
        "the version record {manifest_key} changed during this run: another edlake took the table over (this one stalled past lease.ttl); nothing more was published"
    );

    let present: Vec<&str> = listed
        .iter()
        .copied()
        .filter(|id| written.contains_key(*id) || in_lake.contains(&key_of(id)))
        .collect();
    report.partitions = present.len();
    if let Some(catalog) = catalog {
        let registered = present
            .iter()
            .map(|id| {
                let values = [Some(id.to_string())];
                Ok(PartitionSpec {
                    values: catalog::partition_values(layout, &values),
                    location: catalog::lake_url(
                        config,
                        &layout.partition_dir(TABLE, &partition_names, &values),
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        fence.check()?;
        let synced = catalog
            .sync_table(&table_spec(config)?, &registered, Deletes::Listed, false)
            .await
            .context("catalog")?;
        tracing::info!(table = TABLE, catalogs = %catalog.describe(), "catalog: {}", synced.summary());
        report.catalog = Some(synced);
    }
    // Courses no longer listed (deleted, or no longer published) leave the lake, and so do
    // another spelling's folders of a listed course (Panorama's `%2B`): only now that the
    // catalogs point at this run's folders, so no course reads as empty meanwhile.
    let listed_keys: HashSet<String> = listed.iter().map(|id| key_of(id)).collect();
    let stale: Vec<String> = in_lake
        .iter()
        // Any format's: after a switch of format, the other format's files go too.
        .filter(|k| Format::is_table_file(k) && !listed_keys.contains(*k))
        .cloned()
        .collect();
    if !stale.is_empty() {
        fence.check()?;
        tracing::info!(
            count = stale.len(),
            "removing course structures of inactive courses"
        );
        store.delete(&stale).await?;
    }
    report.stale_removed = stale.len();
    Ok(report)
}

/// Structures and the definitions their problems need, for one batch of courses. A
/// failing batch query is retried course by course, so one bad structure (over 16 MB, not
/// decodable) fails only its course.
async fn fetch_batch<'a>(
    modulestore: &ModuleStore,
    batch: &[&'a CourseRef],
    report: &mut TableReport,
) -> Result<
    Vec<(
        &'a CourseRef,
        StructureDoc,
        HashMap<ObjectId, crate::source::course_structures::DefinitionData>,
    )>,
> {
    let ids: Vec<ObjectId> = batch.iter().map(|c| c.version).collect();
    let structures = match modulestore.structures(&ids).await {
        Ok(s) => s,
        Err(e) if modulestore::is_connection_error(&e) => return Err(e),
        Err(e) if batch.len() == 1 => {
            report
                .failures
                .push(format!("course {}: {e:#}", batch[0].course_id));
            return Ok(Vec::new());
        }
        Err(e) => {
            tracing::warn!("{e:#}; fetching this batch's structures one by one");
            let mut out = Vec::new();
            for course in batch {
                out.extend(Box::pin(fetch_batch(modulestore, &[*course], report)).await?);
            }
            return Ok(out);
        }
    };
    let mut by_id: HashMap<ObjectId, StructureDoc> =
        structures.into_iter().map(|s| (s.id, s)).collect();
    let needed: HashSet<ObjectId> = by_id.values().flat_map(definitions_needed).collect();
    let needed: Vec<ObjectId> = needed.into_iter().collect();
    let definitions = if needed.is_empty() {
        HashMap::new()
    } else {
        modulestore.definitions(&needed).await?
    };
    let mut out = Vec::with_capacity(batch.len());
    for course in batch {
        match by_id.remove(&course.version) {
            Some(structure) => {
                // Each course gets only its own definitions.
                let own: HashMap<_, _> = definitions_needed(&structure)
                    .into_iter()
                    .filter_map(|id| definitions.get(&id).map(|d| (id, d.clone())))
                    .collect();
                out.push((*course, structure, own));
            }
            None => report.failures.push(format!(
                "course {}: its published structure {} is not in modulestore.structures (run edlake again after the next publish, or check the course in Studio)",
                course.course_id, course.version
            )),
        }
    }
    Ok(out)
}

/// One course's file, in the lake's format.
pub fn encode_rows(
    format: &dyn FileFormat,
    course: &CourseRef,
    rows: &[BlockRow],
) -> std::io::Result<Bytes> {
    // Each column's kind from its MySQL-style type, as for a MySQL table.
    let columns: Vec<FileColumn> = COLUMNS
        .iter()
        .map(|(name, ty)| FileColumn {
            name,
            kind: ColumnKind::from_mysql(ty.split('(').next().unwrap_or(ty)),
            column_type: ty,
        })
        .collect();
    let mut file = format.new_file(&columns);
    let version = course.version.to_hex();
    let flag = |b: bool| Some(if b { &b"1"[..] } else { &b"0"[..] });
    fn text(v: &Option<String>) -> Option<&[u8]> {
        v.as_deref().map(str::as_bytes)
    }
    for r in rows {
        let position = r.position.map(|p| p.to_string());
        let depth = r.depth.map(|d| d.to_string());
        let values: [Option<&[u8]>; 24] = [
            Some(r.module_location.as_bytes()),
            Some(course.org.as_bytes()),
            Some(course.course.as_bytes()),
            Some(course.run.as_bytes()).filter(|r| !r.is_empty()),
            text(&r.parent),
            Some(r.block_type.as_bytes()),
            Some(r.block_id.as_bytes()),
            text(&r.display_name),
            text(&r.course_name),
            text(&r.chapter),
            text(&r.sequential),
            text(&r.vertical),
            text(&r.library),
            text(&r.component),
            text(&r.weight),
            text(&position),
            text(&depth),
            flag(r.graded),
            text(&r.format),
            text(&r.start),
            text(&r.due),
            flag(r.visible_to_staff_only),
            flag(r.orphan),
            Some(version.as_bytes()),
        ];
        file.push_row(&values);
    }
    match file.finish(None)?.content {
        Content::Bytes(bytes) => Ok(Bytes::from(bytes)),
        Content::File(_) => unreachable!("a file never spilled is made in memory"),
    }
}

/// The version record and its version tag, which the next record must replace (an
/// unreadable record reads as empty: every course is extracted again).
async fn read_manifest(store: &dyn Store, key: &str) -> Result<(Manifest, Option<String>)> {
    let Some((bytes, tag)) = store
        .get_versioned(key)
        .await
        .with_context(|| format!("reading the version record {key}"))?
    else {
        return Ok((Manifest::default(), None));
    };
    let manifest = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        tracing::warn!(
            key,
            "unreadable version record ({e}); every course is extracted again"
        );
        Manifest::default()
    });
    Ok((manifest, Some(tag)))
}

#[cfg(test)]
mod tests;
