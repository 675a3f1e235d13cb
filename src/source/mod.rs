//! Where rows come from.

pub mod course_structures;
pub mod mysql;
pub mod tracking_logs;
