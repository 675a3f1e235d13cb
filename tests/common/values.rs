//! Values that break careless CSV writers and readers, shared by the dialect and DuckDB
//! tests: quotes, commas, backslashes (a trailing one too), the texts `\\N`, `NULL`, `N` and
//! `''` (distinct from NULL), CR, LF and CRLF, tabs and unicode; and the `adversarial`
//! MySQL table of every MySQL type holding them and every type's edge values.

use super::*;

/// Text values, each written to its own row.
pub const ADVERSARIAL: &[&str] = &[
    "",
    "plain",
    "quote \"inside\"",
    "\"",
    "\"\"",
    "\"starts and ends\"",
    "comma, inside",
    ",",
    "back\\slash",
    "\\",
    "\\\\",
    "trailing backslash\\",
    "\\\"",
    "\"\\",
    "\\N",
    "\\\\N",
    "N",
    "NULL",
    "null",
    "''",
    "'",
    "\\n literal backslash-n",
    "\\r\\n literal",
    "tab\there",
    "\t",
    "lf\nline",
    "cr\rline",
    "crlf\r\nline",
    "\n",
    "\r",
    "\r\n",
    "\n\n\r\r",
    "trailing lf\n",
    "  padded  ",
    " ",
    "é中文🎓 ünïcödé",
    "emoji 👩‍🔬🏳️‍🌈 and 𝔘",
    "\u{1}\u{2} control chars \u{7f}",
    "{\"answer\": \"he said \\\"hi\\\"\\n\", \"u\": \"\\u00e9\"}",
    "a,\"b\",c\n\"d\"",
    "semi;colon|pipe",
    "'single' quotes",
];

pub const BIG_ID: i32 = 500;

/// Per column: MySQL type, the view's DuckDB type, the Athena view's Trino type.
pub const ADVERSARIAL_TYPES: &[(&str, &str, &str, &str)] = &[
    ("id", "int(11)", "BIGINT", "bigint"),
    ("t_longtext", "longtext", "VARCHAR", "varchar"),
    ("t_varchar", "varchar(255)", "VARCHAR", "varchar"),
    ("en", "enum('a','b,c','d\"e')", "VARCHAR", "varchar"),
    ("dt6", "datetime(6)", "TIMESTAMP", "timestamp(6)"),
    ("dt0", "datetime", "TIMESTAMP", "timestamp(6)"),
    ("ts6", "timestamp(6)", "TIMESTAMP", "timestamp(6)"),
    ("d", "date", "DATE", "date"),
    ("tm", "time(6)", "TIME", "time(6)"),
    ("tm0", "time", "TIME", "time(6)"),
    (
        "dec38",
        "decimal(38,10)",
        "DECIMAL(38,10)",
        "decimal(38,10)",
    ),
    ("dec65", "decimal(65,30)", "DOUBLE", "double"),
    ("dec5", "decimal(5,2)", "DECIMAL(5,2)", "decimal(5,2)"),
    ("dbl", "double", "DOUBLE", "double"),
    ("flt", "float", "DOUBLE", "double"),
    ("flag", "tinyint(1)", "BOOLEAN", "boolean"),
    ("tiny", "tinyint(4)", "BIGINT", "bigint"),
    ("small", "smallint(5) unsigned", "BIGINT", "bigint"),
    ("medium", "mediumint(9)", "BIGINT", "bigint"),
    ("iu", "int(10) unsigned", "BIGINT", "bigint"),
    ("big", "bigint(20)", "BIGINT", "bigint"),
    (
        "bigu",
        "bigint(20) unsigned",
        "DECIMAL(20,0)",
        "decimal(20,0)",
    ),
    ("yr", "year(4)", "INTEGER", "integer"),
    ("bin", "binary(4)", "BLOB", "varbinary"),
    ("vbin", "varbinary(16)", "BLOB", "varbinary"),
    ("blb", "longblob", "BLOB", "varbinary"),
    ("bits", "bit(10)", "BIGINT", "bigint"),
    ("bits64", "bit(64)", "DECIMAL(20,0)", "decimal(20,0)"),
];

