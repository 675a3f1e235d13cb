//! One MySQL pool per process: the daemon's jobs that read MySQL at the same time
//! (extract, course structures from the MySQL course index, the catalog's column types)
//! together stay within `mysql.max_connections`. The database user is capped by MariaDB
//! itself (MAX_USER_CONNECTIONS), so a process that opened more would see its jobs fail.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_jobs_share_one_pool_within_max_connections() {
    let db = seed_studentmodule("pool_shared", 20_000).await;
    create_course_index(&db).await;
    // mysql.max_connections = 1, and one connection of slack for the probe connection a
    // pool opens (and closes) before its first: three jobs with a pool each need three.
    let user = "edlake_pool_t";
    db.exec(&format!(
        "DROP USER IF EXISTS '{user}'@'127.0.0.1';
         CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'pw' WITH MAX_USER_CONNECTIONS 2;
         GRANT SELECT ON `{}`.* TO '{user}'@'127.0.0.1';",
        db.name
    ))
    .await;
    let s3 = s3_client().await;
    let bucket = fresh_bucket(&s3, "pool-shared").await;
    let mongo = fresh_mongo_db("pool_shared").await;
    let url = format!("mysql://{user}:pw@127.0.0.1:3306/{}", db.name);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Every job fires at the same second.
    let config = format!(
        "lms_host = \"lms.example.com\"\n\
         [mysql]\nurl = \"{url}\"\nmax_connections = 1\n\
         [mongodb]\nurl = \"{}\"\ndatabase = \"{}\"\n\
         [course_structures]\ncourse_index = \"mysql\"\n\
         [datalake]\nurl = \"s3://{bucket}\"\nendpoint = \"{}\"\n\
         {}\
         [schedule]\nextract = \"*/4 * * * * *\"\ncourse_structures = \"*/4 * * * * *\"\n\
         catalog = \"*/4 * * * * *\"\nlogs = \"\"\n\
         [http]\nlisten = \"127.0.0.1:{port}\"\n\
         [[tables]]\nname = \"courseware_studentmodule\"\npartition_by = \"course_id\"\n",
        mongo_url(),
        mongo.name(),
        s3_endpoint(),
        catalog_config(&fresh_glue_database("pool_shared"), &bucket),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edlake.toml");
    std::fs::write(&file, &config).unwrap();
    let mut cmd = edlake_command(&file, &["run"]);
    cmd.env("EDLAKE_LOG", "info")
        .env("EDLAKE_CATALOG__ENABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Two rounds of the three jobs.
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(9));
    assert!(child.try_wait().unwrap().is_none(), "the daemon stopped");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let (status, stderr) = wait_with_stderr(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        !stderr.contains("max_user_connections"),
        "more connections than mysql.max_connections: {stderr}"
    );
    // The only failure allowed: a job the SIGTERM found running.
    assert!(
        stderr
            .lines()
            .filter(|l| l.contains("job failed"))
            .all(|l| l.contains("edlake is stopping")),
        "{stderr}"
    );
    for job in ["extract", "course_structures", "catalog"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("job succeeded") && l.contains(&format!("job=\"{job}\""))),
            "{job} never succeeded: {stderr}"
        );
    }
}
