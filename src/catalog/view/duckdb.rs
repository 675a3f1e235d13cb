//! The view model in DuckDB's SQL (DuckDB 1.3 or later: Python-style lambdas).
//!
//! DuckDB's string literals take no backslash escapes, as Trino's, so `'\N'` is the two
//! characters. DuckDB's `regexp_replace` has no lambda replacement; the one-pass decoding
//! of layer 1 splits on `\\` instead: in layer 1 every backslash starts a two-character
//! escape, so the pieces between `\\` pairs hold only `\n` and `\r` escapes, which plain
//! `replace` undoes, and the pieces are joined back with one backslash.

use super::{quote_ident, Dialect, Expr, SqlType};

pub struct DuckDb;

impl Dialect for DuckDb {
    fn type_name(&self, ty: SqlType) -> String {
        match ty {
            SqlType::Varchar => "VARCHAR".into(),
            SqlType::Boolean => "BOOLEAN".into(),
            SqlType::Integer => "INTEGER".into(),
            SqlType::Bigint => "BIGINT".into(),
            SqlType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
            SqlType::Double => "DOUBLE".into(),
            SqlType::Timestamp => "TIMESTAMP".into(),
            SqlType::Date => "DATE".into(),
            SqlType::Time => "TIME".into(),
            SqlType::Varbinary => "BLOB".into(),
        }
    }

    fn expr(&self, expr: &Expr) -> String {
        match expr {
            Expr::Column(name) => quote_ident(name),
            Expr::Field(column, field) => format!("{}.{}", quote_ident(column), quote_ident(field)),
            Expr::DecodedText(inner) => {
                let c = self.expr(inner);
                format!(
                    "CASE WHEN {c} = '\\N' THEN NULL WHEN strpos({c}, '\\') = 0 THEN {c} \
                     ELSE array_to_string(list_transform(string_split({c}, '\\\\'), \
                     lambda s: replace(replace(s, '\\n', chr(10)), '\\r', chr(13))), '\\') END"
                )
            }
            Expr::NullMarker(inner) => format!("NULLIF({}, '\\N')", self.expr(inner)),
            // DuckDB's TIME also holds 24:00:00, which Trino's time(6) rejects (hour > 23):
            // a MySQL TIME of 24:00:00 reads as NULL in both, as every TIME past a day does.
            Expr::TryCast(inner, SqlType::Time) => format!(
                "NULLIF(TRY_CAST({} AS TIME), TIME '24:00:00')",
                self.expr(inner)
            ),
            Expr::TryCast(inner, ty) => {
                format!("TRY_CAST({} AS {})", self.expr(inner), self.type_name(*ty))
            }
            Expr::NonZero(inner) => format!("({} <> '0')", self.expr(inner)),
            Expr::FromHex(inner) => format!("TRY(unhex({}))", self.expr(inner)),
            // `timezone('UTC', …)` gives the UTC wall time whatever the session's TimeZone.
            // A text without an offset is UTC to edlake (it files the event under that UTC
            // day) and to Athena (whose sessions are UTC), but a TIMESTAMPTZ cast would read
            // it in the session's TimeZone, the machine's by default: it is cast as the
            // naive UTC timestamp it is. (edlake ships only `Z`, `±HH:MM` or no offset.)
            Expr::Iso8601Utc(inner) => {
                let c = self.expr(inner);
                format!(
                    "CASE WHEN regexp_matches({c}, ':[0-9][0-9](\\.[0-9]*)?([Zz]|[+-][0-9][0-9](:?[0-9][0-9])?)$') \
                     THEN timezone('UTC', TRY_CAST({c} AS TIMESTAMPTZ)) \
                     ELSE TRY_CAST({c} AS TIMESTAMP) END"
                )
            }
            Expr::Coalesce(items) => {
                let items: Vec<String> = items.iter().map(|e| self.expr(e)).collect();
                format!("COALESCE({})", items.join(", "))
            }
        }
    }
}
