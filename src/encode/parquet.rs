//! Typed Parquet lake files (arrow-rs's writer), one per partition.
//!
//! A partition's rows are held as MySQL sent them, length-prefixed, and spilled like CSV
//! lines; the Parquet file is made only at [`PartitionFile::finish`], one partition at a
//! time. So a table with thousands of partitions never holds thousands of open row groups,
//! every partition gets row groups of a useful size, and memory stays within the spool's
//! budget plus one row group being written.
//!
//! Types follow the table model ([`crate::table::sql_type`]), as the typed views do: a
//! value the type cannot hold (MySQL's zero date, a TIME outside a day) is written as NULL
//! and counted.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
    Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::{Content, FileColumn, FileFormat, Finished, PartitionFile};
use crate::table::{sql_type, ColumnKind, SqlType};

mod values;

/// Rows per record batch handed to the writer: the batch's arrays are held beside the row
/// group, and 1,024 rows of Open edX state JSON are already ~0.5 MiB.
const BATCH_ROWS: usize = 1024;
/// A row group is closed once the writer holds this much memory (its pages, compressed
/// and not yet, dictionaries and their keys): the writer keeps a whole row group in memory
/// until it is closed.
const ROW_GROUP_MEMORY: usize = 8 << 20;
/// Each column's page being filled, and its dictionary, are at most this big: they are
/// held whatever the row group's size, so smaller ones leave [`ROW_GROUP_MEMORY`] to the
/// compressed pages. With 256 KiB, a row group of `courseware_studentmodule` is ~160,000
/// rows (~5 MB); with arrow-rs's 1 MiB, ~34,000 (docs/operations.md#csv-against-parquet).
const PAGE_BYTES: usize = 256 << 10;
/// The length prefix of a NULL in the held rows.
const NULL_LEN: u32 = u32::MAX;

/// The Parquet format: zstd, statistics per page, the Arrow schema embedded.
pub struct Parquet;

impl FileFormat for Parquet {
    fn extension(&self) -> &'static str {
        "parquet"
    }

    fn new_file(&self, columns: &[FileColumn<'_>]) -> Box<dyn PartitionFile> {
        Box::new(ParquetFile {
            columns: columns
                .iter()
                .map(|c| Target {
                    name: c.name.to_string(),
                    bits: c.kind == ColumnKind::Bit,
                    ty: sql_type(c.column_type),
                })
                .collect(),
            held: Vec::new(),
        })
    }
}

/// A column as the file stores it.
#[derive(Debug, Clone)]
struct Target {
    name: String,
    ty: SqlType,
    /// A BIT column: MySQL sends its value as big-endian bytes, not digits.
    bits: bool,
}

/// The Arrow type a column is stored as. TIME is microseconds since midnight in an
/// INT64 without a logical type: Athena has no TIME type, and reads it as `bigint`.
pub fn arrow_type(ty: SqlType) -> DataType {
    match ty {
        SqlType::Varchar => DataType::Utf8,
        SqlType::Varbinary => DataType::Binary,
        SqlType::Boolean => DataType::Boolean,
        SqlType::Integer => DataType::Int32,
        SqlType::Bigint | SqlType::Time => DataType::Int64,
        SqlType::Decimal(p, s) => DataType::Decimal128(p as u8, s as i8),
        SqlType::Double => DataType::Float64,
        SqlType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        SqlType::Date => DataType::Date32,
    }
}

struct ParquetFile {
    columns: Vec<Target>,
    /// Rows as MySQL sent them: per value a little-endian u32 length (or [`NULL_LEN`]),
    /// then the bytes.
    held: Vec<u8>,
}

impl PartitionFile for ParquetFile {
    fn push_row(&mut self, values: &[Option<&[u8]>]) {
        for value in values {
            match value {
                None => self.held.extend_from_slice(&NULL_LEN.to_le_bytes()),
                Some(v) => {
                    self.held.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    self.held.extend_from_slice(v);
                }
            }
        }
    }

    // What is allocated, not what is used: a Vec grows by doubling, so the held rows can
    // take up to twice their length, and the budget is about memory.
    fn buffered(&self) -> usize {
        self.held.capacity()
    }

    fn take_buffered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }

    fn finish(self: Box<Self>, spilled: Option<&Path>) -> io::Result<Finished> {
        let schema: SchemaRef = Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, arrow_type(c.ty), true))
                .collect::<Vec<_>>(),
        ));
        match spilled {
            // Written beside the spilled rows, which go once read.
            Some(path) => {
                let out = path.with_extension("parquet");
                let sink = Sink::File(BufWriter::with_capacity(1 << 20, File::create(&out)?));
                let rows = BufReader::with_capacity(1 << 20, File::open(path)?)
                    .chain(io::Cursor::new(self.held));
                let nulled = transcode(&self.columns, schema, rows, sink)?.1;
                std::fs::remove_file(path)?;
                Ok(Finished {
                    bytes: std::fs::metadata(&out)?.len(),
                    content: Content::File(out),
                    nulled,
                })
            }
            None => {
                let (sink, nulled) = transcode(
                    &self.columns,
                    schema,
                    io::Cursor::new(self.held),
                    Sink::Memory(Vec::new()),
                )?;
                let Sink::Memory(bytes) = sink else {
                    unreachable!("a memory sink stays one")
                };
                Ok(Finished {
                    bytes: bytes.len() as u64,
                    content: Content::Bytes(bytes),
                    nulled,
                })
            }
        }
    }
}

