//! Where rows come from.

pub mod mysql;
