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
pub use records::{Record, RecordReader};