/// Where the writer's bytes go.
enum Sink {
    Memory(Vec<u8>),
    File(BufWriter<File>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Memory(v) => v.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Memory(_) => Ok(()),
            Sink::File(f) => f.flush(),
        }
    }
}

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("zstd level 3 exists"),
        ))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_data_page_size_limit(PAGE_BYTES)
        .set_dictionary_page_size_limit(PAGE_BYTES)
        .build()
}

fn parquet_error(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(format!("writing Parquet: {e}"))
}

/// Writes the held rows read from `rows` as one Parquet file into `sink`; the sink back,
/// and how many values were written as NULL because their type cannot hold them.
fn transcode(
    columns: &[Target],
    schema: SchemaRef,
    mut rows: impl Read,
    sink: Sink,
) -> io::Result<(Sink, u64)> {
    let mut writer =
        ArrowWriter::try_new(sink, schema.clone(), Some(properties())).map_err(parquet_error)?;
    let mut batch = Batch::new(columns);
    let mut value = Vec::new();
    'rows: loop {
        for (i, column) in columns.iter().enumerate() {
            let mut len = [0u8; 4];
            match rows.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && i == 0 => break 'rows,
                Err(e) => return Err(e),
            }
            let len = u32::from_le_bytes(len);
            if len == NULL_LEN {
                batch.append(i, column, None);
                continue;
            }
            value.resize(len as usize, 0);
            rows.read_exact(&mut value)?;
            batch.append(i, column, Some(&value));
        }
        batch.rows += 1;
        if batch.rows == BATCH_ROWS {
            write_batch(&mut writer, &schema, &mut batch)?;
        }
    }
    write_batch(&mut writer, &schema, &mut batch)?;
    let nulled = batch.nulled;
    let mut sink = writer.into_inner().map_err(parquet_error)?;
    sink.flush()?;
    Ok((sink, nulled))
}

fn write_batch(
    writer: &mut ArrowWriter<Sink>,
    schema: &SchemaRef,
    batch: &mut Batch,
) -> io::Result<()> {
    if batch.rows == 0 {
        return Ok(());
    }
    let arrays: Vec<ArrayRef> = batch.builders.iter_mut().map(|b| b.finish()).collect();
    batch.rows = 0;
    let record = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| io::Error::other(format!("building a record batch: {e}")))?;
    writer.write(&record).map_err(parquet_error)?;
    if writer.memory_size() >= ROW_GROUP_MEMORY {
        writer.flush().map_err(parquet_error)?;
    }
    Ok(())
}

/// The rows of one record batch being built, a builder per column.
struct Batch {
    builders: Vec<Box<dyn ArrayBuilder>>,
    rows: usize,
    nulled: u64,
}

impl Batch {
    fn new(columns: &[Target]) -> Batch {
        Batch {
            builders: columns.iter().map(|c| builder(c.ty)).collect(),
            rows: 0,
            nulled: 0,
        }
    }

    /// Appends column `i`'s value; one the type cannot hold is NULL, and counted.
    fn append(&mut self, i: usize, column: &Target, value: Option<&[u8]>) {
        let builder = self.builders[i].as_any_mut();
        let fits = values::append(builder, column.ty, column.bits, value);
        if !fits {
            self.nulled += 1;
        }
    }
}

fn builder(ty: SqlType) -> Box<dyn ArrayBuilder> {
    match ty {
        SqlType::Varchar => Box::new(StringBuilder::new()),
        SqlType::Varbinary => Box::new(BinaryBuilder::new()),
        SqlType::Boolean => Box::new(BooleanBuilder::new()),
        SqlType::Integer => Box::new(Int32Builder::new()),
        SqlType::Bigint | SqlType::Time => Box::new(Int64Builder::new()),
        SqlType::Decimal(p, s) => Box::new(
            Decimal128Builder::new()
                .with_precision_and_scale(p as u8, s as i8)
                .expect("precision ≤ 38 by the table model"),
        ),
        SqlType::Double => Box::new(Float64Builder::new()),
        SqlType::Timestamp => Box::new(TimestampMicrosecondBuilder::new()),
        SqlType::Date => Box::new(Date32Builder::new()),
    }
}

#[cfg(test)]
mod tests;
