//! Rows as read from the tables (generated from tables.rs, then kept by hand).
//! Localized columns read as `LocalizedText`; generated search columns are never selected, nor
//! are the bookkeeping columns nothing reads back (`updated_at` of the listed rows, who moderated
//! a nomination and when): every list row decodes each selected column. A listed model's
//! `page::Listable` names the columns a list may leave out, with the GraphQL fields that read
//! them; such a column that is never NULL in its table reads as `OrDefault`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::i18n::LocalizedText;
use crate::page::{Group, Listable, Optional, OrDefault};
use crate::tables::*;

/// An enum stored as words in a text column: each variant's word is written here once, and the
/// column's other readers (the api's GraphQL enums, mirrored with `#[graphql(remote)]`, whose
/// names are these words; the worker's choice of template) go through `as_str` and `parse`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored in the column.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use text_enum;
const fn long_text(column: &'static str, fields: &'static [&'static str]) -> Optional {
    Optional {
        column,
        group: Group::LongText,
        fields,
    }
}

const fn detail(column: &'static str, fields: &'static [&'static str]) -> Optional {
    Optional {
        column,
        group: Group::Details,
        fields,
    }
}

#[derive(Queryable, QueryableByName, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = applications, check_for_backend(diesel::pg::Pg))]
pub struct Application {
    pub id: i64,
    pub project_id: i64,
    pub volunteer_id: i64,
    pub message: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl Listable for Application {
    const OPTIONAL: &'static [Optional] = &[];
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = award_categories, check_for_backend(diesel::pg::Pg))]
pub struct AwardCategory {
    pub id: i64,
    pub award_id: i64,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub position: i32,
    pub vote_count: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = awards, check_for_backend(diesel::pg::Pg))]
pub struct Award {
    pub id: i64,
    pub slug: String,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub year: i32,
    pub countries: Vec<Option<String>>,
    pub nomination_opens_at: DateTime<Utc>,
    pub nomination_closes_at: DateTime<Utc>,
    pub voting_opens_at: DateTime<Utc>,
    pub voting_closes_at: DateTime<Utc>,
    pub results_published_at: Option<DateTime<Utc>>,
    pub live_counts: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Listable for Award {
    const OPTIONAL: &'static [Optional] = &[];
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = digest_runs, check_for_backend(diesel::pg::Pg))]
pub struct DigestRun {
    pub id: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub status: String,
    pub cursor_id: i64,
    pub recipient_count: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = email_subscriptions, check_for_backend(diesel::pg::Pg))]
pub struct EmailSubscription {
    pub id: i64,
    pub email: String,
    pub locale: String,
    pub topics: Vec<Option<String>>,
    pub status: String,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    pub last_digest_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = network_memberships, check_for_backend(diesel::pg::Pg))]
#[diesel(primary_key(network_id, member_id))]
pub struct NetworkMembership {
    pub network_id: i64,
    pub member_id: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, QueryableByName, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = nominations, check_for_backend(diesel::pg::Pg))]
pub struct Nomination {
    pub id: i64,
    pub category_id: i64,
    pub nominee_name: String,
    #[diesel(deserialize_as = OrDefault<String>)]
    pub nominee_key: String,
    #[diesel(deserialize_as = OrDefault<String>)]
    pub nominee_kind: String,
    pub project_id: Option<i64>,
    pub organization_id: Option<i64>,
    #[diesel(deserialize_as = OrDefault<String>)]
    pub statement: String,
    #[diesel(deserialize_as = OrDefault<String>)]
    pub country: String,
    pub region: Option<String>,
    pub status: String,
    pub submitted_by: Option<i64>,
    pub moderation_note: Option<String>,
    pub vote_count: i32,
    #[diesel(deserialize_as = OrDefault<DateTime<Utc>>)]
    pub created_at: DateTime<Utc>,
}

impl Listable for Nomination {
    const OPTIONAL: &'static [Optional] = &[
        // Read by no field: nominees sort by it (`awards::NOMINATIONS_BY_NAME`) in SQL.
        detail("nominee_key", &[]),
        detail("nominee_kind", &["nomineeKind"]),
        long_text("statement", &["statement"]),
        detail("country", &["country"]),
        detail("region", &["region"]),
        long_text("moderation_note", &["moderationNote"]),
        detail("created_at", &["createdAt"]),
    ];
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = one_time_tokens, check_for_backend(diesel::pg::Pg))]
pub struct OneTimeToken {
    pub id: i64,
    pub purpose: String,
    pub user_id: Option<i64>,
    pub email: String,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, QueryableByName, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = organization_managers, check_for_backend(diesel::pg::Pg))]
#[diesel(primary_key(organization_id, user_id))]
pub struct OrganizationManager {
    pub organization_id: i64,
    pub user_id: i64,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, QueryableByName, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = organizations, check_for_backend(diesel::pg::Pg))]
pub struct Organization {
    pub id: i64,
    pub slug: String,
    pub name: LocalizedText,
    #[diesel(deserialize_as = OrDefault<LocalizedText>)]
    pub description: LocalizedText,
    pub kind: String,
    #[diesel(deserialize_as = OrDefault<String>)]
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub region_code: Option<String>,
    pub city_code: Option<String>,
    pub website: Option<String>,
    pub verified: bool,
    pub published_project_count: i32,
    #[diesel(deserialize_as = OrDefault<DateTime<Utc>>)]
    pub created_at: DateTime<Utc>,
}

