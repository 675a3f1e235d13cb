//! The typed Parquet lake read by real readers: the adversarial value set and every MySQL
//! type, extracted with `format = "parquet"`, read back through the DuckDB catalog's typed
//! view and by pyarrow reading the file directly, both equal to MySQL row for row, with
//! the Parquet types pyarrow reports per column and the values no type holds counted and
//! logged; the same lake on S3 (moto) byte for byte; Glue's ParquetHiveSerDe tables, typed
//! columns and partitions, and the Athena view selecting the columns without decoding.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

/// The adversarial table's one file (it has no partition column but `lms`).
const FILE: &str = "openedx/adversarial/lms=lms.example.com/adversarial.parquet";

/// Timestamps as arrow-rs writes them: µs, not adjusted to UTC (MySQL's naive UTC values).
const TIMESTAMP_US: &str = "Timestamp(isAdjustedToUTC=false, timeUnit=microseconds, \
     is_from_converted_type=false, force_set_converted_type=false)";

/// Per column of `adversarial` (in ADVERSARIAL_TYPES' order): the Glue (Hive) type, then
/// the Arrow type, Parquet physical type and Parquet logical type pyarrow reports.
const PARQUET_TYPES: &[(&str, &str, &str, &str, &str)] = &[
    ("id", "bigint", "int64", "INT64", "None"),
    ("t_longtext", "string", "string", "BYTE_ARRAY", "String"),
    ("t_varchar", "string", "string", "BYTE_ARRAY", "String"),
    ("en", "string", "string", "BYTE_ARRAY", "String"),
    ("dt6", "timestamp", "timestamp[us]", "INT64", TIMESTAMP_US),
    ("dt0", "timestamp", "timestamp[us]", "INT64", TIMESTAMP_US),
    ("ts6", "timestamp", "timestamp[us]", "INT64", TIMESTAMP_US),
    ("d", "date", "date32[day]", "INT32", "Date"),
    // µs since midnight, no logical type: the views make it a time.
    ("tm", "bigint", "int64", "INT64", "None"),
    ("tm0", "bigint", "int64", "INT64", "None"),
    (
        "dec38",
        "decimal(38,10)",
        "decimal128(38, 10)",
        "FIXED_LEN_BYTE_ARRAY",
        "Decimal(precision=38, scale=10)",
    ),
    // Past 38 digits no engine has a decimal: a double, as in the views.
    ("dec65", "double", "double", "DOUBLE", "None"),
    (
        "dec5",
        "decimal(5,2)",
        "decimal128(5, 2)",
        "INT32",
        "Decimal(precision=5, scale=2)",
    ),
    ("dbl", "double", "double", "DOUBLE", "None"),
    ("flt", "double", "double", "DOUBLE", "None"),
    ("flag", "boolean", "bool", "BOOLEAN", "None"),
    ("tiny", "bigint", "int64", "INT64", "None"),
    ("small", "bigint", "int64", "INT64", "None"),
    ("medium", "bigint", "int64", "INT64", "None"),
    ("iu", "bigint", "int64", "INT64", "None"),
    ("big", "bigint", "int64", "INT64", "None"),
    (
        "bigu",
        "decimal(20,0)",
        "decimal128(20, 0)",
        "FIXED_LEN_BYTE_ARRAY",
        "Decimal(precision=20, scale=0)",
    ),
    ("yr", "int", "int32", "INT32", "None"),
    ("bin", "binary", "binary", "BYTE_ARRAY", "None"),
    ("vbin", "binary", "binary", "BYTE_ARRAY", "None"),
    ("blb", "binary", "binary", "BYTE_ARRAY", "None"),
    ("bits", "bigint", "int64", "INT64", "None"),
    (
        "bits64",
        "decimal(20,0)",
        "decimal128(20, 0)",
        "FIXED_LEN_BYTE_ARRAY",
        "Decimal(precision=20, scale=0)",
    ),
];

