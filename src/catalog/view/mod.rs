//! One model of a typed view, rendered into two SQL dialects: Trino for Athena
//! ([`trino`]) and DuckDB for the local catalog ([`duckdb`]).
//!
//! A raw table returns every CSV column as text in the dialect's layer 1
//! (docs/csv-dialect.md). The model says, for each view column, how that text is decoded
//! and which SQL type it is read as; the two renderers only spell it. So what the tests
//! execute in DuckDB is the same logic Athena receives.
//!
//! A value is NULL when the raw text is exactly `\N`; text columns then undo the layer-1
//! escapes (`\\`, `\n`, `\r`); typed columns are cast with `TRY_CAST`, so a value the type
//! cannot hold (MySQL's zero date, a TIME past 24 h) reads as NULL instead of failing every
//! query of every dashboard.

pub mod columns;
pub mod duckdb;
pub mod trino;

pub use columns::{data_column, mysql_type, partition_column, spec_view, table_view};

/// A view column's SQL type (the table model's), named per dialect by [`Dialect::type_name`].
pub use crate::table::SqlType;

/// How a view column is computed from the raw table's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A raw column as the raw table returns it.
    Column(String),
    /// A field of a struct column (`"context"."course_id"`).
    Field(String, String),
    /// Layer-1 text decoded: `\N` is NULL, `\\`, `\n`, `\r` undone in one left-to-right
    /// pass (so `\\n` is a backslash and an n).
    DecodedText(Box<Expr>),
    /// NULL when the raw text is `\N`, else the raw text.
    NullMarker(Box<Expr>),
    /// The value cast to the type, NULL when it cannot be.
    TryCast(Box<Expr>, SqlType),
    /// MySQL's truth for a `tinyint(1)`: anything but `0` is true.
    NonZero(Box<Expr>),
    /// Uppercase hex (MySQL's `HEX()`) to bytes, NULL when not hex.
    FromHex(Box<Expr>),
    /// ISO-8601 text with a UTC offset to a UTC timestamp (µs), NULL when unparsable.
    Iso8601Utc(Box<Expr>),
    /// Microseconds since midnight (a Parquet TIME column) to a time.
    MicrosToTime(Box<Expr>),
    /// The first non-NULL value.
    Coalesce(Vec<Expr>),
}

impl Expr {
    pub fn column(name: &str) -> Expr {
        Expr::Column(name.to_string())
    }

    pub fn boxed(self) -> Box<Expr> {
        Box::new(self)
    }
}

/// One column of a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewColumn {
    pub name: String,
    pub expr: Expr,
    pub sql_type: SqlType,
}

impl ViewColumn {
    pub fn new(name: &str, expr: Expr, sql_type: SqlType) -> ViewColumn {
        ViewColumn {
            name: name.to_string(),
            expr,
            sql_type,
        }
    }

    /// A raw column passed through as it is.
    pub fn raw(name: &str, sql_type: SqlType) -> ViewColumn {
        ViewColumn::new(name, Expr::column(name), sql_type)
    }
}

/// A typed view over a raw table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewModel {
    pub columns: Vec<ViewColumn>,
    /// For an incrementally written table: keep one row per key.
    pub latest: Option<Latest>,
}

/// Of the rows sharing the raw values of `partition_by`, the one with the greatest `order_by`
/// (NULLs last), and on a tie the one whose file path sorts last (deltas sort after the
/// full file, in the order they were written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    pub partition_by: Vec<String>,
    pub order_by: Expr,
}

/// What differs between the SQL dialects the model is rendered into. The expressions both
/// spell alike are rendered by [`Dialect::expr`]; a dialect spells the rest, given the SQL
/// of the operand.
pub trait Dialect {
    fn type_name(&self, ty: SqlType) -> String;

    /// [`Expr::DecodedText`] of `c`.
    fn decoded_text(&self, c: &str) -> String;

