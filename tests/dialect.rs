//! The CSV dialect end to end: adversarial values in a real MariaDB table, extracted by the
//! edlake binary, read back under OpenCSVSerde's rules and decoded with the documented
//! text layer. Every value must come back exactly, NULL distinct from ''.

mod common;

use common::*;

#[test]
fn opencsv_port_matches_the_reference_table() {
    // athena-glue.md §4, escapeChar '\\': the port is what the other tests trust.
    let p = opencsv_parse_line;
    assert_eq!(p("plain"), ["plain"]);
    assert_eq!(p("\"quoted, with comma\""), ["quoted, with comma"]);
    assert_eq!(
        p("\"doubled \"\"inner\"\" quotes\""),
        ["doubled \"inner\" quotes"]
    );
    assert_eq!(
        p("\"escaped \\\"inner\\\" quote\""),
        ["escaped \"inner\" quote"]
    );
    assert_eq!(p("back\\slash"), ["backslash"]);
    assert_eq!(p("\"c:\\\\path\\\\file\""), ["c:\\path\\file"]);
    assert_eq!(p("\\N"), ["N"]);
    assert_eq!(p("a,,\"\""), ["a", "", ""]);
    assert_eq!(p("\"  padded  \", trailing "), ["  padded  ", " trailing "]);
    // A line break inside a quoted field splits the row: the dialect must prevent it.
    let split = std::panic::catch_unwind(|| read_like_opencsv_serde(b"h\n\"a\r\nb\"\n"));
    assert!(split.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_survives_athenas_csv_reader() {
    let db = TestDb::new("dialect").await;
    db.exec(
        "CREATE TABLE adversarial (
            id int NOT NULL PRIMARY KEY,
            t_longtext longtext NULL,
            t_varchar varchar(255) NULL,
            dt6 datetime(6) NULL,
            dt0 datetime NULL,
            dt3 datetime(3) NULL,
            ts6 timestamp(6) NULL,
            d date NULL,
            tm time(6) NULL,
            dec_ decimal(30,10) NULL,
            dbl double NULL,
            flag tinyint(1) NULL,
            big bigint unsigned NULL,
            neg int NULL,
            yr year NULL,
            bin varbinary(16) NULL,
            blb longblob NULL,
            bits bit(10) NULL,
            en enum('a','b,c','d\"e') NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    )
    .await;
    for (i, v) in ADVERSARIAL.iter().enumerate() {
        sqlx::query("INSERT INTO adversarial (id, t_longtext, t_varchar) VALUES (?, ?, ?)")
            .bind(i as i32)
            .bind(*v)
            .bind(*v)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    db.exec(
        "INSERT INTO adversarial VALUES
         (1000, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
         (1001, '', '', '2024-03-05 14:02:11.000001', '2024-03-05 14:02:11', '2024-03-05 14:02:11.5',
          '2024-03-05 14:02:11.123456', '2024-02-29', '-838:59:59.5', '-12345678901234567890.0123456789',
          0.1, 1, 18446744073709551615, -2147483648, 2024, x'00FF10', x'DEADBEEF00', b'1000000001', 'b,c'),
         (1002, 'x', 'y', '1970-01-01 00:00:00.000000', '9999-12-31 23:59:59', '2024-01-01 00:00:00.999',
          '2038-01-19 03:14:07.999999', '1000-01-01', '00:00:00', 0, -1.5e300, 0, 0, 0, 1901, x'', x'', b'0', 'd\"e')",
    )
    .await;

    let lake = tempfile::tempdir().unwrap();
    let config = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        "[[tables]]\nname = \"adversarial\"",
    );
    let out = edlake(&config, &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());

    let data = std::fs::read(
        lake.path()
            .join("openedx/adversarial/lms=lms.example.com/adversarial.csv"),
    )
    .unwrap();
    // OpenCSVSerde splits on any CR or LF: the file may contain LF only as row ends.
    assert!(!data.contains(&b'\r'));
    let expected_lines = ADVERSARIAL.len() + 3 + 1;
    assert_eq!(data.iter().filter(|&&b| b == b'\n').count(), expected_lines);
    assert!(data.ends_with(b"\n"));

    let (header, rows) = read_table_file(&data);
    assert_eq!(header[0], "id");
    assert_eq!(header.len(), 19);
    assert_eq!(rows.len(), ADVERSARIAL.len() + 3);
    let by_id = |id: &str| {
        rows.iter()
            .find(|r| r["id"].as_deref() == Some(id))
            .unwrap_or_else(|| panic!("row {id}"))
    };

    for (i, v) in ADVERSARIAL.iter().enumerate() {
        let row = by_id(&i.to_string());
        assert_eq!(
            row["t_longtext"].as_deref(),
            Some(*v),
            "longtext #{i} {v:?}"
        );
        assert_eq!(row["t_varchar"].as_deref(), Some(*v), "varchar #{i} {v:?}");
        assert_eq!(row["dt6"], None, "NULL stays NULL");
    }

    let nulls = by_id("1000");
    for (col, value) in nulls {
        if col != "id" {
            assert_eq!(value, &None, "{col} is NULL, not ''");
        }
    }

    let r = by_id("1001");
    let expect = [
        ("t_longtext", ""),
        ("t_varchar", ""),
        ("dt6", "2024-03-05 14:02:11.000001"),
        ("dt0", "2024-03-05 14:02:11.000000"),
        ("dt3", "2024-03-05 14:02:11.500000"),
        ("ts6", "2024-03-05 14:02:11.123456"),
        ("d", "2024-02-29"),
        ("tm", "-838:59:59.500000"),
        ("dec_", "-12345678901234567890.0123456789"),
        ("dbl", "0.1"),
        ("flag", "1"),
        ("big", "18446744073709551615"),
        ("neg", "-2147483648"),
        ("yr", "2024"),
        ("bin", "00FF10"),
        ("blb", "DEADBEEF00"),
        ("bits", "513"),
        ("en", "b,c"),
    ];
    for (col, want) in expect {
        assert_eq!(r[col].as_deref(), Some(want), "{col}");
    }
    let r = by_id("1002");
    assert_eq!(r["dt6"].as_deref(), Some("1970-01-01 00:00:00.000000"));
    assert_eq!(r["dt0"].as_deref(), Some("9999-12-31 23:59:59.000000"));
    assert_eq!(r["dt3"].as_deref(), Some("2024-01-01 00:00:00.999000"));
    assert_eq!(r["dec_"].as_deref(), Some("0.0000000000"));
    assert_eq!(r["dbl"].as_deref(), Some("-1.5e300"));
    assert_eq!(
        r["bin"].as_deref(),
        Some(""),
        "empty binary is '', not NULL"
    );
    assert_eq!(r["bits"].as_deref(), Some("0"));
    assert_eq!(r["en"].as_deref(), Some("d\"e"));
}
