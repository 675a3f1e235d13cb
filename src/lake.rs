//! Lake layout, a drop-in for Panorama's:
//! `<prefix>/<table>/<base partitions>/[<col>=<value>/]…<table>.csv`, keys relative to the
//! store's root, where the base partitions are `lms=<lms_host>/` unless the config lists
//! more (`lms=…/state=…/school=…/`). Partition values are escaped exactly like Hive's
//! `FileUtils.escapePathName`, so the directory names are the ones Hive, Spark, Trino and
//! Athena compute for the same values.

use std::path::PathBuf;

use anyhow::{bail, Result};

/// Where the lake lives, parsed from `datalake.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LakeLocation {
    Local(PathBuf),
    S3 { bucket: String, root: String },
}

/// A local path, `file://` URL or `s3://bucket[/root]`, as `key` gives it.
pub fn parse_location(key: &str, url: &str) -> Result<LakeLocation> {
    let raw = url.trim();
    if raw.is_empty() {
        bail!("invalid configuration: {key} is empty");
    }
    if let Some(rest) = raw.strip_prefix("s3://") {
        let (bucket, root) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("invalid configuration: {key} {raw:?} names no bucket");
        }
        return Ok(LakeLocation::S3 {
            bucket: bucket.to_string(),
            root: root.trim_matches('/').to_string(),
        });
    }
    if let Some(path) = raw.strip_prefix("file://") {
        return Ok(LakeLocation::Local(PathBuf::from(path)));
    }
    if raw.contains("://") {
        bail!("invalid configuration: {key} {raw:?}: only local paths, file:// and s3:// are supported");
    }
    Ok(LakeLocation::Local(PathBuf::from(raw)))
}

/// How a table's files are written: the CSV dialect (docs/csv-dialect.md, Panorama's
/// layout) or typed Parquet (docs/parquet.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    Parquet,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Csv, Format::Parquet];

    /// The files' extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// Whether `key` names a table file of any format (`.csv`, `.parquet`).
    pub fn is_table_file(key: &str) -> bool {
        Format::ALL.iter().any(|f| {
            key.strip_suffix(f.extension())
                .is_some_and(|k| k.ends_with('.'))
        })
    }
}

/// Hive's name for a NULL or empty partition value.
pub const HIVE_DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The name of the one base partition a lake has unless its config lists others.
pub const LMS: &str = "lms";

/// One level of the path that every file of an installation is under, and a partition key
/// of every table (`lms=<host>`, or a consolidating site's `state=…`, `school=…`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasePartition {
    pub name: String,
    /// Empty for `lms`: `lms_host`'s value.
    #[serde(default)]
    pub value: String,
}

