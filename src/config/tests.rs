//! Unit tests of loading and validating the configuration.

use super::*;

fn base() -> Config {
    Config {
        lms_host: "lms.example.com".into(),
        mysql: MysqlConfig {
            url: "mysql://openedx:s3cret@db.internal:3307/openedx".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn redaction_hides_every_secret() {
    let mut c = base();
    c.mysql.password = Some("other-secret".into());
    c.mongodb.url = "mongodb://edx:mongo-secret@a:27017,b:27017/?authSource=admin".into();
    c.mongodb.password = Some("mongo-other-secret".into());
    c.privacy.key = Some("k".repeat(40).as_str().into());
    let text = c.to_toml().unwrap();
    // Debug too: a `{:?}` in a log line or a panic message must not leak them.
    let debug = format!("{c:?} {c:#?}");
    for shown in [&text, &debug] {
        for secret in ["s3cret", "other-secret", "mongo-secret", &"k".repeat(40)] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    assert!(text.contains("mysql://openedx:REDACTED@db.internal:3307/openedx"));
    assert!(debug.contains("db.internal:3307"), "{debug}");
    // The driver still gets the real values.
    assert_eq!(c.mysql.password.as_ref().unwrap().expose(), "other-secret");
}

#[test]
fn lake_locations() {
    let mut c = base();
    assert_eq!(
        c.lake_location().unwrap(),
        LakeLocation::Local("./datalake".into())
    );
    c.datalake.url = "s3://bucket/some/root/".into();
    assert_eq!(
        c.lake_location().unwrap(),
        LakeLocation::S3 {
            bucket: "bucket".into(),
            root: "some/root".into()
        }
    );
    c.datalake.url = "file:///srv/lake".into();
    assert_eq!(
        c.lake_location().unwrap(),
        LakeLocation::Local("/srv/lake".into())
    );
    c.datalake.url = "gs://x".into();
    assert!(c.lake_location().is_err());
}

#[test]
fn validation_names_the_bad_key() {
    let mut c = base();
    c.mysql.url = "mysql://u:p@h:3306".into();
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("mysql.url names no database"), "{e}");
    assert!(!e.contains(":p@"), "{e}");

    let mut c = base();
    c.tables.push(TableConfig {
        name: "auth_user; drop table x".into(),
        ..TableConfig::default()
    });
    let e = format!("{:#}", c.validate().unwrap_err());
    assert!(e.contains("table name"), "{e}");
}

#[test]
fn durations_and_sizes() {
    let d = |s: &str| parse_duration(s);
    assert_eq!(d("0s"), Ok(Duration::ZERO));
    assert_eq!(d("0"), Ok(Duration::ZERO));
    assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(d("1h30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(d("7d"), Ok(Duration::from_secs(7 * 86400)));
    assert_eq!(d("1h 30m"), Ok(Duration::from_secs(5400)));
    for bad in ["", "5", "h", "-1s", "5 parsecs"] {
        assert!(d(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_byte_size("64MiB"), Ok(64 << 20));
    assert_eq!(parse_byte_size("1GB"), Ok(1_000_000_000));
    assert_eq!(parse_byte_size("4096"), Ok(4096));
    assert!(parse_byte_size("MiB").is_err());
    assert!(parse_byte_size("lots").is_err());
}

#[test]
fn tracking_logs_validation() {
    let mut c = base();
    assert!(!c.tracking_logs_enabled());
    c.tracking_logs.path = Some("/openedx/data/logs/tracking.log".into());
    c.validate().unwrap();
    c.tracking_logs.grace = "5 parsecs".into();
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("tracking_logs.grace"), "{e}");
    let t: TrackingLogsConfig = toml::from_str("rotate_bytes = '64MiB'").unwrap();
    assert_eq!(t.rotate_bytes, 64 << 20);
    // A sidecar needs no database.
    let mut c = base();
    c.mysql.url = Default::default();
    c.validate().unwrap();
}

#[test]
fn partition_by_accepts_string_or_list() {
    let t: TableConfig = toml::from_str("name = 'a'\npartition_by = 'course_id'").unwrap();
    assert_eq!(t.partition_by, vec!["course_id"]);
    let t: TableConfig = toml::from_str("name = 'a'\npartition_by = ['x', 'y']").unwrap();
    assert_eq!(t.partition_by, vec!["x", "y"]);
    let t: TableConfig = toml::from_str("name = 'a'").unwrap();
    assert!(t.partition_by.is_empty());
    assert!(
        !t.optional,
        "a listed table must exist unless it says otherwise"
    );
    let t: TableConfig = toml::from_str("name = 'a'\noptional = true").unwrap();
    assert!(t.optional);
}

#[test]
#[allow(clippy::result_large_err)]
fn panorama_tables_when_none_listed() {
    figment::Jail::expect_with(|jail| {
        let head = "lms_host = 'lms'\n[mysql]\nurl = 'mysql://u@h:3306/db'\n";
        jail.create_file("none.toml", head)?;
        jail.create_file("empty.toml", &format!("tables = []\n{head}"))?;
        jail.create_file("sidecar.toml", "lms_host = 'lms'\n")?;
        let load = |f: &str| Config::load(Some(Path::new(f))).map_err(|e| e.to_string());
        let c = load("none.toml")?;
        assert_eq!(c.tables.len(), 30);
        let optional: Vec<&str> = c
            .tables
            .iter()
            .filter(|t| t.optional)
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            optional,
            [
                "enterprise_enterprisecustomer",
                "enterprise_enterprisecustomeruser",
                "enterprise_pendingenterprisecustomeruser",
                "openedx_progress_coursecompletionsummary"
            ]
        );
        let studentmodule = c
            .tables
            .iter()
            .find(|t| t.name == "courseware_studentmodule")
            .unwrap();
        assert_eq!(studentmodule.partition_by, ["course_id"]);
        assert!(
            load("empty.toml")?.tables.is_empty(),
            "tables = [] means none"
        );
        assert!(
            load("sidecar.toml")?.tables.is_empty(),
            "no database, no tables"
        );
        // The shipped config relies on the defaults.
        let shipped = Config::load(Some(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG_FILE),
        ))
        .map_err(|e| e.to_string())?;
        assert_eq!(shipped.tables, default_tables());
        Ok(())
    });
}

#[test]
#[allow(clippy::result_large_err)]
fn file_then_env_precedence() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "edlake.toml",
            r#"
            lms_host = "from-file"
            [mysql]
            url = "mysql://u:p@h:3306/db"
            [[tables]]
            name = "auth_user"
            "#,
        )?;
        jail.set_env("EDLAKE_LMS_HOST", "from-env");
        jail.set_env("EDLAKE_DATALAKE__PREFIX", "lake");
        jail.set_env("EDLAKE_TEST_SOMETHING", "ignored");
        jail.set_env("EDLAKE_MYSQL__PASSWORD", "\"0123\"");
        let c = Config::load(Some(Path::new("edlake.toml"))).map_err(|e| e.to_string())?;
        assert_eq!(c.lms_host, "from-env");
        assert_eq!(c.datalake.prefix, "lake");
        assert_eq!(c.datalake.url, "./datalake");
        assert_eq!(c.tables.len(), 1);
        assert_eq!(
            c.mysql.password.as_ref().map(|p| p.expose()),
            Some("\"0123\""),
            "taken verbatim"
        );
        jail.set_env("EDLAKE_MYSQL__URLL", "typo");
        let e = Config::load(Some(Path::new("edlake.toml")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("urll"), "{e}");
        Ok(())
    });
}

#[test]
fn the_format_is_the_lakes_unless_a_table_says_otherwise() {
    let mut c = base();
    let parquet: TableConfig = toml::from_str("name = 'a'\nformat = 'parquet'").unwrap();
    let plain: TableConfig = toml::from_str("name = 'b'").unwrap();
    assert_eq!(c.format_of(&parquet), Format::Parquet);
    assert_eq!(c.format_of(&plain), Format::Csv);
    c.datalake.format = Format::Parquet;
    assert_eq!(c.format_of(&plain), Format::Parquet);
    let err = toml::from_str::<TableConfig>("name = 'a'\nformat = 'orc'")
        .unwrap_err()
        .to_string();
    assert!(err.contains("csv") && err.contains("parquet"), "{err}");
}
