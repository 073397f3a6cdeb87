//! News posts: markdown in kk/ru/en, drafts until published, a view counter that counts each
//! client once per hour. An organization's posts are written by its managers; platform posts
//! (no organization) by admins.

use chrono::{DurationRound, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::access;
use crate::accounts::Viewer;
use crate::error::{Error, Result};
use crate::i18n::LocalizedText;
use crate::models::Post;
use crate::organizations::{self, insert_with_slug};
use crate::page::{self, Order, Page, PageArgs};
use crate::sql::{Bind, Sql};
use crate::tables::{post_views, posts};
use crate::validate;

/// Published posts newest first, drafts by when they were written: `list` chooses.
const ORDER_PUBLISHED: Order = Order {
    name: "PUBLISHED",
    expr: "t.published_at",
    cast: "timestamptz",
    desc: true,
    id_desc: true,
    nullable: false,
};
const ORDER_DRAFTS: Order = Order {
    name: "CREATED",
    expr: "t.created_at",
    cast: "timestamptz",
    desc: true,
    id_desc: true,
    nullable: false,
};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PostFilter {
    pub organization_id: Option<i64>,
    pub published: bool,
}

pub async fn list(
    conn: &AsyncPgConnection,
    filter: &PostFilter,
    args: &PageArgs,
) -> Result<Page<Post>> {
    let push = |s: &mut Sql| {
        s.push(if filter.published {
            " AND t.published_at IS NOT NULL"
        } else {
            " AND t.published_at IS NULL"
        });
        if let Some(o) = filter.organization_id {
            s.push(" AND t.organization_id = ").bind(Bind::I64(o));
        }
    };
    let order = if filter.published {
        &ORDER_PUBLISHED
    } else {
        &ORDER_DRAFTS
    };
    page::list(conn, "posts t", &push, order, args).await
}

pub async fn by_ids(conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<Post>> {
    Ok(posts::table
        .filter(posts::id.eq_any(ids))
        .select(Post::as_select())
        .load(&mut &*conn)
        .await?)
}

pub async fn by_slug(conn: &AsyncPgConnection, slug: &str) -> Result<Option<Post>> {
    Ok(posts::table
        .filter(posts::slug.eq(slug.trim().to_ascii_lowercase()))
        .select(Post::as_select())
        .first(&mut &*conn)
        .await
        .optional()?)
}

async fn require_manager(conn: &mut AsyncPgConnection, viewer: &Viewer, id: i64) -> Result<Post> {
    let post = by_ids(conn, &[id])
        .await?
        .pop()
        .ok_or(Error::NotFound("post"))?;
    if !access::may_manage(&*conn, Some(viewer), post.organization_id).await? {
        // A draft is invisible to others: don't reveal it exists.
        return Err(if post.published_at.is_none() {
            Error::NotFound("post")
        } else {
            Error::forbidden("only the organization's managers may edit its posts")
        });
    }
    Ok(post)
}

fn markdown_options() -> pulldown_cmark::Options {
    pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
}

/// The text of a markdown document with every bit of markup gone: raw HTML (with what a
/// script or style element holds), link and image targets, emphasis, headings, code fences.
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut plain = String::new();
    // Inline HTML comes tag by tag: the text between `<script>` and `</script>` is code, not prose.
    let mut in_raw_element = false;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::InlineHtml(tag) => {
                let tag = tag.trim_start().to_ascii_lowercase();
                if tag.starts_with("<script") || tag.starts_with("<style") {
                    in_raw_element = true;
                } else if tag.starts_with("</script") || tag.starts_with("</style") {
                    in_raw_element = false;
                }
            }
            Event::Text(t) | Event::Code(t) if !in_raw_element => plain.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::Rule => plain.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::TableRow
                | TagEnd::TableHead,
            ) => plain.push(' '),
            _ => {}
        }
    }
    plain
}

/// A markdown body as HTML for clients that show it as such: rendered by pulldown-cmark, then
/// sanitized by ammonia (no scripts, no event handlers, no `javascript:` or other unsafe URLs,
/// `rel="noopener noreferrer"` on links). Never built or cleaned by hand.
pub fn body_html(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() * 5 / 4);
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, markdown_options()),
    );
    ammonia::clean(&html)
}

