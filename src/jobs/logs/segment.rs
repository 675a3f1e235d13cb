//! Cutting part of a file's content into day spool files and a quarantine file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::encode::gzip_lines::{DayFile, DaySplitter, GzLines};
use crate::progress::Bar;
use crate::source::tracking_logs::line::{self, Rejection};
use crate::source::tracking_logs::{self as files, Piece};

/// A part of a file cut into day spool files and a quarantine file.
#[derive(Debug)]
pub struct Split {
    pub days: Vec<DayFile>,
    pub quarantine: Option<PathBuf>,
    pub rejected: BTreeMap<Rejection, u64>,
    pub events: u64,
    /// Content bytes read.
    pub bytes: u64,
}

/// Reads the content of `source` from byte `from` to byte `to` (to its end when `None`)
/// and writes its events, by UTC day, under `dir`; lines that are not events go,
/// unchanged, to a quarantine file. When `from` falls inside a line (the part before it
/// ended without `\n`), the rest of that line is not read as a line of its own: it is
/// skipped when blank (the `\n` that was missing), quarantined otherwise.
pub fn split_segment(
    source: &Path,
    from: u64,
    to: Option<u64>,
    dir: &Path,
    bar: &Bar,
) -> std::io::Result<Split> {
    let wrap = |f: File| bar.wrap_read(f);
    let (reader, rest_of_line) = files::open_at(File::open(source)?, from, wrap)?;
    let reader: Box<dyn BufRead + Send> = match to {
        Some(to) => Box::new(reader.take(to.saturating_sub(from))),
        None => reader,
    };
    split(reader, dir, rest_of_line)
}

/// [`split_segment`] of a whole stream (an event file of a research package, decrypted and
/// gunzipped on the fly).
pub fn split_stream(reader: impl BufRead, dir: &Path) -> std::io::Result<Split> {
    split(reader, dir, false)
}

fn split(reader: impl BufRead, dir: &Path, mut rest_of_line: bool) -> std::io::Result<Split> {
    let mut days = DaySplitter::new(dir);
    let mut quarantine = Quarantine {
        path: dir.join("quarantine.gz"),
        out: None,
    };
    let mut rejected: BTreeMap<Rejection, u64> = BTreeMap::new();
    let mut events = 0u64;
    let bytes = files::for_each_line(reader, |piece| {
        let rest = std::mem::take(&mut rest_of_line);
        match piece {
            Piece::Line(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(()),
            Piece::Line(bytes) => match line::parse(bytes) {
                Ok(event) if !rest => {
                    events += 1;
                    days.write(event.time, &event.json)
                }
                parsed => {
                    let why = match parsed {
                        Err(why) if !rest => why,
                        _ => Rejection::LineRest,
                    };
                    *rejected.entry(why).or_default() += 1;
                    quarantine.write_part(bytes)?;
                    quarantine.end_line()
                }
            },
            Piece::LongPart(bytes) => quarantine.write_part(bytes),
            Piece::LongEnd => {
                *rejected.entry(Rejection::TooLong).or_default() += 1;
                quarantine.end_line()
            }
        }
    })?;
    Ok(Split {
        days: days.finish()?,
        quarantine: match quarantine.out {
            Some(q) => Some(q.finish()?.0),
            None => None,
        },
        rejected,
        events,
        bytes,
    })
}

/// The quarantine file of one source, created by its first line.
struct Quarantine {
    path: PathBuf,
    out: Option<GzLines>,
}

impl Quarantine {
    fn file(&mut self) -> std::io::Result<&mut GzLines> {
        if self.out.is_none() {
            self.out = Some(GzLines::create(self.path.clone())?);
        }
        Ok(self.out.as_mut().expect("created above"))
    }

    fn write_part(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file()?.write_part(bytes)
    }

    fn end_line(&mut self) -> std::io::Result<()> {
        self.file()?.end_line()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn event(second: u32) -> String {
        format!("{{\"time\": \"2024-01-01T00:00:{second:02}+00:00\", \"seq\": {second}}}\n")
    }

    fn gunzip(path: &Path) -> String {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(File::open(path).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    /// Each part of a file, plain and gzip, split on its own: every line once.
    #[test]
    fn parts_of_a_file_split_at_any_byte() {
        let dir = tempfile::tempdir().unwrap();
        let content = [event(1), event(2), event(3)].concat();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, &content).unwrap();
        let gz = dir.path().join("gz");
        let mut enc =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(content.as_bytes()).unwrap();
        enc.finish().unwrap();
        let cut = event(1).len() as u64;
        for source in [&plain, &gz] {
            let work = tempfile::tempdir().unwrap();
            let first =
                split_segment(source, 0, Some(cut), work.path(), &Bar::bytes("test", 0)).unwrap();
            assert_eq!((first.events, first.bytes), (1, cut));
            assert_eq!(gunzip(&first.days[0].path), event(1));
            let work = tempfile::tempdir().unwrap();
            let rest =
                split_segment(source, cut, None, work.path(), &Bar::bytes("test", 0)).unwrap();
            assert_eq!(rest.events, 2);
            assert_eq!(rest.bytes, content.len() as u64 - cut);
            assert_eq!(gunzip(&rest.days[0].path), event(2) + &event(3));
            assert!(rest.quarantine.is_none());
            let e =
                split_segment(source, 1000, None, work.path(), &Bar::bytes("test", 0)).unwrap_err();
            assert!(e.to_string().contains("fewer than the 1000"), "{e}");
        }
    }

    /// A shipment that ended inside a line: what follows is never an event of its own.
    #[test]
    fn the_rest_of_a_cut_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        // Cut after a whole event whose `\n` came later: the `\n` is skipped.
        let content = [event(1), event(2)].concat();
        std::fs::write(&path, &content).unwrap();
        let cut = event(1).len() as u64 - 1;
        let work = tempfile::tempdir().unwrap();
        let rest = split_segment(&path, cut, None, work.path(), &Bar::bytes("test", 0)).unwrap();
        assert_eq!((rest.events, rest.rejected.len()), (1, 0));
        // Cut inside the JSON: the rest is quarantined as such, even when it parses.
        let content = format!("{{\"a\": 1, {}", event(2));
        std::fs::write(&path, &content).unwrap();
        let work = tempfile::tempdir().unwrap();
        let rest = split_segment(&path, 9, None, work.path(), &Bar::bytes("test", 0)).unwrap();
        assert_eq!(rest.events, 0);
        assert_eq!(rest.rejected, [(Rejection::LineRest, 1)].into());
        assert_eq!(gunzip(rest.quarantine.as_ref().unwrap()), event(2));
    }
}
