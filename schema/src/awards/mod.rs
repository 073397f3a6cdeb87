//! Awards: phases, nominations, moderation, votes, the vote event log, results.
//!
//! The phase is never stored: it follows from the award's dates and the clock, so a date change or
//! the passing of time needs no job. Every rule that depends on the phase takes `now` explicitly,
//! which keeps the boundaries testable to the second.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::accounts::Viewer;
use crate::error::{Error, Result};
use crate::i18n::{Locale, LocalizedText};
use crate::integrity::Forensics;
use crate::models::{Award, AwardCategory, Nomination, Vote, text_enum};
use crate::organizations::insert_with_slug;
use crate::outbox::{self, Email, NewEmail};
use crate::page::{self, Order, Page, PageArgs};
use crate::sql::{Bind, Sql};
use crate::tables::{award_categories, awards, nominations, users, votes};
use crate::validate;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Upcoming,
    Nomination,
    Review,
    Voting,
    Closed,
    Results,
}

/// The four dates that define the phases, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dates {
    pub nomination_opens_at: DateTime<Utc>,
    pub nomination_closes_at: DateTime<Utc>,
    pub voting_opens_at: DateTime<Utc>,
    pub voting_closes_at: DateTime<Utc>,
}

impl Dates {
    pub fn of(a: &Award) -> Dates {
        Dates {
            nomination_opens_at: a.nomination_opens_at,
            nomination_closes_at: a.nomination_closes_at,
            voting_opens_at: a.voting_opens_at,
            voting_closes_at: a.voting_closes_at,
        }
    }

    /// The same order as the table's CHECK, reported on the first field out of order.
    pub fn validate(&self) -> Result<()> {
        if self.nomination_closes_at <= self.nomination_opens_at {
            return Err(Error::bad_input(
                "nominationClosesAt",
                "must be after nominationOpensAt",
            ));
        }
        if self.voting_opens_at < self.nomination_closes_at {
            return Err(Error::bad_input(
                "votingOpensAt",
                "must not be before nominationClosesAt",
            ));
        }
        if self.voting_closes_at <= self.voting_opens_at {
            return Err(Error::bad_input(
                "votingClosesAt",
                "must be after votingOpensAt",
            ));
        }
        Ok(())
    }
}

/// Each phase starts at its date (inclusive) and ends at the next one (exclusive).
pub fn phase(d: &Dates, results_published_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Phase {
    if now < d.nomination_opens_at {
        Phase::Upcoming
    } else if now < d.nomination_closes_at {
        Phase::Nomination
    } else if now < d.voting_opens_at {
        Phase::Review
    } else if now < d.voting_closes_at {
        Phase::Voting
    } else if results_published_at.is_some_and(|p| p <= now) {
        Phase::Results
    } else {
        Phase::Closed
    }
}

pub fn award_phase(a: &Award, now: DateTime<Utc>) -> Phase {
    phase(&Dates::of(a), a.results_published_at, now)
}

/// Whether vote counts of the award may be shown at all: live counts, or results out.
pub fn counts_visible(a: &Award) -> bool {
    a.live_counts || a.results_published_at.is_some()
}

/// Whether one category's counts may be shown, to anyone (admins too): once results are out,
/// or with live counts when the category has at least `min_votes` votes. In a category of a
/// handful of votes, a count that moves right after someone known voted tells how they voted.
pub fn category_counts_visible(a: &Award, category_votes: i32, min_votes: i32) -> bool {
    a.results_published_at.is_some() || (a.live_counts && category_votes >= min_votes)
}

/// Once voting has opened, dates, categories and the approved set are frozen.
pub fn frozen(a: &Award, now: DateTime<Utc>) -> bool {
    now >= a.voting_opens_at
}

fn phase_closed(what: &str) -> Error {
    Error::PhaseClosed(what.to_owned())
}

/// The name folded for sorting by NAME: case, punctuation and runs of spaces aside
/// ("Айгерим  Бекова", "айгерим бекова." sort together). Sameness is [`nominee_identity`].
pub fn nominee_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'ё' => 'е',
            c => c,
        };
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

/// ISO 3166-1 alpha-2, upper-cased: the same check as organizations and projects.
pub fn normalize_country(field: &str, c: &str) -> Result<String> {
    validate::country(field, c)
}

