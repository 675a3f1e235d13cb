use super::*;
use arrow_array::Array;

fn columns() -> Vec<(&'static str, ColumnKind, &'static str)> {
    vec![
        ("id", ColumnKind::Number, "int(11)"),
        ("name", ColumnKind::Text, "varchar(10)"),
        ("at", ColumnKind::DateTime, "datetime(6)"),
    ]
}

fn file() -> Box<dyn PartitionFile> {
    let cols = columns();
    let cols: Vec<FileColumn> = cols
        .iter()
        .map(|(name, kind, column_type)| FileColumn {
            name,
            kind: *kind,
            column_type,
        })
        .collect();
    Parquet.new_file(&cols)
}

fn read(bytes: Vec<u8>) -> Vec<RecordBatch> {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(
        bytes,
    ))
    .unwrap()
    .build()
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn rows_spilled_and_held_make_one_typed_file() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("part-000000");
    let mut f = file();
    f.push_row(&[Some(b"1"), Some(b""), Some(b"2024-03-05 14:02:11.000001")]);
    f.push_row(&[Some(b"2"), None, Some(b"0000-00-00 00:00:00.000000")]);
    std::fs::write(&spill, f.take_buffered()).unwrap();
    assert_eq!(f.buffered(), 0);
    f.push_row(&[Some(b"3"), Some("é \"q\"\n".as_bytes()), None]);
    let done = f.finish(Some(&spill)).unwrap();
    assert_eq!(done.nulled, 1, "the zero date");
    let Content::File(path) = done.content else {
        panic!("a spilled partition is written to a file")
    };
    assert!(!spill.exists(), "the held rows are gone once written");
    let batches = read(std::fs::read(path).unwrap());
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 3);
    let b = &batches[0];
    assert_eq!(
        b.schema().field(2).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    let names = b
        .column(1)
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    assert_eq!(names.value(0), "", "'' stays ''");
    assert!(names.is_null(1), "NULL stays NULL");
    assert_eq!(names.value(2), "é \"q\"\n");
}

#[test]
fn an_empty_partition_is_a_file_with_its_schema() {
    let done = file().finish(None).unwrap();
    let Content::Bytes(bytes) = done.content else {
        panic!("in memory")
    };
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::from(bytes),
    )
    .unwrap();
    assert_eq!(reader.schema().fields().len(), 3);
}

#[test]
fn the_budget_counts_the_memory_the_held_rows_take() {
    let mut f = ParquetFile {
        columns: Vec::new(),
        held: Vec::new(),
    };
    // 4 + 1,000 bytes per row: the buffer's last doubling leaves it part empty.
    let value = [b'x'; 1000];
    for _ in 0..100 {
        f.push_row(&[Some(&value)]);
    }
    assert!(f.held.capacity() > f.held.len(), "the case that matters");
    assert_eq!(f.buffered(), f.held.capacity());
}

#[test]
fn a_big_partition_is_written_in_row_groups_of_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("part-000000");
    let cols = [FileColumn {
        name: "blob",
        kind: ColumnKind::Binary,
        column_type: "longblob",
    }];
    let mut f = Parquet.new_file(&cols);
    // 24 MiB of values zstd cannot shrink, so the pages the writer holds are as big as the
    // rows (xorshift: deterministic, no crate).
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut value = vec![0u8; 1024];
    for _ in 0..24 * 1024 {
        for chunk in value.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        f.push_row(&[Some(&value)]);
    }
    std::fs::write(&spill, f.take_buffered()).unwrap();
    let Content::File(path) = f.finish(Some(&spill)).unwrap().content else {
        panic!("a spilled partition is written to a file")
    };
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(path).unwrap(),
    )
    .unwrap();
    let groups = reader.metadata().row_groups();
    let rows: i64 = groups.iter().map(|g| g.num_rows()).sum();
    assert_eq!(rows, 24 * 1024);
    // A row group closes at the batch (1 MiB here) that takes the writer past
    // ROW_GROUP_MEMORY.
    let bound = ROW_GROUP_MEMORY + (2 << 20);
    for g in groups {
        assert!(
            (g.compressed_size() as usize) <= bound,
            "a row group of {} bytes, {} rows (bound {bound})",
            g.compressed_size(),
            g.num_rows()
        );
    }
    assert!(groups.len() >= 3, "{} row groups", groups.len());
}