impl BasePartition {
    pub fn new(name: &str, value: &str) -> BasePartition {
        BasePartition {
            name: name.to_string(),
            value: value.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Layout {
    prefix: String,
    base: Vec<BasePartition>,
    /// `lms=<host>/…/`: the base partitions' directories, in order.
    base_path: String,
}

impl Layout {
    /// The layout of an installation whose files are all under the `base` partitions.
    pub fn new(prefix: &str, base: &[BasePartition]) -> Layout {
        Layout {
            prefix: prefix.trim_matches('/').to_string(),
            base: base.to_vec(),
            base_path: base
                .iter()
                .map(|b| partition_segment(&b.name, Some(&b.value)))
                .collect(),
        }
    }

    /// The default layout: one base partition, `lms=<lms_host>`.
    pub fn for_lms(prefix: &str, lms_host: &str) -> Layout {
        Layout::new(prefix, &[BasePartition::new(LMS, lms_host)])
    }

    /// The base partitions, in path order.
    pub fn base(&self) -> &[BasePartition] {
        &self.base
    }

    /// The base partitions' values, in path order: the leading values of every catalog
    /// partition of this installation.
    pub fn base_values(&self) -> Vec<String> {
        self.base.iter().map(|b| b.value.clone()).collect()
    }

    /// `<prefix>/<table>/`: the Glue table location.
    pub fn table_dir(&self, table: &str) -> String {
        format!("{}{table}/", self.prefix_dir())
    }

    /// `<prefix>/` (empty without a prefix): where every table's directory is.
    pub fn prefix_dir(&self) -> String {
        if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        }
    }

    /// `<prefix>/_edlake/`: edlake's own records, never read as a table (Hive, Spark and
    /// Athena skip names starting with `_`).
    pub fn state_root(&self) -> String {
        self.table_dir("_edlake")
    }

    /// `<prefix>/_edlake/<kind>/<base partitions>/`: one kind of edlake's records for this
    /// installation (`leases`, `watermarks`, …), apart from every other one's.
    pub fn state_dir(&self, kind: &str) -> String {
        format!("{}{kind}/{}", self.state_root(), self.base_path)
    }

    /// `<prefix>/<table>/<base partitions>/`: everything this installation owns in the
    /// table. Installations sharing a lake must use the same base partition names, so no
    /// installation's directory is inside another's.
    pub fn base_dir(&self, table: &str) -> String {
        format!("{}{}", self.table_dir(table), self.base_path)
    }

    /// Directory of one partition; `values` pairs with the table's `partition_by` columns.
    pub fn partition_dir(
        &self,
        table: &str,
        columns: &[String],
        values: &[Option<String>],
    ) -> String {
        let mut dir = self.base_dir(table);
        for (col, value) in columns.iter().zip(values) {
            dir.push_str(&partition_segment(col, value.as_deref()));
        }
        dir
    }

    /// A partition's file, of a format whose extension is `ext`.
    pub fn object_key(
        &self,
        table: &str,
        columns: &[String],
        values: &[Option<String>],
        ext: &str,
    ) -> String {
        format!(
            "{}{}",
            self.partition_dir(table, columns, values),
            file_name(table, ext)
        )
    }

    /// A delta file of run `run` (see [`delta_file_name`]).
    pub fn delta_key(
        &self,
        table: &str,
        columns: &[String],
        values: &[Option<String>],
        delta: u32,
        run: &str,
        ext: &str,
    ) -> String {
        format!(
            "{}{}",
            self.partition_dir(table, columns, values),
            delta_file_name(table, delta, run, ext)
        )
    }
}

pub fn file_name(table: &str, ext: &str) -> String {
    format!("{table}.{ext}")
}

/// An incremental run's file beside a partition's full file. It sorts after it, and
/// numbered deltas sort in the order they were written: the view's tie-break. `run` is the
/// run's own random id, so no other run (a stalled holder that lost its lease, a retry of a
/// failed run) can ever write, or overwrite, a file of this run.
pub fn delta_file_name(table: &str, delta: u32, run: &str, ext: &str) -> String {
    format!("{table}.delta-{delta:06}-{run}.{ext}")
}

/// `col=value/` with Hive's escaping of both sides.
fn partition_segment(column: &str, value: Option<&str>) -> String {
    let value = match value {
        None | Some("") => HIVE_DEFAULT_PARTITION.to_string(),
        Some(v) => escape_path_name(v),
    };
    format!("{}={}/", escape_path_name(&column.to_lowercase()), value)
}

/// Hive `FileUtils.escapePathName`: control characters and `"#%'*/:=?\{[]^` plus DEL become
/// `%XX` (uppercase hex). Everything else, `+`, space and all non-ASCII included, is kept:
/// Hive's unescape does not decode UTF-8 sequences, so non-ASCII must never be encoded.
pub fn escape_path_name(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for ch in value.chars() {
        if needs_escape(ch) {
            out.push_str(&format!("%{:02X}", ch as u32));
        } else {
            out.push(ch);
        }
    }
    out
}

fn needs_escape(ch: char) -> bool {
    matches!(
        ch,
        '\u{00}'
            ..='\u{1F}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '\u{7F}'
                | '{'
                | '['
                | ']'
                | '^'
    )
}

/// Inverse of [`escape_path_name`], and of Panorama's spelling (Python's `quote`, which
/// also encodes `+`, `@`, space and the UTF-8 bytes of non-ASCII text): `%XX` sequences
/// that decode to UTF-8 text become that text; otherwise each `%XX` is one character, as
/// Hive's `unescapePathName` does it. Hive's own names decode the same either way, since
/// Hive encodes only ASCII characters.
pub fn unescape_path_name(path: &str) -> String {
    match percent_encoding::percent_decode_str(path).decode_utf8() {
        Ok(text) => text.into_owned(),
        Err(_) => unescape_like_hive(path),
    }
}

fn unescape_like_hive(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let code = u8::from_str_radix(&path[i + 1..i + 3], 16).expect("two hex digits");
            out.push(code as char);
            i += 3;
            continue;
        }
        let ch = path[i..].chars().next().expect("char boundary");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_hive() {
        // The reference table (athena-glue.md §5).
        assert_eq!(
            escape_path_name("course-v1:OrgX+CS101+2024"),
            "course-v1%3AOrgX+CS101+2024"
        );
        assert_eq!(escape_path_name("a b%c/d"), "a b%25c%2Fd");
        assert_eq!(
            escape_path_name("course-v1:OrgZ+Z 1/x?#%=[]^{}*\"'"),
            "course-v1%3AOrgZ+Z 1%2Fx%3F%23%25%3D%5B%5D%5E%7B}%2A%22%27"
        );
        // Non-ASCII is never percent-encoded; control characters and DEL are.
        assert_eq!(escape_path_name("UnivCafé+中文"), "UnivCafé+中文");
        assert_eq!(escape_path_name("a\tb\u{7f}\\"), "a%09b%7F%5C");
        assert_eq!(escape_path_name("<>|,&@~!$();-._"), "<>|,&@~!$();-._");
    }

    #[test]
    fn unescape_round_trips() {
        for v in [
            "course-v1:OrgX+CS101+2024",
            "a b%c/d",
            "course-v1:OrgZ+Z 1/x?#%=[]^{}*\"'",
            "MITx/6.002x/2012_Fall",
            "UnivCafé:Run:1",
            "%",
            "100%",
        ] {
            assert_eq!(unescape_path_name(&escape_path_name(v)), v, "{v}");
        }
    }

    #[test]
    fn both_spellings_of_a_course_id_decode_to_it() {
        // Panorama's spelling: Python's urllib.parse.quote(value) (safe = '/').
        for (id, hive, panorama) in [
            (
                "course-v1:Org+X+Run",
                "course-v1%3AOrg+X+Run",
                "course-v1%3AOrg%2BX%2BRun",
            ),
            (
                "course-v1:O'Brien+Y+1",
                "course-v1%3AO%27Brien+Y+1",
                "course-v1%3AO%27Brien%2BY%2B1",
            ),
            (
                "course-v1:T~X+A.B+R",
                "course-v1%3AT~X+A.B+R",
                "course-v1%3AT~X%2BA.B%2BR",
            ),
            (
                "course-v1:UnivCafé+中文+Run",
                "course-v1%3AUnivCafé+中文+Run",
                "course-v1%3AUnivCaf%C3%A9%2B%E4%B8%AD%E6%96%87%2BRun",
            ),
            (
                "ccx-v1:edX+D+ccx@3",
                "ccx-v1%3AedX+D+ccx@3",
                "ccx-v1%3AedX%2BD%2Bccx%403",
            ),
        ] {
            assert_eq!(escape_path_name(id), hive);
            assert_eq!(unescape_path_name(hive), id);
            assert_eq!(unescape_path_name(panorama), id, "{panorama}");
        }
        // Not UTF-8 once decoded: each %XX is one character, as Hive reads it.
        assert_eq!(unescape_path_name("a%E9b"), "a\u{e9}b");
    }

    #[test]
    fn panorama_layout() {
        let l = Layout::for_lms("openedx", "lms.example.com");
        assert_eq!(
            l.object_key("auth_user", &[], &[], "csv"),
            "openedx/auth_user/lms=lms.example.com/auth_user.csv"
        );
        assert_eq!(
            l.object_key(
                "courseware_studentmodule",
                &["course_id".into()],
                &[Some("course-v1:Org+X+Run".into())],
                "csv"
            ),
            "openedx/courseware_studentmodule/lms=lms.example.com/course_id=course-v1%3AOrg+X+Run/courseware_studentmodule.csv"
        );
        assert_eq!(
            l.partition_dir("t", &["course_id".into()], &[None]),
            "openedx/t/lms=lms.example.com/course_id=__HIVE_DEFAULT_PARTITION__/"
        );
        assert_eq!(
            l.partition_dir("t", &["course_id".into()], &[Some(String::new())]),
            "openedx/t/lms=lms.example.com/course_id=__HIVE_DEFAULT_PARTITION__/"
        );
        let delta = l.delta_key("t", &[], &[], 7, "ffffffffffff", "csv");
        assert_eq!(
            delta,
            "openedx/t/lms=lms.example.com/t.delta-000007-ffffffffffff.csv"
        );
        assert!(l.object_key("t", &[], &[], "csv") < delta);
        // Numbers order the deltas whatever their runs' ids.
        assert!(delta < l.delta_key("t", &[], &[], 10, "000000000000", "csv"));
        assert_eq!(
            l.state_dir("leases"),
            "openedx/_edlake/leases/lms=lms.example.com/"
        );
        let bare = Layout::for_lms("", "h:8000");
        assert_eq!(bare.base_dir("t"), "t/lms=h%3A8000/");
        assert_eq!(bare.prefix_dir(), "");
        assert_eq!(l.prefix_dir(), "openedx/");
    }

    #[test]
    fn base_partitions_lead_every_path_in_order() {
        let l = Layout::new(
            "openedx",
            &[
                BasePartition::new(LMS, "lms.example.com"),
                BasePartition::new("State", "São Paulo"),
                BasePartition::new("school", "Escola 12/B"),
            ],
        );
        let base = "lms=lms.example.com/state=São Paulo/school=Escola 12%2FB/";
        assert_eq!(
            l.object_key("t", &["course_id".into()], &[Some("c:1".into())], "csv"),
            format!("openedx/t/{base}course_id=c%3A1/t.csv")
        );
        assert_eq!(l.base_dir("t"), format!("openedx/t/{base}"));
        assert_eq!(
            l.state_dir("leases"),
            format!("openedx/_edlake/leases/{base}")
        );
        assert_eq!(
            l.base_values(),
            ["lms.example.com", "São Paulo", "Escola 12/B"]
        );
    }
}
