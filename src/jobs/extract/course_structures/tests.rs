//! Unit tests of the course_structures table.

use super::*;

#[test]
fn columns_start_with_panoramas() {
    let panorama = [
        "module_location",
        "organization",
        "course_code",
        "course_edition",
        "parent",
        "block_type",
        "block_id",
        "display_name",
        "course_name",
        "chapter",
        "sequential",
        "vertical",
        "library",
        "component",
        "weight",
    ];
    let names: Vec<&str> = COLUMNS.iter().map(|(n, _)| *n).collect();
    assert_eq!(&names[..panorama.len()], panorama);
    assert!(fingerprint(Format::Csv).starts_with("rows-"));
    // A switch of format writes every course again.
    assert_ne!(fingerprint(Format::Csv), fingerprint(Format::Parquet));
}

#[test]
fn the_view_keeps_panoramas_column_order() {
    let config = Config {
        lms_host: "lms.example.com".into(),
        datalake: crate::config::DatalakeConfig {
            url: "s3://lake".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let spec = table_spec(&config).unwrap();
    assert_eq!(spec.raw_table, "openedx_raw_course_structures");
    assert_eq!(spec.view, "openedx_table_course_structures");
    use crate::catalog::view::{create_view_sql, table_view, trino::Trino};
    let model = table_view(&spec, &spec.columns);
    let sql = create_view_sql(&Trino, "panorama", &spec.view, &spec.raw_table, &model);
    let names: Vec<&str> = model.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        &names[..3],
        ["module_location", "course_id", "organization"]
    );
    assert_eq!(names.last(), Some(&"lms"));
    assert!(
        sql.contains(r#"TRY_CAST(NULLIF("weight", '\N') AS double) AS "weight""#),
        "{sql}"
    );
    assert!(
        sql.contains(r#"TRY_CAST(NULLIF("due", '\N') AS timestamp(6)) AS "due""#),
        "{sql}"
    );
}
