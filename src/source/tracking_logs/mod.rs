//! Tracking-log files: rotating the live file, finding rotated ones, reading them.
//!
//! The LMS appends to one live file through Python's `WatchedFileHandler`, which stats the
//! path before every record and reopens it when the inode changed. Renaming the live file
//! is therefore a clean cut: every record lands whole in either the renamed file or the new
//! one. A writer that stat-ed just before the rename can still append one record to the
//! renamed file, which is why a rotated file is read only once nobody has touched it for
//! `grace`.
//!
//! A rotated file is identified by its content, not its name: the SHA-256 of its first
//! 64 KiB once decompressed. logrotate may rename (`.1` → `.2`) or compress
//! (`x` → `x.gz`) a file after edlake saw it; the fingerprint stays the same, so the file
//! is not shipped twice. A file shorter than 64 KiB is fingerprinted whole, so a file that
//! grows is also recognised by the fingerprints of its prefixes ([`prefix_fingerprints`]).
//! Offsets in a file are offsets in its content (decompressed), whatever its form on disk.

pub mod line;
mod rotate;

pub use rotate::{rename_by_link, rename_noreplace, rename_to_free_name, rotate_if_due, Rotation};

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use flate2::bufread::MultiGzDecoder;
use sha2::{Digest, Sha256};

/// How much decompressed content the fingerprint covers.
pub const FINGERPRINT_BYTES: usize = 64 * 1024;

const READ_BUFFER: usize = 256 * 1024;

/// A rotated file, as found on disk.
#[derive(Debug, Clone)]
pub struct RotatedFile {
    pub path: PathBuf,
    pub size: u64,
    /// Last write.
    pub modified: SystemTime,
    /// Last inode change, which a rename is.
    pub changed: SystemTime,
}

impl RotatedFile {
    /// Whether nobody has written to or renamed the file for `grace`: a file still being
    /// written or compressed is left for the next pass.
    pub fn settled(&self, grace: Duration, now: SystemTime) -> bool {
        let last = self.modified.max(self.changed);
        now.duration_since(last).is_ok_and(|idle| idle >= grace)
    }
}

/// The content of a file, decompressed when it is gzip (recognised by its magic bytes, so
/// the name does not matter).
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    open_reader(File::open(path)?)
}

/// [`open`] on an already open file (or a reader wrapped around one).
pub fn open_reader(raw: impl Read + Send + 'static) -> io::Result<Box<dyn BufRead + Send>> {
    let mut file = BufReader::with_capacity(READ_BUFFER, raw);
    if file.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(file),
        )))
    } else {
        Ok(Box::new(file))
    }
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The start of a file's content: its first bytes (at most the limit asked for) and
/// whether the file is gzip.
#[derive(Debug, Clone)]
pub struct Head {
    pub bytes: Vec<u8>,
    pub gzip: bool,
}

/// Reads up to `limit` bytes of `path`'s content (decompressed).
pub fn read_head(path: &Path, limit: usize) -> io::Result<Head> {
    let file = File::open(path)?;
    let gzip = is_gzip(&file)?;
    let mut reader = open_reader(file)?;
    let mut bytes = vec![0u8; limit];
    let n = read_up_to(&mut reader, &mut bytes)?;
    bytes.truncate(n);
    Ok(Head { bytes, gzip })
}

/// Whether `file` starts with the gzip magic bytes; leaves it at its start.
fn is_gzip(mut file: &File) -> io::Result<bool> {
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

/// The SHA-256 (hex) of `bytes`.
pub fn digest_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A file's identity: the SHA-256 (hex) of its first [`FINGERPRINT_BYTES`] of content;
/// `None` when it has no content at all.
pub fn fingerprint(path: &Path) -> io::Result<Option<String>> {
    let head = read_head(path, FINGERPRINT_BYTES)?;
    Ok((!head.bytes.is_empty()).then(|| digest_hex(&head.bytes)))
}

/// The fingerprints of `head[..len]` for each `len` of `lengths` (ascending) within
/// `head`, hashing `head` once: what a file that has grown had as its fingerprint when it
/// was shorter.
pub fn prefix_fingerprints(
    head: &[u8],
    lengths: impl IntoIterator<Item = usize>,
) -> Vec<(usize, String)> {
    let mut hasher = Sha256::new();
    let mut hashed = 0;
    let mut out = Vec::new();
    for len in lengths {
        if len < hashed || len > head.len() {
            continue;
        }
        hasher.update(&head[hashed..len]);
        hashed = len;
        out.push((len, format!("{:x}", hasher.clone().finalize())));
    }
    out
}

/// How many bytes of content `path` holds: its size when plain, its decompressed length
/// (read through, in bounded memory) when gzip.
pub fn content_len(path: &Path) -> io::Result<u64> {
    let file = File::open(path)?;
    if !is_gzip(&file)? {
        return Ok(file.metadata()?.len());
    }
    io::copy(&mut open_reader(file)?, &mut io::sink())
}

/// The content of `file` from byte `from` on: a plain file is positioned there, a gzip one
/// decompressed and skipped. `wrap` sees the raw reads (a progress bar). Also whether
/// `from` falls inside a line (the byte before it is not a `\n`). Fails with
/// `UnexpectedEof` when the content is shorter than `from`.
pub fn open_at(
    file: File,
    from: u64,
    wrap: impl FnOnce(File) -> Box<dyn Read + Send>,
) -> io::Result<(Box<dyn BufRead + Send>, bool)> {
    let mut file = file;
    // Read from the byte before `from`, to tell whether a line goes on across it.
    let start = from.saturating_sub(1);
    let mut reader: Box<dyn BufRead + Send> = if is_gzip(&file)? {
        let mut reader = open_reader(wrap(file))?;
        let skipped = io::copy(&mut (&mut reader).take(start), &mut io::sink())?;
        if skipped < start {
            return Err(short_content(from, skipped));
        }
        reader
    } else {
        let len = file.metadata()?.len();
        if len < from {
            return Err(short_content(from, len));
        }
        file.seek(SeekFrom::Start(start))?;
        Box::new(BufReader::with_capacity(READ_BUFFER, wrap(file)))
    };
    if from == 0 {
        return Ok((reader, false));
    }
    let mut before = [0u8; 1];
    if read_up_to(&mut reader, &mut before)? == 0 {
        return Err(short_content(from, start));
    }
    Ok((reader, before[0] != b'\n'))
}

fn short_content(from: u64, len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("it holds {len} bytes of content, fewer than the {from} already shipped"),
    )
}

