//! The view model in Trino's SQL, the dialect Athena runs.

use super::{quote_ident, Dialect, Expr, SqlType};

pub struct Trino;

impl Dialect for Trino {
    fn type_name(&self, ty: SqlType) -> String {
        match ty {
            SqlType::Varchar => "varchar".into(),
            SqlType::Boolean => "boolean".into(),
            SqlType::Integer => "integer".into(),
            SqlType::Bigint => "bigint".into(),
            SqlType::Decimal(p, s) => format!("decimal({p},{s})"),
            SqlType::Double => "double".into(),
            SqlType::Timestamp => "timestamp(6)".into(),
            SqlType::Date => "date".into(),
            SqlType::Time => "time(6)".into(),
            SqlType::Varbinary => "varbinary".into(),
        }
    }

    fn expr(&self, expr: &Expr) -> String {
        match expr {
            Expr::Column(name) => quote_ident(name),
            Expr::Field(column, field) => format!("{}.{}", quote_ident(column), quote_ident(field)),
            Expr::DecodedText(inner) => {
                let c = self.expr(inner);
                // A lambda replacement: one left-to-right pass over every `\x` pair.
                format!(
                    "CASE WHEN {c} = '\\N' THEN NULL WHEN strpos({c}, '\\') = 0 THEN {c} \
                     ELSE regexp_replace({c}, '\\\\(.)', x -> CASE x[1] WHEN 'n' THEN chr(10) \
                     WHEN 'r' THEN chr(13) ELSE x[1] END) END"
                )
            }
            Expr::NullMarker(inner) => format!("NULLIF({}, '\\N')", self.expr(inner)),
            Expr::TryCast(inner, ty) => {
                format!("TRY_CAST({} AS {})", self.expr(inner), self.type_name(*ty))
            }
            Expr::NonZero(inner) => format!("({} <> '0')", self.expr(inner)),
            Expr::FromHex(inner) => format!("TRY(from_hex({}))", self.expr(inner)),
            Expr::Iso8601Utc(inner) => format!(
                "TRY(CAST(from_iso8601_timestamp_nanos({}) AT TIME ZONE 'UTC' AS timestamp(6)))",
                self.expr(inner)
            ),
            Expr::Coalesce(items) => {
                let items: Vec<String> = items.iter().map(|e| self.expr(e)).collect();
                format!("COALESCE({})", items.join(", "))
            }
        }
    }
}
