use super::*;

fn record(fp: &str, shipped_at: u64) -> Record {
    Record {
        shipped_at,
        fingerprint: fp.into(),
        ..Record::new(b"0123456789", Path::new("/logs/tracking.log-1"), 10)
    }
}

/// A record of `content` shipped whole.
fn shipped(content: &[u8]) -> Record {
    let mut r = Record::new(
        &content[..content.len().min(FINGERPRINT_BYTES)],
        Path::new("/logs/tracking.log-1"),
        content.len() as u64,
    );
    r.shipped_bytes = Some(content.len() as u64);
    r.shipped_head = Some(digest_hex(&content[..content.len().min(FINGERPRINT_BYTES)]));
    r
}

fn lines(n: usize) -> Vec<u8> {
    file_lines("a", n)
}

/// The first `n` lines of file `file`.
fn file_lines(file: &str, n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            format!(
                "{{\"file\": \"{file}\", \"seq\": {i}, \"pad\": \"{}\"}}\n",
                "p".repeat(40)
            )
            .into_bytes()
        })
        .collect()
}

#[test]
fn records_round_trip_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(ledger.get("aa").unwrap(), None);
    ledger.put(&record("aa", 100)).unwrap();
    ledger.put(&record("bb", 100)).unwrap();
    ledger.put(&record("cc", 5000)).unwrap();
    assert_eq!(ledger.get("aa").unwrap(), Some(record("aa", 100)));
    let present: HashSet<String> = ["bb".to_string()].into();
    let removed = ledger
        .prune(&present, UNIX_EPOCH + Duration::from_secs(1000))
        .unwrap();
    // aa is old and gone; bb is old but its file is still there; cc is recent.
    assert_eq!(removed, 1);
    assert_eq!(ledger.get("aa").unwrap(), None);
    assert!(ledger.get("bb").unwrap().is_some());
    assert!(ledger.get("cc").unwrap().is_some());
}

#[test]
fn a_file_is_found_as_shipped_and_grown_small_or_big() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    let small = lines(10);
    let big = file_lines("b", 2000);
    assert!(small.len() < FINGERPRINT_BYTES && big.len() > FINGERPRINT_BYTES);
    ledger.put(&shipped(&small)).unwrap();
    ledger.put(&shipped(&big)).unwrap();
    // A new ledger (the next pass) reads the short lengths back from the records.
    let ledger = Ledger::open(dir.path()).unwrap();
    let head = |c: &[u8]| c[..c.len().min(FINGERPRINT_BYTES)].to_vec();

    let found = ledger.find(&small).unwrap().expect("as shipped");
    assert_eq!(found.shipped_bytes, Some(small.len() as u64));
    let grown = lines(30);
    let found = ledger.find(&head(&grown)).unwrap().expect("grown");
    assert_eq!(found.fingerprint, digest_hex(&small));
    let grown = lines(3000);
    let found = ledger
        .find(&head(&grown))
        .unwrap()
        .expect("grown past 64 KiB");
    assert_eq!(found.fingerprint, digest_hex(&small));

    let found = ledger
        .find(&head(&big))
        .unwrap()
        .expect("big, grown or not");
    assert_eq!(found.shipped_bytes, Some(big.len() as u64));
    assert!(
        ledger.find(b"{\"seq\": 0}\n").unwrap().is_none(),
        "another file"
    );
}

#[test]
fn a_file_that_only_starts_like_a_shipped_one_is_another() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    // A one-line file, shipped, then grown and shipped again up to 60 bytes.
    let first = b"Traceback (most recent call last):\n";
    let mut record = shipped(first);
    let grown = [&first[..], b"  File \"x.py\", line 1\nnext lines\n"].concat();
    record.shipped_bytes = Some(grown.len() as u64);
    record.shipped_head = Some(digest_hex(&grown));
    ledger.put(&record).unwrap();
    assert!(ledger
        .find(&[&grown[..], b"more\n"].concat())
        .unwrap()
        .is_some());
    assert!(ledger.find(first).unwrap().is_some(), "an older copy");
    // Another file whose first line happens to be the same.
    let other = [&first[..], b"  File \"y.py\", line 9\nother lines\n"].concat();
    assert!(ledger.find(&other).unwrap().is_none());
}

#[test]
fn records_of_the_previous_release_are_read_and_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let content = lines(3);
    let fp = digest_hex(&content);
    std::fs::create_dir_all(dir.path().join("shipped")).unwrap();
    // Exactly what the previous release wrote.
    std::fs::write(
        dir.path().join(format!("shipped/{fp}.json")),
        format!(
            "{{\n  \"fingerprint\": \"{fp}\",\n  \"source\": \"/logs/tracking.log-1\",\n  \
             \"shipped_at\": 1709640000,\n  \"file_size\": {},\n  \"events\": 3,\n  \
             \"quarantined\": 0,\n  \"objects\": [\"a/b.gz\"]\n}}",
            content.len()
        ),
    )
    .unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    let record = ledger.get(&fp).unwrap().unwrap();
    assert_eq!((record.events, record.shipped_bytes), (3, None));
    let grown = lines(5);
    let found = ledger.find(&grown).unwrap().expect("grown");
    assert_eq!(found.fingerprint, fp);
    // Its fingerprint covered all of it, so that is what was shipped.
    assert_eq!(found.shipped_bytes, Some(content.len() as u64));
}

#[test]
fn an_unreadable_record_stops_the_pass_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("shipped")).unwrap();
    std::fs::write(dir.path().join("shipped/abc.json"), b"{ cut").unwrap();
    let e = format!("{:#}", Ledger::open(dir.path()).err().unwrap());
    assert!(
        e.contains("unreadable record") && e.contains("abc.json"),
        "{e}"
    );
}
