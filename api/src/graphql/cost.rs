//! What a query may cost, priced from the document and the schema's types before anything
//! executes (one walk, beside the executor: no resolver carries a cost of its own).
//!
//! Every field costs 1. A list costs its length times the cost of its items' selection: a
//! connection's `nodes` and `edges` take the connection's `first` (its default page when
//! absent), `nodes(ids:)` the number of ids, any other list `LIST_GUESS` items. The products
//! multiply through nesting; every occurrence counts (aliases, each spread of a fragment, every
//! type condition of an abstract selection), and `@skip`/`@include` are honoured. Introspection
//! (`__schema`, `__type`) is bounded by the schema and costs 1.

use async_graphql::Variables;
use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::registry::Registry;

use super::completion::{included, named_type, operation, root_type};
use super::pagination::{DEFAULT_PAGE, MAX_PAGE};

/// The most a request may cost. The front page costs under a third of it (docs/graphql.md);
/// 100 × 100 nested lists cost more than twice it.
pub const MAX_COST: u64 = 5_000;

/// The assumed length of a list that takes no `first`: such lists (a network's members'
/// networks, an organization's managers, an award's categories) are short.
pub const LIST_GUESS: u64 = 5;

struct Pricing<'a> {
    registry: &'a Registry,
    doc: &'a ExecutableDocument,
    op: &'a OperationDefinition,
    variables: &'a Variables,
    /// Fragment spreads on the current path: a cycle (refused by validation later) must only
    /// not loop here.
    spreads: Vec<&'a str>,
}

/// The cost of the request's operation; 0 when it names none (the executor reports that).
pub fn of(
    registry: &Registry,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> u64 {
    let Some(op) = operation(doc, operation_name) else {
        return 0;
    };
    let Some(root) = root_type(registry, op.node.ty) else {
        return 0;
    };
    let mut pricing = Pricing {
        registry,
        doc,
        op: &op.node,
        variables,
        spreads: Vec::new(),
    };
    pricing.set(root, &op.node.selection_set.node, None)
}

impl<'a> Pricing<'a> {
    /// `page`: the `first` of the connection whose selection this is.
    fn set(&mut self, parent: &str, set: &'a SelectionSet, page: Option<u64>) -> u64 {
        let mut total: u64 = 0;
        for selection in &set.items {
            let cost = match &selection.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    if !included(&f.directives, self.op, self.variables) {
                        continue;
                    }
                    let name = f.name.node.as_str();
                    if name.starts_with("__") {
                        1
                    } else {
                        let meta = self
                            .registry
                            .types
                            .get(parent)
                            .and_then(|t| t.field_by_name(name));
                        // An unknown field is refused by validation; it costs nothing here.
                        let Some(meta) = meta else { continue };
                        let ty = meta.ty.as_str();
                        let child_type = named_type(ty);
                        let is_connection =
                            meta.args.contains_key("first") && child_type.ends_with("Connection");
                        let first = is_connection.then(|| self.first(f));
                        let inner = if f.selection_set.node.items.is_empty() {
                            0
                        } else {
                            self.set(child_type, &f.selection_set.node, first)
                        };
                        let length = if !ty.starts_with('[') {
                            1
                        } else if let Some(n) = self.ids(f) {
                            n
                        } else if matches!(name, "nodes" | "edges") && page.is_some() {
                            page.unwrap_or(DEFAULT_PAGE as u64)
                        } else {
                            LIST_GUESS
                        };
                        1u64.saturating_add(length.saturating_mul(inner))
                    }
                }
                Selection::FragmentSpread(s) => {
                    if !included(&s.node.directives, self.op, self.variables) {
                        continue;
                    }
                    let name = s.node.fragment_name.node.as_str();
                    let Some(fragment) = self.doc.fragments.get(&s.node.fragment_name.node) else {
                        continue;
                    };
                    if self.spreads.contains(&name) {
                        continue;
                    }
                    self.spreads.push(name);
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    let cost = self.set(on, &fragment.node.selection_set.node, page);
                    self.spreads.pop();
                    cost
                }
                Selection::InlineFragment(f) => {
                    if !included(&f.node.directives, self.op, self.variables) {
                        continue;
                    }
                    let on = f
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str());
                    self.set(on, &f.node.selection_set.node, page)
                }
            };
            total = total.saturating_add(cost);
        }
        total
    }

    fn argument(
        &self,
        field: &async_graphql::parser::types::Field,
        name: &str,
    ) -> Option<async_graphql::Value> {
        let value = &field.get_argument(name)?.node;
        value
            .clone()
            .into_const_with(|var| {
                self.variables
                    .get(&var)
                    .cloned()
                    .or_else(|| {
                        self.op
                            .variable_definitions
                            .iter()
                            .find(|d| d.node.name.node == var)
                            .and_then(|d| d.node.default_value.as_ref())
                            .map(|v| v.node.clone())
                    })
                    .ok_or(())
            })
            .ok()
    }

    /// A connection's page: `first`, else its default; out of range it is refused by the
    /// resolver, and priced at the most it could be.
    fn first(&self, field: &async_graphql::parser::types::Field) -> u64 {
        match self.argument(field, "first") {
            Some(async_graphql::Value::Number(n)) => n
                .as_u64()
                .map_or(MAX_PAGE as u64, |n| n.min(MAX_PAGE as u64)),
            _ => DEFAULT_PAGE as u64,
        }
    }

    /// The number of ids a list field is asked for (`nodes(ids:)`).
    fn ids(&self, field: &async_graphql::parser::types::Field) -> Option<u64> {
        match self.argument(field, "ids")? {
            async_graphql::Value::List(ids) => Some(ids.len() as u64),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str) -> u64 {
        let registry = crate::graphql::completion::registry();
        let doc = async_graphql::parser::parse_query(query).expect("query");
        of(&registry, &doc, None, &Variables::default())
    }

    /// The figures docs/graphql.md gives.
    #[test]
    fn the_documented_queries_cost_what_the_docs_say() {
        let bench_front_page = r#"query FrontPage { stats { organizationCount projectCount volunteerCount applicationCount }
          organizations(first: 20, orderBy: NAME) { nodes { id slug name kind city verified
            projects(first: 5) { nodes { id slug title direction startsAt volunteerCount } } } }
          award(slug: "bench-award") { title phase categories { id title voteCount
            nominations(first: 10, orderBy: MOST_VOTES) { nodes { id nomineeName voteCount } } } } }"#;
        // The tests' front page (tests/tests/e2e/public_front_page.rs) with 20 of each.
        let test_front_page = r#"{
          stats { organizationCount projectCount volunteerCount applicationCount }
          organizations(first: 20, orderBy: NAME) { totalCount nodes {
            id name nameI18n { kk ru en } memberOf { name } managers { role }
            projects(first: 5) { totalCount nodes { id title volunteerCount organization { slug }
              viewerApplication { status } applications { totalCount } } } } }
          posts(first: 20) { nodes { title excerpt organization { name } author { displayName } } } }"#;
        // A category's nominations' project's organization and its networks: the deepest
        // legitimate query, a full page of each.
        let deepest = r#"{ award(slug: "a") { title categories { title nominations(first: 20) { nodes {
            nomineeName voteCount project { title organization { name memberOf { name } } } } } } } }"#;
        assert_eq!(cost(bench_front_page), 946, "bench front page");
        assert_eq!(cost(test_front_page), 1450, "test front page");
        assert_eq!(cost(deepest), 1218, "deepest");
    }
}
