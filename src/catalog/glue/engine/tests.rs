//! The sync engine against the stub backends (catalog/stubs.rs): batching, paging, what
//! is deleted when, per-partition errors, schema drift, dry runs and views.

use async_trait::async_trait;

use super::*;
use crate::catalog::api::{CatalogColumn, QueryState, Relist, TableFormat};
use crate::catalog::stubs::{polling, to_glue, StubAthena, StubGlue};

const LMS: &str = "lms.example.com";

fn catalog(glue: &Arc<StubGlue>, athena: &Arc<StubAthena>) -> GlueCatalog {
    GlueCatalog::new(
        glue.clone(),
        athena.clone(),
        "panorama",
        &[crate::lake::BasePartition::new("lms", LMS)],
        polling(),
    )
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
        base_keys: 1,
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
