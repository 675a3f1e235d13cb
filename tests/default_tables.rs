//! Panorama's whole table set against the seeded Open edX schema (scripts/schema.sql,
//! scripts/seed.py): every default table and the course structures are extracted and
//! checked; optional tables a site lacks are skipped with one notice while a listed one
//! fails; site_values' secrets never reach a lake file, CSV or Parquet; the pseudonymous
//! profile covers the new personal columns; and an older release (Sumac) runs the same
//! set, then follows its upgrade by the drift rules.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

/// Marker every fake secret in the seeded site_values holds (scripts/seed_apps.py).
const SECRET: &str = "EDLAKE_FAKE_SECRET";
const KEY: &str = "test-key-0123456789abcdef0123456789abcdef";

const OPTIONAL: [&str; 4] = [
    "enterprise_enterprisecustomer",
    "enterprise_enterprisecustomeruser",
    "enterprise_pendingenterprisecustomeruser",
    "openedx_progress_coursecompletionsummary",
];

fn repo_file(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A small seeded Open edX database of `release`.
async fn seeded(test: &str, release: &str) -> TestDb {
    let db = TestDb::new(test).await;
    let out = Command::new(python())
        .arg(repo_file("scripts/seed.py"))
        .args(["--mysql-url", &db.url(), "--release", release])
        .args([
            "--users",
            "60",
            "--courses",
            "5",
            "--studentmodule-rows",
            "2000",
        ])
        .arg("--quiet")
        .output()
        .expect("run scripts/seed.py");
    assert!(
        out.status.success(),
        "scripts/seed.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// The default table list, as `edlake config` prints it for a config that lists none.
fn default_tables(config: &str) -> Vec<String> {
    let out = edlake(config, &["config"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let parsed: toml::Value = toml::from_str(&out.stdout).unwrap();
    parsed["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// Table folders of a local lake (`<prefix>/<table>/…`).
fn lake_tables(lake: &Path) -> BTreeMap<String, usize> {
    let mut tables = BTreeMap::new();
    for file in files_under(lake) {
        let mut parts = file.split('/');
        if let (Some(_prefix), Some(table), Some(_)) = (parts.next(), parts.next(), parts.next()) {
            *tables.entry(table.to_string()).or_default() += 1;
        }
    }
    tables
}

/// Rows of a table's single unpartitioned CSV file.
fn csv_rows(lake: &Path, table: &str) -> (Vec<String>, Vec<BTreeMap<String, Option<String>>>) {
    let files: Vec<String> = files_under(lake)
        .into_iter()
        .filter(|f| f.split('/').nth(1) == Some(table) && f.ends_with(".csv"))
        .collect();
    assert_eq!(files.len(), 1, "{table}: {files:?}");
    read_table_file(&std::fs::read(lake.join(&files[0])).unwrap())
}

/// Every file's bytes, and, read back with pyarrow, every value of every Parquet file
/// (compressed pages would hide a secret from a byte search).
fn lake_text(lake: &Path) -> String {
    let mut text = String::new();
    for file in files_under(lake) {
        text.push_str(&String::from_utf8_lossy(
            &std::fs::read(lake.join(&file)).unwrap(),
        ));
    }
    const DUMP: &str = r#"
import pathlib, sys, pyarrow.parquet as pq
for f in sorted(pathlib.Path(sys.argv[1]).rglob("*.parquet")):
    for row in pq.read_table(f).to_pylist():
        print(row)
"#;
    let out = Command::new(python())
        .arg("-c")
        .arg(DUMP)
        .arg(lake)
        .output()
        .expect("run pyarrow");
    assert!(
        out.status.success(),
        "pyarrow: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_thirty_tables_and_course_structures_and_no_secret_in_any_lake_file() {
    let db = seeded("default_tables_all", "verawood").await;
    let mongo = fresh_mongo_db("default_tables_all").await;
    let out = Command::new(python())
        .arg(repo_file("scripts/seed_mongo.py"))
        .args(["--world", "--url", &mongo_url(), "--database", mongo.name()])
        .args(["--users", "60", "--courses", "5", "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success(), "seed_mongo.py: {out:?}");
    let dir = tempfile::tempdir().unwrap();
    for format in ["csv", "parquet"] {
        let lake = dir.path().join(format);
        let config = lake_config(
            &db.url(),
            &lake.display().to_string(),
            &format!(
                "format = \"{format}\"\n[mongodb]\nurl = \"{}\"\ndatabase = \"{}\"\n",
                mongo_url(),
                mongo.name()
            ),
        );
        let defaults = default_tables(&config);
        assert_eq!(defaults.len(), 30, "{defaults:?}");
        let out = edlake(&config, &["extract"], &[]);
        assert_eq!(out.code, 0, "{}", out.all());
        assert!(!out.all().contains(SECRET), "{}", out.all());
        let written = lake_tables(&lake);
        for table in defaults
            .iter()
            .map(String::as_str)
            .chain(["course_structures"])
        {
            assert!(
                written.get(table).is_some_and(|files| *files > 0),
                "{format}: {table} has no file: {written:?}"
            );
        }
        assert!(
            !out.stderr.contains("skipped"),
            "nothing is skipped: {}",
            out.stderr
        );

        let text = lake_text(&lake);
        // The search sees values (a course key of the seed), so it would see a secret.
        assert!(
            text.contains("course-v1:edX+DemoX+Demo_Course"),
            "{format}: values are searched"
        );
        assert!(
            !text.contains(SECRET),
            "{format}: a site_values secret reached the lake"
        );
        assert!(
            !text.contains("site_values"),
            "{format}: the column is not even named"
        );

        let out = edlake(&config, &["check"], &[]);
        assert_eq!(out.code, 0, "{}", out.all());
        for table in &defaults {
            let line = out
                .stdout
                .lines()
                .find(|l| l.starts_with(&format!("mysql table {table} ")))
                .unwrap_or_else(|| panic!("check lists {table}: {}", out.stdout));
            assert!(line.contains(" ok "), "{line}");
        }
    }
    // The columns that are there: site configuration without site_values; completions on
    // the very blocks and learners of courseware_studentmodule.
    let lake = dir.path().join("csv");
    let (header, rows) = csv_rows(&lake, "site_configuration_siteconfiguration");
    assert_eq!(header, ["id", "site_id", "enabled"]);
    assert_eq!(rows.len(), 2);
    let (header, _) = csv_rows(&lake, "enterprise_enterprisecustomeruser");
    assert_eq!(
        header[..9],
        [
            "id",
            "created",
            "modified",
            "user_id",
            "enterprise_customer_id",
            "active",
            "linked",
            "invite_key_id",
            "should_inactivate_other_customers"
        ],
        "Panorama's column order first"
    );
    let (_, completions) = csv_rows(&lake, "completion_blockcompletion");
    assert!(!completions.is_empty());
    let pool = sqlx::MySqlPool::connect(&db.url()).await.unwrap();
    let (missing,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM completion_blockcompletion b LEFT JOIN courseware_studentmodule m
           ON m.student_id = b.user_id AND m.module_id = b.block_key AND m.course_id = b.course_key
         WHERE m.id IS NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(missing, 0, "every completion is on a studentmodule block");
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_optional_tables_are_skipped_once_and_a_listed_one_fails() {
    let db = seeded("default_tables_missing", "verawood").await;
    for table in OPTIONAL {
        db.exec(&format!("DROP TABLE {table}")).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let config = lake_config(&db.url(), &lake.display().to_string(), "");
    // The notice is an INFO line (the default level): an expected absence, not a warning.
    let out = edlake(&config, &["extract"], &[("EDLAKE_LOG", "info")]);
    assert_eq!(out.code, 0, "{}", out.all());
    let notices: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("skipped"))
        .collect();
    assert_eq!(notices.len(), OPTIONAL.len(), "{notices:#?}");
    for table in OPTIONAL {
        assert_eq!(
            notices
                .iter()
                .filter(|l| l.ends_with(&format!("table={table}")))
                .count(),
            1,
            "one notice for {table}: {notices:#?}"
        );
        assert!(!lake_tables(&lake).contains_key(table));
        let row = out
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{table} ")))
            .unwrap_or_else(|| panic!("{table} in the summary: {}", out.stdout));
        assert!(row.contains("skipped"), "{row}");
    }
    assert!(!out.stderr.contains("ERROR") && !out.stderr.contains("error:"));
    assert_eq!(lake_tables(&lake).len(), 26, "{:?}", lake_tables(&lake));

    let out = edlake(&config, &["check"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    for table in OPTIONAL {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("mysql table {table} ")))
            .unwrap();
        assert!(line.contains("absent: skipped"), "{line}");
    }

    // Listed by the operator, the same table must exist.
    let listed = lake_config(
        &db.url(),
        &lake.display().to_string(),
        "[[tables]]\nname = \"auth_user\"\n[[tables]]\nname = \"enterprise_enterprisecustomer\"\n",
    );
    let out = edlake(&listed, &["extract"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(
        errors[0]
            .starts_with("error: table enterprise_enterprisecustomer: does not exist in database"),
        "{}",
        errors[0]
    );
    let out = edlake(&listed, &["check"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    // ... unless it says it may be missing.
    let optional = listed.replace(
        "name = \"enterprise_enterprisecustomer\"\n",
        "name = \"enterprise_enterprisecustomer\"\noptional = true\n",
    );
    let out = edlake(&optional, &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonymous_profile_hashes_pending_emails_and_drops_ora_answers() {
    let db = seeded("default_tables_privacy", "verawood").await;
    // A pending learner who has since registered, typed in another case.
    let pool = sqlx::MySqlPool::connect(&db.url()).await.unwrap();
    let (learner,): (i32,) = sqlx::query_as(
        "SELECT MIN(id) FROM auth_user WHERE is_staff = 0 AND email NOT LIKE 'retired%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    db.exec(&format!(
        "UPDATE enterprise_pendingenterprisecustomeruser p JOIN auth_user u ON u.id = {learner}
         SET p.user_email = UPPER(u.email) WHERE p.id = 1"
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let config = lake_config(
        &db.url(),
        &lake.display().to_string(),
        "[privacy]\nprofile = \"pseudonymous\"\n\
         [[tables]]\nname = \"auth_user\"\n\
         [[tables]]\nname = \"submissions_submission\"\n\
         [[tables]]\nname = \"enterprise_pendingenterprisecustomeruser\"\n\
         [[tables]]\nname = \"site_configuration_siteconfiguration\"\n\
         columns = [\"id\", \"site_id\", \"enabled\", \"site_values\"]\n",
    );
    let out = edlake(&config, &["extract"], &[("EDLAKE_PRIVACY__KEY", KEY)]);
    assert_eq!(out.code, 0, "{}", out.all());
    let (header, _) = csv_rows(&lake, "submissions_submission");
    assert!(!header.contains(&"raw_answer".to_string()), "{header:?}");
    let (_, pending) = csv_rows(&lake, "enterprise_pendingenterprisecustomeruser");
    let (_, users) = csv_rows(&lake, "auth_user");
    let email = |row: &BTreeMap<String, Option<String>>, column: &str| row[column].clone().unwrap();
    for row in &pending {
        let hashed = email(row, "user_email");
        assert_eq!(hashed.len(), 32, "{hashed}");
        assert!(!hashed.contains('@'));
    }
    let ann = users
        .iter()
        .find(|r| email(r, "id") == learner.to_string())
        .unwrap();
    let first = pending.iter().find(|r| email(r, "id") == "1").unwrap();
    assert_eq!(
        email(first, "user_email"),
        email(ann, "email"),
        "the pending learner joins the account"
    );
    // Even a table pinned with site_values drops it under the profile.
    let text = lake_text(&lake);
    assert!(!text.contains(SECRET));
    assert!(!text.contains("@partner.example") && !text.contains("@Partner.Example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sumac_runs_the_whole_set_then_its_upgrade_follows_the_drift_rules() {
    let db = seeded("default_tables_sumac", "sumac").await;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let config = lake_config(&db.url(), &lake.display().to_string(), "");
    // With the DuckDB catalog, whose columns the files follow (the drift rules).
    let env = [("EDLAKE_LOG", "info"), ("EDLAKE_CATALOG__DUCKDB", "true")];
    let out = edlake(&config, &["extract"], &env);
    assert_eq!(out.code, 0, "{}", out.all());
    let notices: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("skipped"))
        .collect();
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert!(notices[0].contains("openedx_progress_coursecompletionsummary"));
    assert_eq!(lake_tables(&lake).len(), 29, "{:?}", lake_tables(&lake));
    let (header, before) = csv_rows(&lake, "enterprise_enterprisecustomeruser");
    assert!(!header.contains(&"user_fk".to_string()), "{header:?}");

    // The site upgrades: edx-enterprise's migrations add their columns at the end, the
    // progress plugin arrives. The next run appends the columns and extracts the table.
    db.exec("ALTER TABLE enterprise_enterprisecustomeruser ADD COLUMN user_fk int NULL")
        .await;
    db.exec("UPDATE enterprise_enterprisecustomeruser SET user_fk = user_id")
        .await;
    db.exec(
        "ALTER TABLE enterprise_enterprisecustomer
           ADD COLUMN enable_learner_credit_message_box tinyint(1) NOT NULL DEFAULT 1,
           ADD COLUMN enable_credit_and_industry_pathways tinyint(1) NOT NULL DEFAULT 1,
           ADD COLUMN enable_people_management tinyint(1) NOT NULL DEFAULT 1",
    )
    .await;
    let schema = std::fs::read_to_string(repo_file("scripts/schema.sql")).unwrap();
    let create = schema
        .split(";\n")
        .find(|s| s.contains("CREATE TABLE `openedx_progress_coursecompletionsummary`"))
        .unwrap();
    db.exec(create).await;
    let out = edlake(&config, &["extract"], &env);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stderr.contains("skipped"), "{}", out.stderr);
    assert_eq!(lake_tables(&lake).len(), 30);
    let (after_header, after) = csv_rows(&lake, "enterprise_enterprisecustomeruser");
    assert_eq!(after_header.last().map(String::as_str), Some("user_fk"));
    assert_eq!(
        after_header[..header.len()],
        header[..],
        "appended at the end"
    );
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|r| r["user_fk"] == r["user_id"]));
    let (header, _) = csv_rows(&lake, "enterprise_enterprisecustomer");
    assert_eq!(
        header[header.len() - 3..],
        [
            "enable_learner_credit_message_box",
            "enable_credit_and_industry_pathways",
            "enable_people_management"
        ]
    );
}
