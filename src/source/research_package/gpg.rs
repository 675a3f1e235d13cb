//! Decryption of package files with the system GnuPG (`gpg`), the tool edX's own exporter
//! encrypts with: no hand-written OpenPGP. The plaintext is streamed from gpg's stdout, so
//! memory stays bounded whatever the file's size. The institution's secret key lives in a
//! GnuPG home (`gpg --import key.asc` once; `GNUPGHOME` or `import.gnupghome`).
//!
//! gpg writes plaintext as it decrypts and only tells at the end whether the data was
//! whole and authentic: a reader of [`Decrypted`] must treat everything it read as
//! unusable when the final read fails.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use anyhow::{Context, Result};

/// A file's plaintext, as gpg decrypts it.
pub struct Decrypted {
    child: Child,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<String>>,
    name: String,
    done: bool,
}

/// Starts decrypting `path` with the keys of `gnupghome` (or gpg's default home).
pub fn decrypt(path: &Path, gnupghome: Option<&Path>) -> Result<Decrypted> {
    let name = path.display().to_string();
    let input = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
    let mut command = Command::new("gpg");
    // Not --quiet: gpg names the key a file is encrypted to, which the operator needs when
    // it is not theirs.
    command.args(["--batch", "--no-tty", "--decrypt"]);
    if let Some(home) = gnupghome {
        command.arg("--homedir").arg(home);
    }
    let mut child = command
        .stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("{name}: cannot run gpg to decrypt it (install GnuPG: apt-get install gnupg)")
        })?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // Drained meanwhile: a chatty gpg must never block on a full stderr pipe.
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    Ok(Decrypted {
        child,
        stdout,
        stderr: Some(stderr),
        name,
        done: false,
    })
}

impl Decrypted {
    /// Names the file in messages by `name` (a zip member copied to a scratch file).
    pub fn set_name(&mut self, name: &str) {
        self.name = name.to_string();
    }

    /// Once the plaintext has ended: whether gpg vouches for it.
    fn finish(&mut self) -> io::Result<()> {
        self.done = true;
        let status = self.child.wait()?;
        let stderr = self
            .stderr
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        if status.success() {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "{}: not decryptable: {}",
            self.name,
            why(&stderr)
        )))
    }
}

impl Read for Decrypted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        match self.stdout.read(buf)? {
            0 => self.finish().map(|()| 0),
            n => Ok(n),
        }
    }
}

impl Drop for Decrypted {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What the operator needs from gpg's messages: the key it lacks, or the damage it found.
fn why(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    if lines.iter().any(|l| l.contains("No secret key")) {
        let key = lines
            .iter()
            .find_map(|l| l.split("ID ").nth(1))
            .map(|k| k.split([',', ' ']).next().unwrap_or(k).to_string());
        return match key {
            Some(k) => format!("encrypted to another key ({k}); import the institution's secret key into the GnuPG home edlake uses"),
            None => "encrypted to another key; import the institution's secret key into the GnuPG home edlake uses".into(),
        };
    }
    if lines
        .iter()
        .any(|l| l.contains("no valid OpenPGP data") || l.contains("invalid packet"))
    {
        return "not OpenPGP data, or damaged".into();
    }
    let last = lines
        .iter()
        .rev()
        .find(|l| !l.is_empty())
        .map(|l| l.trim_start_matches("gpg: ").to_string())
        .unwrap_or_else(|| "gpg failed".into());
    format!("truncated or damaged ({last})")
}

/// A GnuPG home directory from the environment, as gpg reads it.
pub fn default_home() -> Option<PathBuf> {
    std::env::var_os("GNUPGHOME").map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A throwaway key without passphrase in a new GnuPG home; its fingerprint.
    fn make_key(home: &Path) -> String {
        let params = "%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\n\
            Subkey-Type: ecdh\nSubkey-Curve: cv25519\nSubkey-Usage: encrypt\n\
            Name-Real: edlake test\nName-Email: test@example.invalid\nExpire-Date: 0\n%commit\n";
        let mut child = Command::new("gpg")
            .args(["--batch", "--quiet", "--homedir"])
            .arg(home)
            .arg("--gen-key")
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gpg (apt-get install gnupg)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(params.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        let out = Command::new("gpg")
            .args(["--batch", "--homedir"])
            .arg(home)
            .args(["--with-colons", "--list-keys"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_string()
    }

    fn encrypt(home: &Path, recipient: &str, plain: &[u8], out: &Path) {
        let mut child = Command::new("gpg")
            .args([
                "--batch",
                "--quiet",
                "--yes",
                "--trust-model",
                "always",
                "--homedir",
            ])
            .arg(home)
            .args(["--recipient", recipient, "--output"])
            .arg(out)
            .arg("--encrypt")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(plain).unwrap();
        assert!(child.wait().unwrap().success());
    }

    fn stop_agent(home: &Path) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(home)
            .args(["--kill", "gpg-agent"])
            .output();
    }

    #[test]
    fn decrypts_streamed_and_names_a_wrong_key_or_a_truncated_file() {
        let dir = tempfile::tempdir().unwrap();
        let (home, other) = (dir.path().join("home"), dir.path().join("other"));
        for h in [&home, &other] {
            std::fs::create_dir_all(h).unwrap();
            std::fs::set_permissions(h, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .unwrap();
        }
        let (mine, theirs) = (make_key(&home), make_key(&other));
        let plain: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{i}\tline\n").into_bytes())
            .collect();
        let file = dir.path().join("t.sql.gpg");
        encrypt(&home, &mine, &plain, &file);

        let mut got = Vec::new();
        decrypt(&file, Some(&home))
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, plain);

        let foreign = dir.path().join("foreign.sql.gpg");
        encrypt(&other, &theirs, b"secret", &foreign);
        let err = decrypt(&foreign, Some(&home))
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("foreign.sql.gpg: not decryptable: encrypted to another key"),
            "{err}"
        );

        let bytes = std::fs::read(&file).unwrap();
        let cut = dir.path().join("cut.sql.gpg");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = decrypt(&cut, Some(&home))
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("cut.sql.gpg: not decryptable: "), "{err}");

        let plain_file = dir.path().join("plain.sql.gpg");
        std::fs::write(&plain_file, b"id\tname\n1\tx\n").unwrap();
        let err = decrypt(&plain_file, Some(&home))
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("plain.sql.gpg: not decryptable: not OpenPGP data"),
            "{err}"
        );
        stop_agent(&home);
        stop_agent(&other);
    }
}