/// The rest of a config (after `[datalake]`'s url): a Parquet lake with `datalake` more
/// keys of that section, then `sections` (`[catalog]`, `[extract]`, more `[[tables]]`), and
/// the `adversarial` table.
fn parquet_tables(datalake: &str, sections: &str) -> String {
    format!("format = \"parquet\"\n{datalake}\n{sections}\n[[tables]]\nname = \"adversarial\"\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adversarial_values_read_back_exactly_through_duckdb_and_pyarrow() {
    let db = adversarial_db("pq_adversarial").await;
    let lake = tempfile::tempdir().unwrap();
    let cfg = lake_config(
        &db.url(),
        &lake.path().display().to_string(),
        &parquet_tables("", ""),
    );
    let out = edlake(&cfg, &["extract"], &[DUCKDB_ON]);
    assert_eq!(out.code, 0, "{}", out.all());
    let files: Vec<String> = files_under(lake.path())
        .into_iter()
        .filter(|f| f.starts_with("openedx/"))
        .collect();
    assert_eq!(files, [FILE]);

    // Values no Parquet type holds are NULL, counted, and logged: the zero dates and
    // zero-in-date values (dt6 ×2, dt0 ×2, ts6, d ×2) and the TIMEs outside a day (tm ×3,
    // tm0 ×2).
    let nulled = values_nulled_in_parquet(&db, "adversarial").await;
    assert_eq!(nulled, 12);
    let logged = out
        .stderr
        .lines()
        .find(|l| l.contains("written as NULL"))
        .unwrap_or_else(|| panic!("no log line of the values written as NULL: {}", out.all()));
    assert!(logged.contains("WARN"), "{logged}");
    assert!(logged.contains("table=adversarial"), "{logged}");
    assert!(logged.contains(&format!("values={nulled}")), "{logged}");

    // (a) The DuckDB catalog's typed view: the same types and rows as over the CSV lake.
    assert_adversarial_view("openedx_table_adversarial over Parquet", &db, lake.path()).await;

    // (b) pyarrow, reading the file itself.
    let file = pyarrow_read(&lake.path().join(FILE));
    let types: Vec<(&str, &str, &str, &str)> = file
        .columns
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.arrow.as_str(),
                c.physical.as_str(),
                c.logical.as_str(),
            )
        })
        .collect();
    let expected_types: Vec<(&str, &str, &str, &str)> = PARQUET_TYPES
        .iter()
        .map(|(n, _, arrow, physical, logical)| (*n, *arrow, *physical, *logical))
        .collect();
    assert_eq!(types, expected_types);
    for c in &file.columns {
        assert_eq!(c.compression.as_deref(), Some("ZSTD"), "{}", c.name);
        // pyarrow (Arrow C++) does not take arrow-rs's min/max of a DOUBLE; DuckDB does,
        // below.
        assert!(
            c.statistics || c.physical == "DOUBLE",
            "{}: statistics",
            c.name
        );
    }
    let doubles = duckdb_query(
        &catalog_file(lake.path()),
        &format!(
            "SELECT path_in_schema, stats_min_value, stats_max_value FROM parquet_metadata('{}') \
             WHERE type = 'DOUBLE' ORDER BY 1",
            lake.path().join(FILE).display()
        ),
        &DuckDbOptions::default(),
    );
    assert_eq!(
        doubles.rows,
        [
            ["dbl", "-1.5e+300", "1.7976931348623157e+308"],
            ["dec65", "-1e+35", "1e+35"],
            ["flt", "-1.5", "3.4e+38"],
        ]
        .map(|r| r.map(|v| Some(v.to_string())).to_vec()),
        "min/max statistics of the DOUBLE columns"
    );
    let actual = file.records();
    let expected = mysql_records_as(&db, "adversarial", parquet_text).await;
    assert_same_rows("adversarial.parquet by pyarrow", "id", &actual, &expected);

    // The distinctions that matter, spelled out (so a bug on both sides still fails).
    let cell = |id: i32, col: &str| {
        actual
            .iter()
            .find(|r| r["id"].as_deref() == Some(&id.to_string()))
            .unwrap_or_else(|| panic!("row {id}"))[col]
            .clone()
    };
    for (i, v) in ADVERSARIAL.iter().enumerate() {
        assert_eq!(cell(i as i32, "t_longtext").as_deref(), Some(*v), "#{i}");
        assert_eq!(cell(i as i32, "t_varchar").as_deref(), Some(*v), "#{i}");
    }
    assert_eq!(cell(0, "t_varchar").as_deref(), Some(""), "'' is not NULL");
    assert_eq!(cell(1000, "t_varchar"), None);
    assert_eq!(cell(BIG_ID, "t_longtext"), Some(big_text()));
    assert_eq!(cell(1002, "vbin").as_deref(), Some(""), "empty binary");
    assert_eq!(cell(1001, "bin").as_deref(), Some("00FF1000"));
    assert_eq!(cell(1001, "bigu").as_deref(), Some("18446744073709551615"));
    assert_eq!(
        cell(1001, "bits64").as_deref(),
        Some("18446744073709551615")
    );
    assert_eq!(
        cell(1001, "dec38").as_deref(),
        Some("9999999999999999999999999999.9999999999")
    );
    assert_eq!(
        cell(1002, "dec38").as_deref(),
        Some("-9999999999999999999999999999.9999999999")
    );
    assert_eq!(cell(1004, "dec38").as_deref(), Some("0.0000000001"));
    assert_eq!(
        cell(1001, "dt6").as_deref(),
        Some("2024-03-05 14:02:11.000001")
    );
    assert_eq!(
        cell(1004, "dt6"),
        None,
        "a zero month is no date: 2024-00-15"
    );
    assert_eq!(cell(1003, "d"), None, "the zero date");
    assert_eq!(cell(1001, "tm").as_deref(), Some("86399999999"));
    assert_eq!(cell(1005, "tm").as_deref(), Some("1"));
    assert_eq!(cell(1003, "tm"), None, "24:00:00 is outside a day");
    assert_eq!(cell(1002, "tm"), None, "a negative TIME");
    assert_eq!(cell(1001, "flag").as_deref(), Some("true"), "2 is true");
    assert_eq!(cell(1001, "yr").as_deref(), Some("2155"));
}

