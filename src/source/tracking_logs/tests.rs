use std::io::{Cursor, Write};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::*;

#[derive(Debug, PartialEq)]
enum P {
    Line(Vec<u8>),
    Long(usize),
}

/// The lines of `input` read through a tiny buffer (so lines span many reads).
fn lines(input: &[u8], buffer: usize) -> Vec<P> {
    let mut out = Vec::new();
    let mut long = 0;
    let reader = BufReader::with_capacity(buffer, Cursor::new(input.to_vec()));
    let bytes = for_each_line(reader, |p| {
        match p {
            Piece::Line(l) => out.push(P::Line(l.to_vec())),
            Piece::LongPart(b) => long += b.len(),
            Piece::LongEnd => {
                out.push(P::Long(long));
                long = 0;
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(bytes, input.len() as u64);
    out
}

#[test]
fn lines_whole_partial_and_empty() {
    for buffer in [3, 7, 64 * 1024] {
        assert_eq!(
            lines(b"ab\n\ncd\nlast", buffer),
            vec![
                P::Line(b"ab".to_vec()),
                P::Line(b"".to_vec()),
                P::Line(b"cd".to_vec()),
                // A partial last line is a line: the file is final when it is read.
                P::Line(b"last".to_vec()),
            ]
        );
        assert_eq!(lines(b"", buffer), vec![]);
        assert_eq!(lines(b"x\n", buffer), vec![P::Line(b"x".to_vec())]);
    }
}

#[test]
fn overlong_lines_stream_through() {
    let mut input = vec![b'a'; line::MAX_LINE + 10];
    input.extend_from_slice(b"\nnext\n");
    input.extend(vec![b'b'; line::MAX_LINE * 2]);
    let got = lines(&input, 64 * 1024);
    assert_eq!(
        got,
        vec![
            P::Long(line::MAX_LINE + 10),
            P::Line(b"next".to_vec()),
            P::Long(line::MAX_LINE * 2),
        ]
    );
}

#[test]
fn gzip_and_plain_copies_share_a_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("{{\"seq\": {i}}}\n").into_bytes())
        .collect();
    let plain = dir.path().join("tracking.log-1");
    std::fs::write(&plain, &content).unwrap();
    let gz = dir.path().join("tracking.log-1.gz");
    let mut enc = GzEncoder::new(File::create(&gz).unwrap(), Compression::fast());
    enc.write_all(&content).unwrap();
    enc.finish().unwrap();
    let other = dir.path().join("other");
    std::fs::write(&other, &content[1..]).unwrap();
    let fp = fingerprint(&plain).unwrap().unwrap();
    assert_eq!(fingerprint(&gz).unwrap().unwrap(), fp);
    assert_ne!(fingerprint(&other).unwrap().unwrap(), fp);
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(fingerprint(&empty).unwrap(), None);
    // A truncated gzip is an error, not a short file.
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    let mut all = Vec::new();
    assert!(open(&gz).unwrap().read_to_end(&mut all).is_err());
}

fn event_line(time: &str) -> String {
    format!("2024-01-01 00:00:00,000 INFO 1 [tracking] [user 1] [ip 1] logger.py:41 - {{\"time\": \"{time}\"}}\n")
}

#[test]
fn rotation_when_due() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("tracking.log");
    let now = SystemTime::from(time::macros::datetime!(2024-03-05 12:00 UTC));
    let hour = Duration::from_secs(3600);
    assert_eq!(
        rotate_if_due(&live, 100, hour, now).unwrap(),
        Rotation::Nothing
    );
    std::fs::write(&live, b"").unwrap();
    assert_eq!(
        rotate_if_due(&live, 0, hour, now).unwrap(),
        Rotation::Nothing
    );

    std::fs::write(&live, event_line("2024-03-05T11:30:00+00:00")).unwrap();
    match rotate_if_due(&live, 1 << 20, hour, now).unwrap() {
        Rotation::NotDue { age, .. } => assert_eq!(age, Some(Duration::from_secs(1800))),
        other => panic!("{other:?}"),
    }
    // Old enough…
    std::fs::write(&live, event_line("2024-03-05T10:59:59+00:00")).unwrap();
    let Rotation::Rotated(first) = rotate_if_due(&live, 1 << 20, hour, now).unwrap() else {
        panic!("not rotated")
    };
    assert_eq!(
        first.file_name().unwrap(),
        "tracking.log-20240305-1709640000"
    );
    assert!(!live.exists());
    // … or big enough; a name taken moves on by a second.
    std::fs::write(&live, event_line("2024-03-05T11:59:59+00:00")).unwrap();
    let Rotation::Rotated(second) = rotate_if_due(&live, 10, hour, now).unwrap() else {
        panic!("not rotated")
    };
    assert_eq!(
        second.file_name().unwrap(),
        "tracking.log-20240305-1709640001"
    );
    assert!(first.exists());
}

#[test]
fn discovery_and_settling() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("tracking.log");
    let state = dir.path().join(".edlake");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(&live, b"live").unwrap();
    std::fs::write(dir.path().join("tracking.log-20240101-1704067200.gz"), b"x").unwrap();
    std::fs::write(dir.path().join("tracking.log-20240102-1704153600"), b"y").unwrap();
    std::fs::write(dir.path().join("all.log"), b"z").unwrap();
    std::fs::create_dir(dir.path().join("tracking.log-dir")).unwrap();
    let glob = format!("{}/tracking.log*", dir.path().display());
    let (files, skipped) = discover(&live, &glob, &state).unwrap();
    let names: Vec<_> = files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"tracking.log-20240101-1704067200.gz".to_string()));
    assert!(
        skipped.iter().any(|s| s.contains("tracking.log-dir")),
        "{skipped:?}"
    );

    let f = &files[0];
    let grace = Duration::from_secs(5);
    assert!(!f.settled(grace, SystemTime::now()));
    assert!(f.settled(grace, SystemTime::now() + grace));
}

