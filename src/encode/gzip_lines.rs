//! Gzip JSON-lines spool files, one per UTC day of the events written to them.
//!
//! Output is deterministic (no timestamp or name in the gzip header, fixed level), so
//! shipping the same file twice produces the same objects byte for byte.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use time::{Date, OffsetDateTime};

/// Days with an open encoder at once; a file normally spans one or two. Beyond it the
/// least recently used day is finished and a later line of that day starts a new part.
const MAX_OPEN_DAYS: usize = 8;

const LEVEL: u32 = 6;

/// One gzip spool file of newline-terminated lines.
pub struct GzLines {
    encoder: GzEncoder<BufWriter<File>>,
    path: PathBuf,
    lines: u64,
}

impl GzLines {
    pub fn create(path: PathBuf) -> io::Result<GzLines> {
        let file = File::create(&path)?;
        Ok(GzLines {
            encoder: GzBuilder::new().write(
                BufWriter::with_capacity(64 * 1024, file),
                Compression::new(LEVEL),
            ),
            path,
            lines: 0,
        })
    }

    /// Writes `line` and a `\n`.
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.write_part(line)?;
        self.end_line()
    }

    /// Writes part of a line; [`GzLines::end_line`] ends it.
    pub fn write_part(&mut self, part: &[u8]) -> io::Result<()> {
        self.encoder.write_all(part)
    }

    pub fn end_line(&mut self) -> io::Result<()> {
        self.lines += 1;
        self.encoder.write_all(b"\n")
    }

    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Completes the gzip stream and flushes it to disk.
    pub fn finish(self) -> io::Result<(PathBuf, u64)> {
        let file = self
            .encoder
            .finish()?
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((self.path, self.lines))
    }
}

/// A finished spool file holding events of one day.
#[derive(Debug)]
pub struct DayFile {
    pub date: Date,
    /// 0 for the first file of the day, then 1, 2… (only when more than
    /// `MAX_OPEN_DAYS` days interleave).
    pub part: u32,
    /// Time of the file's first event; names the object.
    pub first_event: OffsetDateTime,
    pub lines: u64,
    pub path: PathBuf,
}

struct OpenDay {
    out: GzLines,
    part: u32,
    first_event: OffsetDateTime,
    last_used: u64,
}

/// Routes events to a spool file per UTC day under `dir`.
pub struct DaySplitter {
    dir: PathBuf,
    open: HashMap<Date, OpenDay>,
    parts: HashMap<Date, u32>,
    finished: Vec<DayFile>,
    tick: u64,
}

impl DaySplitter {
    pub fn new(dir: &Path) -> DaySplitter {
        DaySplitter {
            dir: dir.to_path_buf(),
            open: HashMap::new(),
            parts: HashMap::new(),
            finished: Vec::new(),
            tick: 0,
        }
    }

    pub fn write(&mut self, time: OffsetDateTime, line: &[u8]) -> io::Result<()> {
        self.tick += 1;
        let date = time.date();
        // Nearly every line goes to a day already open: one lookup for those.
        if let Some(day) = self.open.get_mut(&date) {
            day.last_used = self.tick;
            return day.out.write_line(line);
        }
        if self.open.len() >= MAX_OPEN_DAYS {
            let oldest = *self
                .open
                .iter()
                .min_by_key(|(_, d)| d.last_used)
                .map(|(date, _)| date)
                .expect("open days");
            self.close(oldest)?;
        }
        let part = *self.parts.entry(date).and_modify(|p| *p += 1).or_insert(0);
        let mut out = GzLines::create(self.dir.join(format!("{date}-{part}.json.gz")))?;
        out.write_line(line)?;
        self.open.insert(
            date,
            OpenDay {
                out,
                part,
                first_event: time,
                last_used: self.tick,
            },
        );
        Ok(())
    }

    fn close(&mut self, date: Date) -> io::Result<()> {
        if let Some(day) = self.open.remove(&date) {
            let (path, lines) = day.out.finish()?;
            self.finished.push(DayFile {
                date,
                part: day.part,
                first_event: day.first_event,
                lines,
                path,
            });
        }
        Ok(())
    }

    /// Finishes every open file; the files by day, then part.
    pub fn finish(mut self) -> io::Result<Vec<DayFile>> {
        let dates: Vec<Date> = self.open.keys().copied().collect();
        for date in dates {
            self.close(date)?;
        }
        self.finished.sort_by_key(|f| (f.date, f.part));
        Ok(self.finished)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::MultiGzDecoder;
    use time::macros::datetime;

    use super::*;

    fn read(path: &Path) -> String {
        let mut s = String::new();
        MultiGzDecoder::new(File::open(path).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn one_file_per_day_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = DaySplitter::new(dir.path());
        s.write(datetime!(2024-01-01 23:59:59 UTC), b"a").unwrap();
        s.write(datetime!(2024-01-02 00:00:00 UTC), b"b").unwrap();
        s.write(datetime!(2024-01-01 23:59:59.5 UTC), b"c").unwrap();
        let files = s.finish().unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].date.to_string(), "2024-01-01");
        assert_eq!(read(&files[0].path), "a\nc\n");
        assert_eq!(files[0].lines, 2);
        assert_eq!(files[0].first_event, datetime!(2024-01-01 23:59:59 UTC));
        assert_eq!(read(&files[1].path), "b\n");
    }

    #[test]
    fn many_interleaved_days_split_into_parts() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = DaySplitter::new(dir.path());
        let day = |d: u8| datetime!(2024-03-01 12:00 UTC).replace_day(d).unwrap();
        for d in 1..=10 {
            s.write(day(d), format!("{d}").as_bytes()).unwrap();
        }
        // Day 1 was the least recently used: closed, so this starts part 1.
        s.write(day(1), b"1 again").unwrap();
        let files = s.finish().unwrap();
        assert_eq!(files.len(), 11);
        let day1: Vec<_> = files.iter().filter(|f| f.date.day() == 1).collect();
        assert_eq!((day1[0].part, day1[1].part), (0, 1));
        assert_eq!(read(&day1[0].path), "1\n");
        assert_eq!(read(&day1[1].path), "1 again\n");
        let total: u64 = files.iter().map(|f| f.lines).sum();
        assert_eq!(total, 11);
    }

    #[test]
    fn output_is_deterministic() {
        let write = || {
            let dir = tempfile::tempdir().unwrap();
            let mut g = GzLines::create(dir.path().join("x.gz")).unwrap();
            g.write_line(b"{\"a\": 1}").unwrap();
            let (path, _) = g.finish().unwrap();
            std::fs::read(path).unwrap()
        };
        assert_eq!(write(), write());
    }
}
