//! Durable changes to local directories: what a record written after them (a watermark,
//! `versions.json`, a tracking-log ledger entry) may rely on after a power cut.
//!
//! A rename or a new file is durable only once its directory is fsynced, and a new
//! directory only once its parent is; the file's own bytes need an fsync of the file before
//! it is renamed into place, or the rename can survive a crash that its content does not
//! (an empty or truncated file under the final name).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// Makes the renames, creations and removals of entries in `dir` durable. A filesystem that
/// cannot sync a directory (`EINVAL`: some FUSE and network filesystems) is not an error:
/// there is nothing more to do there.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir)?.sync_all() {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) => Ok(()),
        other => other,
    }
}

/// Makes the content of the file at `path` durable (before it is renamed into place).
pub fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// `fs::create_dir_all`, durable: the parent of every directory it creates is fsynced, so a
/// file renamed into the new directory cannot outlive a crash that loses the directory.
/// An existing directory costs one `stat`.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut at = dir;
    loop {
        match fs::metadata(at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a directory", at.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        missing.push(at.to_path_buf());
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => break,
        }
    }
    for new in missing.iter().rev() {
        match fs::create_dir(new) {
            Ok(()) => {}
            // Made meanwhile by another writer: its entry must be durable for this one too.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && new.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    for new in missing.iter().rev() {
        sync_dir(&parent_dir(new))?;
    }
    Ok(())
}

/// The directory `path` is in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_every_missing_level_and_accepts_existing_ones() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b=1/c");
        create_dir_all(&deep).unwrap();
        assert!(deep.is_dir());
        create_dir_all(&deep).unwrap();
        create_dir_all(root.path()).unwrap();
        std::fs::write(root.path().join("f"), b"x").unwrap();
        let err = create_dir_all(&root.path().join("f")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert!(create_dir_all(&root.path().join("f/g")).is_err());
        sync_dir(&deep).unwrap();
        sync_file(&root.path().join("f")).unwrap();
        assert_eq!(parent_dir(Path::new("x")), Path::new("."));
    }
}
