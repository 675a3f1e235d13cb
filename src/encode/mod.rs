//! Lake file formats: how a table's rows become the bytes of a partition's file. A format is
//! one implementation of [`FileFormat`]; the spool and the stores only ever carry the bytes
//! a [`PartitionFile`] hands them, whatever the format. The CSV dialect ([`csv::Csv`]) is
//! the first; the tracking logs' gzip JSON lines (`gzip_lines`) are the raw archive, not a
//! table format.

pub mod csv;
pub mod gzip_lines;

use crate::table::ColumnKind;

/// A lake file format.
pub trait FileFormat: Send + Sync {
    /// The files' extension, without the dot (`csv`).
    fn extension(&self) -> &'static str;

    /// A new file of one partition, for rows of `columns` (name and kind, in file order).
    fn new_file(&self, columns: &[(&str, ColumnKind)]) -> Box<dyn PartitionFile>;
}

/// One partition's file being written. Encoded bytes wait in memory until the spool moves
/// them to disk ([`take_buffered`](Self::take_buffered)); the spool counts
/// [`buffered`](Self::buffered) against its memory budget. The file's bytes are, in order,
/// every take, then [`finish`](Self::finish).
pub trait PartitionFile: Send {
    /// Appends one row: each column's value as MySQL's text protocol sends it (None: NULL).
    fn push_row(&mut self, values: &[Option<&[u8]>]);

    /// Bytes encoded and held in memory.
    fn buffered(&self) -> usize;

    /// The bytes held in memory, to append to the spool file; the buffer is empty after.
    fn take_buffered(&mut self) -> Vec<u8>;

    /// The rest of the file (for a format with a footer, the footer too).
    fn finish(self: Box<Self>) -> Vec<u8>;
}
