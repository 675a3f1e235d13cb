//! Per-column privacy: columns dropped, or pseudonymized with a keyed HMAC so that the same
//! person gets the same pseudonym in every table and joins still work.
//!
//! A pseudonym is the hex of the first 16 bytes of HMAC-SHA256(key, value lower-cased):
//! lower-cased because MySQL's case-insensitive collations make `Ann@X.org` and
//! `ann@x.org` the same learner in a join, and the pseudonyms must join as the values did.
//! Without the key the pseudonyms cannot be reversed or recomputed from a guessed email.
//! Retirement pseudonyms (`retired__user_…`) are kept as they are: they identify nobody, and
//! analysts can still see that a learner was retired. NULL stays NULL and `''` stays `''`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The built-in `privacy.profile = "pseudonymous"`: every column Open edX documents as PII
/// that analytics do not need raw (docs/privacy.md has the reasoning).
pub const PSEUDONYMOUS_DROP: &[(&str, &str)] = &[
    ("auth_userprofile", "meta"),
    ("auth_userprofile", "mailing_address"),
    ("auth_userprofile", "city"),
    ("auth_userprofile", "goals"),
    ("auth_userprofile", "bio"),
    ("auth_userprofile", "phone_number"),
    ("auth_userprofile", "location"),
    ("auth_userprofile", "language"),
    ("student_manualenrollmentaudit", "reason"),
    ("user_api_userretirementstatus", "original_username"),
    ("user_api_userretirementstatus", "original_email"),
    ("user_api_userretirementstatus", "original_name"),
    ("site_configuration_siteconfiguration", "site_values"),
    // ORA free text: anything a learner typed, names and contact details included; a
    // pseudonym of a whole essay answers no analytics question (docs/privacy.md).
    ("submissions_submission", "raw_answer"),
];

pub const PSEUDONYMOUS_HASH: &[(&str, &str)] = &[
    ("auth_user", "username"),
    ("auth_user", "email"),
    ("auth_user", "first_name"),
    ("auth_user", "last_name"),
    ("auth_userprofile", "name"),
    ("certificates_generatedcertificate", "name"),
    ("student_manualenrollmentaudit", "enrolled_email"),
    ("student_courseenrollmentallowed", "email"),
    // Hashed like auth_user.email, so a pending enterprise learner joins to the account
    // they register later.
    ("enterprise_pendingenterprisecustomeruser", "user_email"),
];

const RETIRED_PREFIX: &[u8] = b"retired__user_";

/// A key's pseudonyms.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl Pseudonymizer {
    pub fn new(key: &[u8]) -> Pseudonymizer {
        Pseudonymizer {
            mac: Hmac::new_from_slice(key).expect("HMAC takes a key of any length"),
        }
    }

    /// Identifies the key without revealing it: the pseudonym of a fixed text. Files written
    /// under another key do not mix with these.
    pub fn check_value(&self) -> String {
        let mut out = Vec::new();
        self.pseudonym(b"edlake key check", &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The pseudonym of `value` (UTF-8 text from MySQL), appended to `out`.
    pub fn pseudonym(&self, value: &[u8], out: &mut Vec<u8>) {
        if value.is_empty() || value.starts_with(RETIRED_PREFIX) {
            out.extend_from_slice(value);
            return;
        }
        let mut mac = self.mac.clone();
        if value.is_ascii() {
            // Emails and usernames: lower-cased through a stack buffer, no allocation.
            let mut buf = [0u8; 128];
            for chunk in value.chunks(buf.len()) {
                let lower = &mut buf[..chunk.len()];
                lower.copy_from_slice(chunk);
                lower.make_ascii_lowercase();
                mac.update(lower);
            }
        } else {
            mac.update(String::from_utf8_lossy(value).to_lowercase().as_bytes());
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for byte in &mac.finalize().into_bytes()[..16] {
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0x0f)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudonym(p: &Pseudonymizer, value: &str) -> String {
        let mut out = Vec::new();
        p.pseudonym(value.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pseudonyms_are_keyed_case_insensitive_and_keep_retirement() {
        let p = Pseudonymizer::new(b"0123456789abcdef0123456789abcdef");
        let a = pseudonym(&p, "Ann@Example.org");
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            a,
            pseudonym(&p, "ann@example.org"),
            "joins as MySQL's _ci collation"
        );
        assert_ne!(a, pseudonym(&p, "bob@example.org"));
        let other_key = Pseudonymizer::new(b"another key, another world......");
        assert_ne!(a, pseudonym(&other_key, "ann@example.org"));
        assert_eq!(pseudonym(&p, ""), "");
        assert_eq!(
            pseudonym(&p, "retired__user_5f2a@retired.invalid"),
            "retired__user_5f2a@retired.invalid"
        );
        assert_eq!(pseudonym(&p, "Zoë"), pseudonym(&p, "ZOË"));
    }
}
