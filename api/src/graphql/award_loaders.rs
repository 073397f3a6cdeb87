//! DataLoaders of the award types: one query per relation and request batch, never one per row.
//! A single loader answers every key type below; each key type is one batched query.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use birgemiz_schema::award_reads;
use birgemiz_schema::awards as domain;
use birgemiz_schema::models::{Award, AwardCategory, Nomination, User, Vote};
use birgemiz_schema::page::{Order, Page, PageArgs};
use birgemiz_schema::{db, users};

use super::errors::{ApiError, ApiResult};
use super::loaders::RequestCache;
use super::reads::{ReadConn, ReadSource};

pub struct AwardData {
    reads: ReadSource,
}

pub type AwardLoader = DataLoader<AwardData, RequestCache>;

/// A new loader for one request, caching like `loaders::for_request`: the award and category
/// behind every nomination's `voteCount` are read once per request, not once per batch.
pub fn for_request(reads: ReadSource, delay: Option<std::time::Duration>) -> AwardLoader {
    DataLoader::with_cache(AwardData { reads }, tokio::spawn, RequestCache::new())
        .delay(delay.unwrap_or(super::loaders::BATCH_DELAY))
}

/// The schema-wide loader for requests that bring none (WebSocket): no cache.
pub fn uncached(pool: db::Pool, delay: Option<std::time::Duration>) -> AwardLoader {
    let loader = for_request(ReadSource::Pool(pool), delay);
    loader.enable_all_cache(false);
    loader
}

pub fn get<'a>(ctx: &'a Context<'_>) -> &'a AwardLoader {
    ctx.data_unchecked::<AwardLoader>()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AwardId(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CategoryId(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NominationId(pub i64);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VoteId(pub i64);
/// The categories of an award, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CategoriesOf(pub i64);
/// The approved nominations of a category (for results).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApprovedIn(pub i64);
/// A user's vote in a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VoteOf {
    pub user_id: i64,
    pub category_id: i64,
}
/// All current votes of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VotesOf(pub i64);
/// One page of a category's nominations (one status, one order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NominationsIn {
    pub category_id: i64,
    pub status: &'static str,
    pub order: Order,
    pub args: PageArgs,
}
super::loaders::hash_by_parent!(NominationsIn, category_id);
/// A nomination's submitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

impl AwardData {
    async fn conn(&self) -> ApiResult<ReadConn<'_>> {
        Ok(self.reads.conn().await?)
    }
}

fn by_key<K: std::hash::Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, V> {
    rows.into_iter().map(|r| (key(&r), r)).collect()
}

fn grouped<K: std::hash::Hash + Eq, V>(
    keys: impl Iterator<Item = K>,
    rows: Vec<V>,
    key: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = keys.map(|k| (k, Vec::new())).collect();
    for r in rows {
        out.entry(key(&r)).or_default().push(r);
    }
    out
}

// Shared, not cloned: every nomination's `voteCount` looks up its category and award.
impl Loader<AwardId> for AwardData {
    type Value = Arc<Award>;
    type Error = ApiError;
    async fn load(&self, keys: &[AwardId]) -> ApiResult<HashMap<AwardId, Arc<Award>>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = award_reads::awards_by_ids(&*self.conn().await?, &ids).await?;
        Ok(by_key(rows.into_iter().map(Arc::new).collect(), |a| {
            AwardId(a.id)
        }))
    }
}

impl Loader<CategoryId> for AwardData {
    type Value = Arc<AwardCategory>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[CategoryId],
    ) -> ApiResult<HashMap<CategoryId, Arc<AwardCategory>>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = award_reads::categories_by_ids(&*self.conn().await?, &ids).await?;
        Ok(by_key(rows.into_iter().map(Arc::new).collect(), |c| {
            CategoryId(c.id)
        }))
    }
}

impl Loader<NominationId> for AwardData {
    type Value = Nomination;
    type Error = ApiError;
    async fn load(&self, keys: &[NominationId]) -> ApiResult<HashMap<NominationId, Nomination>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = award_reads::nominations_by_ids(&*self.conn().await?, &ids).await?;
        Ok(by_key(rows, |n| NominationId(n.id)))
    }
}

