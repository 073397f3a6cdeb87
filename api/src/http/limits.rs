//! Bounds on what one request may ask, checked before anything executes. The reasoning behind
//! each value is in docs/architecture.md ("Request limits").

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, LazyLock, Mutex};

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

/// The largest accepted HTTP body; real queries with variables are a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The longest query text; the whole front page is under 2 KiB.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;
/// Aliases let one query ask for the same expensive field many times.
pub const MAX_ALIASES: usize = 30;
/// Selection depth; the deepest legitimate query (a category's nominations' project's
/// organization) is about 8.
pub const MAX_DEPTH: usize = 12;
/// Directives on one field.
pub const MAX_DIRECTIVES: usize = 5;

pub enum Rejection {
    TooLong,
    TooManyAliases,
    TooDeep,
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::TooLong => "QUERY_TOO_LARGE",
            Rejection::TooManyAliases => "TOO_MANY_ALIASES",
            Rejection::TooDeep => "QUERY_TOO_DEEP",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Rejection::TooLong => format!("query is longer than {MAX_QUERY_BYTES} bytes"),
            Rejection::TooManyAliases => format!("query uses more than {MAX_ALIASES} aliases"),
            Rejection::TooDeep => format!("query is nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

/// Parsed once here: parse errors are left for the executor to report in the usual shape.
pub struct Checked {
    pub operation: Option<OperationType>,
    /// The selected operation's name, from the document when the request does not name it.
    pub operation_name: Option<String>,
    /// Handed to the executor so the query is not parsed twice.
    pub document: Option<Arc<ExecutableDocument>>,
    /// Whether the kept document passed full validation once (see `graphql::Schemas`); the
    /// handler marks it after the strict schema accepted it.
    pub validated: Option<Arc<AtomicBool>>,
}

/// How many accepted documents `check` keeps, by query text. Clients send the same few queries
/// over and over, and parsing is a large share of a small query's work; copying a kept
/// document costs a fraction of that. Full, the cache starts over: a stream of distinct queries
/// costs what it did without it, and the cache holds at most this many × `MAX_QUERY_BYTES`.
const PARSED_CAPACITY: usize = 256;

struct Kept {
    doc: Arc<ExecutableDocument>,
    validated: Arc<AtomicBool>,
}

type ParsedCache = HashMap<String, Kept, foldhash::fast::RandomState>;

static PARSED: LazyLock<Mutex<ParsedCache>> = LazyLock::new(Default::default);

/// `keep`: whether documents are kept across requests (a fast path, `GRAPHQL_FAST_PATHS`).
pub fn check(query: &str, operation_name: Option<&str>, keep: bool) -> Result<Checked, Rejection> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(Rejection::TooLong);
    }
    let kept = if keep {
        PARSED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(query)
            .map(|k| (k.doc.clone(), k.validated.clone()))
    } else {
        None
    };
    let (doc, validated) = match kept {
        Some(kept) => kept,
        None => {
            let Ok(doc) = async_graphql::parser::parse_query(query) else {
                return Ok(Checked {
                    operation: None,
                    operation_name: operation_name.map(str::to_owned),
                    document: None,
                    validated: None,
                });
            };
            accept(&doc)?;
            let doc = Arc::new(doc);
            if !keep {
                return Ok(selected(doc, operation_name, None));
            }
            let mut cache = PARSED.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= PARSED_CAPACITY {
                cache.clear();
            }
            let validated = Arc::new(AtomicBool::new(false));
            cache.insert(
                query.to_owned(),
                Kept {
                    doc: doc.clone(),
                    validated: validated.clone(),
                },
            );
            (doc, validated)
        }
    };
    Ok(selected(doc, operation_name, Some(validated)))
}

fn selected(
    doc: Arc<ExecutableDocument>,
    operation_name: Option<&str>,
    validated: Option<Arc<AtomicBool>>,
) -> Checked {
    let selected = match operation_name {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name)),
        None => doc.operations.iter().next(),
    };
    let operation = selected.as_ref().map(|(_, op)| op.node.ty);
    let operation_name = selected.and_then(|(n, _)| n.map(|n| n.to_string()));
    Checked {
        operation,
        operation_name,
        document: Some(doc),
        validated,
    }
}

/// The limits a parsed document must be within.
fn accept(doc: &ExecutableDocument) -> Result<(), Rejection> {
    if count_aliases(doc) > MAX_ALIASES {
        return Err(Rejection::TooManyAliases);
    }
    // Our own depth check: async-graphql's skips introspection, a classic deep-query target.
    for (_, op) in doc.operations.iter() {
        if depth(doc, &op.node.selection_set.node, &mut Vec::new()) > MAX_DEPTH {
            return Err(Rejection::TooDeep);
        }
    }
    Ok(())
}

