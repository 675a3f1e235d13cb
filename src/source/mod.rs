//! Where rows come from.

pub mod course_structures;
pub mod mysql;