/// A megabyte of text made of every character class the dialect escapes.
pub fn big_text() -> String {
    let unit = "é\"\\,\n🎓\r\n\\N\t'x";
    unit.repeat((1 << 20) / unit.len() + 1)
}

pub async fn adversarial_db(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    let columns: Vec<String> = ADVERSARIAL_TYPES
        .iter()
        .map(|(name, ty, ..)| match *name {
            "id" => "id int NOT NULL PRIMARY KEY".to_string(),
            _ => format!("{name} {ty} NULL"),
        })
        .collect();
    db.exec(&format!(
        "CREATE TABLE adversarial ({}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
        columns.join(", ")
    ))
    .await;
    let mut conn = db.pool.acquire().await.unwrap();
    // Zero dates and zero-in-date values, as old Open edX databases may hold.
    sqlx::raw_sql("SET SESSION sql_mode = '', time_zone = '+00:00'")
        .execute(&mut *conn)
        .await
        .unwrap();
    for (i, v) in ADVERSARIAL.iter().enumerate() {
        sqlx::query("INSERT INTO adversarial (id, t_longtext, t_varchar) VALUES (?, ?, ?)")
            .bind(i as i32)
            .bind(*v)
            .bind(*v)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO adversarial (id, t_longtext) VALUES (?, ?)")
        .bind(BIG_ID)
        .bind(big_text())
        .execute(&mut *conn)
        .await
        .unwrap();
    let ones64 = "1".repeat(64);
    sqlx::raw_sql(&format!(
        "INSERT INTO adversarial (id, t_longtext, t_varchar, en, dt6, dt0, ts6, d, tm, tm0, dec38, dec65,
            dec5, dbl, flt, flag, tiny, small, medium, iu, big, bigu, yr, bin, vbin, blb, bits, bits64) VALUES
         (1000, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
         (1001, '', '', 'b,c', '2024-03-05 14:02:11.000001', '9999-12-31 23:59:59',
            '2038-01-19 03:14:07.999999', '2024-02-29', '23:59:59.999999', '00:00:00',
            '9999999999999999999999999999.9999999999',
            '99999999999999999999999999999999999.999999999999999999999999999999', 999.99,
            -1.5e300, 0.1, 2, 127, 65535, -8388608, 4294967295, -9223372036854775808,
            18446744073709551615, 2155, x'00FF1000', x'00', x'DEADBEEF00', b'1111111111', b'{ones64}'),
         (1002, 'x', 'y', 'd\"e', '1970-01-01 00:00:00.000000', '1000-01-01 00:00:00',
            '1970-01-01 00:00:01.000000', '1000-01-01', '-838:59:59.500000', '838:59:59',
            '-9999999999999999999999999999.9999999999',
            '-99999999999999999999999999999999999.999999999999999999999999999999', -999.99,
            1.7976931348623157e308, -1.5, 0, -128, 0, 8388607, 0, 9223372036854775807,
            0, 1901, x'00000000', x'', x'', b'0', b'0'),
         (1003, NULL, NULL, 'a', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
            '0000-00-00 00:00:00', '0000-00-00', '24:00:00', '25:00:00', 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0,
            1, 0, NULL, NULL, NULL, b'1', b'1'),
         (1004, NULL, NULL, NULL, '2024-00-15 10:00:00.5', '2024-05-00 00:00:00', NULL, '2024-05-00',
            '-00:00:01', '12:34:56', 0.0000000001, 1e-30, 0.01, -0.0, 3.4e38, -1, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
         (1005, NULL, NULL, NULL, '2024-12-31 23:59:59.999999', '2024-01-01 00:00:00', NULL, NULL,
            '00:00:00.000001', '23:59:59', NULL, 123456789.123456789012345678901234567890,
            NULL, 2.2250738585072014e-308, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL)"
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    db
}

pub fn view_sql(table: &str) -> String {
    format!("SELECT * FROM panorama.openedx_table_{table} ORDER BY id")
}

pub fn with_lms(mut records: Vec<Record>) -> Vec<Record> {
    for r in &mut records {
        r.insert("lms".into(), Some("lms.example.com".into()));
    }
    records
}

/// Asserts that the typed view of `adversarial` (see [`adversarial_db`]) in the DuckDB
/// catalog of the local `lake` reads back as MySQL: the view's DuckDB types, every row, and
/// the distinctions that matter spelled out. The same for every lake format.
pub async fn assert_adversarial_view(what: &str, db: &TestDb, lake: &Path) {
    let result = duckdb_query(
        &catalog_file(lake),
        &view_sql("adversarial"),
        &DuckDbOptions::default(),
    );
    // Columns and types as DuckDB reports them for the view.
    let mut expected_columns: Vec<(String, String)> = ADVERSARIAL_TYPES
        .iter()
        .map(|(n, _, duck, _)| (n.to_string(), duck.to_string()))
        .collect();
    expected_columns.push(("lms".into(), "VARCHAR".into()));
    assert_eq!(result.columns, expected_columns);

    let actual = result.records();
    let expected = with_lms(mysql_records(db, "adversarial").await);
    assert_same_rows(what, "id", &actual, &expected);

    // The distinctions that matter, spelled out (so a bug on both sides still fails).
    let cell = |id: usize, col: &str| {
        actual
            .iter()
            .find(|r| r["id"].as_deref() == Some(&id.to_string()))
            .unwrap_or_else(|| panic!("row {id}"))[col]
            .clone()
    };
    for (i, v) in ADVERSARIAL.iter().enumerate() {
        assert_eq!(cell(i, "t_longtext").as_deref(), Some(*v), "#{i} {v:?}");
        assert_eq!(cell(i, "t_varchar").as_deref(), Some(*v), "#{i} {v:?}");
    }
    assert_eq!(cell(BIG_ID as usize, "t_longtext"), Some(big_text()));
    assert_eq!(cell(1000, "t_longtext"), None);
    assert_eq!(cell(1000, "vbin"), None);
    assert_eq!(
        cell(1002, "vbin").as_deref(),
        Some(""),
        "empty binary is not NULL"
    );
    assert_eq!(
        cell(1001, "bits64").as_deref(),
        Some("18446744073709551615")
    );
    assert_eq!(cell(1001, "bigu").as_deref(), Some("18446744073709551615"));
    assert_eq!(cell(1001, "flag").as_deref(), Some("true"), "2 is true");
    assert_eq!(cell(1002, "flag").as_deref(), Some("false"));
    assert_eq!(cell(1001, "dbl").as_deref(), Some("-1.5e300"));
    assert_eq!(cell(1003, "dt6"), None, "the zero date reads as NULL");
    assert_eq!(cell(1002, "tm"), None, "a negative TIME reads as NULL");
    assert_eq!(
        cell(1003, "tm"),
        None,
        "24:00:00 is past time(6) in Athena too"
    );
    assert_eq!(cell(1001, "tm").as_deref(), Some("23:59:59.999999"));
    assert_eq!(
        cell(1001, "dec38").as_deref(),
        Some("9999999999999999999999999999.9999999999")
    );
    assert_eq!(
        cell(1002, "dec38").as_deref(),
        Some("-9999999999999999999999999999.9999999999")
    );
    assert_eq!(cell(1003, "dec38").as_deref(), Some("0.0000000000"));
    assert_eq!(
        cell(1001, "dt6").as_deref(),
        Some("2024-03-05 14:02:11.000001"),
        "microseconds kept"
    );
    assert_eq!(
        cell(1001, "ts6").as_deref(),
        Some("2038-01-19 03:14:07.999999")
    );
}
