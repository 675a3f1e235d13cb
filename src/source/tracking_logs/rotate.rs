//! Rotating the live file: a rename to a free `<name>-YYYYMMDD-<epoch>` next to it.
//!
//! The rename must never replace a file: a name that was free when chosen may be taken by
//! the time of the rename (logrotate, a second edlake on another host sharing the volume,
//! an operator's copy), and a plain `rename(2)` would then silently destroy that file and
//! every line in it. So the rename itself refuses an existing target (`RENAME_NOREPLACE`,
//! or `link(2)`, which never replaces, where the filesystem has no `renameat2`), and a
//! taken name moves on to the next.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use time::macros::format_description;

use super::{line, parent_dir};
use crate::durable;

/// Names tried (one per second after `now`) before rotation gives up.
const NAME_ATTEMPTS: u64 = 1000;

/// Why the live file was or was not rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    Rotated(PathBuf),
    /// Nothing to rotate: no live file, or an empty one.
    Nothing,
    NotDue {
        size: u64,
        age: Option<Duration>,
    },
}

/// Renames the live file when it holds `rotate_bytes` or its first event is `rotate_age`
/// old. The new name is `<name>-YYYYMMDD-<epoch seconds>` (logrotate's `dateext` names on
/// native installs), next to it, so the default `rotated_glob` finds it.
pub fn rotate_if_due(
    live: &Path,
    rotate_bytes: u64,
    rotate_age: Duration,
    now: SystemTime,
) -> Result<Rotation> {
    let meta = match fs::metadata(live) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Rotation::Nothing),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot stat the live log {}", live.display()))
        }
    };
    if meta.len() == 0 {
        return Ok(Rotation::Nothing);
    }
    let age = live_age(live, &meta, now);
    let due = meta.len() >= rotate_bytes || age.is_none_or(|age| age >= rotate_age);
    if !due {
        return Ok(Rotation::NotDue {
            size: meta.len(),
            age,
        });
    }
    let name = live
        .file_name()
        .context("tracking_logs.path names no file")?
        .to_string_lossy()
        .into_owned();
    let dir = parent_dir(live);
    let first = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let target = rename_to_free_name(live, |attempt| {
        let epoch = first + attempt;
        let date = time::OffsetDateTime::from_unix_timestamp(epoch as i64)
            .ok()
            .and_then(|t| t.format(format_description!("[year][month][day]")).ok())
            .unwrap_or_else(|| "00000000".into());
        dir.join(format!("{name}-{date}-{epoch}"))
    })?;
    // Best effort: a rotation lost in a crash only means the file is rotated again, and
    // found by its fingerprint when shipped.
    let _ = durable::sync_dir(&dir);
    Ok(Rotation::Rotated(target))
}

/// Renames `from` to the first of `name(0)`, `name(1)`, … that does not exist at the
/// moment of the rename; never replaces a file.
pub fn rename_to_free_name(from: &Path, name: impl Fn(u64) -> PathBuf) -> Result<PathBuf> {
    for attempt in 0..NAME_ATTEMPTS {
        let target = name(attempt);
        match rename_noreplace(from, &target) {
            Ok(()) => return Ok(target),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot rename the live log {} to {} (edlake needs write access to the log directory)",
                        from.display(),
                        target.display()
                    )
                })
            }
        }
    }
    bail!(
        "cannot rotate the live log {}: {NAME_ATTEMPTS} names after {} are all taken (remove stray files from the log directory)",
        from.display(),
        name(0).display()
    )
}

/// Renames `from` to `to`, failing with `AlreadyExists` (and changing nothing) when `to`
/// exists: `renameat2(RENAME_NOREPLACE)`, or a hard link and an unlink where the kernel or
/// the filesystem has no `renameat2`.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use rustix::io::Errno;
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            // The filesystem (EINVAL, ENOTSUP) or the kernel (ENOSYS) has no such rename.
            Err(e)
                if [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP, Errno::OPNOTSUPP].contains(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    rename_by_link(from, to)
}

/// `link` then `unlink`: `link(2)` fails with `EEXIST` rather than replace `to`. Between the
/// two the file has both names; a writer that stats the live path then still finds the
/// same file, so nothing is lost either way.
pub fn rename_by_link(from: &Path, to: &Path) -> io::Result<()> {
    fs::hard_link(from, to)?;
    if let Err(e) = fs::remove_file(from) {
        // Leave things as they were: one name, the live one.
        let _ = fs::remove_file(to);
        return Err(e);
    }
    Ok(())
}

/// How old the live file's data is: the time of its first event; else how long ago the
/// file was created; `None` when neither is known (then it is rotated).
fn live_age(live: &Path, meta: &fs::Metadata, now: SystemTime) -> Option<Duration> {
    let first_event = File::open(live).ok().and_then(|f| {
        let mut first = Vec::new();
        BufReader::new(f.take(line::MAX_LINE as u64))
            .read_until(b'\n', &mut first)
            .ok()?;
        let event = line::parse(&first).ok()?;
        Some(SystemTime::from(event.time))
    });
    let since = first_event.or_else(|| meta.created().ok())?;
    Some(now.duration_since(since).unwrap_or_default())
}
