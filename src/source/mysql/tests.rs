//! Unit tests of the planning and the SQL of the MySQL source.

use super::*;

fn col(name: &str, data_type: &str) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        column_type: data_type.into(),
        kind: ColumnKind::from_mysql(data_type),
        absent: false,
    }
}

fn table(name: &str) -> TableConfig {
    TableConfig {
        name: name.into(),
        ..TableConfig::default()
    }
}

#[test]
fn identifiers_are_validated() {
    assert!(validate_identifier("courseware_studentmodule").is_ok());
    assert!(validate_identifier("_location").is_ok());
    for bad in [
        "",
        "a b",
        "a`b",
        "a;drop",
        "x.y",
        "123",
        &"a".repeat(65),
        "é",
    ] {
        assert!(validate_identifier(bad).is_err(), "{bad:?}");
    }
    assert_eq!(quote_identifier("key").unwrap(), "`key`");
}

#[test]
fn password_never_planned() {
    let all = vec![
        col("id", "int"),
        col("password", "varchar"),
        col("username", "varchar"),
    ];
    let plan = plan_columns(&table("auth_user"), &ColumnPolicy::default(), &all).unwrap();
    let names: Vec<_> = plan.data_columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "username"]);
    let mut pinned = table("auth_user");
    pinned.columns = Some(vec!["password".into(), "id".into()]);
    let plan = plan_columns(&pinned, &ColumnPolicy::default(), &all).unwrap();
    assert_eq!(plan.data_columns.len(), 1);
    assert_eq!(plan.data_columns[0].name, "id");
}

#[test]
fn site_values_only_when_pinned() {
    let all = vec![
        col("id", "int"),
        col("site_id", "int"),
        col("enabled", "tinyint"),
        col("site_values", "longtext"),
    ];
    let names = |t: &TableConfig, policy: &ColumnPolicy| -> Vec<String> {
        let plan = plan_columns(t, policy, &all).unwrap();
        plan.data_columns.iter().map(|c| c.name.clone()).collect()
    };
    let default = table("site_configuration_siteconfiguration");
    assert_eq!(
        names(&default, &ColumnPolicy::default()),
        ["id", "site_id", "enabled"]
    );
    let mut pinned = default.clone();
    pinned.columns = Some(vec!["id".into(), "SITE_VALUES".into()]);
    assert_eq!(
        names(&pinned, &ColumnPolicy::default()),
        ["id", "site_values"],
        "naming the column in `columns` is the opt-in"
    );
    let profile = ColumnPolicy {
        drop: vec!["site_values".into()],
        ..ColumnPolicy::default()
    };
    assert_eq!(
        names(&pinned, &profile),
        ["id"],
        "a privacy drop still wins over the opt-in"
    );
}

#[test]
fn builtin_tables_lead_with_panoramas_order() {
    // A fresh edx-enterprise install (squashed migrations) puts enterprise_customer_id
    // after linked; Panorama's lake has it after user_id. Columns Panorama does not know
    // follow in physical order.
    let all = vec![
        col("id", "int"),
        col("created", "datetime"),
        col("modified", "datetime"),
        col("user_id", "int"),
        col("active", "tinyint"),
        col("linked", "tinyint"),
        col("enterprise_customer_id", "char"),
        col("invite_key_id", "char"),
        col("should_inactivate_other_customers", "tinyint"),
        col("is_relinkable", "tinyint"),
        col("user_fk", "int"),
    ];
    let plan = plan_columns(
        &table("enterprise_enterprisecustomeruser"),
        &ColumnPolicy::default(),
        &all,
    )
    .unwrap();
    let names: Vec<_> = plan.data_columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "created",
            "modified",
            "user_id",
            "enterprise_customer_id",
            "active",
            "linked",
            "invite_key_id",
            "should_inactivate_other_customers",
            "is_relinkable",
            "user_fk"
        ]
    );
    // A table Panorama does not know keeps its physical order.
    let plan = plan_columns(&table("some_table"), &ColumnPolicy::default(), &all).unwrap();
    assert_eq!(plan.data_columns[4].name, "active");
}

#[test]
fn partition_columns_leave_the_data_columns() {
    let all = vec![
        col("id", "bigint"),
        col("course_id", "varchar"),
        col("state", "longtext"),
    ];
    let mut t = table("courseware_studentmodule");
    t.partition_by = vec!["course_id".into()];
    let plan = plan_columns(&t, &ColumnPolicy::default(), &all).unwrap();
    assert_eq!(plan.data_columns.len(), 2);
    assert_eq!(plan.partition_names(), ["course_id"]);
    assert_eq!(
        select_sql("openedx", &plan, None).unwrap(),
        "SELECT `id`, `state`, `course_id` FROM `openedx`.`courseware_studentmodule`"
    );
}

