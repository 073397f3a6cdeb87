//! Shared pieces of the end-to-end tests.

pub mod smtp;
pub mod worker_harness;
