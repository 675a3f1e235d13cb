//! Lake file formats: how a table's rows become the bytes of a partition's file. A format is
//! one implementation of [`FileFormat`]; the spool and the stores only ever carry the bytes
//! a [`PartitionFile`] hands them, whatever the format. The CSV dialect ([`csv::Csv`]) is
//! the first; the tracking logs' gzip JSON lines (`gzip_lines`) are the raw archive, not a
//! table format.

pub mod csv;
pub mod gzip_lines;
pub mod parquet;

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::table::ColumnKind;

/// The implementation of a lake format.
pub fn format(format: crate::lake::Format) -> &'static dyn FileFormat {
    match format {
        crate::lake::Format::Csv => &csv::Csv,
        crate::lake::Format::Parquet => &parquet::Parquet,
    }
}

/// A column of a lake file: its name, how MySQL's text protocol sends it, and its MySQL
/// COLUMN_TYPE (`datetime(6)`, `decimal(5,2)`, `tinyint(1)`), which typed formats store.
#[derive(Debug, Clone, Copy)]
pub struct FileColumn<'a> {
    pub name: &'a str,
    pub kind: ColumnKind,
    pub column_type: &'a str,
}

/// A lake file format.
pub trait FileFormat: Send + Sync {
    /// The files' extension, without the dot (`csv`).
    fn extension(&self) -> &'static str;

    /// A new file of one partition, for rows of `columns` (in file order).
    fn new_file(&self, columns: &[FileColumn<'_>]) -> Box<dyn PartitionFile>;
}

/// One partition's file being written. Rows wait in memory, in the format's own encoding,
/// until the spool moves them to disk ([`take_buffered`](Self::take_buffered)); the spool
/// counts [`buffered`](Self::buffered) against its memory budget.
/// [`finish`](Self::finish) makes the file from what was taken and what is left.
pub trait PartitionFile: Send {
    /// Appends one row: each column's value as MySQL's text protocol sends it (None: NULL).
    fn push_row(&mut self, values: &[Option<&[u8]>]);

    /// Bytes held in memory.
    fn buffered(&self) -> usize;

    /// The bytes held in memory, to append to the partition's spool file; the buffer is
    /// empty after.
    fn take_buffered(&mut self) -> Vec<u8>;

    /// The finished file. `spilled` is the spool file holding every take, in order (None
    /// when nothing was taken); the format may write the file there or beside it.
    fn finish(self: Box<Self>, spilled: Option<&Path>) -> io::Result<Finished>;
}

/// A finished partition file.
#[derive(Debug)]
pub struct Finished {
    pub content: Content,
    /// The file's size.
    pub bytes: u64,
    /// Values the column's type cannot hold (MySQL's zero date, a TIME past a day), written
    /// as NULL.
    pub nulled: u64,
}

/// Where a finished file's bytes are.
#[derive(Debug)]
pub enum Content {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// Appends `bytes` to the file at `path`.
pub fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(bytes)
}
