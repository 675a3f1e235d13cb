//! The model's mapping, and both renderings: Trino's text is parsed, DuckDB's is executed
//! by the integration tests (tests/duckdb_*.rs).

mod model {
    use super::super::trino::Trino;
    use super::super::*;
    use crate::catalog::api::CatalogColumn;

    fn trino(c: &ViewColumn) -> String {
        Trino.expr(&c.expr)
    }

    #[test]
    fn mysql_types_map_to_trino_types() {
        let cases = [
            ("int(11)", Some("bigint")),
            ("int", Some("bigint")),
            ("bigint(20)", Some("bigint")),
            ("bigint(20) unsigned", Some("decimal(20,0)")),
            ("int(10) unsigned", Some("bigint")),
            ("tinyint(1)", Some("boolean")),
            ("tinyint(4)", Some("bigint")),
            ("smallint(5) unsigned", Some("bigint")),
            ("decimal(5,2)", Some("decimal(5,2)")),
            ("decimal(65,30)", Some("double")),
            ("double", Some("double")),
            ("float", Some("double")),
            ("datetime(6)", Some("timestamp(6)")),
            ("datetime", Some("timestamp(6)")),
            ("timestamp(6)", Some("timestamp(6)")),
            ("date", Some("date")),
            ("time(6)", Some("time(6)")),
            ("year(4)", Some("integer")),
            ("bit(1)", Some("bigint")),
            ("bit(64)", Some("decimal(20,0)")),
            ("varbinary(255)", Some("varbinary")),
            ("longblob", Some("varbinary")),
            ("varchar(255)", None),
            ("longtext", None),
            ("json", None),
            ("enum('a','b')", None),
            ("", None),
        ];
        for (mysql, trino) in cases {
            assert_eq!(
                mysql_type(mysql).map(|t| Trino.type_name(t)).as_deref(),
                trino,
                "{mysql}"
            );
        }
    }

