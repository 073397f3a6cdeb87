//! Pieces the public types share: localized text, page arguments, connections from pages, and
//! the outbox push after commit.

use async_graphql::{Context, InputObject, SimpleObject};
use birgemiz_schema::i18n::{self, Locale};
use birgemiz_schema::outbox;
use birgemiz_schema::page::{Cursor, Listable, Page, PageArgs};
use redis::aio::ConnectionManager;

use super::context::ContextExt;
use super::errors::ApiResult;
use super::pagination::{self, Connection, Shape};

#[derive(SimpleObject, Clone, Debug, Default)]
#[graphql(name = "LocalizedText")]
pub struct LocalizedTextGql {
    pub kk: Option<String>,
    pub ru: Option<String>,
    pub en: Option<String>,
}

impl From<&i18n::LocalizedText> for LocalizedTextGql {
    fn from(t: &i18n::LocalizedText) -> Self {
        LocalizedTextGql {
            kk: t.kk.clone(),
            ru: t.ru.clone(),
            en: t.en.clone(),
        }
    }
}

#[derive(InputObject, Clone, Debug, Default)]
#[graphql(name = "LocalizedTextInput")]
pub struct LocalizedTextInput {
    pub kk: Option<String>,
    pub ru: Option<String>,
    pub en: Option<String>,
}

impl From<LocalizedTextInput> for i18n::LocalizedText {
    fn from(t: LocalizedTextInput) -> Self {
        i18n::LocalizedText {
            kk: t.kk,
            ru: t.ru,
            en: t.en,
        }
    }
}

/// The text in the request's language with the kk → ru → en fallback.
pub fn localized(ctx: &Context<'_>, t: &i18n::LocalizedText) -> Option<String> {
    t.resolve(ctx.locale()).map(str::to_owned)
}

pub fn localized_or_empty(ctx: &Context<'_>, t: &i18n::LocalizedText) -> String {
    localized(ctx, t).unwrap_or_default()
}

/// `first`/`after` checked and decoded; the total, the cursors, the row after the page and the
/// rows' optional columns are read only when the field's selection asks for them.
pub fn page_args<T: Listable>(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<PageArgs> {
    args_of(Shape::of_list::<T>(ctx), first, after)
}

/// `page_args` for a list whose rows are read whole afterwards (search hits).
pub fn whole_rows_page_args(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<PageArgs> {
    args_of(Shape::of(ctx), first, after)
}

fn args_of(shape: Shape, first: Option<i32>, after: Option<String>) -> ApiResult<PageArgs> {
    Ok(PageArgs {
        first: pagination::page_size(first)?,
        after: pagination::decode_cursor::<Cursor>(after.as_deref())?,
        with_total: shape.total_count,
        with_cursors: shape.edge_cursors || shape.page_cursors,
        reads: shape.reads,
        with_next_page: shape.has_next_page,
    })
}

/// A connection from a page of rows; each cursor names the order the page was read in.
pub fn connection<T: Listable, G>(
    ctx: &Context<'_>,
    page: Page<T>,
    args: &PageArgs,
    wrap: impl Fn(T) -> G,
) -> Connection<G>
where
    G: super::plain_fields::PlainFields + Clone,
{
    let order = page.order;
    Connection::from_rows(
        page.rows,
        args.first,
        args.after.is_some(),
        page.total,
        Shape::of(ctx),
        |r| r.cursor(order),
        |r| wrap(r.row),
    )
}

pub fn locale_arg(l: Option<super::viewer::LocaleGql>, ctx: &Context<'_>) -> Locale {
    l.map(Locale::from).unwrap_or_else(|| ctx.locale())
}

/// The fast path of the outbox after the transaction committed; a failure only delays the email
/// until the worker's relay sweep, so it is logged, not returned.
pub async fn push_outbox(ctx: &Context<'_>, ids: impl AsRef<[i64]>) {
    let ids = ids.as_ref();
    if ids.is_empty() {
        return;
    }
    let Some(redis) = ctx.data_opt::<ConnectionManager>() else {
        return;
    };
    outbox::push_or_log(redis.clone(), &ctx.config().redis_namespace, ids).await;
}