impl Loader<VoteId> for AwardData {
    type Value = Vote;
    type Error = ApiError;
    async fn load(&self, keys: &[VoteId]) -> ApiResult<HashMap<VoteId, Vote>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = award_reads::votes_by_ids(&*self.conn().await?, &ids).await?;
        Ok(by_key(rows, |v| VoteId(v.id)))
    }
}

impl Loader<CategoriesOf> for AwardData {
    type Value = Vec<AwardCategory>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[CategoriesOf],
    ) -> ApiResult<HashMap<CategoriesOf, Vec<AwardCategory>>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = award_reads::categories_of_awards(&*self.conn().await?, &ids).await?;
        Ok(grouped(keys.iter().copied(), rows, |c| {
            CategoriesOf(c.award_id)
        }))
    }
}

impl Loader<ApprovedIn> for AwardData {
    type Value = Vec<Nomination>;
    type Error = ApiError;
    async fn load(&self, keys: &[ApprovedIn]) -> ApiResult<HashMap<ApprovedIn, Vec<Nomination>>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = award_reads::approved_in_categories(&*self.conn().await?, &ids).await?;
        Ok(grouped(keys.iter().copied(), rows, |n| {
            ApprovedIn(n.category_id)
        }))
    }
}

impl Loader<VoteOf> for AwardData {
    type Value = Vote;
    type Error = ApiError;
    async fn load(&self, keys: &[VoteOf]) -> ApiResult<HashMap<VoteOf, Vote>> {
        // Keys of one request share the viewer; grouping by user keeps this one query anyway.
        let users: Vec<i64> = keys.iter().map(|k| k.user_id).collect();
        let cats: Vec<i64> = keys.iter().map(|k| k.category_id).collect();
        let rows = award_reads::votes_of_users_in(&*self.conn().await?, &users, &cats).await?;
        let mut out = by_key(rows, |v| VoteOf {
            user_id: v.user_id,
            category_id: v.category_id,
        });
        out.retain(|k, _| keys.contains(k));
        Ok(out)
    }
}

impl Loader<VotesOf> for AwardData {
    type Value = Vec<Vote>;
    type Error = ApiError;
    async fn load(&self, keys: &[VotesOf]) -> ApiResult<HashMap<VotesOf, Vec<Vote>>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = award_reads::votes_of_users(&*self.conn().await?, &ids).await?;
        Ok(grouped(keys.iter().copied(), rows, |v| VotesOf(v.user_id)))
    }
}

impl Loader<UserId> for AwardData {
    type Value = User;
    type Error = ApiError;
    async fn load(&self, keys: &[UserId]) -> ApiResult<HashMap<UserId, User>> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = users::by_ids(&*self.conn().await?, &ids).await?;
        Ok(by_key(rows, |u| UserId(u.id)))
    }
}

impl Loader<NominationsIn> for AwardData {
    type Value = Arc<Page<Nomination>>;
    type Error = ApiError;
    async fn load(
        &self,
        keys: &[NominationsIn],
    ) -> ApiResult<HashMap<NominationsIn, Arc<Page<Nomination>>>> {
        // Keys sharing status, order and page arguments are one statement for all their categories.
        let mut groups: HashMap<(&'static str, Order, PageArgs), Vec<i64>> = HashMap::new();
        for k in keys {
            groups
                .entry((k.status, k.order, k.args.clone()))
                .or_default()
                .push(k.category_id);
        }
        let conn = self.conn().await?;
        let mut out = HashMap::new();
        for ((status, order, args), ids) in groups {
            let mut pages =
                domain::nominations_of_categories(&conn, &ids, status, &order, &args).await?;
            for category_id in ids {
                let page = Arc::new(pages.remove(&category_id).unwrap_or_default());
                let key = NominationsIn {
                    category_id,
                    status,
                    order,
                    args: args.clone(),
                };
                out.insert(key, page);
            }
        }
        Ok(out)
    }
}
