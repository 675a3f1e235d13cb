//! edlake: extracts Open edX data into a Hive-partitioned CSV lake (local directory or S3).
//!
//! Data flows `source` → `encode` → `store`, driven by the jobs in `extract`, `logs`, `sync`
//! and `check`;
//! `config` and the CLI sit at the edge.

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
