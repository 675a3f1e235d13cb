//! The local DuckDB catalog executed by real DuckDB against real MariaDB: adversarial values
//! and every MySQL type come back row for row and type for type (the types also matching
//! what Athena's view declares); an incremental table's view keeps the newest version of
//! each row through deltas and a full run; the CLI opens the catalog; `catalog sync`
//! rebuilds the file `extract` wrote.

mod common;

use common::*;
use edlake::catalog::view::{duckdb::DuckDb, mysql_type, trino::Trino, Dialect};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adversarial_values_and_every_type_read_back_as_in_mysql() {
    let db = adversarial_db("duck_adversarial").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        "[[tables]]\nname = \"adversarial\"",
    );
    let out = edlake(&cfg, &["extract"], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());

    // The model's types, in both dialects, for MySQL's own COLUMN_TYPEs.
    let mysql = mysql_columns(&db, "adversarial").await;
    assert_eq!(
        mysql.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ADVERSARIAL_TYPES.iter().map(|t| t.0).collect::<Vec<_>>()
    );
    for ((name, column_type), (_, declared, duck, trino)) in mysql.iter().zip(ADVERSARIAL_TYPES) {
        assert_eq!(column_type, declared, "{name}: MariaDB's COLUMN_TYPE");
        let ty = mysql_type(column_type);
        let names = (
            ty.map_or("VARCHAR".into(), |t| DuckDb.type_name(t)),
            ty.map_or("varchar".into(), |t| Trino.type_name(t)),
        );
        assert_eq!(names, (duck.to_string(), trino.to_string()), "{name}");
    }

    assert_adversarial_view("openedx_table_adversarial", &db, lake.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_opens_the_catalog_and_catalog_sync_rebuilds_it_byte_for_byte() {
    let db = seed_studentmodule("duck_cli_sync", 20).await;
    db.exec(
        "CREATE TABLE auth_userprofile (
            id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
            name varchar(255) NOT NULL,
            year_of_birth int(11) NULL,
            goals longtext NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    db.exec(
        "INSERT INTO auth_userprofile (name, year_of_birth, goals) VALUES
            ('Ana', 1990, NULL), ('Zoë \"Z\"', NULL, 'a\\nb')",
    )
    .await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        "[[tables]]\nname = \"courseware_studentmodule\"\npartition_by = \"course_id\"\n\
         [[tables]]\nname = \"auth_userprofile\"\n",
    );
    let out = edlake(&cfg, &["extract"], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    let catalog = catalog_file(lake.path());
    let written = std::fs::read(&catalog).unwrap();

    // The CLI: `-init` runs the file, which ends in the database's schema, so view names
    // need no qualification.
    let out = std::process::Command::new(duckdb_cli())
        .arg("-init")
        .arg(&catalog)
        .args(["-list", "-noheader", "-c"])
        .arg(
            "SELECT course_id, count(*), count(DISTINCT module_id) \
             FROM openedx_table_courseware_studentmodule GROUP BY ALL ORDER BY 1",
        )
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "course-v1:BigOrg+Huge+2024|20|20\n\
         course-v1:Org+Tiny+T1|2|2\n\
         course-v1:UnivCafé+X+Run:1|50|50\n",
        "{stderr}"
    );

    // `catalog sync` (no Glue: a local lake) writes the same file again, and a second sync
    // leaves it as it is.
    std::fs::remove_file(&catalog).unwrap();
    let out = edlake(&cfg, &["catalog", "sync"], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    let synced = std::fs::read(&catalog).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&synced),
        String::from_utf8_lossy(&written)
    );
    let out = edlake(&cfg, &["catalog", "sync"], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(std::fs::read(&catalog).unwrap(), written);
    let profiles = duckdb_query(
        &catalog,
        "SELECT * FROM openedx_table_auth_userprofile ORDER BY id",
        &DuckDbOptions::default(),
    );
    assert_same_rows(
        "openedx_table_auth_userprofile",
        "id",
        &profiles.records(),
        &with_lms(mysql_records(&db, "auth_userprofile").await),
    );
}