diesel::define_sql_function! {
    /// Who a nomination is about (migration `2026-12-03-300001_nominee_identity`, the rule's
    /// one home): a linked project or organization by id, anyone else by kind, country and
    /// a folded name. A trigger writes it into `nominations.nominee_identity`.
    fn nominee_identity_of(
        kind: Text,
        project_id: Nullable<BigInt>,
        organization_id: Nullable<BigInt>,
        country: Text,
        name: Text,
    ) -> Text;
}

fn is_unique_violation(e: &DieselError, constraint: &str) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

fn is_fk_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
    )
}

mod categories;
mod nominating;
mod results;
mod voting;

pub use categories::*;
pub use nominating::*;
pub use results::*;
pub use voting::*;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn dates() -> Dates {
        let t = |d| Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0).unwrap();
        Dates {
            nomination_opens_at: t(1),
            nomination_closes_at: t(10),
            voting_opens_at: t(15),
            voting_closes_at: t(20),
        }
    }

    #[test]
    fn phases_change_exactly_at_each_date() {
        let d = dates();
        let s = Duration::seconds(1);
        let cases = [
            (d.nomination_opens_at - s, Phase::Upcoming),
            (d.nomination_opens_at, Phase::Nomination),
            (d.nomination_closes_at - s, Phase::Nomination),
            (d.nomination_closes_at, Phase::Review),
            (d.voting_opens_at - s, Phase::Review),
            (d.voting_opens_at, Phase::Voting),
            (d.voting_closes_at - s, Phase::Voting),
            (d.voting_closes_at, Phase::Closed),
        ];
        for (now, want) in cases {
            assert_eq!(phase(&d, None, now), want, "at {now}");
        }
        let published = d.voting_closes_at + Duration::hours(1);
        assert_eq!(phase(&d, Some(published), published - s), Phase::Closed);
        assert_eq!(phase(&d, Some(published), published), Phase::Results);
    }

    #[test]
    fn review_may_be_empty() {
        let mut d = dates();
        d.voting_opens_at = d.nomination_closes_at;
        assert!(d.validate().is_ok());
        assert_eq!(phase(&d, None, d.nomination_closes_at), Phase::Voting);
    }

    #[test]
    fn dates_out_of_order_name_the_field() {
        let mut d = dates();
        d.nomination_closes_at = d.nomination_opens_at;
        assert!(
            matches!(d.validate(), Err(Error::BadInput { field, .. }) if field == "nominationClosesAt")
        );
        let mut d = dates();
        d.voting_opens_at = d.nomination_closes_at - Duration::seconds(1);
        assert!(
            matches!(d.validate(), Err(Error::BadInput { field, .. }) if field == "votingOpensAt")
        );
        let mut d = dates();
        d.voting_closes_at = d.voting_opens_at;
        assert!(
            matches!(d.validate(), Err(Error::BadInput { field, .. }) if field == "votingClosesAt")
        );
    }

    #[test]
    fn nominee_keys_ignore_case_spacing_and_punctuation() {
        assert_eq!(nominee_key("  Айгерим   БЕКОВА. "), "айгерим бекова");
        assert_eq!(nominee_key("айгерим-бекова"), "айгерим бекова");
        assert_eq!(nominee_key("Алёна"), nominee_key("АЛЕНА"));
        assert_eq!(nominee_key("«Birgemiz» NGO"), "birgemiz ngo");
        assert_ne!(nominee_key("Ivan Petrov"), nominee_key("Ivan Petrova"));
        assert_eq!(nominee_key("..."), "");
    }

    #[test]
    fn ties_share_a_rank() {
        let r = rank(
            vec![("a", 3), ("b", 5), ("c", 3), ("d", 0)],
            |x| x.1,
            |x| x.0,
            11,
        );
        let got: Vec<_> = r.iter().map(|x| (x.rank, x.item.0)).collect();
        assert_eq!(got, vec![(1, "b"), (2, "a"), (2, "c"), (4, "d")]);
        assert!((r[0].share - 5.0 / 11.0).abs() < 1e-9);
        let none = rank(vec![("a", 0), ("b", 0)], |x| x.1, |x| x.0, 0);
        assert!(none.iter().all(|x| x.rank == 1 && x.share == 0.0));
    }
}
