//! `[import]`: `edlake import` of edX research data packages (docs/research-packages.md).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Config;
use crate::lake::{BasePartition, Layout, LMS};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// The `lms=` value of everything imported: the site the packages come from.
    pub lms: String,
    /// The GnuPG home holding the institution's secret key; default `$GNUPGHOME`, else
    /// gpg's own default (`~/.gnupg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gnupghome: Option<PathBuf>,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            lms: "courses.edx.org".into(),
            gnupghome: None,
        }
    }
}

impl Config {
    /// Where imported packages go: the base partitions with `lms` = `import.lms` (`lms`
    /// first when the base partitions name none).
    pub fn import_layout(&self) -> Layout {
        let mut base = self.base_partitions();
        match base.iter_mut().find(|b| b.name == LMS) {
            Some(lms) => lms.value = self.import.lms.clone(),
            None => base.insert(0, BasePartition::new(LMS, &self.import.lms)),
        }
        Layout::new(&self.datalake.prefix, &base)
    }
}