impl Listable for Organization {
    const OPTIONAL: &'static [Optional] = &[
        long_text("description", &["description", "descriptionI18n"]),
        detail("country", &["country"]),
        detail("region", &["region"]),
        detail("city", &["city"]),
        // A listed place's name comes from its code.
        detail("region_code", &["region", "regionCode"]),
        detail("city_code", &["city", "cityCode"]),
        detail("website", &["website"]),
        detail("created_at", &["createdAt"]),
    ];
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub locale: String,
    pub payload: serde_json::Value,
    pub dedupe_key: String,
    pub bulk: bool,
    pub digest_run_id: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub leased_by: Option<String>,
    pub smtp_response: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = post_views, check_for_backend(diesel::pg::Pg))]
#[diesel(primary_key(post_id, client_key, hour))]
pub struct PostView {
    pub post_id: i64,
    pub client_key: Vec<u8>,
    pub hour: DateTime<Utc>,
}

#[derive(Queryable, QueryableByName, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = posts, check_for_backend(diesel::pg::Pg))]
pub struct Post {
    pub id: i64,
    pub slug: String,
    pub organization_id: Option<i64>,
    pub author_id: Option<i64>,
    pub title: LocalizedText,
    #[diesel(deserialize_as = OrDefault<LocalizedText>)]
    pub body: LocalizedText,
    pub view_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl Listable for Post {
    // The excerpt and the HTML are made from the body.
    const OPTIONAL: &'static [Optional] = &[long_text(
        "body",
        &["body", "bodyI18n", "bodyHtml", "excerpt"],
    )];
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Queryable, QueryableByName, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = projects, check_for_backend(diesel::pg::Pg))]
pub struct Project {
    pub id: i64,
    pub slug: String,
    pub organization_id: i64,
    pub title: LocalizedText,
    #[diesel(deserialize_as = OrDefault<LocalizedText>)]
    pub summary: LocalizedText,
    #[diesel(deserialize_as = OrDefault<LocalizedText>)]
    pub description: LocalizedText,
    pub direction: String,
    pub status: String,
    #[diesel(deserialize_as = OrDefault<String>)]
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub region_code: Option<String>,
    pub city_code: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub volunteers_needed: Option<i32>,
    pub volunteer_count: i32,
    #[diesel(deserialize_as = OrDefault<DateTime<Utc>>)]
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl Listable for Project {
    const OPTIONAL: &'static [Optional] = &[
        long_text("summary", &["summary", "summaryI18n"]),
        long_text("description", &["description", "descriptionI18n"]),
        detail("country", &["country"]),
        detail("region", &["region"]),
        detail("city", &["city"]),
        // A listed place's name comes from its code.
        detail("region_code", &["region", "regionCode"]),
        detail("city_code", &["city", "cityCode"]),
        detail("ends_at", &["endsAt"]),
        detail("volunteers_needed", &["volunteersNeeded", "spotsLeft"]),
        detail("created_at", &["createdAt"]),
        detail("published_at", &["publishedAt"]),
    ];
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub token_hash: Vec<u8>,
    pub via_link: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = suppressions, check_for_backend(diesel::pg::Pg))]
#[diesel(primary_key(email))]
pub struct Suppression {
    pub email: String,
    pub reason: String,
    pub smtp_response: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, QueryableByName, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub locale: String,
    pub role: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = vote_events, check_for_backend(diesel::pg::Pg))]
pub struct VoteEvent {
    pub id: i64,
    pub vote_id: i64,
    pub user_id: i64,
    pub category_id: i64,
    pub kind: String,
    pub from_nomination_id: Option<i64>,
    pub to_nomination_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Keyed hashes of the client's network, address and user agent (`integrity::Forensics`).
    pub net_hash: Option<i64>,
    pub addr_hash: Option<i64>,
    pub ua_hash: Option<i64>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = votes, check_for_backend(diesel::pg::Pg))]
pub struct Vote {
    pub id: i64,
    pub user_id: i64,
    pub category_id: i64,
    pub nomination_id: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Where the last move came from; written by the castVote upsert for the event log.
    pub previous_nomination_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::{Reads, render_columns};

    /// Every column a descriptor names is one of its model's, and a list reading nothing
    /// optional reads each of them as NULL.
    #[test]
    fn descriptors_name_their_models_columns() {
        fn check<T>()
        where
            T: Listable + Selectable<diesel::pg::Pg>,
            T::SelectExpression: crate::page::ColumnList,
        {
            let none = render_columns::<T>(Reads::NONE);
            for o in T::OPTIONAL {
                assert!(none.contains(&format!(" AS \"{}\"", o.column)), "{none}");
            }
            assert!(!render_columns::<T>(Reads::ALL).contains("NULL"));
        }
        check::<Application>();
        check::<Award>();
        check::<Nomination>();
        check::<Organization>();
        check::<Post>();
        check::<Project>();
    }
}
