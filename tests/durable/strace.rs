//! Reading an `strace -f -y` trace of edlake, and checking from it the order that makes a
//! local lake durable (tests/durable.rs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------
// Reading the trace.

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Fsync(PathBuf),
    Rename { from: PathBuf, to: PathBuf },
    Mkdir(PathBuf),
    Unlink(PathBuf),
    Rmdir(PathBuf),
}

/// A successful call: the trace lines where it began and ended (a call another thread
/// interrupted spans an `<unfinished ...>` and a `<... resumed>` line).
#[derive(Debug, Clone)]
pub struct Call {
    pub start: usize,
    pub end: usize,
    pub op: Op,
}

#[derive(Debug)]
enum Arg {
    Str(String),
    /// A descriptor as `-y` prints it, `7</path>` or `AT_FDCWD</cwd>`: its path.
    Fd(PathBuf),
    Other,
}

pub fn parse_trace(text: &str) -> Vec<Call> {
    let mut pending: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    let mut calls = Vec::new();
    for (i, line) in text.lines().enumerate() {
        // `-f` starts each line with the thread id, padded to a common width.
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        let (start, full) = if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, (i, head.to_string()));
            continue;
        } else if rest.starts_with("<... ") {
            let Some((_, tail)) = rest.split_once(" resumed>") else {
                continue;
            };
            let Some((start, head)) = pending.remove(pid) else {
                continue;
            };
            (start, format!("{head}{tail}"))
        } else {
            (i, rest.to_string())
        };
        if let Some(op) = parse_call(&full) {
            calls.push(Call { start, end: i, op });
        }
    }
    calls
}

/// `name(args) = result`, when it succeeded and is one of the calls that matter.
fn parse_call(text: &str) -> Option<Op> {
    let (name, rest) = text.split_once('(')?;
    // strace pads short calls: `fsync(3</a>)     = 0`.
    let (args, result) = rest.rsplit_once(" = ")?;
    let args = args.trim_end().strip_suffix(')')?;
    let code: i64 = result
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .next()?
        .parse()
        .ok()?;
    if code < 0 {
        return None;
    }
    let args = parse_args(args);
    let path = |i: usize| match args.get(i) {
        Some(Arg::Str(s)) => Some(PathBuf::from(s)),
        _ => None,
    };
    // A path relative to a directory descriptor (`*at` calls).
    let at = |dir: usize, i: usize| {
        let p = path(i)?;
        match args.get(dir) {
            Some(Arg::Fd(d)) if p.is_relative() => Some(d.join(p)),
            _ => Some(p),
        }
    };
    Some(match name {
        "fsync" | "fdatasync" => match args.first() {
            Some(Arg::Fd(p)) => Op::Fsync(p.clone()),
            _ => return None,
        },
        "rename" => Op::Rename {
            from: path(0)?,
            to: path(1)?,
        },
        "renameat" | "renameat2" => Op::Rename {
            from: at(0, 1)?,
            to: at(2, 3)?,
        },
        "mkdir" => Op::Mkdir(path(0)?),
        "mkdirat" => Op::Mkdir(at(0, 1)?),
        "unlink" => Op::Unlink(path(0)?),
        "rmdir" => Op::Rmdir(path(0)?),
        "unlinkat" if text.contains("AT_REMOVEDIR") => Op::Rmdir(at(0, 1)?),
        "unlinkat" => Op::Unlink(at(0, 1)?),
        _ => return None,
    })
}

/// strace's arguments: quoted strings (with its escapes), `-y` descriptors, the rest.
fn parse_args(text: &str) -> Vec<Arg> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        if c == '"' {
            chars.next();
            let mut bytes = Vec::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some(d @ '0'..='7') => {
                            let mut n = d.to_digit(8).unwrap();
                            for _ in 0..2 {
                                match chars.peek().and_then(|c| c.to_digit(8)) {
                                    Some(v) => {
                                        n = n * 8 + v;
                                        chars.next();
                                    }
                                    None => break,
                                }
                            }
                            bytes.push(n as u8);
                        }
                        Some('n') => bytes.push(b'\n'),
                        Some('t') => bytes.push(b'\t'),
                        Some(other) => {
                            bytes.extend(other.to_string().as_bytes());
                        }
                        None => break,
                    },
                    c => bytes.extend(c.to_string().as_bytes()),
                }
            }
            args.push(Arg::Str(String::from_utf8_lossy(&bytes).into_owned()));
            // Skip to the next argument (past a `...` of a cut string).
            for c in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
        } else {
            let mut token = String::new();
            for c in chars.by_ref() {
                if c == ',' && (token.ends_with('>') || !token.contains('<')) {
                    break;
                }
                token.push(c);
            }
            match (token.find('<'), token.ends_with('>')) {
                (Some(open), true) => {
                    args.push(Arg::Fd(PathBuf::from(&token[open + 1..token.len() - 1])))
                }
                _ => args.push(Arg::Other),
            }
        }
    }
    args
}

