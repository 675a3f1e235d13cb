use std::sync::Arc;

use super::*;
use crate::catalog::api::Dedup;
use crate::store::local::LocalStore;

fn spec(table: &str, columns: &[(&str, &str)]) -> TableSpec {
    TableSpec {
        table: table.into(),
        raw_table: format!("openedx_raw_{table}"),
        view: format!("openedx_table_{table}"),
        location: format!("/lake/openedx/{table}/"),
        columns: columns
            .iter()
            .map(|(n, t)| CatalogColumn::new(n, t))
            .collect(),
        partition_keys: vec![CatalogColumn::new("lms", "varchar(255)")],
        base_keys: 1,
        view_order: None,
        format: TableFormat::Csv,
        view_select: None,
        dedup: None,
    }
}

fn partition() -> Vec<PartitionSpec> {
    vec![PartitionSpec {
        values: vec!["lms.example.com".into()],
        location: "/lake/openedx/t/lms=lms.example.com/".into(),
    }]
}

fn catalog(dir: &std::path::Path) -> DuckDbCatalog {
    let store = Arc::new(LocalStore::new(dir).unwrap());
    DuckDbCatalog::new(store, "openedx.duckdb.sql", "/lake", "panorama")
}

fn text(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("openedx.duckdb.sql")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_writes_both_views_once_and_appends_new_columns() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path());
    let t = spec("t", &[("id", "int(11)"), ("name", "varchar(10)")]);
    let report = catalog
        .sync_table(&t, &partition(), Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(report.table_change, Some("created"));
    let first = text(dir.path());
    assert!(first.contains(r#"CREATE OR REPLACE VIEW "panorama"."openedx_raw_t" AS"#));
    assert!(first.contains(r#"CREATE OR REPLACE VIEW "panorama"."openedx_table_t" AS"#));
    assert!(first.contains(
        r#"read_csv(COALESCE(getvariable('edlake_lake'), '/lake') || '/openedx/t/' || 'lms=*/*.csv'"#
    ));

    // Unchanged: no write, no operation.
    let again = catalog
        .sync_table(&t, &partition(), Deletes::Listed, false)
        .await
        .unwrap();
    assert!(again.operations.is_empty() && again.table_change.is_none());
    assert_eq!(text(dir.path()), first);

    // The source gains a column before `name`: it is appended, as in Glue.
    let t2 = spec(
        "t",
        &[
            ("id", "int(11)"),
            ("grade", "double"),
            ("name", "varchar(10)"),
        ],
    );
    let existing = catalog
        .existing_table("openedx_raw_t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(existing.columns.len(), 2);
    assert_eq!(existing.format, Some(TableFormat::Csv));
    let report = catalog
        .sync_table(&t2, &partition(), Deletes::Listed, false)
        .await
        .unwrap();
    assert_eq!(report.added_columns, ["grade"]);
    let names: Vec<String> = catalog
        .existing_table("openedx_raw_t")
        .await
        .unwrap()
        .unwrap()
        .columns
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["id", "name", "grade"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_synced_at_once_all_land_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Arc::new(catalog(dir.path()));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let catalog = catalog.clone();
        tasks.push(tokio::spawn(async move {
            let t = spec(&format!("t{i}"), &[("id", "int(11)")]);
            catalog
                .sync_table(&t, &partition(), Deletes::Listed, false)
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let file = CatalogFile::parse(&text(dir.path())).unwrap();
    assert_eq!(file.sections.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_without_files_is_an_empty_view_with_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path());
    let mut t = spec("t", &[("id", "int(11)"), ("modified", "datetime(6)")]);
    t.dedup = Some(Dedup {
        key: vec!["id".into()],
        latest_by: "modified".into(),
    });
    catalog
        .sync_table(&t, &[], Deletes::Listed, false)
        .await
        .unwrap();
    let text = text(dir.path());
    assert!(text.contains("WHERE false"), "{text}");
    assert!(!text.contains("read_csv"), "{text}");
    assert!(text.contains(r#"row_number() OVER (PARTITION BY "lms", "id""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing_and_changed_partition_keys_fail() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path());
    let t = spec("t", &[("id", "int(11)")]);
    let report = catalog
        .sync_table(&t, &partition(), Deletes::Listed, true)
        .await
        .unwrap();
    assert_eq!(report.operations.len(), 1);
    assert!(!dir.path().join("openedx.duckdb.sql").exists());

    catalog
        .sync_table(&t, &partition(), Deletes::Listed, false)
        .await
        .unwrap();
    let mut by_course = t.clone();
    by_course
        .partition_keys
        .push(CatalogColumn::new("course_id", "varchar(255)"));
    let err = catalog
        .sync_table(&by_course, &partition(), Deletes::Listed, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("partitioned by (lms)"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parquet_table_reads_typed_files_and_refuses_a_changed_type() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path());
    let typed = |cols: &[(&str, &str)]| {
        let mut t = spec("t", &[]);
        t.format = TableFormat::Parquet;
        t.columns = cols
            .iter()
            .map(|(n, ty)| crate::catalog::spec::file_column(TableFormat::Parquet, n, ty))
            .collect();
        t
    };
    let t = typed(&[("id", "int(11)"), ("at", "time(6)")]);
    catalog
        .sync_table(&t, &partition(), Deletes::Listed, false)
        .await
        .unwrap();
    let text = text(dir.path());
    assert!(text.contains("read_parquet("), "{text}");
    assert!(text.contains("'lms=*/*.parquet'"), "{text}");
    assert!(
        text.contains(r#"(TIME '00:00:00' + to_microseconds("at")) AS "at""#),
        "{text}"
    );
    // int → bigint is the same stored type; decimal(5,2) → decimal(6,2) is not.
    let widened = typed(&[("id", "bigint(20)"), ("at", "time(6)")]);
    catalog
        .sync_table(&widened, &partition(), Deletes::Listed, false)
        .await
        .unwrap();
    let changed = typed(&[("id", "decimal(6,2)"), ("at", "time(6)")]);
    let err = catalog
        .sync_table(&changed, &partition(), Deletes::Listed, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("id: bigint → decimal(6,2)"), "{err}");
}
