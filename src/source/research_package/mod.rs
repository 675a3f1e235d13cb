//! edX research data packages ([docs/research-packages.md](../../../docs/research-packages.md)):
//! what edx.org sends the institutions that teach there. A weekly package holds, per course
//! run and table, a `.sql` file (tab-separated text, not SQL) and the course's structure as
//! JSON; daily event files hold tracking-log lines. Each file may be GPG-encrypted.

pub mod gpg;
pub mod inputs;
pub mod member;
pub mod records;
pub mod schema;
pub mod structure;

pub use member::Member;

/// A package file that could not be read to its end, as one line naming it (gpg's own
/// lines name it already).
pub fn read_error(name: &str, e: std::io::Error) -> anyhow::Error {
    let text = e.to_string();
    match text.contains(name) {
        true => anyhow::anyhow!(text),
        false => anyhow::anyhow!("{name}: {text} (truncated or damaged)"),
    }
}
pub use records::{Record, RecordReader};