// ---------------------------------------------------------------------------------------
// Checking the order.

fn parent(path: &Path) -> &Path {
    path.parent().expect("an absolute path")
}

/// What the checks look at: paths under one of `roots`, not hidden (staging files, lock
/// files and the ledger's temporary files start with `.`).
pub struct Scope {
    pub roots: Vec<PathBuf>,
}

impl Scope {
    pub fn covers(&self, path: &Path) -> bool {
        self.roots.iter().any(|root| {
            path.strip_prefix(root).is_ok_and(|rel| {
                !rel.as_os_str().is_empty()
                    && rel
                        .components()
                        .all(|c| !c.as_os_str().to_string_lossy().starts_with('.'))
            })
        })
    }
}

/// What the trace shows about the changes in scope: for each, where it became durable.
pub struct Durability {
    /// `(call index, path it changed, the line where it is durable)`.
    pub changes: Vec<(usize, PathBuf, Option<usize>)>,
    pub violations: Vec<String>,
}

/// The end of the first fsync of `dir` that starts after line `after`.
fn dir_synced_after(calls: &[Call], dir: &Path, after: usize) -> Option<usize> {
    calls
        .iter()
        .find(|c| c.start > after && c.op == Op::Fsync(dir.to_path_buf()))
        .map(|c| c.end)
}

pub fn durability(calls: &[Call], scope: &Scope) -> Durability {
    let mut changes = Vec::new();
    let mut violations = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let (path, durable) = match &call.op {
            Op::Rename { from, to } if scope.covers(to) => {
                let content_synced = calls[..i]
                    .iter()
                    .any(|c| c.end < call.start && c.op == Op::Fsync(from.clone()));
                if !content_synced {
                    violations.push(format!(
                        "{} renamed into place (line {}) without an fsync of {} before",
                        to.display(),
                        call.start + 1,
                        from.display()
                    ));
                }
                (to, dir_synced_after(calls, parent(to), call.end))
            }
            Op::Mkdir(dir) if scope.covers(dir) => {
                (dir, dir_synced_after(calls, parent(dir), call.end))
            }
            Op::Unlink(path) | Op::Rmdir(path) if scope.covers(path) => {
                (path, removal_durable(calls, path, call.end))
            }
            _ => continue,
        };
        if durable.is_none() {
            violations.push(format!(
                "{} changed (line {}) and its directory never fsynced after",
                path.display(),
                call.end + 1
            ));
        }
        changes.push((i, path.clone(), durable));
    }
    Durability {
        changes,
        violations,
    }
}

/// Where the removal of `path` (after line `after`) is durable: the next fsync of its
/// directory, or, when the directory is removed first, where that removal is durable.
fn removal_durable(calls: &[Call], path: &Path, after: usize) -> Option<usize> {
    let dir = parent(path).to_path_buf();
    let next = calls.iter().find(|c| {
        c.start > after && (c.op == Op::Fsync(dir.clone()) || c.op == Op::Rmdir(dir.clone()))
    })?;
    match next.op {
        Op::Fsync(_) => Some(next.end),
        _ => removal_durable(calls, &dir, next.end),
    }
}