/// What a streamed file is cut into.
pub enum Piece<'a> {
    /// A whole line, without its `\n` (the last line may have none).
    Line(&'a [u8]),
    /// Part of a line longer than [`line::MAX_LINE`]; the parts come in order, then
    /// [`Piece::LongEnd`].
    LongPart(&'a [u8]),
    LongEnd,
}

/// Streams `reader` line by line in bounded memory.
pub fn for_each_line(
    mut reader: impl BufRead,
    mut on_piece: impl FnMut(Piece<'_>) -> io::Result<()>,
) -> io::Result<u64> {
    let mut pending: Vec<u8> = Vec::new();
    let mut long = false;
    let mut bytes = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            if long {
                on_piece(Piece::LongEnd)?;
            } else if !pending.is_empty() {
                on_piece(Piece::Line(&pending))?;
            }
            return Ok(bytes);
        }
        let (used, end) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, Some(i)),
            None => (buf.len(), None),
        };
        let chunk = &buf[..end.unwrap_or(used)];
        if long {
            on_piece(Piece::LongPart(chunk))?;
            if end.is_some() {
                on_piece(Piece::LongEnd)?;
                long = false;
            }
        } else if pending.len() + chunk.len() > line::MAX_LINE {
            on_piece(Piece::LongPart(&pending))?;
            on_piece(Piece::LongPart(chunk))?;
            pending = Vec::new();
            if end.is_some() {
                on_piece(Piece::LongEnd)?;
            } else {
                long = true;
            }
        } else if end.is_some() && pending.is_empty() {
            on_piece(Piece::Line(chunk))?;
        } else {
            pending.extend_from_slice(chunk);
            if end.is_some() {
                on_piece(Piece::Line(&pending))?;
                pending.clear();
            }
        }
        bytes += used as u64;
        reader.consume(used);
    }
}

pub use crate::durable::parent_dir;

/// Rotated files matching `rotated_glob` or edlake's own `<live>-*` names, oldest first.
/// The live file, the state directory and anything that is not a regular file are left
/// out (a FIFO or a directory would block or fail a read); those are reported in `skipped`.
pub fn discover(
    live: &Path,
    rotated_glob: &str,
    state_dir: &Path,
) -> Result<(Vec<RotatedFile>, Vec<String>)> {
    let own = format!("{}-*", glob::Pattern::escape(&live.to_string_lossy()));
    let mut found = BTreeMap::new();
    let mut skipped = Vec::new();
    for pattern in [rotated_glob, own.as_str()] {
        let paths = glob::glob(pattern)
            .with_context(|| format!("invalid tracking_logs.rotated_glob {pattern:?}"))?;
        for entry in paths {
            let path = match entry {
                Ok(p) => p,
                Err(e) => {
                    skipped.push(format!("{}: {}", e.path().display(), e.error()));
                    continue;
                }
            };
            if path == live || path.starts_with(state_dir) || found.contains_key(&path) {
                continue;
            }
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => {
                    found.insert(
                        path.clone(),
                        RotatedFile {
                            size: meta.len(),
                            modified: meta.modified().unwrap_or(UNIX_EPOCH),
                            changed: UNIX_EPOCH
                                + Duration::new(
                                    meta.ctime().max(0) as u64,
                                    meta.ctime_nsec().clamp(0, 999_999_999) as u32,
                                ),
                            path,
                        },
                    );
                }
                Ok(_) => skipped.push(format!("{}: not a regular file", path.display())),
                Err(e) => skipped.push(format!("{}: {e}", path.display())),
            }
        }
    }
    let mut files: Vec<RotatedFile> = found.into_values().collect();
    files.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
    Ok((files, skipped))
}

#[cfg(test)]
mod tests;
