//! The jobs: what a command or a daemon tick runs. Each drives the data path (a source, a
//! format, a store, a catalog) for one purpose; `main` and the daemon call jobs and nothing
//! below them.
//!
//! - `extract`: MySQL tables and course structures into the lake, and their catalog;
//! - `logs`: tracking logs rotated and shipped exactly once, and their catalog;
//! - `sync`: the catalog brought in line with what the lake holds;
//! - `check`: every configured endpoint tested for real.

pub mod check;
pub mod extract;
pub mod import;
pub mod logs;
pub mod sync;
