//! The Athena view over a raw table: every column decoded from the CSV dialect
//! (docs/csv-dialect.md) and typed back from its MySQL column type.
//!
//! Raw columns are all `string`. A value is NULL when the raw text is exactly `\N`; text
//! columns then undo the layer-1 escapes (`\\`, `\n`, `\r`); typed columns are cast with
//! `TRY_CAST`, so a value the type cannot hold (MySQL's zero date, a TIME past 24 h) reads
//! as NULL instead of failing every query of every dashboard.

use crate::catalog::api::{CatalogColumn, Dedup, TableSpec};

/// The Trino type and the expression a raw column is read through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub trino_type: String,
    pub expression: String,
}

/// `"name"` with embedded quotes doubled (names are validated upstream; this is belt and
/// braces for SQL text).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The MySQL base type of a COLUMN_TYPE: `int(11) unsigned` → `int`.
fn base_type(column_type: &str) -> String {
    column_type
        .trim()
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// `(p,s)` or `(n)` of a COLUMN_TYPE, when present.
fn type_args(column_type: &str) -> Vec<u32> {
    let Some(open) = column_type.find('(') else {
        return Vec::new();
    };
    let Some(close) = column_type[open..].find(')') else {
        return Vec::new();
    };
    column_type[open + 1..open + close]
        .split(',')
        .filter_map(|a| a.trim().parse().ok())
        .collect()
}

/// Trino type for a MySQL COLUMN_TYPE; `None` means text (decoded varchar).
pub fn trino_type(column_type: &str) -> Option<String> {
    let lower = column_type.to_ascii_lowercase();
    let unsigned = lower.contains("unsigned");
    let args = type_args(&lower);
    let ty = match base_type(&lower).as_str() {
        // Django's BooleanField; MySQL treats any non-zero value as true.
        "tinyint" if args.first() == Some(&1) => "boolean".to_string(),
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" => "bigint".into(),
        // An unsigned bigint can pass 2^63 - 1; decimal(20,0) holds every value exactly.
        "bigint" if unsigned => "decimal(20,0)".into(),
        "bigint" => "bigint".into(),
        "bit" if args.first().copied().unwrap_or(1) >= 64 => "decimal(20,0)".into(),
        "bit" => "bigint".into(),
        "year" => "integer".into(),
        "decimal" | "numeric" => {
            let precision = args.first().copied().unwrap_or(10);
            let scale = args.get(1).copied().unwrap_or(0);
            if precision <= 38 {
                format!("decimal({precision},{scale})")
            } else {
                // Trino decimals stop at 38 digits.
                "double".into()
            }
        }
        "float" | "double" | "real" => "double".into(),
        "datetime" | "timestamp" => "timestamp(6)".into(),
        "date" => "date".into(),
        "time" => "time(6)".into(),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "geometry"
        | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" => "varbinary".into(),
        _ => return None,
    };
    Some(ty)
}

/// How a data column (written by the CSV encoder) is read back.
pub fn decode_data_column(column: &CatalogColumn) -> Decoded {
    let c = quote_ident(&column.name);
    let not_null = format!("NULLIF({c}, '\\N')");
    match trino_type(&column.mysql_type) {
        None => Decoded {
            trino_type: "varchar".into(),
            expression: format!(
                "CASE WHEN {c} = '\\N' THEN NULL WHEN strpos({c}, '\\') = 0 THEN {c} \
                 ELSE regexp_replace({c}, '\\\\(.)', x -> CASE x[1] WHEN 'n' THEN chr(10) \
                 WHEN 'r' THEN chr(13) ELSE x[1] END) END"
            ),
        },
        Some(ty) if ty == "boolean" => Decoded {
            expression: format!("({not_null} <> '0')"),
            trino_type: ty,
        },
        Some(ty) if ty == "varbinary" => Decoded {
            expression: format!("TRY(from_hex({not_null}))"),
            trino_type: ty,
        },
        Some(ty) => Decoded {
            expression: format!("TRY_CAST({not_null} AS {ty})"),
            trino_type: ty,
        },
    }
}

/// How a partition column is read back: Glue holds the raw value (Hive's default
/// partition reads as NULL), so only a cast is needed.
pub fn decode_partition_column(column: &CatalogColumn) -> Decoded {
    let c = quote_ident(&column.name);
    match trino_type(&column.mysql_type) {
        None => Decoded {
            trino_type: "varchar".into(),
            expression: c,
        },
        Some(ty) if ty == "boolean" => Decoded {
            expression: format!("({c} <> '0')"),
            trino_type: ty,
        },
        Some(ty) if ty == "varbinary" => Decoded {
            expression: format!("TRY(from_hex({c}))"),
            trino_type: ty,
        },
        Some(ty) => Decoded {
            expression: format!("TRY_CAST({c} AS {ty})"),
            trino_type: ty,
        },
    }
}

/// `CREATE OR REPLACE VIEW` for the table: data columns, then the table's partition
/// columns, then `lms` (Panorama's view has the MySQL columns, then `lms`).
pub fn view_sql(database: &str, spec: &TableSpec, columns: &[CatalogColumn]) -> String {
    let mut select: Vec<(&str, String)> = columns
        .iter()
        .map(|c| {
            let expression = decode_data_column(c).expression;
            (
                c.name.as_str(),
                format!("{expression} AS {}", quote_ident(&c.name)),
            )
        })
        .collect();
    // `lms` comes first among the partition keys but last in the view.
    let mut keys: Vec<&CatalogColumn> = spec.partition_keys.iter().skip(1).collect();
    keys.extend(spec.partition_keys.first());
    for key in keys {
        let expression = decode_partition_column(key).expression;
        select.push((
            key.name.as_str(),
            format!("{expression} AS {}", quote_ident(&key.name)),
        ));
    }
    if let Some(order) = &spec.view_order {
        // Stable: columns the order does not name keep their default place after it.
        select.sort_by_key(|(name, _)| {
            order
                .iter()
                .position(|o| o.eq_ignore_ascii_case(name))
                .unwrap_or(usize::MAX)
        });
    }
    match &spec.dedup {
        None => {
            let select: Vec<String> = select.into_iter().map(|(_, s)| s).collect();
            select_view_sql(database, spec, &select)
        }
        Some(dedup) => dedup_view_sql(database, spec, columns, select, dedup),
    }
}

/// The view of an incrementally written table: the typed columns of the current version of
/// each row. The window partitions by the raw partition values first, so a query's filter
/// on `lms` or `course_id` still prunes partitions beneath it.
fn dedup_view_sql(
    database: &str,
    spec: &TableSpec,
    columns: &[CatalogColumn],
    select: Vec<(&str, String)>,
    dedup: &Dedup,
) -> String {
    let mut partition_by: Vec<String> = spec
        .partition_keys
        .iter()
        .map(|k| quote_ident(&k.name))
        .collect();
    for key in &dedup.key {
        let quoted = quote_ident(key);
        if !partition_by.iter().any(|p| p.eq_ignore_ascii_case(&quoted)) {
            partition_by.push(quoted);
        }
    }
    let latest = match columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(&dedup.latest_by))
    {
        Some(c) => decode_data_column(c).expression,
        None => quote_ident(&dedup.latest_by),
    };
    let names: Vec<String> = select.iter().map(|(n, _)| quote_ident(n)).collect();
    let mut inner: Vec<String> = select.into_iter().map(|(_, s)| s).collect();
    inner.push(format!(
        "row_number() OVER (PARTITION BY {} ORDER BY {latest} DESC NULLS LAST, \"$path\" DESC) AS {}",
        partition_by.join(", "),
        quote_ident(RANK_COLUMN)
    ));
    format!(
        "CREATE OR REPLACE VIEW {}.{} AS\nSELECT\n  {}\nFROM (\n  SELECT\n    {}\n  FROM {}.{}\n) AS \"versions\"\nWHERE {} = 1",
        quote_ident(database),
        quote_ident(&spec.view),
        names.join(",\n  "),
        inner.join(",\n    "),
        quote_ident(database),
        quote_ident(&spec.raw_table),
        quote_ident(RANK_COLUMN)
    )
}

