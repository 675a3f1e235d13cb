//! The catalog against stubs that enforce what the emulator does not: Glue's batch limits,
//! its paging, per-partition errors, and Athena's FAILED queries.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::config::TableConfig;

#[derive(Default)]
struct GlueState {
    databases: Vec<String>,
    tables: HashMap<String, TableDefinition>,
    partitions: HashMap<String, BTreeMap<Vec<String>, GluePartition>>,
    calls: BTreeMap<&'static str, u64>,
}

/// An in-memory Glue with AWS's limits: ≤ 100 partitions per create/update, ≤ 25 per
/// delete, `page_size` partitions per GetPartitions page.
struct StubGlue {
    state: Mutex<GlueState>,
    page_size: usize,
    /// Partition values containing this string are refused with InvalidInputException.
    refuse: Option<String>,
}

impl StubGlue {
    fn new(page_size: usize) -> StubGlue {
        StubGlue {
            state: Mutex::new(GlueState::default()),
            page_size,
            refuse: None,
        }
    }

    fn count(&self, op: &'static str) {
        *self.state.lock().unwrap().calls.entry(op).or_default() += 1;
    }

    fn calls(&self, op: &'static str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .calls
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    fn total_calls(&self) -> u64 {
        self.state.lock().unwrap().calls.values().sum()
    }

    fn writes(&self) -> u64 {
        let s = self.state.lock().unwrap();
        s.calls
            .iter()
            .filter(|(k, _)| !k.starts_with("Get") && **k != "GetDatabase")
            .map(|(_, v)| v)
            .sum()
    }

    fn reset_calls(&self) {
        self.state.lock().unwrap().calls.clear();
    }

    fn partition_values(&self, table: &str) -> Vec<Vec<String>> {
        self.state
            .lock()
            .unwrap()
            .partitions
            .get(table)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn partition(&self, table: &str, values: &[String]) -> GluePartition {
        self.state.lock().unwrap().partitions[table][values].clone()
    }

    fn put_view(&self, name: &str) {
        self.state.lock().unwrap().tables.insert(
            name.into(),
            TableDefinition {
                table_type: VIRTUAL_VIEW.into(),
                columns: vec![],
                partition_keys: vec![],
                location: String::new(),
                serde_library: String::new(),
                serde_parameters: BTreeMap::new(),
                parameters: BTreeMap::new(),
            },
        );
    }

    fn insert_partition(&self, table: &str, p: GluePartition) {
        self.state
            .lock()
            .unwrap()
            .partitions
            .entry(table.into())
            .or_default()
            .insert(p.values.clone(), p);
    }
}

fn to_glue(def: &TableDefinition, p: &PartitionSpec) -> GluePartition {
    GluePartition {
        values: p.values.clone(),
        location: p.location.clone(),
        columns: def.columns.clone(),
        serde_library: def.serde_library.clone(),
    }
}

#[async_trait]
impl GlueApi for StubGlue {
    async fn database_exists(&self, database: &str) -> Result<bool> {
        self.count("GetDatabase");
        Ok(self
            .state
            .lock()
            .unwrap()
            .databases
            .contains(&database.to_string()))
    }

    async fn create_database(&self, database: &str) -> Result<()> {
        self.count("CreateDatabase");
        self.state
            .lock()
            .unwrap()
            .databases
            .push(database.to_string());
        Ok(())
    }

    async fn get_table(&self, _db: &str, table: &str) -> Result<Option<TableDefinition>> {
        self.count("GetTable");
        Ok(self.state.lock().unwrap().tables.get(table).cloned())
    }

    async fn create_table(&self, _db: &str, table: &str, def: &TableDefinition) -> Result<()> {
        self.count("CreateTable");
        let mut s = self.state.lock().unwrap();
        if s.tables.contains_key(table) {
            bail!("AlreadyExistsException");
        }
        s.tables.insert(table.into(), def.clone());
        Ok(())
    }

    async fn update_table(&self, _db: &str, table: &str, def: &TableDefinition) -> Result<()> {
        self.count("UpdateTable");
        let mut s = self.state.lock().unwrap();
        if !s.tables.contains_key(table) {
            bail!("EntityNotFoundException");
        }
        s.tables.insert(table.into(), def.clone());
        Ok(())
    }

    async fn get_partitions(
        &self,
        _db: &str,
        table: &str,
        expression: &str,
        next_token: Option<String>,
    ) -> Result<PartitionPage> {
        self.count("GetPartitions");
        let lms = expression
            .strip_prefix("lms = '")
            .and_then(|e| e.strip_suffix('\''))
            .expect("filtered by lms")
            .replace("''", "'");
        let s = self.state.lock().unwrap();
        let all: Vec<GluePartition> = s
            .partitions
            .get(table)
            .map(|p| p.values().filter(|p| p.values[0] == lms).cloned().collect())
            .unwrap_or_default();
        let start: usize = next_token.map(|t| t.parse().unwrap()).unwrap_or(0);
        let end = (start + self.page_size).min(all.len());
        Ok(PartitionPage {
            partitions: all[start..end].to_vec(),
            next_token: (end < all.len()).then(|| end.to_string()),
        })
    }

    async fn batch_create_partition(
        &self,
        _db: &str,
        table: &str,
        def: &TableDefinition,
        partitions: &[PartitionSpec],
    ) -> Result<Vec<PartitionFailure>> {
        self.count("BatchCreatePartition");
        if partitions.len() > MAX_CREATE_BATCH {
            bail!("ValidationException: more than 100 partitions");
        }
        let mut s = self.state.lock().unwrap();
        let existing = s.partitions.entry(table.into()).or_default();
        let mut failures = Vec::new();
        for p in partitions {
            if let Some(bad) = &self.refuse {
                if p.values.iter().any(|v| v.contains(bad.as_str())) {
                    failures.push(PartitionFailure {
                        values: p.values.clone(),
                        code: "InvalidInputException".into(),
                        message: "bad value".into(),
                    });
                    continue;
                }
            }
            if existing.contains_key(&p.values) {
                failures.push(PartitionFailure {
                    values: p.values.clone(),
                    code: "AlreadyExistsException".into(),
                    message: "Partition already exists.".into(),
                });
                continue;
            }
            existing.insert(p.values.clone(), to_glue(def, p));
        }
        Ok(failures)
    }

    async fn batch_update_partition(
        &self,
        _db: &str,
        table: &str,
        def: &TableDefinition,
        partitions: &[PartitionSpec],
    ) -> Result<Vec<PartitionFailure>> {
        self.count("BatchUpdatePartition");
        if partitions.len() > MAX_UPDATE_BATCH {
            bail!("ValidationException: more than 100 entries");
        }
        let mut s = self.state.lock().unwrap();
        let existing = s.partitions.entry(table.into()).or_default();
        for p in partitions {
            existing.insert(p.values.clone(), to_glue(def, p));
        }
        Ok(vec![])
    }

    async fn batch_delete_partition(
        &self,
        _db: &str,
        table: &str,
        values: &[Vec<String>],
    ) -> Result<Vec<PartitionFailure>> {
        self.count("BatchDeletePartition");
        if values.len() > MAX_DELETE_BATCH {
            bail!("ValidationException: more than 25 partitions");
        }
        let mut s = self.state.lock().unwrap();
        let existing = s.partitions.entry(table.into()).or_default();
        for v in values {
            existing.remove(v);
        }
        Ok(vec![])
    }
}

/// Athena that answers each status poll from a script (then SUCCEEDED) and records queries.
#[derive(Default)]
struct StubAthena {
    script: Mutex<VecDeque<QueryStatus>>,
    queries: Mutex<Vec<String>>,
    stopped: Mutex<Vec<String>>,
}

impl StubAthena {
    fn scripted(states: &[(QueryState, Option<&str>)]) -> StubAthena {
        let a = StubAthena::default();
        *a.script.lock().unwrap() = states
            .iter()
            .map(|(state, reason)| QueryStatus {
                state: *state,
                reason: reason.map(str::to_string),
            })
            .collect();
        a
    }

    fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

#[async_trait]
impl AthenaApi for StubAthena {
    async fn start_query(&self, sql: &str) -> Result<String> {
        let mut q = self.queries.lock().unwrap();
        q.push(sql.to_string());
        Ok(format!("q{}", q.len()))
    }

    async fn query_status(&self, _id: &str) -> Result<QueryStatus> {
        Ok(self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(QueryStatus {
                state: QueryState::Succeeded,
                reason: None,
            }))
    }

    async fn stop_query(&self, id: &str) -> Result<()> {
        self.stopped.lock().unwrap().push(id.to_string());
        Ok(())
    }
}

const LMS: &str = "lms.example.com";

fn polling() -> Polling {
    Polling {
        first: Duration::from_millis(1),
        max: Duration::from_millis(2),
        timeout: Duration::from_millis(200),
    }
}

fn catalog(glue: &Arc<StubGlue>, athena: &Arc<StubAthena>) -> Catalog {
    Catalog::new(glue.clone(), athena.clone(), "panorama", LMS, polling())
}

fn spec(columns: &[(&str, &str)]) -> TableSpec {
    TableSpec {
        table: "courseware_studentmodule".into(),
        raw_table: "openedx_raw_courseware_studentmodule".into(),
        view: "openedx_table_courseware_studentmodule".into(),
        location: "s3://lake/openedx/courseware_studentmodule/".into(),
        columns: columns
            .iter()
            .map(|(n, t)| CatalogColumn::new(n, t))
            .collect(),
        partition_keys: vec![
            CatalogColumn::new("lms", "varchar(255)"),
            CatalogColumn::new("course_id", "varchar(255)"),
        ],
        view_order: None,
        format: TableFormat::Csv,
        view_select: None,
        dedup: None,
    }
}

fn base_spec() -> TableSpec {
    spec(&[
        ("id", "int(11)"),
        ("state", "longtext"),
        ("modified", "datetime(6)"),
    ])
}

fn partitions(lms: &str, n: usize) -> Vec<PartitionSpec> {
    (0..n)
        .map(|i| {
            let course = format!("course-v1:Org+C{i}+Run");
            PartitionSpec {
                values: vec![lms.to_string(), course.clone()],
                location: format!(
                    "s3://lake/openedx/courseware_studentmodule/lms={lms}/course_id={}/",
                    crate::lake::escape_path_name(&course)
                ),
            }
        })
        .collect()
}

#[tokio::test]
async fn five_thousand_new_partitions_in_at_most_sixty_calls_and_a_rerun_writes_nothing() {
    let glue = Arc::new(StubGlue::new(1000));
    let athena = Arc::new(StubAthena::default());
    let cat = catalog(&glue, &athena);
    let spec = base_spec();
    let desired = partitions(LMS, 5000);

    let report = cat
        .sync_table(&spec, &desired, Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(report.created, 5000);
    assert_eq!(glue.partition_values(&spec.raw_table).len(), 5000);
    assert_eq!(
        glue.calls("BatchCreatePartition"),
        50,
        "chunks of exactly 100"
    );
    assert!(
        glue.total_calls() <= 60,
        "{} Glue calls",
        glue.total_calls()
    );
    assert_eq!(report.glue_calls, glue.total_calls());
    assert_eq!(athena.queries().len(), 1, "one view statement");

    // Athena records the view in Glue; a rerun with nothing new writes nothing.
    glue.put_view(&spec.view);
    glue.reset_calls();
    let report = cat
        .sync_table(&spec, &desired, Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(glue.writes(), 0, "{:?}", glue.state.lock().unwrap().calls);
    assert_eq!((report.created, report.updated, report.deleted), (0, 0, 0));
    assert_eq!(athena.queries().len(), 1, "no Athena query on a rerun");
    assert_eq!(glue.calls("GetPartitions"), 5, "five pages of 1000");
    assert!(report.operations.is_empty(), "{:?}", report.operations);
}

#[tokio::test]
async fn listing_follows_next_token_to_the_end() {
    let glue = Arc::new(StubGlue::new(3));
    let athena = Arc::new(StubAthena::default());
    let cat = catalog(&glue, &athena);
    let spec = base_spec();
    let desired = partitions(LMS, 10);
    cat.sync_table(&spec, &desired, Deletes::Listed, false)
        .await
        .unwrap();
    glue.put_view(&spec.view);
    glue.reset_calls();

    // Were a page missed, its partitions would be created again or left stale.
    let report = cat
        .sync_table(&spec, &desired[..9], Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(glue.calls("GetPartitions"), 4, "pages of 3, 3, 3, 1");
    assert_eq!((report.created, report.deleted), (0, 1));
    assert_eq!(glue.partition_values(&spec.raw_table).len(), 9);
}

/// The lake as a later listing sees it.
struct Listing(Vec<PartitionSpec>);

#[async_trait]
impl Relist for Listing {
    async fn relist(&self) -> Result<Vec<PartitionSpec>> {
        Ok(self.0.clone())
    }
}

#[tokio::test]
async fn a_partition_is_deleted_only_when_proven_stale() {
    let glue = Arc::new(StubGlue::new(1000));
    let athena = Arc::new(StubAthena::default());
    let cat = catalog(&glue, &athena);
    let spec = base_spec();
    let all = partitions(LMS, 4);
    cat.sync_table(&spec, &all, Deletes::Listed, false)
        .await
        .unwrap();
    // A shipper whose listing predates another replica's two new partitions: it adds, and
    // deletes nothing.
    let report = cat
        .sync_table(&spec, &all[..2], Deletes::Never, false)
        .await
        .unwrap();
    assert_eq!(report.deleted, 0);
    assert_eq!(glue.partition_values(&spec.raw_table).len(), 4);
    // A sync under the lease lists again after reading Glue: the partition whose files
    // appeared meanwhile stays, the one still missing goes.
    let later = Listing(all[..3].to_vec());
    let report = cat
        .sync_table(&spec, &all[..2], Deletes::Relist(&later), false)
        .await
        .unwrap();
    assert_eq!(report.deleted, 1);
    let left = glue.partition_values(&spec.raw_table);
    assert_eq!(left.len(), 3);
    assert!(!left.contains(&all[3].values), "{left:?}");
}

#[tokio::test]
async fn stale_partitions_go_in_batches_of_25_and_other_lms_stay() {
    let glue = Arc::new(StubGlue::new(1000));
    let athena = Arc::new(StubAthena::default());
    let cat = catalog(&glue, &athena);
    let spec = base_spec();
    let other = partitions("other.example.com", 3);
    let def = TableDefinition::raw_table(&spec, spec.columns.clone());
    cat.sync_table(&spec, &partitions(LMS, 60), Deletes::Listed, false)
        .await
        .unwrap();
    for p in &other {
        glue.insert_partition(&spec.raw_table, to_glue(&def, p));
    }
    glue.reset_calls();

    let report = cat
        .sync_table(&spec, &partitions(LMS, 5), Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(report.deleted, 55);
    assert_eq!(glue.calls("BatchDeletePartition"), 3, "25 + 25 + 5");
    let left = glue.partition_values(&spec.raw_table);
    assert_eq!(left.len(), 5 + 3);
    assert_eq!(
        left.iter().filter(|v| v[0] == "other.example.com").count(),
        3
    );
}

#[tokio::test]
async fn an_existing_partition_is_success_and_any_other_error_names_the_partition() {
    let glue = Arc::new(StubGlue::new(1000));
    let athena = Arc::new(StubAthena::default());
    let cat = catalog(&glue, &athena);
    let spec = base_spec();
    let desired = partitions(LMS, 4);
    // Created behind edlake's back between its listing and its create.
    let def = TableDefinition::raw_table(&spec, spec.columns.clone());
    cat.sync_table(&spec, &[], Deletes::Listed, false)
        .await
        .unwrap();
    let plan = plan_partitions(&[], &desired, &def);
    glue.batch_create_partition("panorama", &spec.raw_table, &def, &plan.create[..2])
        .await
        .unwrap();
    let failures = cat
        .apply_partitions(&spec, &def, plan, false, &mut SyncReport::default())
        .await;
    assert!(failures.is_ok(), "{failures:?}");
    assert_eq!(glue.partition_values(&spec.raw_table).len(), 4);

    let glue = Arc::new(StubGlue {
        refuse: Some("C7".into()),
        ..StubGlue::new(1000)
    });
    let cat = catalog(&glue, &athena);
    let err = cat
        .sync_table(&spec, &partitions(LMS, 10), Deletes::Listed, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Glue refused to create 1 partition(s)"),
        "{err}"
    );
    assert!(
        err.contains("lms=lms.example.com/course_id=course-v1:Org+C7+Run"),
        "{err}"
    );
    assert!(err.contains("InvalidInputException"), "{err}");
}

#[tokio::test]
async fn moved_locations_and_appended_columns_rewrite_partitions() {
    let glue = Arc::new(StubGlue::new(1000));
    let athena = Arc::new(StubAthena::default());
    let cat = catalog(&glue, &athena);
    let spec = base_spec();
    let mut desired = partitions(LMS, 3);
    // Panorama registered this one under a percent-encoded `+`.
    desired[0].location = desired[0].location.replace('+', "%2B");
    cat.sync_table(&spec, &desired, Deletes::Listed, false)
        .await
        .unwrap();
    glue.put_view(&spec.view);

    let desired = partitions(LMS, 3);
    let report = cat
        .sync_table(&spec, &desired, Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (0, 1));
    let p = glue.partition(&spec.raw_table, &desired[0].values);
    assert_eq!(p.location, desired[0].location);

    // An upgrade adds a column in the middle of the MySQL table: it is appended.
    let grown = spec_with(&[
        ("id", "int(11)"),
        ("grade", "double"),
        ("state", "longtext"),
        ("modified", "datetime(6)"),
    ]);
    let queries_before = athena.queries().len();
    let report = cat
        .sync_table(&grown, &desired, Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(report.added_columns, vec!["grade"]);
    assert_eq!(report.updated, 3, "partitions carry the new column list");
    let table = glue.state.lock().unwrap().tables[&spec.raw_table].clone();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "state", "modified", "grade"]);
    assert_eq!(
        glue.partition(&spec.raw_table, &desired[1].values).columns,
        table.columns
    );
    assert_eq!(athena.queries().len(), queries_before + 1, "view replaced");
    assert!(athena.queries().last().unwrap().contains("\"grade\""));

    // A column dropped upstream keeps its place (read as NULL).
    let shrunk = spec_with(&[("id", "int(11)"), ("modified", "datetime(6)")]);
    let report = cat
        .sync_table(&shrunk, &desired, Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(report.absent_columns, vec!["state", "grade"]);
    let table = glue.state.lock().unwrap().tables[&spec.raw_table].clone();
    assert_eq!(table.columns.len(), 4);
}

fn spec_with(columns: &[(&str, &str)]) -> TableSpec {
    spec(columns)
}

#[tokio::test]
async fn a_dry_run_reads_but_never_writes() {
    let glue = Arc::new(StubGlue::new(1000));
    let athena = Arc::new(StubAthena::default());
    let cat = catalog(&glue, &athena);
    let spec = base_spec();
    assert_eq!(
        cat.ensure_database(true).await.unwrap().as_deref(),
        Some("create database panorama")
    );
    let report = cat
        .sync_table(&spec, &partitions(LMS, 250), Deletes::Listed, true)
        .await
        .unwrap();
    assert_eq!(glue.writes(), 0);
    assert!(athena.queries().is_empty());
    assert_eq!(
        report.operations,
        vec![
            "create table panorama.openedx_raw_courseware_studentmodule",
            "create 250 partitions in panorama.openedx_raw_courseware_studentmodule",
            "create or replace view panorama.openedx_table_courseware_studentmodule",
        ]
    );
}

#[tokio::test]
async fn the_view_is_replaced_when_its_statement_changes_or_it_is_gone() {
    let glue = Arc::new(StubGlue::new(1000));
    let athena = Arc::new(StubAthena::default());
    let cat = catalog(&glue, &athena);
    let spec = base_spec();
    cat.sync_table(&spec, &[], Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(athena.queries().len(), 1);
    // Not recorded by Athena (dropped by someone): created again.
    cat.sync_table(&spec, &[], Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(athena.queries().len(), 2);
    glue.put_view(&spec.view);
    cat.sync_table(&spec, &[], Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(athena.queries().len(), 2);
    // Renamed view: new statement.
    let mut renamed = base_spec();
    renamed.view = "dash_view".into();
    glue.put_view("dash_view");
    cat.sync_table(&renamed, &[], Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(athena.queries().len(), 3);
}

#[tokio::test]
async fn a_failed_view_is_an_error_with_athenas_reason() {
    let glue = Arc::new(StubGlue::new(1000));
    let athena = Arc::new(StubAthena::scripted(&[
        (QueryState::Queued, None),
        (QueryState::Running, None),
        (
            QueryState::Failed,
            Some("line 1:8: Column 'x' cannot be resolved"),
        ),
    ]));
    let cat = catalog(&glue, &athena);
    let err = cat
        .sync_table(&base_spec(), &[], Deletes::Listed, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("creating view panorama.openedx_table_courseware_studentmodule FAILED"),
        "{err}"
    );
    assert!(err.contains("Column 'x' cannot be resolved"), "{err}");
    // The hash is recorded only after success, so the next run tries again.
    let table = glue.state.lock().unwrap().tables["openedx_raw_courseware_studentmodule"].clone();
    assert!(!table.parameters.contains_key(VIEW_HASH_PARAMETER));
}

#[tokio::test]
async fn queries_survive_requeueing_and_time_out_with_a_stop() {
    let athena = StubAthena::scripted(&[
        (QueryState::Running, None),
        (QueryState::Queued, None),
        (QueryState::Running, None),
    ]);
    glue::athena::wait_for(&athena, "SELECT 1", "probing", polling())
        .await
        .unwrap();

    let athena = StubAthena::scripted(&[(QueryState::Cancelled, Some("user cancelled"))]);
    let err = glue::athena::wait_for(&athena, "SELECT 1", "probing", polling())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("was CANCELLED: user cancelled"), "{err}");

    let forever: Vec<_> = (0..10_000).map(|_| (QueryState::Running, None)).collect();
    let athena = StubAthena::scripted(&forever);
    let err = glue::athena::wait_for(&athena, "SELECT 1", "probing", polling())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did not finish within"), "{err}");
    assert_eq!(athena.stopped.lock().unwrap().as_slice(), ["q1"]);
}

#[test]
fn merge_appends_new_columns_and_keeps_gone_ones() {
    let cols = |names: &[&str]| -> Vec<CatalogColumn> {
        names.iter().map(|n| CatalogColumn::new(n, "int")).collect()
    };
    let (merged, added, absent) = merge_columns(&cols(&["a", "b", "c"]), &cols(&["c", "d", "a"]));
    let names: Vec<_> = merged.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    assert_eq!(added, ["d"]);
    assert_eq!(absent, ["b"]);
    let (merged, added, _) = merge_columns(&[], &cols(&["X", "y"]));
    assert_eq!(merged[0].name, "x");
    assert_eq!(added, ["x", "y"]);
}

#[test]
fn partitions_come_from_the_lake_keys() {
    let config: Config = toml::from_str(
        r#"
        lms_host = "lms.example.com"
        [mysql]
        url = "mysql://u@h/db"
        [datalake]
        url = "s3://bucket/root"
        "#,
    )
    .unwrap();
    let table: TableConfig =
        toml::from_str("name = 'courseware_studentmodule'\npartition_by = 'course_id'").unwrap();
    let dir = "openedx/courseware_studentmodule/lms=lms.example.com/";
    let keys = vec![
        format!("{dir}course_id=course-v1%3AOrg+X+Run/courseware_studentmodule.csv"),
        format!("{dir}course_id=course-v1%3AOrg+X+Run/delta-1.csv"),
        format!("{dir}course_id=__HIVE_DEFAULT_PARTITION__/courseware_studentmodule.csv"),
        format!("{dir}courseware_studentmodule.csv"),
        format!("{dir}course_id=a/extra=b/courseware_studentmodule.csv"),
        format!("{dir}course_id=a/notes.txt"),
    ];
    let found = partitions_from_keys(&config, &table, &keys).unwrap();
    assert_eq!(
        found,
        vec![
            PartitionSpec {
                values: vec![
                    "lms.example.com".into(),
                    "__HIVE_DEFAULT_PARTITION__".into()
                ],
                location: format!("s3://bucket/root/{dir}course_id=__HIVE_DEFAULT_PARTITION__/"),
            },
            PartitionSpec {
                values: vec!["lms.example.com".into(), "course-v1:Org+X+Run".into()],
                location: format!("s3://bucket/root/{dir}course_id=course-v1%3AOrg+X+Run/"),
            },
        ]
    );
}