/// Depth of a selection set with fragments expanded; a fragment already on the path counts as
/// a leaf (validation rejects such cycles later; here they must only not loop).
fn depth<'a>(doc: &'a ExecutableDocument, set: &'a SelectionSet, path: &mut Vec<&'a str>) -> usize {
    set.items
        .iter()
        .map(|sel| match &sel.node {
            Selection::Field(f) => {
                let inner = &f.node.selection_set.node;
                // An introspected type's wrappers (`ofType`) are a chain as long as the type's
                // `[…!]!` nesting, one object each: GraphiQL's introspection query nests it
                // eight deep, which counted would refuse it.
                let own = usize::from(f.node.name.node != "ofType");
                if inner.items.is_empty() {
                    own
                } else {
                    own + depth(doc, inner, path)
                }
            }
            Selection::InlineFragment(f) => depth(doc, &f.node.selection_set.node, path),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                match doc.fragments.get(&s.node.fragment_name.node) {
                    Some(frag) if !path.contains(&name) => {
                        path.push(name);
                        let d = depth(doc, &frag.node.selection_set.node, path);
                        path.pop();
                        d
                    }
                    _ => 0,
                }
            }
        })
        .max()
        .unwrap_or(0)
}

fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|sel| match &sel.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + in_set(&f.node.selection_set.node)
                }
                Selection::InlineFragment(f) => in_set(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let ops: usize = doc
        .operations
        .iter()
        .map(|(_, op)| in_set(&op.node.selection_set.node))
        .sum();
    let frags: usize = doc
        .fragments
        .values()
        .map(|f| in_set(&f.node.selection_set.node))
        .sum();
    ops + frags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_aliases_in_operations_and_fragments() {
        let q = "query { a: stats { x: organizationCount } ...F } fragment F on Query { b: stats { projectCount } }";
        assert!(check(q, None, true).is_ok());
        let many = format!(
            "{{ {} }}",
            (0..31)
                .map(|i| format!("a{i}: stats {{ projectCount }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(matches!(
            check(&many, None, true),
            Err(Rejection::TooManyAliases)
        ));
        assert!(matches!(
            check(&"x".repeat(MAX_QUERY_BYTES + 1), None, true),
            Err(Rejection::TooLong)
        ));
    }

    #[test]
    fn measures_depth_through_fragments_without_looping() {
        let deep = format!("{{ {}x{} }}", "a { ".repeat(12), " }".repeat(12));
        assert!(matches!(check(&deep, None, true), Err(Rejection::TooDeep)));
        let ok = format!("{{ {}x{} }}", "a { ".repeat(11), " }".repeat(11));
        assert!(check(&ok, None, true).is_ok());
        let frag = format!(
            "{{ ...F }} fragment F on Query {{ {}x{} }}",
            "a { ".repeat(12),
            " }".repeat(12)
        );
        assert!(matches!(check(&frag, None, true), Err(Rejection::TooDeep)));
        assert!(check("{ ...F } fragment F on Query { a { ...F } }", None, true).is_ok());
        let wrappers = format!(
            "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
            "ofType { ".repeat(20),
            " }".repeat(20)
        );
        assert!(check(&wrappers, None, true).is_ok());
    }

    #[test]
    fn a_kept_document_is_the_parsed_one_and_rejections_are_never_kept() {
        let q = "query Kept($n: Int) { organizations(first: $n) { nodes { ...F } } } fragment F on Organization { slug }";
        let first = check(q, None, true).ok().and_then(|c| c.document);
        let again = check(q, None, true).ok().and_then(|c| c.document);
        let fresh = async_graphql::parser::parse_query(q).ok();
        assert_eq!(format!("{again:?}"), format!("{fresh:?}"));
        assert_eq!(format!("{first:?}"), format!("{fresh:?}"));
        let deep = format!("{{ {}x{} }}", "b { ".repeat(13), " }".repeat(13));
        for _ in 0..2 {
            assert!(matches!(check(&deep, None, true), Err(Rejection::TooDeep)));
        }
    }

    #[test]
    fn finds_the_selected_operation() {
        let q = "query A { stats { projectCount } } mutation B { signOut }";
        assert_eq!(
            check(q, Some("B"), true).ok().and_then(|c| c.operation),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            check(q, Some("A"), true).ok().and_then(|c| c.operation),
            Some(OperationType::Query)
        );
    }
}