/// Checks that the last rename of `record` into place comes after every change in scope
/// to a path in `depends` (or to a directory holding one) is durable. Returns the number
/// of changes the record depends on, and the violations.
pub fn record_after(
    calls: &[Call],
    durable: &Durability,
    record: &Path,
    depends: &[PathBuf],
) -> (usize, Vec<String>) {
    let Some(renamed) = calls
        .iter()
        .rev()
        .find(|c| matches!(&c.op, Op::Rename { to, .. } if to == record))
    else {
        return (
            0,
            vec![format!("{} was never renamed into place", record.display())],
        );
    };
    let mut count = 0;
    let mut violations = Vec::new();
    for (i, path, synced) in &durable.changes {
        if !depends.iter().any(|d| d.starts_with(path)) || path == record {
            continue;
        }
        count += 1;
        match synced {
            Some(line) if *line < renamed.start && calls[*i].end < renamed.start => {}
            _ => violations.push(format!(
                "{} renamed into place (line {}) before {} was durable ({})",
                record.display(),
                renamed.start + 1,
                path.display(),
                synced.map_or("never".to_string(), |l| format!("line {}", l + 1))
            )),
        }
    }
    (count, violations)
}

/// The checker itself, on a hand-written trace in strace's format (padding, a call cut by
/// another thread, `*at` calls): quiet on the right order, and one violation for each
/// step left out or taken too late.
#[test]
fn the_checker_flags_every_step_out_of_order() {
    let good = [
        "1 mkdir(\"/L/t/d\", 0777) = 0",
        "1 fsync(3</L/t>)    = 0",
        "1   fsync(4</L/.edlake-tmp-a>) = 0",
        "1 renameat(AT_FDCWD</x>, \"/L/.edlake-tmp-a\", AT_FDCWD</x>, \"/L/t/d/f.csv\") = 0",
        "1 fsync(4</L/t/d> <unfinished ...>",
        "2 unlinkat(AT_FDCWD</x>, \"/L/t/old/g.csv\", 0) = 0",
        "1 <... fsync resumed>)        = 0",
        "2 rmdir(\"/L/t/old\") = 0",
        "2 fsync(5</L/t>) = 0",
        "1 openat(AT_FDCWD</x>, \"/L/.edlake-tmp-b\", O_RDWR|O_CREAT|O_EXCL, 0600) = 6</L/.edlake-tmp-b>",
        "1 fdatasync(6</L/.edlake-tmp-b>) = 0",
        "1 rename(\"/L/.edlake-tmp-b\", \"/L/r/rec.json\") = 0",
        "1 fsync(7</L/r>) = 0",
    ];
    let check = |lines: &[&str]| -> Vec<String> {
        let calls = parse_trace(&lines.join("\n"));
        let durable = durability(
            &calls,
            &Scope {
                roots: vec![PathBuf::from("/L")],
            },
        );
        let depends = vec![
            PathBuf::from("/L/t/d/f.csv"),
            PathBuf::from("/L/t/old/g.csv"),
        ];
        let (count, mut violations) =
            record_after(&calls, &durable, Path::new("/L/r/rec.json"), &depends);
        assert!(count >= 3, "{count}");
        violations.extend(durable.violations);
        violations
    };
    assert_eq!(check(&good), Vec::<String>::new());
    let without = |skip: &[usize]| {
        let lines: Vec<&str> = (0..good.len())
            .filter(|i| !skip.contains(i))
            .map(|i| good[i])
            .collect();
        check(&lines)
    };
    let flagged = |violations: Vec<String>, what: &str| {
        assert!(
            violations.iter().any(|v| v.contains(what)),
            "{what}: {violations:?}"
        );
    };
    // (A later fsync of /L/t makes the new directory durable too.)
    flagged(without(&[1, 8]), "/L/t/d changed");
    flagged(without(&[2]), "without an fsync of /L/.edlake-tmp-a");
    flagged(without(&[4]), "f.csv changed");
    flagged(without(&[8]), "/L/t/old changed");
    flagged(without(&[10]), "without an fsync of /L/.edlake-tmp-b");
    flagged(without(&[12]), "rec.json changed");
    // The record before the directory of a file it records is synced.
    let mut early = good.to_vec();
    let record = early.drain(9..).collect::<Vec<_>>();
    early.splice(4..4, record);
    flagged(
        check(&early),
        "/L/r/rec.json renamed into place (line 7) before /L/t/d/f.csv was durable",
    );
    // A failed call is no call.
    let mut failed = good.to_vec();
    failed[2] = "1 fsync(4</L/.edlake-tmp-a>) = -1 EIO (Input/output error)";
    flagged(check(&failed), "without an fsync");
}
