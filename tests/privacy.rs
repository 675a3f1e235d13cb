//! Privacy: the pseudonymous profile against real MariaDB: pseudonyms join across tables,
//! no raw value reaches the lake, dropped columns are gone, retired users stay retired, and
//! the key is required and never printed.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

const KEY: &str = "test-key-0123456789abcdef0123456789abcdef";

async fn people_db(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE auth_user (
            id int PRIMARY KEY, password varchar(128), username varchar(150),
            first_name varchar(150), last_name varchar(150), email varchar(254),
            is_active tinyint(1)
         ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec(
        "CREATE TABLE auth_userprofile (
            id int PRIMARY KEY, user_id int, name varchar(255), meta longtext,
            year_of_birth int NULL, country varchar(2)
         ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec(
        "CREATE TABLE student_manualenrollmentaudit (
            id int PRIMARY KEY, enrolled_email varchar(255), reason longtext NULL,
            state_transition varchar(255)
         ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec(
        "INSERT INTO auth_user VALUES
            (1, 'pbkdf2_sha256$secret', 'ann', 'Ann', 'Lovelace', 'Ann.Lovelace@example.org', 1),
            (2, 'pbkdf2_sha256$other', 'bob', 'Bob', 'Babbage', 'bob@example.org', 1)",
    )
    .await;
    db.exec(
        "INSERT INTO auth_userprofile VALUES
            (1, 1, 'Ann Lovelace', '{\"phone\": \"+44 1\"}', 1815, 'GB'),
            (2, 2, 'Bob Babbage', '', NULL, 'GB')",
    )
    .await;
    // The audit row has the email in another case, as instructors type it.
    db.exec(
        "INSERT INTO student_manualenrollmentaudit VALUES
            (1, 'ann.lovelace@EXAMPLE.org', 'asked by Ann Lovelace', 'from unenrolled to enrolled')",
    )
    .await;
    db
}

fn config(db: &TestDb, lake: &Path) -> String {
    lake_config(
        &db.url(),
        &lake.display().to_string(),
        "[privacy]\nprofile = \"pseudonymous\"\n\
         [[tables]]\nname = \"auth_user\"\ncolumns = [\"id\", \"password\", \"username\", \"first_name\", \"last_name\", \"email\"]\n\
         [[tables]]\nname = \"auth_userprofile\"\n\
         [[tables]]\nname = \"student_manualenrollmentaudit\"\n",
    )
}

type Rows = Vec<BTreeMap<String, Option<String>>>;

/// `table -> rows` of the lake, and every file's bytes.
fn read_lake(lake: &Path) -> (BTreeMap<String, Rows>, Vec<u8>) {
    let mut tables = BTreeMap::new();
    let mut all = Vec::new();
    for file in files_under(lake) {
        let data = std::fs::read(lake.join(&file)).unwrap();
        all.extend_from_slice(&data);
        let table = file.split('/').nth(1).unwrap().to_string();
        tables.insert(table, read_table_file(&data).1);
    }
    (tables, all)
}

fn value<'a>(row: &'a BTreeMap<String, Option<String>>, column: &str) -> &'a str {
    row[column].as_deref().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonyms_join_across_tables_and_nothing_raw_reaches_the_lake() {
    let db = people_db("privacy_profile").await;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let cfg = config(&db, &lake);
    let out = edlake(&cfg, &["extract"], &[("EDLAKE_PRIVACY__KEY", KEY)]);
    assert_eq!(out.code, 0, "{}", out.all());

    let (tables, bytes) = read_lake(&lake);
    let text = String::from_utf8_lossy(&bytes).to_lowercase();
    for raw in [
        "pbkdf2",
        "lovelace",
        "babbage",
        "example.org",
        "ann",
        "bob",
        "phone",
        "asked by",
    ] {
        assert!(!text.contains(raw), "{raw:?} reached the lake");
    }
    let users = &tables["auth_user"];
    assert!(!users[0].contains_key("password"), "{:?}", users[0]);
    let ann = users.iter().find(|r| value(r, "id") == "1").unwrap();
    assert_eq!(value(ann, "email").len(), 32);
    assert_ne!(value(ann, "email"), value(ann, "username"));
    // The audit's email, typed in another case, joins Ann's account.
    let audit = &tables["student_manualenrollmentaudit"][0];
    assert_eq!(value(audit, "enrolled_email"), value(ann, "email"));
    assert!(!audit.contains_key("reason"), "dropped: {audit:?}");
    let profile = &tables["auth_userprofile"];
    assert!(
        !profile[0].contains_key("meta"),
        "dropped: {:?}",
        profile[0]
    );
    assert_eq!(value(&profile[0], "year_of_birth"), "1815", "kept");
    assert_eq!(value(&profile[0], "name").len(), 32);

    // Same key, same pseudonyms; another key, others.
    let again = tempfile::tempdir().unwrap();
    let out = edlake(
        &config(&db, again.path()),
        &["extract"],
        &[("EDLAKE_PRIVACY__KEY", &KEY.replace('0', "1"))],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let (other, _) = read_lake(again.path());
    let ann_other = other["auth_user"]
        .iter()
        .find(|r| value(r, "id") == "1")
        .unwrap()
        .clone();
    assert_ne!(value(&ann_other, "email"), value(ann, "email"));

    // A learner retired in the source is retired in the lake after the next run.
    let before = value(ann, "username").to_string();
    db.exec(
        "UPDATE auth_user SET username = 'retired__user_9f8e', email = 'retired__user_9f8e@retired.invalid',
            first_name = '', last_name = '' WHERE id = 1",
    )
    .await;
    let out = edlake(&cfg, &["extract"], &[("EDLAKE_PRIVACY__KEY", KEY)]);
    assert_eq!(out.code, 0, "{}", out.all());
    let (tables, bytes) = read_lake(&lake);
    let ann = tables["auth_user"]
        .iter()
        .find(|r| value(r, "id") == "1")
        .unwrap();
    assert_eq!(value(ann, "username"), "retired__user_9f8e");
    assert_eq!(value(ann, "email"), "retired__user_9f8e@retired.invalid");
    assert_eq!(value(ann, "first_name"), "");
    assert!(
        !String::from_utf8_lossy(&bytes).contains(&before),
        "the old pseudonym is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonyms_need_a_key_that_is_never_printed_and_typos_are_errors() {
    let db = people_db("privacy_key").await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&db, &dir.path().join("lake"));
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("EDLAKE_PRIVACY__KEY"), "{}", out.stderr);

    let out = edlake(&cfg, &["config"], &[("EDLAKE_PRIVACY__KEY", KEY)]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.all().contains(KEY), "{}", out.all());
    assert!(out.stdout.contains("REDACTED"), "{}", out.stdout);

    // A column named for privacy that does not exist fails its table: never exported raw
    // under a misspelt name.
    let typo = cfg.replace(
        "profile = \"pseudonymous\"",
        "profile = \"pseudonymous\"\npseudonymize = [\"auth_userprofile.nmae\"]",
    );
    let out = edlake(&typo, &["extract"], &[("EDLAKE_PRIVACY__KEY", KEY)]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("error: table auth_userprofile: column nmae named by the privacy settings does not exist"),
        "{}",
        out.stderr
    );
}
