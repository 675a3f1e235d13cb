//! edlake: extracts Open edX data into a Hive-partitioned lake (local directory or S3) and
//! keeps its catalog in step.
//!
//! Data flows `source` → `encode` → `store` → `catalog`, driven by the `jobs` (extract,
//! logs, sync, check), which `main` and the `daemon` run. Every module imports only from
//! lower layers (docs/architecture.md, checked by tests/architecture.rs); the table model,
//! `config` and small utilities are at the bottom.

pub mod aws;
pub mod catalog;
pub mod config;
pub mod context;
pub mod daemon;
pub mod durable;
pub mod encode;
pub mod jobs;
pub mod lake;
pub mod lease;
pub mod privacy;
pub mod progress;
pub mod schedule;
pub mod secret;
pub mod shutdown;
pub mod source;
pub mod store;
pub mod table;
pub mod testing;
pub mod text_table;
