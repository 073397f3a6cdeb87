//! Birgemiz's shared crate: the tables, the models and the domain rules that the api and the
//! worker both rely on, so that a rule (a phase, a vote, an outbox row) is written once.

pub mod access;
pub mod accounts;
pub mod applications;
pub mod award_reads;
pub mod awards;
pub mod config;
pub mod db;
pub mod digests;
pub mod error;
pub mod html;
pub mod i18n;
pub mod integrity;
pub mod juries;
pub mod links;
pub mod messages;
pub mod models;
pub mod opt_outs;
pub mod organizations;
pub mod outbox;
pub mod page;
pub mod places;
pub mod posts;
pub mod projects;
pub mod redis_conn;
pub mod reminders;
pub mod results;
pub mod search;
pub mod sql;
pub mod startup;
pub mod stats;
pub mod subscriptions;
pub mod tables;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod vote_counts;

pub use error::{Error, Result};
