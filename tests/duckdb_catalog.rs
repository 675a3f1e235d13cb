//! The shipped config's tables through the local DuckDB catalog: a synthetic Open edX
//! (scripts/seed.py, scripts/seed_mongo.py) extracted with config/edlake.toml; every view
//! equals its MySQL table (course_structures its lake files) row for row. On an S3 lake
//! (moto), the catalog object runs with httpfs, and it holds every table and view edlake
//! registers in Glue and Athena, under the same names.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use edlake::jobs::extract::course_structures::COLUMNS as COURSE_STRUCTURE_COLUMNS;

const USERS: &str = "40";
const COURSES: &str = "6";

/// A synthetic Open edX: MySQL from scripts/seed.py, and the course structures of the same
/// courses from scripts/seed_mongo.py. Returns the Mongo database's name.
async fn open_edx(test: &str) -> (TestDb, String) {
    let db = TestDb::new(test).await;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(python())
        .arg(repo.join("scripts/seed.py"))
        .args([
            "--mysql-url",
            &db.url(),
            "--users",
            USERS,
            "--courses",
            COURSES,
        ])
        .args(["--studentmodule-rows", "300", "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seed.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mongo = fresh_mongo_db(test).await;
    let out = std::process::Command::new(python())
        .arg(repo.join("scripts/seed_mongo.py"))
        .args(["--world", "--url", &mongo_url(), "--database", mongo.name()])
        .args(["--users", USERS, "--courses", COURSES, "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seed_mongo.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (db, mongo.name().to_string())
}

fn shipped_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/edlake.toml")
}

/// The edlake binary on config/edlake.toml, with overrides.
fn shipped(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = edlake_command(&shipped_config(), args);
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run edlake");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `(name, partition_by)` of every table the shipped config extracts from MySQL.
fn shipped_tables() -> Vec<(String, Vec<String>)> {
    let out = shipped(&["config"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let config: toml::Value = toml::from_str(&out.stdout).unwrap();
    config["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let partition_by = t
                .get("partition_by")
                .and_then(|p| p.as_array())
                .map(|p| p.iter().map(|c| c.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (t["name"].as_str().unwrap().to_string(), partition_by)
        })
        .collect()
}

/// Columns edlake never exports with the shipped config (docs/privacy.md).
fn never_exported(table: &str, column: &str) -> bool {
    matches!(
        (table, column),
        ("auth_user", "password") | ("site_configuration_siteconfiguration", "site_values")
    )
}

/// MySQL's rows of `table` as its view should show them: without the columns never
/// exported, with `lms`.
async fn expected_rows(db: &TestDb, table: &str) -> Vec<Record> {
    let rows = mysql_records(db, table).await;
    rows.into_iter()
        .map(|r| {
            let mut r: Record = r
                .into_iter()
                .filter(|(column, _)| !never_exported(table, column))
                .map(|(column, value)| (column.to_lowercase(), value))
                .collect();
            r.insert("lms".into(), Some("lms.example.com".into()));
            r
        })
        .collect()
}

fn view_names(result: &QueryResult) -> Vec<String> {
    result.rows.iter().map(|r| r[0].clone().unwrap()).collect()
}

const LIST_VIEWS: &str = "SELECT table_name FROM information_schema.tables \
     WHERE table_schema = current_schema() ORDER BY table_name";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_table_reads_back_through_its_duckdb_view() {
    let (db, mongo) = open_edx("duck_shipped").await;
    let lake = tempfile::tempdir().unwrap();
    let mongo_url = mongo_url();
    let lake_url = lake.path().display().to_string();
    let env = [
        ("EDLAKE_MYSQL__URL", db.url()),
        ("EDLAKE_DATALAKE__URL", lake_url),
        ("EDLAKE_MONGODB__URL", mongo_url),
        ("EDLAKE_MONGODB__DATABASE", mongo),
    ];
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(DUCKDB_ON);
    let out = shipped(&["extract"], &env);
    assert_eq!(out.code, 0, "{}", out.all());

    let catalog = catalog_file(lake.path());
    let opts = DuckDbOptions::default();
    let tables = shipped_tables();
    assert!(tables.len() >= 17, "{tables:?}");
    for (table, partition_by) in &tables {
        let sql = format!("SELECT * FROM panorama.openedx_table_{table}");
        let view = duckdb_query(&catalog, &sql, &opts);
        let expected = expected_rows(&db, table).await;
        assert!(!expected.is_empty(), "seed.py fills {table}");
        // The view's columns: MySQL's exported ones, partition columns after the others,
        // `lms` last.
        // Data columns in Panorama's order where it pins one, then the others in MySQL's
        // order; names lower-cased, as Glue and the views have them.
        let mut rest: Vec<String> = mysql_columns(&db, table)
            .await
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| !never_exported(table, n) && !partition_by.contains(n))
            .collect();
        let mut want = Vec::new();
        for name in edlake::config::panorama_column_order(table).unwrap_or_default() {
            if let Some(i) = rest.iter().position(|n| n == name) {
                want.push(rest.remove(i));
            }
        }
        want.extend(rest);
        let mut want: Vec<String> = want.iter().map(|n| n.to_lowercase()).collect();
        want.extend(partition_by.iter().cloned());
        want.push("lms".into());
        assert_eq!(view.names(), want, "{table}");
        let key = if want.contains(&"id".to_string()) {
            "id"
        } else {
            want[0].as_str()
        };
        assert_same_rows(
            &format!("openedx_table_{table}"),
            key,
            &view.records(),
            &expected,
        );
    }

    // course_structures: the view equals the lake's files, decoded and typed.
    let view = duckdb_query(
        &catalog,
        "SELECT * FROM panorama.openedx_table_course_structures",
        &opts,
    );
    let expected = lake_records(lake.path(), "course_structures", COURSE_STRUCTURE_COLUMNS);
    assert!(expected.len() > 100, "{} blocks", expected.len());
    assert_same_rows(
        "openedx_table_course_structures",
        "module_location",
        &view.records(),
        &expected,
    );

    // Nothing else in the schema: a raw table and a view per table.
    let mut want: Vec<String> = tables
        .iter()
        .map(|(t, _)| t.as_str())
        .chain(["course_structures"])
        .flat_map(|t| [format!("openedx_raw_{t}"), format!("openedx_table_{t}")])
        .collect();
    want.sort();
    assert_eq!(view_names(&duckdb_query(&catalog, LIST_VIEWS, &opts)), want);
}

/// Every table of a Glue database.
async fn glue_tables(glue: &aws_sdk_glue::Client, database: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = glue
            .get_tables()
            .database_name(database)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        names.extend(page.table_list().iter().map(|t| t.name().to_string()));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return names;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3_the_catalog_object_runs_with_httpfs_and_names_what_glue_and_athena_get() {
    let test = "duck_s3";
    let (db, mongo) = open_edx(test).await;
    let (s3, glue, athena) = (
        s3_client().await,
        glue_client().await,
        athena_client().await,
    );
    let bucket = fresh_bucket(&s3, "duck-s3").await;
    let gdb = fresh_glue_database(test);
    let env = [
        ("EDLAKE_MYSQL__URL", db.url()),
        ("EDLAKE_DATALAKE__URL", format!("s3://{bucket}")),
        ("EDLAKE_DATALAKE__ENDPOINT", s3_endpoint()),
        ("EDLAKE_MONGODB__URL", mongo_url()),
        ("EDLAKE_MONGODB__DATABASE", mongo),
        ("EDLAKE_CATALOG__ENABLED", "true".into()),
        ("EDLAKE_CATALOG__DATABASE", gdb.clone()),
        ("EDLAKE_CATALOG__ENDPOINT", s3_endpoint()),
        (
            "EDLAKE_CATALOG__ATHENA_OUTPUT",
            format!("s3://{bucket}/athena-results/"),
        ),
    ];
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(DUCKDB_ON);
    let out = shipped(&["extract"], &env);
    assert_eq!(out.code, 0, "{}", out.all());

    // The catalog object, downloaded: it reads the bucket itself, no variable needed.
    let text = String::from_utf8(s3_get(&s3, &bucket, "openedx.duckdb.sql").await).unwrap();
    assert!(
        text.contains(&format!(
            "COALESCE(getvariable('edlake_lake'), 's3://{bucket}') || '/openedx/"
        )),
        "{}",
        &text[..text.len().min(3000)]
    );
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("openedx.duckdb.sql");
    std::fs::write(&catalog, &text).unwrap();
    let opts = DuckDbOptions {
        s3_endpoint: Some(s3_endpoint()),
        ..Default::default()
    };

    // The same names as the Glue tables and the Athena views.
    let mut registered = glue_tables(&glue, &gdb).await;
    let views = athena_queries(&athena, &format!("\"{gdb}\"")).await;
    for sql in &views {
        let head = sql.lines().next().unwrap();
        let name = head
            .strip_prefix(&format!("CREATE OR REPLACE VIEW \"{gdb}\".\""))
            .and_then(|rest| rest.strip_suffix("\" AS"))
            .unwrap_or_else(|| panic!("an Athena view statement: {head}"));
        registered.push(name.to_string());
    }
    registered.sort();
    registered.dedup();
    let tables = shipped_tables();
    assert_eq!(registered.len(), 2 * (tables.len() + 1), "{registered:#?}");
    assert_eq!(
        view_names(&duckdb_query(&catalog, LIST_VIEWS, &opts)),
        registered
    );

    // Over httpfs, a course-partitioned table and a plain one equal MySQL.
    for (table, key) in [
        ("courseware_studentmodule", "id"),
        ("auth_userprofile", "id"),
    ] {
        let view = duckdb_query(
            &catalog,
            &format!("SELECT * FROM openedx_table_{table}"),
            &opts,
        );
        let expected = expected_rows(&db, table).await;
        assert_same_rows(table, key, &view.records(), &expected);
    }
    let paths = duckdb_query(
        &catalog,
        "SELECT DISTINCT \"$path\" FROM openedx_raw_courseware_studentmodule ORDER BY 1",
        &opts,
    );
    assert!(
        paths.rows.len() >= 3
            && paths
                .rows
                .iter()
                .all(|r| r[0].as_deref().unwrap().starts_with(&format!(
                    "s3://{bucket}/openedx/courseware_studentmodule/lms="
                ))),
        "{paths:?}"
    );
}