    /// [`Expr::FromHex`] of `c`.
    fn hex_to_bytes(&self, c: &str) -> String;

    /// [`Expr::Iso8601Utc`] of `c`.
    fn iso8601_utc(&self, c: &str) -> String;

    /// [`Expr::MicrosToTime`] of `c`.
    fn micros_to_time(&self, c: &str) -> String;

    /// [`Expr::TryCast`] of `c`.
    fn try_cast(&self, c: &str, ty: SqlType) -> String {
        format!("TRY_CAST({c} AS {})", self.type_name(ty))
    }

    fn expr(&self, expr: &Expr) -> String {
        match expr {
            Expr::Column(name) => quote_ident(name),
            Expr::Field(column, field) => format!("{}.{}", quote_ident(column), quote_ident(field)),
            Expr::DecodedText(inner) => self.decoded_text(&self.expr(inner)),
            Expr::NullMarker(inner) => format!("NULLIF({}, '\\N')", self.expr(inner)),
            Expr::TryCast(inner, ty) => self.try_cast(&self.expr(inner), *ty),
            Expr::NonZero(inner) => format!("({} <> '0')", self.expr(inner)),
            Expr::FromHex(inner) => self.hex_to_bytes(&self.expr(inner)),
            Expr::Iso8601Utc(inner) => self.iso8601_utc(&self.expr(inner)),
            Expr::MicrosToTime(inner) => self.micros_to_time(&self.expr(inner)),
            Expr::Coalesce(items) => {
                let items: Vec<String> = items.iter().map(|e| self.expr(e)).collect();
                format!("COALESCE({})", items.join(", "))
            }
        }
    }
}

/// `"name"` with embedded quotes doubled (names are validated upstream; this is belt and
/// braces for SQL text).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A SQL string literal.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The window's rank of a row among the versions of its key (1: current).
const RANK_COLUMN: &str = "__edlake_version";

/// The file-path column of a raw table: Athena's pseudo-column, which the DuckDB raw view
/// exposes under the same name.
pub const PATH_COLUMN: &str = "$path";

/// `CREATE OR REPLACE VIEW "database"."view" AS …` over `"database"."raw_table"`.
pub fn create_view_sql(
    dialect: &dyn Dialect,
    database: &str,
    view: &str,
    raw_table: &str,
    model: &ViewModel,
) -> String {
    let name = format!("{}.{}", quote_ident(database), quote_ident(view));
    let from = format!("{}.{}", quote_ident(database), quote_ident(raw_table));
    let select: Vec<String> = model
        .columns
        .iter()
        .map(|c| match &c.expr {
            Expr::Column(raw) if raw == &c.name => quote_ident(raw),
            expr => format!("{} AS {}", dialect.expr(expr), quote_ident(&c.name)),
        })
        .collect();
    match &model.latest {
        None => format!(
            "CREATE OR REPLACE VIEW {name} AS\nSELECT\n  {}\nFROM {from}",
            select.join(",\n  ")
        ),
        Some(latest) => {
            let names: Vec<String> = model.columns.iter().map(|c| quote_ident(&c.name)).collect();
            let partition_by: Vec<String> =
                latest.partition_by.iter().map(|k| quote_ident(k)).collect();
            let mut inner = select;
            inner.push(format!(
                "row_number() OVER (PARTITION BY {} ORDER BY {} DESC NULLS LAST, {} DESC) AS {}",
                partition_by.join(", "),
                dialect.expr(&latest.order_by),
                quote_ident(PATH_COLUMN),
                quote_ident(RANK_COLUMN)
            ));
            format!(
                "CREATE OR REPLACE VIEW {name} AS\nSELECT\n  {}\nFROM (\n  SELECT\n    {}\n  FROM {from}\n) AS \"versions\"\nWHERE {} = 1",
                names.join(",\n  "),
                inner.join(",\n    "),
                quote_ident(RANK_COLUMN)
            )
        }
    }
}

#[cfg(test)]
mod tests;
