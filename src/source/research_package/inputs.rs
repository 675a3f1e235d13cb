//! Finding what to import: package zips (`{org}-{date}.zip`), their members as loose files
//! (in a folder `{org}-{date}/`, as the zip holds them), and daily event files, given as
//! files or directories (walked). Anything else is left alone.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use super::gpg;
use super::member::{Member, ENCRYPTED_SUFFIX};

/// One weekly package: a zip, or the loose members of one `{org}-{date}` folder.
#[derive(Debug, Clone)]
pub struct Package {
    /// `{org}-{date}`.
    pub name: String,
    /// `YYYY-MM-DD`: newer packages win.
    pub date: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub enum Origin {
    Zip(PathBuf),
    Loose(Vec<PathBuf>),
}

/// A daily event file.
#[derive(Debug, Clone)]
pub struct EventFile {
    pub path: PathBuf,
    /// The file name, `.gpg` and all.
    pub name: String,
    pub date: String,
}

/// Everything found under the inputs.
#[derive(Debug, Default)]
pub struct Found {
    pub packages: Vec<Package>,
    pub events: Vec<EventFile>,
    /// Files that are neither (forum dumps, OLX, stray files): not imported.
    pub ignored: Vec<PathBuf>,
}

/// Walks `inputs` (files or directories) in name order.
pub fn discover(inputs: &[PathBuf]) -> Result<Found> {
    let mut files = Vec::new();
    for input in inputs {
        let meta =
            std::fs::metadata(input).with_context(|| format!("{}: not found", input.display()))?;
        if meta.is_dir() {
            walk(input, &mut files)?;
        } else {
            files.push(input.clone());
        }
    }
    files.sort();
    files.dedup();
    let mut found = Found::default();
    let mut loose: std::collections::BTreeMap<String, Vec<PathBuf>> = Default::default();
    for path in files {
        let name = file_name(&path);
        if let Some(stem) = name.strip_suffix(".zip") {
            match package_date(stem) {
                Some(date) => found.packages.push(Package {
                    name: stem.to_string(),
                    date,
                    origin: Origin::Zip(path),
                }),
                None => found.ignored.push(path),
            }
            continue;
        }
        match Member::of(&name) {
            Member::Events { date, .. } => found.events.push(EventFile { path, name, date }),
            Member::Table { .. } | Member::CourseStructure { .. } => {
                let folder = path
                    .parent()
                    .map(file_name)
                    .filter(|f| package_date(f).is_some());
                let Some(folder) = folder else {
                    bail!("{}: a package file outside a package: put it in a folder named {{org}}-{{YYYY-MM-DD}} (the package it came from), as edX's zip holds it", path.display());
                };
                loose.entry(folder).or_default().push(path);
            }
            Member::Other => found.ignored.push(path),
        }
    }
    for (name, members) in loose {
        let date = package_date(&name).expect("checked above");
        found.packages.push(Package {
            name,
            date,
            origin: Origin::Loose(members),
        });
    }
    // Oldest first: a newer package's snapshot of a course replaces an older one's.
    found
        .packages
        .sort_by(|a, b| (&a.date, &a.name).cmp(&(&b.date, &b.name)));
    found
        .events
        .sort_by(|a, b| (&a.date, &a.name).cmp(&(&b.date, &b.name)));
    Ok(found)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The date of a package named `{org}-{YYYY-MM-DD}`.
fn package_date(name: &str) -> Option<String> {
    let split = name
        .len()
        .checked_sub(10)
        .filter(|&i| name.is_char_boundary(i))?;
    let (org, date) = name.split_at(split);
    (org.len() > 1 && org.ends_with('-') && super::member::is_date(date)).then(|| date.to_string())
}

/// One member of a package, by name.
pub struct MemberFile {
    /// The file name, `.gpg` and all.
    pub name: String,
    pub member: Member,
    source: MemberSource,
}

enum MemberSource {
    Path(PathBuf),
    Zip { zip: PathBuf, index: usize },
}

impl Package {
    /// The zip's file name, or the folder's name and `/`.
    pub fn display_name(&self) -> String {
        match &self.origin {
            Origin::Zip(path) => file_name(path),
            Origin::Loose(_) => format!("{}/", self.name),
        }
    }

    /// The members edlake imports (tables and course structures), in name order.
    pub fn members(&self) -> Result<Vec<MemberFile>> {
        let mut out = Vec::new();
        match &self.origin {
            Origin::Loose(paths) => {
                for path in paths {
                    let name = file_name(path);
                    out.push(MemberFile {
                        member: Member::of(&name),
                        name,
                        source: MemberSource::Path(path.clone()),
                    });
                }
            }
            Origin::Zip(zip) => {
                let archive = open_zip(zip)?;
                for index in 0..archive.len() {
                    let Some(Ok(name)) = archive.name_for_index(index) else {
                        continue;
                    };
                    if name.ends_with('/') {
                        continue;
                    }
                    let base = name.rsplit('/').next().unwrap_or(&name).to_string();
                    out.push(MemberFile {
                        member: Member::of(&base),
                        name: base,
                        source: MemberSource::Zip {
                            zip: zip.clone(),
                            index,
                        },
                    });
                }
            }
        }
        out.retain(|m| m.member != Member::Other);
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// SHA-256 of the package's bytes (the zip, or every member's name and content): the
    /// ledger's proof that a package was imported as it is now.
    pub fn fingerprint(&self) -> Result<String> {
        let mut hash = Sha256::new();
        match &self.origin {
            Origin::Zip(path) => hash_file(path, &mut hash)?,
            Origin::Loose(paths) => {
                for path in paths {
                    hash.update(file_name(path).as_bytes());
                    hash.update([0]);
                    hash_file(path, &mut hash)?;
                }
            }
        }
        Ok(format!("{:x}", hash.finalize()))
    }
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    zip::ZipArchive::new(BufReader::new(file)).with_context(|| {
        format!(
            "{}: not a readable zip (truncated or damaged)",
            path.display()
        )
    })
}

/// SHA-256 of a file, streamed.
pub fn hash_file(path: &Path, hash: &mut Sha256) -> Result<()> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            return Ok(());
        }
        hash.update(&buf[..n]);
    }
}

