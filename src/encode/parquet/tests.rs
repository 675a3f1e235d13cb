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