/// A rename onto a name that was taken after it was chosen must fail, not replace.
#[test]
fn renames_never_replace_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("tracking.log");
    let taken = dir.path().join("tracking.log-20240305-1709640000");
    for rename in [rename_noreplace, rename_by_link] {
        std::fs::write(&from, b"live lines\n").unwrap();
        std::fs::write(&taken, b"someone else's file\n").unwrap();
        let e = rename(&from, &taken).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{e}");
        assert_eq!(std::fs::read(&taken).unwrap(), b"someone else's file\n");
        assert_eq!(std::fs::read(&from).unwrap(), b"live lines\n");
        let free = dir.path().join("tracking.log-20240305-1709640001");
        rename(&from, &free).unwrap();
        assert!(!from.exists());
        assert_eq!(std::fs::read(&free).unwrap(), b"live lines\n");
        std::fs::remove_file(&free).unwrap();
    }
}

/// Rotation moves on to the next name when the one it would take exists by the time of
/// the rename.
#[test]
fn rotation_picks_another_name_when_one_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("tracking.log");
    std::fs::write(&live, b"live lines\n").unwrap();
    let name = |n: u64| dir.path().join(format!("tracking.log-{n}"));
    // The first two names are taken between choosing and renaming: here, by the namer.
    let target = rename_to_free_name(&live, |n| {
        let path = name(n);
        if n < 2 {
            std::fs::write(&path, format!("other {n}\n")).unwrap();
        }
        path
    })
    .unwrap();
    assert_eq!(target, name(2));
    assert_eq!(std::fs::read(name(0)).unwrap(), b"other 0\n");
    assert_eq!(std::fs::read(name(1)).unwrap(), b"other 1\n");
    assert_eq!(std::fs::read(name(2)).unwrap(), b"live lines\n");
    assert!(!live.exists());
}