impl MemberFile {
    /// The member's plaintext, streamed: decrypted when its name ends in `.gpg`. A zip
    /// member is copied to `scratch` first (gpg reads a file).
    pub fn open(&self, scratch: &Path, gnupghome: Option<&Path>) -> Result<Box<dyn Read + Send>> {
        let path = match &self.source {
            MemberSource::Path(p) => p.clone(),
            MemberSource::Zip { zip, index } => {
                let mut archive = open_zip(zip)?;
                let mut entry = archive
                    .by_index(*index)
                    .with_context(|| format!("{}: member {}", zip.display(), self.name))?;
                let out = scratch.join(format!("member-{index}"));
                let mut file = File::create(&out)?;
                io::copy(&mut entry, &mut file).with_context(|| {
                    format!(
                        "{}: member {}: truncated or damaged",
                        zip.display(),
                        self.name
                    )
                })?;
                out
            }
        };
        if self.name.ends_with(ENCRYPTED_SUFFIX) {
            let mut decrypted = gpg::decrypt(&path, gnupghome)?;
            decrypted.set_name(&self.name);
            Ok(Box::new(decrypted))
        } else {
            Ok(Box::new(
                File::open(&path).with_context(|| format!("opening {}", path.display()))?,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_and_loose_members() {
        assert_eq!(
            package_date("DelftX-2026-03-02").as_deref(),
            Some("2026-03-02")
        );
        assert_eq!(
            package_date("Delft-X-2026-03-02").as_deref(),
            Some("2026-03-02")
        );
        assert_eq!(package_date("2026-03-02"), None);
        assert_eq!(package_date("DelftX-2026-3-02"), None);

        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("DelftX-2026-03-09");
        std::fs::create_dir_all(&pkg).unwrap();
        let member = pkg.join("DelftX-EX101x-2T2026-auth_user-prod-analytics.sql");
        std::fs::write(&member, "id\n1\n").unwrap();
        std::fs::write(pkg.join("DelftX-EX101x-2T2026-prod.mongo"), "{}").unwrap();
        let events = dir.path().join("delftx-edx-events-2026-03-01.log.gz");
        std::fs::write(&events, "").unwrap();
        let found = discover(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(found.packages.len(), 1);
        assert_eq!(found.packages[0].name, "DelftX-2026-03-09");
        assert_eq!(found.packages[0].date, "2026-03-09");
        let members = found.packages[0].members().unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(found.events.len(), 1);
        assert_eq!(found.events[0].date, "2026-03-01");
        assert_eq!(found.ignored.len(), 1);

        let stray = tempfile::tempdir().unwrap();
        std::fs::write(
            stray
                .path()
                .join("DelftX-EX101x-2T2026-auth_user-prod-analytics.sql"),
            "id\n",
        )
        .unwrap();
        let err = discover(&[stray.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("a package file outside a package"), "{err}");
    }
}
