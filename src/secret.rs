//! Secrets held by the configuration: passwords, the pseudonymization key, and connection
//! URLs that may carry a password. Their `Debug`, `Display` and `Serialize` never show the
//! secret, so a `{:?}` in a log line, a panic message or `edlake config` cannot leak it;
//! the value is read only through [`Secret::expose`] / [`SecretUrl::expose`], at the one
//! place that hands it to a driver. Backed by `secrecy`, which also zeroes the memory on
//! drop.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What every secret prints as.
pub const REDACTED: &str = "REDACTED";

/// A password or key.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(SecretString::from(value.into()))
    }

    /// The secret itself: only for the driver or the HMAC that needs it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(value)
    }
}

/// A connection URL (`mysql://user:password@host/db`, `mongodb://…`) whose user info may
/// hold a password: it prints with the password replaced, host and database kept, so
/// messages stay useful.
#[derive(Clone, Default)]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    pub fn new(value: impl Into<String>) -> SecretUrl {
        SecretUrl(SecretString::from(value.into()))
    }

    /// The URL with its password: only for the driver's own parser.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().trim().is_empty()
    }

    /// The URL with the password of its user info replaced by `REDACTED`.
    pub fn redacted(&self) -> String {
        redact_user_password(self.expose())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SecretUrl, D::Error> {
        String::deserialize(d).map(SecretUrl::new)
    }
}

impl From<&str> for SecretUrl {
    fn from(value: &str) -> SecretUrl {
        SecretUrl::new(value)
    }
}

/// `scheme://user:password@rest` → `scheme://user:REDACTED@rest`. Works on host lists
/// (`mongodb://u:p@a,b,c/`), which the `url` crate cannot parse; the user info ends at the
/// last `@` before the path, so an unescaped `@` in the password is covered too. Text that
/// is not `scheme://…` but has an `@` is redacted whole: it may be a mistyped URL with a
/// password in it.
fn redact_user_password(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return if uri.contains('@') {
            REDACTED.into()
        } else {
            uri.to_string()
        };
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return uri.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:{REDACTED}{}", &rest[at..]),
        None => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?} {s}"), "REDACTED REDACTED");
        assert_eq!(
            toml::to_string(
                &[("k", &s)]
                    .into_iter()
                    .collect::<std::collections::BTreeMap<_, _>>()
            )
            .unwrap()
            .trim(),
            "k = \"REDACTED\""
        );
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn urls_print_without_their_password() {
        for (raw, shown) in [
            (
                "mysql://openedx:s3cret@db.internal:3307/openedx",
                "mysql://openedx:REDACTED@db.internal:3307/openedx",
            ),
            (
                "mongodb://u:p@ss@a:27017,b:27017/?authSource=admin",
                "mongodb://u:REDACTED@a:27017,b:27017/?authSource=admin",
            ),
            ("mysql://edlake@db/openedx", "mysql://edlake@db/openedx"),
            ("mysql://db/openedx", "mysql://db/openedx"),
            ("user:pw@host", "REDACTED"),
            ("", ""),
        ] {
            let url = SecretUrl::new(raw);
            assert_eq!(url.to_string(), shown);
            assert_eq!(format!("{url:?}"), format!("{shown:?}"));
            assert_eq!(url.expose(), raw);
        }
    }
}