#[test]
fn files_follow_the_catalog_order_with_lost_columns_as_null() {
    let all = vec![
        col("grade", "double"),
        col("id", "bigint"),
        col("new", "int"),
    ];
    let mut plan = plan_columns(&table("t"), &ColumnPolicy::default(), &all).unwrap();
    plan.follow_order(&[
        ("id".into(), "bigint(20)".into()),
        ("gone".into(), "datetime(6)".into()),
        ("grade".into(), "double".into()),
    ]);
    let names: Vec<_> = plan.data_columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "gone", "grade", "new"]);
    assert!(plan.data_columns[1].absent);
    assert_eq!(
        select_sql("db", &plan, None).unwrap(),
        "SELECT `id`, NULL, `grade`, `new` FROM `db`.`t`"
    );
}

#[test]
fn unknown_columns_are_named() {
    let all = vec![col("id", "int")];
    let mut t = table("t");
    t.columns = Some(vec!["id".into(), "nope".into()]);
    let e = plan_columns(&t, &ColumnPolicy::default(), &all)
        .unwrap_err()
        .to_string();
    assert!(e.contains("column nope does not exist"), "{e}");
    let mut t = table("t");
    t.partition_by = vec!["course_id".into()];
    let e = plan_columns(&t, &ColumnPolicy::default(), &all)
        .unwrap_err()
        .to_string();
    assert!(e.contains("partition column course_id"), "{e}");
}

#[test]
fn privacy_drops_pseudonymizes_text_only_and_requires_named_columns() {
    let all = vec![
        col("id", "int"),
        col("email", "varchar"),
        col("meta", "longtext"),
        col("course_id", "varchar"),
    ];
    let policy = ColumnPolicy {
        drop: vec!["meta".into(), "not_in_this_release".into()],
        pseudonymize: vec!["email".into()],
        required: vec!["email".into()],
    };
    let plan = plan_columns(&table("t"), &policy, &all).unwrap();
    let names: Vec<&str> = plan.data_columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "email", "course_id"]);
    assert_eq!(plan.pseudonymized, ["email"]);

    let numbers = ColumnPolicy {
        pseudonymize: vec!["id".into()],
        ..ColumnPolicy::default()
    };
    let e = plan_columns(&table("t"), &numbers, &all)
        .unwrap_err()
        .to_string();
    assert!(e.contains("only text columns can be pseudonymized"), "{e}");

    let mut partitioned = table("t");
    partitioned.partition_by = vec!["course_id".into()];
    let key = ColumnPolicy {
        pseudonymize: vec!["course_id".into()],
        ..ColumnPolicy::default()
    };
    let e = plan_columns(&partitioned, &key, &all)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("both a partition column and pseudonymized"),
        "{e}"
    );

    let typo = ColumnPolicy {
        pseudonymize: vec!["emial".into()],
        required: vec!["emial".into()],
        ..ColumnPolicy::default()
    };
    let e = plan_columns(&table("t"), &typo, &all)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column emial named by the privacy settings"),
        "{e}"
    );
}

#[test]
fn incremental_needs_an_exported_change_time_and_key() {
    let all = vec![
        col("id", "int"),
        col("course_id", "varchar"),
        col("modified", "datetime"),
        col("state", "longtext"),
    ];
    let mut t = table("courseware_studentmodule");
    t.partition_by = vec!["course_id".into()];
    let plan = plan_columns(&t, &ColumnPolicy::default(), &all).unwrap();
    let inc = resolve_incremental(&t, &plan, &["id".into()])
        .unwrap()
        .unwrap();
    assert_eq!(inc.change_column, "modified");
    assert_eq!(inc.key, ["id"]);
    let changed = select_sql("db", &plan, Some(&inc.change_column)).unwrap();
    // Panorama's column order for the built-in table: state before modified.
    assert_eq!(
        changed,
        "SELECT `id`, `state`, `modified`, `course_id` FROM `db`.`courseware_studentmodule` WHERE `modified` >= @edlake_since"
    );
    // A built-in table that lost what it needs stays a full snapshot...
    assert_eq!(resolve_incremental(&t, &plan, &[]).unwrap(), None);
    let dropped = ColumnPolicy {
        drop: vec!["modified".into()],
        ..ColumnPolicy::default()
    };
    let plan_without = plan_columns(&t, &dropped, &all).unwrap();
    assert_eq!(
        resolve_incremental(&t, &plan_without, &["id".into()]).unwrap(),
        None
    );
    // ... a change column the config names must work, and "" turns it off.
    let mut named = table("t");
    named.change_column = Some("state".into());
    let plan = plan_columns(&named, &ColumnPolicy::default(), &all).unwrap();
    let e = resolve_incremental(&named, &plan, &["id".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a date or time"), "{e}");
    named.change_column = Some(String::new());
    assert_eq!(
        resolve_incremental(&named, &plan, &["id".into()]).unwrap(),
        None
    );
    assert_eq!(table("auth_user").change_column(), None);
}
