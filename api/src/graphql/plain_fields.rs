//! A leaner path for the nodes of a connection. The executor pays for every field (a boxed
//! future and a task to poll it, a context, a map insertion), and a list page has hundreds of
//! fields that only copy a column. Here the selection is flattened once per
//! list, the fields whose resolvers never wait (`PlainFields`) are run to completion in place,
//! and every other field still goes through the executor's path.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ID, Name, OutputType, Positioned, ServerError,
    ServerResult, Value,
};
use futures_util::FutureExt;
use futures_util::future::join_all;

/// Types some of whose resolvers never wait: they read the row and the request, nothing else.
pub trait PlainFields: ContainerType {
    /// Whether `plain_field` answers any field; lists of other types (unions among them, whose
    /// fragments name their members) take the executor's path throughout.
    const ANY: bool = false;

    /// Runs the resolver of `ctx`'s field when it is one of those (`Resolved`), `None` to
    /// leave it to the executor (also when the resolver would wait after all).
    fn plain_field(&self, _ctx: &Context<'_>) -> Option<ServerResult<Value>> {
        None
    }
}

/// `PlainFields` for a type, from its GraphQL field names and the resolver methods behind them
/// (`#[Object]` keeps the methods, each taking the context).
macro_rules! plain_fields {
    ($ty:ty { $($name:literal => $method:ident),* $(,)? }) => {
        impl $crate::graphql::plain_fields::PlainFields for $ty {
            const ANY: bool = true;

            fn plain_field(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> Option<async_graphql::ServerResult<async_graphql::Value>> {
                #[allow(unused_imports)]
                use $crate::graphql::plain_fields::{AnyOutput as _, OwnedText as _, Resolved};
                use futures_util::FutureExt as _;
                match ctx.item.node.name.node.as_str() {
                    $($name => Resolved(self.$method(ctx).now_or_never()?).into_value(ctx),)*
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use plain_fields;

/// A resolver's value, run to completion in place, on its way to the response: as the executor
/// writes it (the same `OutputType::resolve`, `AnyOutput`), except that a text the resolver made
/// is moved into the value rather than copied as `resolve` copies it (`OwnedText`): that was an
/// allocation and a copy for most of a front page's fields. `plain_fields!` calls
/// `Resolved(value).into_value(ctx)` on the concrete type, so the by-value `OwnedText` impls
/// are picked where they exist and the by-reference `AnyOutput` one everywhere else.
pub struct Resolved<V>(pub V);

pub trait OwnedText {
    fn into_value(self, ctx: &Context<'_>) -> Option<ServerResult<Value>>;
}

impl OwnedText for Resolved<String> {
    fn into_value(self, _: &Context<'_>) -> Option<ServerResult<Value>> {
        Some(Ok(Value::String(self.0)))
    }
}

impl OwnedText for Resolved<ID> {
    fn into_value(self, _: &Context<'_>) -> Option<ServerResult<Value>> {
        Some(Ok(Value::String(self.0.0)))
    }
}

impl OwnedText for Resolved<Option<String>> {
    fn into_value(self, _: &Context<'_>) -> Option<ServerResult<Value>> {
        Some(Ok(self.0.map_or(Value::Null, Value::String)))
    }
}

pub trait AnyOutput {
    /// `None` if writing the value has to wait after all.
    fn into_value(self, ctx: &Context<'_>) -> Option<ServerResult<Value>>;
}

impl<V: OutputType> AnyOutput for &Resolved<V> {
    fn into_value(self, ctx: &Context<'_>) -> Option<ServerResult<Value>> {
        let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
        OutputType::resolve(&self.0, &selection, ctx.item).now_or_never()
    }
}

/// A connection's `nodes`: `[T!]!` in the schema, like `Vec<T>`.
#[derive(Clone, Default)]
pub struct Nodes<T>(pub Vec<T>);

impl<T: PlainFields> OutputType for Nodes<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let fast = ctx
            .data_opt::<std::sync::Arc<birgemiz_schema::config::Config>>()
            .is_none_or(|c| c.graphql_fast_paths);
        if !T::ANY || !fast {
            return OutputType::resolve(&self.0, ctx, field).await;
        }
        let mut plan = Vec::new();
        flatten::<T>(ctx, &ctx.item.node, &mut plan)?;
        let plan = &plan;
        let nodes = self.0.iter().enumerate().map(|(idx, node)| async move {
            let ctx = ctx.with_index(idx);
            node_value(node, &ctx, plan).await
        });
        Ok(Value::List(join_all(nodes).await))
    }
}

/// The fields selected on `T`, fragments resolved, in query order.
fn flatten<'a, T: OutputType>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    out: &mut Vec<&'a Positioned<Field>>,
) -> ServerResult<()> {
    let env = &ctx.query_env;
    let included = |d: &[_]| super::completion::included(d, &env.operation.node, &env.variables);
    for selection in &set.items {
        let directives = match &selection.node {
            Selection::Field(f) => &f.node.directives,
            Selection::FragmentSpread(s) => &s.node.directives,
            Selection::InlineFragment(f) => &f.node.directives,
        };
        // As the executor's CollectFields: a skipped selection is never resolved.
        if !included(directives) {
            continue;
        }
        let (condition, set) = match &selection.node {
            Selection::Field(f) => {
                out.push(f);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let Some(fragment) = ctx.query_env.fragments.get(name) else {
                    return Err(ServerError::new(
                        format!(r#"Unknown fragment "{name}"."#),
                        Some(spread.pos),
                    ));
                };
                (
                    Some(fragment.node.type_condition.node.on.node.as_str()),
                    &fragment.node.selection_set.node,
                )
            }
            Selection::InlineFragment(f) => (
                f.node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str()),
                &f.node.selection_set.node,
            ),
        };
        if condition.is_none_or(|c| applies::<T>(ctx, c)) {
            flatten::<T>(ctx, set, out)?;
        }
    }
    Ok(())
}

/// Whether a fragment on `condition` applies to a `T`: the type itself or an interface of it.
fn applies<T: OutputType>(ctx: &ContextSelectionSet<'_>, condition: &str) -> bool {
    let name = T::type_name();
    name == condition
        || ctx
            .schema_env
            .registry
            .implements
            .get(name.as_ref())
            .is_some_and(|interfaces| interfaces.contains(condition))
}

async fn node_value<T: PlainFields>(
    node: &T,
    ctx: &ContextSelectionSet<'_>,
    plan: &[&Positioned<Field>],
) -> Value {
    let mut object: IndexMap<Name, Value> = IndexMap::with_capacity(plan.len());
    let mut rest = Vec::new();
    for &field in plan {
        let key = field.node.response_key().node.clone();
        let plain = if field.node.name.node == "__typename" {
            Some(Ok(Value::String(
                node.introspection_type_name().into_owned(),
            )))
        } else {
            node.plain_field(&ctx.with_field(field))
        };
        match plain {
            // A key asked for twice answers once (fragments may overlap).
            Some(Ok(v)) => {
                object.entry(key).or_insert(v);
            }
            Some(Err(e)) => ctx.add_error(ctx.with_field(field).set_error_path(e)),
            None => {
                // Holds the key's place, so the response keeps the query's order.
                object.entry(key.clone()).or_insert(Value::Null);
                rest.push((key, field));
            }
        }
    }
    let resolved = join_all(rest.iter().map(|&(_, field)| async move {
        let ctx = ctx.with_field(field);
        node.resolve_field(&ctx).await
    }))
    .await;
    for ((key, _), result) in rest.into_iter().zip(resolved) {
        match result {
            Ok(v) => merge(&mut object, key, v.unwrap_or_default()),
            // As the executor does: the error is reported and the field left out.
            Err(e) => {
                ctx.add_error(e);
                object.shift_remove(&key);
            }
        }
    }
    Value::Object(object)
}

/// Puts a resolved field in its place; the same key resolved twice (from overlapping fragments
/// with different sub-selections) merges the two objects, as the executor does.
fn merge(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    match object.get_mut(&key) {
        Some(Value::Object(into)) => {
            if let Value::Object(from) = value {
                for (k, v) in from {
                    merge(into, k, v);
                }
            }
        }
        Some(Value::List(into)) => {
            if let Value::List(from) = value {
                for (slot, v) in into.iter_mut().zip(from) {
                    if let (Value::Object(into), Value::Object(from)) = (slot, v) {
                        for (k, v) in from {
                            merge(into, k, v);
                        }
                    }
                }
            }
        }
        Some(slot @ Value::Null) => *slot = value,
        Some(_) => {}
        None => {
            object.insert(key, value);
        }
    }
}