    #[test]
    fn text_columns_decode_null_and_escapes() {
        let d = data_column(&CatalogColumn::new("username", "varchar(150)"));
        assert_eq!(d.sql_type, SqlType::Varchar);
        let expression = trino(&d);
        assert!(expression.starts_with(r#"CASE WHEN "username" = '\N' THEN NULL"#));
        assert!(expression.contains(r#"WHEN strpos("username", '\') = 0 THEN "username""#));
        assert!(expression.contains(r#"regexp_replace("username", '\\(.)', x ->"#));
        assert!(trino(&d).contains("WHEN 'n' THEN chr(10)"));
        assert!(trino(&d).contains("WHEN 'r' THEN chr(13)"));
    }

    #[test]
    fn typed_columns_cast_after_null() {
        let d = data_column(&CatalogColumn::new("modified", "datetime(6)"));
        assert_eq!(
            trino(&d),
            r#"TRY_CAST(NULLIF("modified", '\N') AS timestamp(6))"#
        );
        let d = data_column(&CatalogColumn::new("is_active", "tinyint(1)"));
        assert_eq!(trino(&d), r#"(NULLIF("is_active", '\N') <> '0')"#);
        let d = data_column(&CatalogColumn::new("blob", "longblob"));
        assert_eq!(trino(&d), r#"TRY(from_hex(NULLIF("blob", '\N')))"#);
    }
}

/// Every generated Trino statement must parse; the parsed projection is checked column by
/// column.
mod parse_tests {
    use sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};
    use sqlparser::dialect::Dialect;
    use sqlparser::parser::Parser;

    use super::super::trino::Trino as TrinoSql;
    use super::super::*;
    use crate::catalog::api::{CatalogColumn, Dedup, TableSpec};

    fn view_sql(database: &str, spec: &TableSpec, columns: &[CatalogColumn]) -> String {
        create_view_sql(
            &TrinoSql,
            database,
            &spec.view,
            &spec.raw_table,
            &table_view(spec, columns),
        )
    }

    /// Trino's surface as far as the views use it: `"quoted"` identifiers, `'\'` literals
    /// without backslash escapes, lambdas and subscripts.
    #[derive(Debug)]
    struct Trino;

    impl Dialect for Trino {
        fn is_identifier_start(&self, ch: char) -> bool {
            ch.is_ascii_alphabetic() || ch == '_'
        }
        fn is_identifier_part(&self, ch: char) -> bool {
            ch.is_ascii_alphanumeric() || ch == '_'
        }
        fn supports_lambda_functions(&self) -> bool {
            true
        }
    }

    fn spec() -> TableSpec {
        let cols = [
            ("id", "int(11)"),
            ("username", "varchar(150)"),
            ("is_active", "tinyint(1)"),
            ("date_joined", "datetime(6)"),
            ("birthday", "date"),
            ("grade", "decimal(5,2)"),
            ("percent", "double"),
            ("big", "bigint(20) unsigned"),
            ("digest", "varbinary(32)"),
            ("meta", "json"),
        ];
        TableSpec {
            table: "t".into(),
            raw_table: "openedx_raw_t".into(),
            view: "openedx_table_t".into(),
            location: "s3://b/openedx/t/".into(),
            columns: cols.iter().map(|(n, t)| CatalogColumn::new(n, t)).collect(),
            partition_keys: vec![
                CatalogColumn::new("lms", "varchar(255)"),
                CatalogColumn::new("course_id", "varchar(255)"),
            ],
            base_keys: 1,
            view_order: None,
            format: crate::catalog::api::TableFormat::Csv,
            view_select: None,
            dedup: None,
        }
    }

    #[test]
    fn the_view_statement_parses_and_decodes_every_column() {
        let spec = spec();
        let sql = view_sql("panorama", &spec, &spec.columns);
        let statements = Parser::parse_sql(&Trino, &sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
        assert_eq!(statements.len(), 1);
        let Statement::CreateView(view) = &statements[0] else {
            panic!("not a CREATE VIEW: {sql}");
        };
        assert!(view.or_replace);
        assert_eq!(view.name.to_string(), r#""panorama"."openedx_table_t""#);
        let SetExpr::Select(select) = view.query.body.as_ref() else {
            panic!("not a SELECT");
        };
        assert_eq!(
            select.from[0].relation.to_string(),
            r#""panorama"."openedx_raw_t""#
        );
        let items: Vec<(String, String)> = select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::ExprWithAlias { expr, alias } => {
                    (alias.value.clone(), expr.to_string())
                }
                // A raw column passed through keeps its name.
                SelectItem::UnnamedExpr(Expr::Identifier(id)) => (id.value.clone(), id.to_string()),
                other => panic!("unaliased column {other}"),
            })
            .collect();
        let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "username",
                "is_active",
                "date_joined",
                "birthday",
                "grade",
                "percent",
                "big",
                "digest",
                "meta",
                "course_id",
                "lms"
            ]
        );
        let expr = |name: &str| items.iter().find(|(n, _)| n == name).unwrap().1.clone();
        assert_eq!(expr("id"), r#"TRY_CAST(NULLIF("id", '\N') AS BIGINT)"#);
        assert_eq!(expr("is_active"), r#"(NULLIF("is_active", '\N') <> '0')"#);
        assert_eq!(
            expr("date_joined"),
            r#"TRY_CAST(NULLIF("date_joined", '\N') AS TIMESTAMP(6))"#
        );
        assert_eq!(
            expr("birthday"),
            r#"TRY_CAST(NULLIF("birthday", '\N') AS DATE)"#
        );
        assert_eq!(
            expr("grade"),
            r#"TRY_CAST(NULLIF("grade", '\N') AS DECIMAL(5,2))"#
        );
        assert_eq!(
            expr("percent"),
            r#"TRY_CAST(NULLIF("percent", '\N') AS DOUBLE)"#
        );
        assert_eq!(
            expr("big"),
            r#"TRY_CAST(NULLIF("big", '\N') AS DECIMAL(20,0))"#
        );
        assert_eq!(expr("digest"), r#"TRY(from_hex(NULLIF("digest", '\N')))"#);
        assert_eq!(expr("course_id"), r#""course_id""#);
        assert_eq!(expr("lms"), r#""lms""#);
        // Text: NULL marker first, untouched when there is no backslash, else every
        // `\x` pair decoded in one left-to-right pass (so `\\n` is a backslash and an n).
        for text in ["username", "meta"] {
            let Some(SelectItem::ExprWithAlias { expr, .. }) = select
                .projection
                .iter()
                .find(|i| i.to_string().ends_with(&format!("AS \"{text}\"")))
            else {
                panic!("{text} missing");
            };
            let Expr::Case {
                conditions,
                else_result,
                ..
            } = expr
            else {
                panic!("{text} is not a CASE: {expr}");
            };
            assert_eq!(
                conditions[0].condition.to_string(),
                format!(r#""{text}" = '\N'"#)
            );
            assert_eq!(conditions[0].result.to_string(), "NULL");
            assert_eq!(
                conditions[1].condition.to_string(),
                format!(r#"strpos("{text}", '\') = 0"#)
            );
            let decode = else_result.as_ref().unwrap().to_string();
            assert_eq!(
                decode,
                format!(
                    r#"regexp_replace("{text}", '\\(.)', x -> CASE x[1] WHEN 'n' THEN chr(10) WHEN 'r' THEN chr(13) ELSE x[1] END)"#
                )
            );
        }
    }

    #[test]
    fn an_incremental_table_view_keeps_the_latest_version_of_each_key() {
        let mut spec = spec();
        spec.dedup = Some(Dedup {
            key: vec!["id".into()],
            latest_by: "date_joined".into(),
        });
        let sql = view_sql("panorama", &spec, &spec.columns);
        let statements = Parser::parse_sql(&Trino, &sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
        let Statement::CreateView(view) = &statements[0] else {
            panic!("not a CREATE VIEW: {sql}");
        };
        let SetExpr::Select(outer) = view.query.body.as_ref() else {
            panic!("not a SELECT");
        };
        // Outside: the view's columns by name, the same as a snapshot table's view.
        let names: Vec<String> = outer.projection.iter().map(|i| i.to_string()).collect();
        assert_eq!(names.first().map(String::as_str), Some(r#""id""#));
        assert_eq!(names.last().map(String::as_str), Some(r#""lms""#));
        assert_eq!(names.len(), 12);
        assert_eq!(
            outer.selection.as_ref().unwrap().to_string(),
            r#""__edlake_version" = 1"#
        );
        // Inside: the typed decoding over the raw table, ranked per partition and key.
        let sqlparser::ast::TableFactor::Derived { subquery, .. } = &outer.from[0].relation else {
            panic!("not a derived table: {sql}");
        };
        let SetExpr::Select(inner) = subquery.body.as_ref() else {
            panic!("not a SELECT");
        };
        assert_eq!(
            inner.from[0].relation.to_string(),
            r#""panorama"."openedx_raw_t""#
        );
        let rank = inner.projection.last().unwrap().to_string();
        assert_eq!(
            rank,
            r#"row_number() OVER (PARTITION BY "lms", "course_id", "id" ORDER BY TRY_CAST(NULLIF("date_joined", '\N') AS TIMESTAMP(6)) DESC NULLS LAST, "$path" DESC) AS "__edlake_version""#
        );
        assert!(inner
            .projection
            .iter()
            .any(|i| i.to_string() == r#"TRY_CAST(NULLIF("id", '\N') AS BIGINT) AS "id""#));
    }
}

/// The DuckDB rendering of the same model: the same decoding, spelled in DuckDB's SQL
/// (executed against real DuckDB by the integration tests).
mod duckdb_rendering {
    use super::super::duckdb::DuckDb;
    use super::super::trino::Trino;
    use super::super::*;
    use crate::catalog::api::CatalogColumn;

    #[test]
    fn both_dialects_render_every_type_of_the_model() {
        let cases = [
            ("varchar(10)", "VARCHAR", "varchar"),
            ("int(11)", "BIGINT", "bigint"),
            ("bigint(20) unsigned", "DECIMAL(20,0)", "decimal(20,0)"),
            ("tinyint(1)", "BOOLEAN", "boolean"),
            ("decimal(5,2)", "DECIMAL(5,2)", "decimal(5,2)"),
            ("double", "DOUBLE", "double"),
            ("datetime(6)", "TIMESTAMP", "timestamp(6)"),
            ("date", "DATE", "date"),
            ("time(6)", "TIME", "time(6)"),
            ("year(4)", "INTEGER", "integer"),
            ("longblob", "BLOB", "varbinary"),
        ];
        for (mysql, duck, trino) in cases {
            let ty = data_column(&CatalogColumn::new("c", mysql)).sql_type;
            assert_eq!(DuckDb.type_name(ty), duck, "{mysql}");
            assert_eq!(Trino.type_name(ty), trino, "{mysql}");
        }
    }

    #[test]
    fn text_decodes_in_one_pass_without_a_lambda_replacement() {
        let c = data_column(&CatalogColumn::new("t", "text"));
        assert_eq!(
            DuckDb.expr(&c.expr),
            r#"CASE WHEN "t" = '\N' THEN NULL WHEN strpos("t", '\') = 0 THEN "t" ELSE array_to_string(list_transform(string_split("t", '\\'), lambda s: replace(replace(s, '\n', chr(10)), '\r', chr(13))), '\') END"#
        );
        let b = data_column(&CatalogColumn::new("b", "varbinary(4)"));
        assert_eq!(DuckDb.expr(&b.expr), r#"TRY(unhex(NULLIF("b", '\N')))"#);
        let t = Expr::Iso8601Utc(Expr::column("time").boxed());
        let time = DuckDb.expr(&t);
        // With an offset (`Z`, `+00:00`, `+0000`, `+00`): to UTC; without one: already UTC.
        assert!(
            time.contains(r#"THEN timezone('UTC', TRY_CAST("time" AS TIMESTAMPTZ))"#),
            "{time}"
        );
        assert!(
            time.contains(r#"ELSE TRY_CAST("time" AS TIMESTAMP) END"#),
            "{time}"
        );
    }
}