/// The files under `root` (edlake's own records left out), by key relative to it.
fn local_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(root)
        .into_iter()
        .map(|f| {
            let data = std::fs::read(root.join(&f)).unwrap();
            (f, data)
        })
        .collect()
}

/// The objects under `root` (edlake's own records left out), by key relative to it.
async fn s3_files(s3: &aws_sdk_s3::Client, bucket: &str, root: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for key in s3_keys(s3, bucket, root).await {
        let data = s3_get(s3, bucket, &key).await;
        out.insert(key.strip_prefix(root).unwrap().to_string(), data);
    }
    out
}

/// The Trino expression of a TIME column stored as µs since midnight.
fn trino_time(column: &str) -> String {
    format!("CAST(from_unixtime_nanos(\"{column}\" * 1000) AT TIME ZONE 'UTC' AS time(6))")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_lake_is_byte_identical_and_glue_has_typed_parquet_tables() {
    let test = "pq_s3_glue";
    let db = adversarial_db(test).await;
    // A course-partitioned table whose big partition is spilled to disk and uploaded in
    // several parts: random bytes do not compress.
    db.exec(
        "CREATE TABLE noise (id int NOT NULL PRIMARY KEY, course_id varchar(255) NOT NULL,
            payload longblob NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    )
    .await;
    let mut conn = db.generator_conn().await;
    sqlx::raw_sql(
        "INSERT INTO noise (id, course_id, payload)
         WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 7010)
         SELECT n, IF(n <= 7000, 'course-v1:Big+N+1', 'course-v1:UnivCafé+N+1'), RANDOM_BYTES(1024)
         FROM seq",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let datalake = format!("endpoint = \"{}\"\npart_size_mb = 5", s3_endpoint());
    let sections = "[extract]\nmemory_budget_mb = 2\n\
         [[tables]]\nname = \"noise\"\npartition_by = \"course_id\"";

    let dir = tempfile::tempdir().unwrap();
    let out = edlake(
        &lake_config(
            &db.url(),
            &dir.path().display().to_string(),
            &parquet_tables(&datalake, sections),
        ),
        &["extract"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let local = local_files(dir.path());
    let big = "openedx/noise/lms=lms.example.com/course_id=course-v1%3ABig+N+1/noise.parquet";
    assert!(local[big].len() > 6 << 20, "{}", local[big].len());
    assert_eq!(local.len(), 3, "{:?}", local.keys());

    let (s3, glue, athena) = (
        s3_client().await,
        glue_client().await,
        athena_client().await,
    );
    let bucket = fresh_bucket(&s3, test).await;
    let gdb = fresh_glue_database(test);
    let out = edlake(
        &lake_config(
            &db.url(),
            &format!("s3://{bucket}/lake"),
            &parquet_tables(
                &datalake,
                &format!("{}{sections}", catalog_config(&gdb, &bucket)),
            ),
        ),
        &["extract"],
        &[("EDLAKE_CATALOG__ENABLED", "true")],
    );
    assert_eq!(out.code, 0, "{}", out.all());

    // The same keys and the same bytes.
    let remote = s3_files(&s3, &bucket, "lake/").await;
    assert_eq!(
        remote.keys().collect::<Vec<_>>(),
        local.keys().collect::<Vec<_>>()
    );
    for (key, bytes) in &local {
        assert!(remote[key] == *bytes, "{key} differs from the local file");
    }

    // Glue: ParquetHiveSerDe tables with the stored types, the MySQL types as comments.
    let raw = glue
        .get_table()
        .database_name(&gdb)
        .name("openedx_raw_adversarial")
        .send()
        .await
        .unwrap();
    let raw = raw.table().unwrap();
    let sd = raw.storage_descriptor().unwrap();
    assert_eq!(
        sd.serde_info().unwrap().serialization_library(),
        Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
    );
    assert_eq!(
        sd.input_format(),
        Some("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
    );
    assert_eq!(
        sd.output_format(),
        Some("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
    );
    assert_eq!(raw.parameters().unwrap()["classification"], "parquet");
    assert!(!raw
        .parameters()
        .unwrap()
        .contains_key("skip.header.line.count"));
    let columns: Vec<(&str, &str, &str)> = sd
        .columns()
        .iter()
        .map(|c| (c.name(), c.r#type().unwrap(), c.comment().unwrap()))
        .collect();
    let expected: Vec<(&str, &str, &str)> = PARQUET_TYPES
        .iter()
        .zip(ADVERSARIAL_TYPES)
        .map(|((name, hive, ..), (_, mysql, ..))| (*name, *hive, *mysql))
        .collect();
    assert_eq!(columns, expected);

    // Partitions read with the same SerDe and formats.
    for (table, partitions) in [("openedx_raw_adversarial", 1), ("openedx_raw_noise", 2)] {
        let parts = glue
            .get_partitions()
            .database_name(&gdb)
            .table_name(table)
            .send()
            .await
            .unwrap();
        assert_eq!(parts.partitions().len(), partitions, "{table}");
        for p in parts.partitions() {
            let sd = p.storage_descriptor().unwrap();
            assert_eq!(
                sd.serde_info().unwrap().serialization_library(),
                Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
                "{table} {:?}",
                p.values()
            );
            assert_eq!(
                sd.input_format(),
                Some("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
            );
        }
    }
    let noise = glue_partitions(&glue, &gdb, "openedx_raw_noise").await;
    assert_eq!(
        noise[1],
        (
            vec!["lms.example.com".into(), "course-v1:UnivCafé+N+1".into()],
            format!(
                "s3://{bucket}/lake/openedx/noise/lms=lms.example.com/course_id=course-v1%3AUnivCafé+N+1/"
            )
        )
    );

    // The Athena view selects the typed columns as they are: no NULL marker, no cast, no
    // text decoding; only a TIME is made from its microseconds.
    let views = athena_queries(&athena, &format!("\"{gdb}\".\"openedx_table_adversarial\"")).await;
    assert_eq!(views.len(), 1, "{views:#?}");
    let mut select: Vec<String> = ADVERSARIAL_TYPES
        .iter()
        .map(|(name, ..)| match *name {
            "tm" | "tm0" => format!("{} AS \"{name}\"", trino_time(name)),
            _ => format!("\"{name}\""),
        })
        .collect();
    select.push("\"lms\"".into());
    assert_eq!(
        views[0],
        format!(
            "CREATE OR REPLACE VIEW \"{gdb}\".\"openedx_table_adversarial\" AS\nSELECT\n  {}\n\
             FROM \"{gdb}\".\"openedx_raw_adversarial\"",
            select.join(",\n  ")
        )
    );
}
