//! A lake store that ignores conditional writes (older MinIO, Ceph), on which a lease would
//! silently exclude nobody: `check` fails naming it, `extract` refuses it unless
//! `lease.run_without_locking` accepts running without locking. The store is moto behind
//! scripts/unconditional_s3_proxy.py, which drops `If-None-Match` and `If-Match`; moto
//! itself honours them.

mod common;

use common::*;

const TABLE_FILE: &str = "openedx/small/lms=lms.example.com/small.csv";

async fn small_db(test: &str) -> TestDb {
    let db = TestDb::new(test).await;
    db.exec(
        "CREATE TABLE small (id int NOT NULL PRIMARY KEY, name varchar(20) NULL);
         INSERT INTO small VALUES (1, 'ada'), (2, NULL);",
    )
    .await;
    db
}

/// A config reading `small` into `s3://bucket` through `endpoint`; `rest` follows.
fn config(db: &TestDb, bucket: &str, endpoint: &str, rest: &str) -> String {
    lake_config(
        &db.url(),
        &format!("s3://{bucket}"),
        &format!("endpoint = \"{endpoint}\"\n{rest}\n[[tables]]\nname = \"small\"\n"),
    )
}

/// `(result, detail)` of the one `edlake check` row whose CHECK starts with `prefix`, by
/// the header's column offsets.
#[track_caller]
fn check_row(stdout: &str, prefix: &str) -> (String, String) {
    let header = stdout.lines().next().expect("a header line");
    let result_at = header.find("  RESULT  ").expect("RESULT column") + 2;
    let detail_at = header.find("  DETAIL").expect("DETAIL column") + 2;
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with(prefix)).collect();
    assert_eq!(rows.len(), 1, "one {prefix:?} row in\n{stdout}");
    let row = rows[0];
    (
        row[result_at..detail_at].trim().to_string(),
        row[detail_at..].to_string(),
    )
}

/// The results of every row, for "everything else was ok".
fn results(stdout: &str) -> Vec<String> {
    let header = stdout.lines().next().expect("a header line");
    let result_at = header.find("  RESULT  ").expect("RESULT column") + 2;
    let detail_at = header.find("  DETAIL").expect("DETAIL column") + 2;
    stdout
        .lines()
        .skip(1)
        .map(|l| l[result_at..detail_at].trim().to_string())
        .collect()
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("error:")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_fails_naming_a_store_that_ignores_conditional_writes() {
    let db = small_db("condwrite_check").await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "condwrite-check").await;
    let proxy = UnconditionalS3Proxy::start();
    let out = edlake(&config(&db, &bucket, &proxy.endpoint, ""), &["check"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let prefix = format!("lake conditional writes s3://{bucket}");
    let (result, detail) = check_row(&out.stdout, &prefix);
    assert_eq!(result, "FAILED", "{}", out.stdout);
    assert!(
        detail.contains("a second If-None-Match: * create"),
        "{detail}"
    );
    assert!(detail.contains("upgrade the store"), "{detail}");
    assert!(
        detail.contains("lease.run_without_locking = true"),
        "{detail}"
    );
    // The only failure: MySQL and the plain lake probes were fine.
    let failed = results(&out.stdout).iter().filter(|r| *r != "ok").count();
    assert_eq!(failed, 1, "{}", out.stdout);
    // The requests went through the proxy, which dropped the condition…
    assert!(
        proxy
            .dropped()
            .iter()
            .any(|l| l.starts_with("dropped If-None-Match: * on PUT")),
        "{:?}",
        proxy.dropped()
    );
    // …and the probe cleaned up after itself.
    assert_eq!(all_s3_keys(&s3, &bucket, "").await, Vec::<String>::new());

    // Accepted by the config: a warning, and `check` passes.
    let accepted = config(
        &db,
        &bucket,
        &proxy.endpoint,
        "[lease]\nrun_without_locking = true",
    );
    let out = edlake(&accepted, &["check"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let (result, detail) = check_row(&out.stdout, &prefix);
    assert_eq!(result, "WARN", "{}", out.stdout);
    assert!(
        detail.contains("lease.run_without_locking = true"),
        "{detail}"
    );
    assert!(
        detail.contains("never run two edlake processes"),
        "{detail}"
    );
    assert_eq!(all_s3_keys(&s3, &bucket, "").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_refuses_a_store_that_ignores_conditional_writes() {
    let db = small_db("condwrite_extract").await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "condwrite-extract").await;
    let proxy = UnconditionalS3Proxy::start();
    let out = edlake(
        &config(&db, &bucket, &proxy.endpoint, ""),
        &["extract"],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let errors = error_lines(&out.stderr);
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(
        errors[0].contains(&format!(
            "the lake store s3://{bucket} ignores conditional writes"
        )),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("lease.run_without_locking = true"),
        "{}",
        errors[0]
    );
    // Refused before any table: no summary, no table file, no lease record, no probe left.
    assert_eq!(out.stdout, "", "{}", out.all());
    assert_eq!(all_s3_keys(&s3, &bucket, "").await, Vec::<String>::new());
    assert!(!proxy.dropped().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_runs_without_locking_when_the_config_accepts_it_and_warns() {
    let db = small_db("condwrite_accepted").await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "condwrite-accepted").await;
    let proxy = UnconditionalS3Proxy::start();
    let cfg = config(
        &db,
        &bucket,
        &proxy.endpoint,
        "[lease]\nrun_without_locking = true",
    );
    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let warning = out
        .stderr
        .lines()
        .find(|l| l.contains("WARN") && l.contains("running without locking"))
        .unwrap_or_else(|| panic!("no warning in {}", out.stderr));
    assert!(warning.contains(&format!("s3://{bucket}")), "{warning}");
    assert!(error_lines(&out.stderr).is_empty(), "{}", out.stderr);
    assert_eq!(
        s3_keys(&s3, &bucket, "openedx/small/").await,
        [TABLE_FILE.to_string()]
    );
    let (_, rows) = read_table_file(&s3_get(&s3, &bucket, TABLE_FILE).await);
    assert_eq!(rows.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_store_that_honours_conditional_writes_check_is_ok_and_extract_runs() {
    let db = small_db("condwrite_honoured").await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "condwrite-honoured").await;
    let cfg = config(&db, &bucket, &s3_endpoint(), "");
    let out = edlake(&cfg, &["check"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let (result, detail) = check_row(
        &out.stdout,
        &format!("lake conditional writes s3://{bucket}"),
    );
    assert_eq!(result, "ok", "{}", out.stdout);
    assert!(detail.contains("was refused"), "{detail}");
    assert_eq!(all_s3_keys(&s3, &bucket, "").await, Vec::<String>::new());

    let out = edlake(&cfg, &["extract"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stderr.contains("without locking"), "{}", out.stderr);
    assert_eq!(
        s3_keys(&s3, &bucket, "openedx/small/").await,
        [TABLE_FILE.to_string()]
    );
}
