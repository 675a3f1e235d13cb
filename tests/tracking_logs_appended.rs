//! `edlake logs ship` on rotated files that grow after they were shipped (a writer that kept
//! its descriptor open longer than `grace`): what was appended is shipped, once; what was
//! shipped is never shipped again, small file or big, plain or gzip, even when a pass was
//! cut short in between.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const GRACE: Duration = Duration::from_millis(1000);

/// Files count as settled once neither written nor renamed for `grace`; the inode change
/// time cannot be set back, so tests wait it out.
fn settle() {
    std::thread::sleep(GRACE + Duration::from_millis(200));
}

/// A tracking line as Tutor's logger writes it, `pad` bytes of padding in its event.
fn event(time: &str, seq: u64, pad: usize) -> String {
    format!(
        "2024-01-01 00:00:00,000 INFO 7 [tracking] [user 1] [ip 1.2.3.4] logger.py:41 - \
         {{\"name\": \"t\", \"time\": \"{time}\", \"event\": {{\"seq\": {seq}, \"pad\": \"{}\"}}}}\n",
        "p".repeat(pad)
    )
}

struct Site {
    _dir: tempfile::TempDir,
    logs: PathBuf,
    lake: PathBuf,
    config: String,
}

/// A log directory with no live file to rotate, and a local lake; `keep` long enough for
/// shipped files to stay and be appended to.
fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let lake = dir.path().join("lake");
    std::fs::create_dir_all(&logs).unwrap();
    let config = format!(
        "lms_host = \"lms.example.com\"\n[datalake]\nurl = \"{}\"\n\
         [tracking_logs]\npath = \"{}\"\nrotate_age = \"1h\"\ngrace = \"{}ms\"\nkeep = \"1h\"\n",
        lake.display(),
        logs.join("tracking.log").display(),
        GRACE.as_millis()
    );
    Site {
        _dir: dir,
        logs,
        lake,
        config,
    }
}

impl Site {
    fn ship(&self) -> Output {
        edlake(&self.config, &["logs", "ship"], &[])
    }

    /// `seq -> day partitions it was found in`, over every tracking-log object; checks each
    /// event is in its own day's partition.
    fn events(&self) -> BTreeMap<u64, Vec<String>> {
        let mut seen: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for key in files_under(&self.lake) {
            if !key.starts_with("openedx/tracking_logs/") || !key.ends_with(".gz") {
                continue;
            }
            let day: String = key
                .split('/')
                .filter_map(|s| {
                    ["year=", "month=", "day="]
                        .iter()
                        .find_map(|p| s.strip_prefix(p))
                })
                .collect::<Vec<_>>()
                .join("-");
            for line in gunzip_lines(&std::fs::read(self.lake.join(&key)).unwrap()) {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                let time = v["time"].as_str().unwrap();
                assert_eq!(&time[..10], day, "{key}: event at {time} in the wrong day");
                let event: serde_json::Value =
                    serde_json::from_str(v["event"].as_str().unwrap()).unwrap();
                seen.entry(event["seq"].as_u64().unwrap())
                    .or_default()
                    .push(key.clone());
            }
        }
        seen
    }

    /// Every event `0..count` is in the lake exactly once, and nothing else.
    fn assert_each_once(&self, count: u64) {
        let seen = self.events();
        for seq in 0..count {
            match seen.get(&seq).map(Vec::as_slice) {
                Some([_]) => {}
                None => panic!("event {seq} is missing"),
                Some(keys) => panic!("event {seq} is in {} objects: {keys:?}", keys.len()),
            }
        }
        assert_eq!(seen.len() as u64, count, "{seen:?}");
    }