/// Plain text of the start of a markdown body (`plain_text`), cut at a word, for lists and
/// previews.
pub fn excerpt(markdown: &str, max_chars: usize) -> String {
    let plain = plain_text(markdown);
    let words: Vec<&str> = plain.split_whitespace().collect();
    let mut out = String::new();
    for w in words {
        if out.chars().count() + w.chars().count() + 1 > max_chars {
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

#[derive(Clone, Debug, Default)]
pub struct NewPost {
    pub title: LocalizedText,
    pub body: LocalizedText,
    pub organization_id: Option<i64>,
    pub slug: Option<String>,
    pub publish: bool,
}

pub async fn create(conn: &mut AsyncPgConnection, viewer: &Viewer, input: NewPost) -> Result<Post> {
    let title = input.title.normalized("title", validate::NAME_MAX, true)?;
    let body = input.body.normalized("body", validate::BODY_MAX, true)?;
    let requested = input.slug.map(|s| validate::slug("slug", &s)).transpose()?;
    if let Some(o) = input.organization_id {
        organizations::require_manager(conn, viewer, o).await?;
    } else if !viewer.is_admin() {
        return Err(Error::forbidden(
            "only admins write platform news; pass organizationId",
        ));
    }
    let base = validate::slugify(&title);
    let published_at = input.publish.then(Utc::now);
    let author = viewer.user_id;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let id = insert_with_slug!(
            conn,
            posts::table,
            posts::id,
            posts::slug,
            requested,
            base,
            |slug| (
                posts::slug.eq(slug),
                posts::organization_id.eq(input.organization_id),
                posts::author_id.eq(Some(author)),
                posts::title.eq(&title),
                posts::body.eq(&body),
                posts::published_at.eq(published_at),
            )
        )
        .ok_or_else(|| Error::bad_input("slug", "is taken"))?;
        by_ids(conn, &[id])
            .await?
            .pop()
            .ok_or(Error::NotFound("post"))
    })
    .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: i64,
    title: Option<LocalizedText>,
    body: Option<LocalizedText>,
) -> Result<Post> {
    let title = title
        .map(|t| t.normalized("title", validate::NAME_MAX, true))
        .transpose()?;
    let body = body
        .map(|t| t.normalized("body", validate::BODY_MAX, true))
        .transpose()?;
    let post = require_manager(conn, viewer, id).await?;
    if title.is_none() && body.is_none() {
        return Ok(post);
    }
    Ok(diesel::update(posts::table.find(id))
        .set((
            title.map(|t| posts::title.eq(t)),
            body.map(|b| posts::body.eq(b)),
        ))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn set_published(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: i64,
    publish: bool,
) -> Result<Post> {
    let post = require_manager(conn, viewer, id).await?;
    if post.published_at.is_some() == publish {
        return Ok(post);
    }
    Ok(diesel::update(posts::table.find(id))
        .set(posts::published_at.eq(publish.then(Utc::now)))
        .returning(Post::as_returning())
        .get_result(conn)
        .await?)
}

/// Counts a view of a published post unless this client was counted within this clock hour.
pub async fn record_view(
    conn: &mut AsyncPgConnection,
    viewer: Option<&Viewer>,
    id: i64,
    client_key: Vec<u8>,
) -> Result<Post> {
    let post = by_ids(conn, &[id])
        .await?
        .pop()
        .ok_or(Error::NotFound("post"))?;
    if post.published_at.is_none() {
        if access::may_manage(conn, viewer, post.organization_id).await? {
            return Ok(post);
        }
        return Err(Error::NotFound("post"));
    }
    let hour = Utc::now()
        .duration_trunc(TimeDelta::hours(1))
        .map_err(|e| Error::Internal(e.to_string()))?;
    conn.transaction::<_, Error, _>(async move |conn: &mut AsyncPgConnection| {
        let counted = diesel::insert_into(post_views::table)
            .values((
                post_views::post_id.eq(id),
                post_views::client_key.eq(client_key),
                post_views::hour.eq(hour),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if counted == 0 {
            return Ok(post);
        }
        Ok(diesel::update(posts::table.find(id))
            .set(posts::view_count.eq(posts::view_count + 1))
            .returning(Post::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn excerpt_strips_markdown() {
        let md = "# Title\n\nSome **bold** and a [link](https://x.kz) here.";
        assert_eq!(super::excerpt(md, 200), "Title Some bold and a link here.");
        assert_eq!(super::excerpt("one two three", 8), "one two…");
        assert_eq!(super::excerpt("a **b**c `d`\n\n> e", 200), "a bc d e");
    }

    #[test]
    fn excerpts_keep_no_markup_and_html_keeps_nothing_unsafe() {
        let md = "Hi <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n\
                  <script>alert(3)</script>\n\n[click](javascript:alert(4)) <a href=\"javascript:alert(5)\">x</a>";
        let plain = super::excerpt(md, 500);
        assert_eq!(plain, "Hi click x");
        let html = super::body_html(md);
        for bad in ["<script", "onerror", "javascript:", "alert(1)", "alert(3)"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(
            html.contains("<a rel=\"noopener noreferrer\">click</a>"),
            "{html}"
        );
    }
}
