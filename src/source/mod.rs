//! Where rows come from.

pub mod course_structures;
pub mod mysql;
pub mod research_package;
pub mod tracking_logs;