    fn quarantined(&self) -> Vec<String> {
        files_under(&self.lake)
            .into_iter()
            .filter(|f| f.contains("quarantine"))
            .collect()
    }
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn gzip(path: &Path, content: &[u8]) {
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(content).unwrap();
    enc.finish().unwrap();
}

#[test]
fn a_small_file_appended_to_ships_only_what_was_appended() {
    let site = site();
    let file = site.logs.join("tracking.log-20240101-1704067200");
    // Its last line lacks its `\n`: the writer had not finished it when the file was read.
    let first = [
        event("2024-01-01T23:59:58+00:00", 0, 0),
        event("2024-01-01T23:59:59+00:00", 1, 0),
        event("2024-01-01T23:59:59.5+00:00", 2, 0),
    ]
    .concat();
    std::fs::write(&file, first.trim_end()).unwrap();
    settle();
    let out = site.ship();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 shipped, 0 already"), "{}", out.all());
    site.assert_each_once(3);

    // The writer finishes its line and goes on, past midnight.
    append(
        &file,
        &[
            "\n".to_string(),
            event("2024-01-01T23:59:59.9+00:00", 3, 0),
            event("2024-01-02T00:00:01+00:00", 4, 0),
        ]
        .concat(),
    );
    settle();
    let out = site.ship();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(&format!(
            "shipped {} from byte {}",
            file.display(),
            first.len() - 1
        )),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("grew by"), "{}", out.all());
    site.assert_each_once(5);
    assert_eq!(site.quarantined(), Vec::<String>::new());
    let out = site.ship();
    assert!(
        out.stdout.contains("0 shipped, 1 already shipped"),
        "{}",
        out.all()
    );

    // Grown again, then compressed by logrotate (the plain file gone): the gzip copy is
    // the same file, read in its decompressed content.
    append(&file, &event("2024-01-02T00:00:02+00:00", 5, 0));
    let content = std::fs::read(&file).unwrap();
    let gz = site.logs.join("tracking.log-20240101-1704067200.gz");
    gzip(&gz, &content);
    std::fs::remove_file(&file).unwrap();
    settle();
    let out = site.ship();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains(&format!("shipped {} from byte", gz.display())),
        "{}",
        out.all()
    );
    site.assert_each_once(6);
    let out = site.ship();
    assert!(
        out.stdout.contains("0 shipped, 1 already shipped"),
        "{}",
        out.all()
    );
    site.assert_each_once(6);
}

#[test]
fn a_big_file_appended_to_ships_only_what_was_appended() {
    let site = site();
    let file = site.logs.join("tracking.log-20240101-1704067200");
    let first: String = (0..400)
        .map(|i| {
            event(
                &format!("2024-01-01T10:{:02}:{:02}+00:00", i / 60, i % 60),
                i,
                300,
            )
        })
        .collect();
    assert!(first.len() > 2 * 64 * 1024);
    std::fs::write(&file, &first).unwrap();
    settle();
    let out = site.ship();
    assert_eq!(out.code, 0, "{}", out.all());
    site.assert_each_once(400);

    let more: String = (400..410)
        .map(|i| event(&format!("2024-01-01T11:00:{:02}+00:00", i - 400), i, 300))
        .collect();
    append(&file, &more);
    settle();
    let out = site.ship();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("from byte"), "{}", out.all());
    site.assert_each_once(410);
    let out = site.ship();
    assert!(
        out.stdout.contains("0 shipped, 1 already shipped"),
        "{}",
        out.all()
    );
}

/// A pass that stops between two uploads, then a file that grows before the next: the next
/// pass ships exactly what the first one read, to the same objects, then the rest.
#[test]
fn a_pass_cut_short_then_growth_still_ships_each_line_once() {
    let site = site();
    let file = site.logs.join("tracking.log-20240102-1704153600");
    std::fs::write(
        &file,
        [
            event("2024-01-01T23:59:59+00:00", 0, 0),
            event("2024-01-02T00:00:01+00:00", 1, 0),
        ]
        .concat(),
    )
    .unwrap();
    // The day-2 upload fails (its partition directory cannot be made); day 1 is written.
    let day2 = site
        .lake
        .join("openedx/tracking_logs/lms=lms.example.com/year=2024/month=01/day=02");
    std::fs::create_dir_all(day2.parent().unwrap()).unwrap();
    std::fs::write(&day2, b"in the way").unwrap();
    settle();
    let out = site.ship();
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("cannot create ")
            && out.stderr.contains("/day=02")
            && out.stderr.contains("; it stays on disk for the next pass"),
        "{}",
        out.all()
    );
    assert_eq!(site.events().len(), 1, "day 1 was written");

    std::fs::remove_file(&day2).unwrap();
    append(&file, &event("2024-01-02T00:00:02+00:00", 2, 0));
    settle();
    let out = site.ship();
    assert_eq!(out.code, 0, "{}", out.all());
    site.assert_each_once(3);
    let out = site.ship();
    assert!(
        out.stdout.contains("0 shipped, 1 already shipped"),
        "{}",
        out.all()
    );
}