/// The window's rank of a row among the versions of its key (1: current).
const RANK_COLUMN: &str = "__edlake_version";

/// `CREATE OR REPLACE VIEW` with a given select list over the raw table.
pub fn select_view_sql(database: &str, spec: &TableSpec, select: &[String]) -> String {
    format!(
        "CREATE OR REPLACE VIEW {}.{} AS\nSELECT\n  {}\nFROM {}.{}",
        quote_ident(database),
        quote_ident(&spec.view),
        select.join(",\n  "),
        quote_ident(database),
        quote_ident(&spec.raw_table)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(trino_type(mysql).as_deref(), trino, "{mysql}");
        }
    }

    #[test]
    fn text_columns_decode_null_and_escapes() {
        let d = decode_data_column(&CatalogColumn::new("username", "varchar(150)"));
        assert_eq!(d.trino_type, "varchar");
        assert!(d
            .expression
            .starts_with(r#"CASE WHEN "username" = '\N' THEN NULL"#));
        assert!(d
            .expression
            .contains(r#"WHEN strpos("username", '\') = 0 THEN "username""#));
        assert!(d
            .expression
            .contains(r#"regexp_replace("username", '\\(.)', x ->"#));
        assert!(d.expression.contains("WHEN 'n' THEN chr(10)"));
        assert!(d.expression.contains("WHEN 'r' THEN chr(13)"));
    }

    #[test]
    fn typed_columns_cast_after_null() {
        let d = decode_data_column(&CatalogColumn::new("modified", "datetime(6)"));
        assert_eq!(
            d.expression,
            r#"TRY_CAST(NULLIF("modified", '\N') AS timestamp(6))"#
        );
        let d = decode_data_column(&CatalogColumn::new("is_active", "tinyint(1)"));
        assert_eq!(d.expression, r#"(NULLIF("is_active", '\N') <> '0')"#);
        let d = decode_data_column(&CatalogColumn::new("blob", "longblob"));
        assert_eq!(d.expression, r#"TRY(from_hex(NULLIF("blob", '\N')))"#);
    }
}

/// Every generated statement must parse; the parsed projection is checked column by column.
#[cfg(test)]
mod parse_tests {
    use sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};
    use sqlparser::dialect::Dialect;
    use sqlparser::parser::Parser;

    use super::*;

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
