pub mod csv;
pub mod gzip_lines;
