//! Relay connections: `first` (default 20, max 100) and opaque keyset cursors.
//!
//! A cursor carries the sort key of its row (not an offset), so rows inserted or deleted
//! between pages shift nothing, and the cursor of a deleted row still marks a valid position.

use std::borrow::Cow;

use async_graphql::{OutputType, SimpleObject, TypeName};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use birgemiz_schema::page::{Listable, Reads};

use super::errors::{ApiResult, bad_input};
use super::plain_fields::{Nodes, PlainFields};

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// Validated `first`.
pub fn page_size(first: Option<i32>) -> ApiResult<i64> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n < 0 => Err(bad_input("first", "must not be negative")),
        Some(n) if i64::from(n) > MAX_PAGE => {
            Err(bad_input("first", format!("must be at most {MAX_PAGE}")))
        }
        Some(n) => Ok(i64::from(n)),
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes `after` into the sort key type of the list it belongs to.
pub fn decode_cursor<K: DeserializeOwned>(after: Option<&str>) -> ApiResult<Option<K>> {
    let Some(after) = after else { return Ok(None) };
    URL_SAFE_NO_PAD
        .decode(after)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .map(Some)
        .ok_or_else(|| bad_input("after", "is not a cursor of this list"))
}

#[derive(SimpleObject, Clone, Debug, Default)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name_type)]
pub struct Edge<T: OutputType + Clone> {
    pub cursor: String,
    pub node: T,
}

// Built from `first + 1` rows when `hasNextPage` is asked for, so it needs no second query (from
// `first` rows otherwise); the doc comment below is the type's description in the SDL.
/// One page. Built from `first + 1` rows so `hasNextPage` needs no second query.
#[derive(SimpleObject, Clone)]
#[graphql(name_type)]
pub struct Connection<T: PlainFields + Clone> {
    pub edges: Vec<Edge<T>>,
    pub nodes: Nodes<T>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

// Named after the node type (OrganizationEdge, OrganizationConnection, …) as the contract
// spells them, so a new connection needs no registration here.
impl<T: OutputType + Clone> TypeName for Edge<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", T::type_name()).into()
    }
}

impl<T: PlainFields + Clone> TypeName for Connection<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", T::type_name()).into()
    }
}

/// Which parts of a connection the query selected: what is not selected is not built (a front
/// page asks only for `nodes`, so its rows need neither an encoded cursor nor a second copy as
/// an edge) nor read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shape {
    pub edges: bool,
    pub nodes: bool,
    pub edge_cursors: bool,
    /// `pageInfo { startCursor endCursor }`.
    pub page_cursors: bool,
    /// `pageInfo { hasNextPage }`.
    pub has_next_page: bool,
    pub total_count: bool,
    /// The groups of optional columns the selected node fields read, by the node's
    /// `Listable::OPTIONAL` (`Shape::of_list`); none for `Shape::of`.
    pub reads: Reads,
}

impl Shape {
    /// From the selection of the connection field being resolved, in one walk over it (fragments
    /// included): asking the look-ahead field by field walked the selection a dozen times per
    /// connection.
    pub fn of(ctx: &async_graphql::Context<'_>) -> Shape {
        Shape::walk(ctx, |_| {})
    }

    /// `of` for a list of `T` rows, with the optional columns its node fields read.
    pub fn of_list<T: Listable>(ctx: &async_graphql::Context<'_>) -> Shape {
        let mut reads = Reads::NONE;
        let mut shape = Shape::walk(ctx, |field| reads = reads.or(T::reads(field)));
        shape.reads = reads;
        shape
    }

    fn walk(ctx: &async_graphql::Context<'_>, mut node_field: impl FnMut(&str)) -> Shape {
        let mut shape = Shape::default();
        let mut node_fields = |node: async_graphql::SelectionField<'_>| {
            for field in node.selection_set() {
                node_field(field.name());
            }
        };
        for field in ctx.field().selection_set() {
            match field.name() {
                "edges" => {
                    shape.edges = true;
                    for edge_field in field.selection_set() {
                        match edge_field.name() {
                            "cursor" => shape.edge_cursors = true,
                            "node" => node_fields(edge_field),
                            _ => {}
                        }
                    }
                }
                "nodes" => {
                    shape.nodes = true;
                    node_fields(field);
                }
                "pageInfo" => {
                    for info in field.selection_set() {
                        match info.name() {
                            "startCursor" | "endCursor" => shape.page_cursors = true,
                            "hasNextPage" => shape.has_next_page = true,
                            _ => {}
                        }
                    }
                }
                "totalCount" => shape.total_count = true,
                _ => {}
            }
        }
        shape
    }
}

impl<T: PlainFields + Clone> Connection<T> {
    /// `rows` holds up to `first + 1` items in order (`first` when `hasNextPage` is not asked
    /// for); `key` gives each one's cursor key.
    pub fn from_rows<R, K: Serialize>(
        mut rows: Vec<R>,
        first: i64,
        had_cursor: bool,
        total_count: i64,
        shape: Shape,
        key: impl Fn(&R) -> K,
        node: impl Fn(R) -> T,
    ) -> Self {
        let has_next_page = rows.len() as i64 > first;
        rows.truncate(first.max(0) as usize);
        let page_cursor = |r: Option<&R>| {
            r.filter(|_| shape.page_cursors)
                .map(|r| encode_cursor(&key(r)))
        };
        let page_info = PageInfo {
            has_next_page,
            has_previous_page: had_cursor,
            start_cursor: page_cursor(rows.first()),
            end_cursor: page_cursor(rows.last()),
        };
        let (edges, nodes) = if shape.edges {
            let edges: Vec<Edge<T>> = rows
                .into_iter()
                .map(|r| Edge {
                    cursor: if shape.edge_cursors {
                        encode_cursor(&key(&r))
                    } else {
                        String::new()
                    },
                    node: node(r),
                })
                .collect();
            let nodes = if shape.nodes {
                edges.iter().map(|e| e.node.clone()).collect()
            } else {
                Vec::new()
            };
            (edges, nodes)
        } else if shape.nodes {
            (Vec::new(), rows.into_iter().map(node).collect())
        } else {
            (Vec::new(), Vec::new())
        };
        Connection {
            page_info,
            nodes: Nodes(nodes),
            edges,
            total_count: i32::try_from(total_count).unwrap_or(i32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_bounded() {
        assert_eq!(page_size(None).ok(), Some(20));
        assert_eq!(page_size(Some(100)).ok(), Some(100));
        assert_eq!(
            page_size(Some(101)).err().map(|e| e.code()),
            Some("BAD_USER_INPUT")
        );
        assert_eq!(
            page_size(Some(-1)).err().map(|e| e.code()),
            Some("BAD_USER_INPUT")
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(&("Лига", 7_i64));
        assert_eq!(
            decode_cursor::<(String, i64)>(Some(&c)).ok().flatten(),
            Some(("Лига".into(), 7))
        );
        assert!(decode_cursor::<(String, i64)>(Some("!!")).is_err());
    }
}
