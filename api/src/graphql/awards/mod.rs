//! Awards, categories, nominations, votes and results, and the live counts subscription.
//! The rules live in `birgemiz_schema::awards`; this is their GraphQL face.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use birgemiz_schema::access;
use birgemiz_schema::award_reads;
use birgemiz_schema::awards::{self as domain, NominationScope, Phase};
use birgemiz_schema::i18n::LocalizedText;
use birgemiz_schema::integrity::Forensics;
use birgemiz_schema::models;
use birgemiz_schema::vote_counts::VoteCounts;
use birgemiz_schema::{Error, accounts::Viewer};
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;

use super::award_loaders::{self as loaders, AwardId, CategoriesOf, CategoryId, NominationId};
use super::common::{
    LocalizedTextGql, LocalizedTextInput, connection, localized, localized_or_empty, page_args,
    push_outbox,
};
use super::context::ContextExt;
use super::errors::ApiResult;
use super::ids::{self, NodeType};
use super::loaders::{self as app_loaders, OrgKey, ProjectKey};
use super::organizations::Organization;
use super::pagination::Connection;
use super::plain_fields::{PlainFields, plain_fields};
use super::projects::{self, Project};
use super::rate_limit;
use super::viewer::User;

mod award;
mod category;
mod mutations;
mod nomination;
mod queries;
mod types;
mod vote;

pub use award::*;
pub use category::*;
pub use mutations::*;
pub use nomination::*;
pub use queries::*;
pub use types::*;
pub use vote::*;
