//! The Birgemiz API: GraphQL over HTTP (axum + async-graphql) on top of `birgemiz-schema`.
//! Transport only: the rules live in the schema crate, email in the worker.

pub mod cli;
pub mod graphql;
pub mod http;
pub mod seed_demo;
pub mod state;
pub mod telemetry;
