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
    assert!(fingerprint().starts_with("rows-"));
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
    let sql = crate::catalog::glue::view::view_sql("panorama", &spec, &spec.columns);
    let names: Vec<&str> = sql
        .lines()
        .filter_map(|l| l.trim_end_matches(',').rsplit_once(" AS "))
        .map(|(_, n)| n.trim_matches('"'))
        .collect();
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
