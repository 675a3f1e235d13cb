//! The table model: what a lake table is made of, independent of where its rows come from
//! (a source), how its files are written (a format), where they are kept (a store) and how
//! they are registered (a catalog). Every one of those depends on this module; it depends
//! on none of them.

use anyhow::{bail, Result};

/// The table of course outlines, made from the split modulestore (not a MySQL table).
pub const COURSE_STRUCTURES: &str = "course_structures";
/// The table of tracking-log events, shipped from the LMS's log files.
pub const TRACKING_LOGS: &str = "tracking_logs";

/// How a MySQL column's text-protocol value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Character data: escaped as described above.
    Text,
    /// BINARY, VARBINARY, BLOBs, geometry: uppercase hex, as MySQL's HEX().
    Binary,
    /// Integers, YEAR, DECIMAL, FLOAT, DOUBLE: MySQL's own text, exact and ASCII.
    Number,
    /// DATETIME, TIMESTAMP: `YYYY-MM-DD HH:MM:SS.ffffff`, always six fraction digits.
    DateTime,
    /// TIME: `[-]HHH:MM:SS.ffffff`, always six fraction digits.
    Time,
    /// DATE: `YYYY-MM-DD`.
    Date,
    /// BIT(n): the unsigned integer value in decimal.
    Bit,
}

impl ColumnKind {
    /// From information_schema.COLUMNS.DATA_TYPE.
    pub fn from_mysql(data_type: &str) -> ColumnKind {
        match data_type.to_ascii_lowercase().as_str() {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal"
            | "numeric" | "float" | "double" | "real" | "year" => ColumnKind::Number,
            "datetime" | "timestamp" => ColumnKind::DateTime,
            "date" => ColumnKind::Date,
            "time" => ColumnKind::Time,
            "bit" => ColumnKind::Bit,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
            | "geometry" | "point" | "linestring" | "polygon" | "multipoint"
            | "multilinestring" | "multipolygon" | "geometrycollection" => ColumnKind::Binary,
            _ => ColumnKind::Text,
        }
    }
}

/// A lake column's type, as the views show it and Parquet stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    Varchar,
    Boolean,
    Integer,
    Bigint,
    Decimal(u32, u32),
    Double,
    /// Microseconds, no time zone (UTC by convention).
    Timestamp,
    Date,
    /// Microseconds.
    Time,
    Varbinary,
}

/// The type a MySQL COLUMN_TYPE reads back as, in every format and catalog: the typed
/// views decode CSV text to it, and Parquet files hold it.
pub fn sql_type(column_type: &str) -> SqlType {
    let lower = column_type.to_ascii_lowercase();
    let unsigned = lower.contains("unsigned");
    let args = type_args(&lower);
    let ty = match base_type(&lower).as_str() {
        // Django's BooleanField; MySQL treats any non-zero value as true.
        "tinyint" if args.first() == Some(&1) => SqlType::Boolean,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" => SqlType::Bigint,
        // An unsigned bigint can pass 2^63 - 1; decimal(20,0) holds every value exactly.
        "bigint" if unsigned => SqlType::Decimal(20, 0),
        "bigint" => SqlType::Bigint,
        "bit" if args.first().copied().unwrap_or(1) >= 64 => SqlType::Decimal(20, 0),
        "bit" => SqlType::Bigint,
        "year" => SqlType::Integer,
        "decimal" | "numeric" => {
            let precision = args.first().copied().unwrap_or(10);
            let scale = args.get(1).copied().unwrap_or(0);
            if precision <= 38 {
                SqlType::Decimal(precision, scale)
            } else {
                // Trino's and DuckDB's decimals stop at 38 digits.
                SqlType::Double
            }
        }
        "float" | "double" | "real" => SqlType::Double,
        "datetime" | "timestamp" => SqlType::Timestamp,
        "date" => SqlType::Date,
        "time" => SqlType::Time,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "geometry"
        | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" => SqlType::Varbinary,
        _ => SqlType::Varchar,
    };
    ty
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

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// information_schema DATA_TYPE, e.g. `datetime`.
    pub data_type: String,
    /// information_schema COLUMN_TYPE, e.g. `datetime(6)`, `tinyint(1)`.
    pub column_type: String,
    pub kind: ColumnKind,
    /// Kept in the file for the catalog's column order but gone from the source: read as
    /// NULL.
    pub absent: bool,
}

impl Column {
    /// A column the catalog has and the source no longer does.
    pub fn absent(name: &str, column_type: &str) -> Column {
        Column {
            name: name.to_string(),
            data_type: column_type
                .split(['(', ' '])
                .next()
                .unwrap_or_default()
                .to_string(),
            column_type: column_type.to_string(),
            kind: ColumnKind::Text,
            absent: true,
        }
    }
}

/// What one table's extraction reads: data columns in file order, then partition columns.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub table: String,
    pub data_columns: Vec<Column>,
    pub partition_columns: Vec<Column>,
    /// Data columns exported as keyed pseudonyms.
    pub pseudonymized: Vec<String>,
    /// Set when the table can be extracted incrementally.
    pub incremental: Option<Incremental>,
}

/// What makes a table incremental: a change timestamp to read by, and a primary key the
/// view keeps one row per (both exported).
#[derive(Debug, Clone, PartialEq)]
pub struct Incremental {
    pub change_column: String,
    pub key: Vec<String>,
}

impl TablePlan {
    /// Orders the data columns as `order` (names, with a type for columns the source lost):
    /// files then line up with the catalog's columns, which only ever grow at the end.
    /// Source columns `order` does not name keep their place after it.
    pub fn follow_order(&mut self, order: &[(String, String)]) {
        let mut rest = std::mem::take(&mut self.data_columns);
        for (name, column_type) in order {
            match rest.iter().position(|c| c.name.eq_ignore_ascii_case(name)) {
                Some(i) => self.data_columns.push(rest.remove(i)),
                None => self.data_columns.push(Column::absent(name, column_type)),
            }
        }
        self.data_columns.append(&mut rest);
    }

    pub fn partition_names(&self) -> Vec<String> {
        self.partition_columns
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }
}

/// What happens to a table's columns beyond `exclude_columns`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnPolicy {
    pub drop: Vec<String>,
    pub pseudonymize: Vec<String>,
    /// Columns named explicitly (config lists, not the profile): they must exist, so a typo
    /// cannot leave a personal column exported raw.
    pub required: Vec<String>,
}

impl ColumnPolicy {
    pub fn drops(&self, column: &str) -> bool {
        self.drop.iter().any(|c| c.eq_ignore_ascii_case(column))
    }
}

/// MySQL identifiers edlake accepts: letters, digits, `_` and `$`, at most 64 characters.
/// Anything else is refused before it can reach SQL text.
pub fn validate_identifier(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        && !name.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        bail!(
            "{name:?} is not a valid MySQL identifier (letters, digits, _ and $ only, at most 64)"
        )
    }
}
