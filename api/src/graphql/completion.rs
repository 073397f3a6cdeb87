//! The response as the GraphQL spec completes it ("Handling Field Errors", "CollectFields"),
//! whatever produced it. async-graphql 7.2's executor leaves an errored field out of its parent
//! instead of nulling it (and, for a non-null field, its nearest nullable ancestor), answers an
//! object whose fields all failed as `null`, and puts keys in the order their resolvers finished,
//! so one query could answer in different byte sequences. This walk rebuilds `data` from the
//! document and the schema's types: every selected key in selection order, an errored or missing
//! field `null`, a `null` in a non-null position carried up to the nearest nullable one, and one
//! error per response position, in response order. Every path (the executor's and the fast
//! paths) goes through it, so none of them can answer differently in shape.

use std::collections::{HashMap, HashSet};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{Name, PathSegment, Positioned, Response, Value, Variables};

use super::{Mutation, Query, node};

/// The schema's types, built once per process from the same Rust types the schemas serve.
pub fn registry() -> Registry {
    use async_graphql::OutputType;
    let mut registry = Registry::default();
    <Query as OutputType>::create_type_info(&mut registry);
    <Mutation as OutputType>::create_type_info(&mut registry);
    <node::Node as OutputType>::create_type_info(&mut registry);
    registry.query_type = <Query as OutputType>::type_name().into_owned();
    registry.mutation_type = Some(<Mutation as OutputType>::type_name().into_owned());
    registry
}

/// The operation a request runs: the one named, or the only one.
pub fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match name {
        Some(name) => doc
            .operations
            .iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name))
            .map(|(_, op)| op),
        None => doc.operations.iter().next().map(|(_, op)| op),
    }
}

/// The root type's name of an operation.
pub fn root_type(registry: &Registry, ty: OperationType) -> Option<&str> {
    match ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => None,
    }
}

/// Whether `@skip`/`@include` keep a selection; variables take the request's value, else the
/// operation's default.
pub fn included(
    directives: &[Positioned<async_graphql::parser::types::Directive>],
    op: &OperationDefinition,
    variables: &Variables,
) -> bool {
    let flag = |name: &str| {
        let directive = directives.iter().find(|d| d.node.name.node == name)?;
        let value = &directive.node.get_argument("if")?.node;
        let value = value
            .clone()
            .into_const_with(|var| {
                variables
                    .get(&var)
                    .cloned()
                    .or_else(|| {
                        op.variable_definitions
                            .iter()
                            .find(|d| d.node.name.node == var)
                            .and_then(|d| d.node.default_value.as_ref())
                            .map(|v| v.node.clone())
                    })
                    .ok_or(())
            })
            .ok()?;
        match value {
            Value::Boolean(b) => Some(b),
            _ => None,
        }
    };
    flag("skip") != Some(true) && flag("include") != Some(false)
}

/// The document to execute: `doc` with `__typename` selected on every field of an interface
/// or union type. async-graphql answers an object none of whose selected fields applies (a
/// `node` whose fragments are all on other types) as `null`, like a missing one; with its type
/// named the walk below tells the two apart and answers `{}`, as the spec's CollectFields does.
/// The walk reads the original document, so the added selection never reaches the client.
pub fn with_typenames(registry: &Registry, doc: &ExecutableDocument) -> ExecutableDocument {
    use async_graphql::parser::types::DocumentOperations;
    let mut doc = doc.clone();
    let mut ops: Vec<&mut Positioned<OperationDefinition>> = match &mut doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values_mut().collect(),
    };
    for op in ops.iter_mut() {
        if let Some(root) = root_type(registry, op.node.ty) {
            let root = root.to_owned();
            name_abstract_types(registry, &root, &mut op.node.selection_set.node);
        }
    }
    for fragment in doc.fragments.values_mut() {
        let on = fragment.node.type_condition.node.on.node.to_string();
        name_abstract_types(registry, &on, &mut fragment.node.selection_set.node);
    }
    doc
}

fn name_abstract_types(registry: &Registry, parent: &str, set: &mut SelectionSet) {
    use async_graphql::parser::types::Field;
    for selection in &mut set.items {
        match &mut selection.node {
            Selection::Field(f) => {
                let Some(ty) = registry
                    .types
                    .get(parent)
                    .and_then(|t| t.field_by_name(f.node.name.node.as_str()))
                    .map(|field| named_type(&field.ty).to_owned())
                else {
                    continue;
                };
                let inner = &mut f.node.selection_set;
                if inner.node.items.is_empty() {
                    continue;
                }
                name_abstract_types(registry, &ty, &mut inner.node);
                if registry
                    .types
                    .get(ty.as_str())
                    .is_some_and(|m| m.is_abstract())
                {
                    let pos = inner.pos;
                    inner.node.items.push(Positioned::new(
                        Selection::Field(Positioned::new(
                            Field {
                                alias: None,
                                name: Positioned::new(Name::new("__typename"), pos),
                                arguments: Vec::new(),
                                directives: Vec::new(),
                                selection_set: Positioned::new(SelectionSet::default(), pos),
                            },
                            pos,
                        )),
                        pos,
                    ));
                }
            }
            Selection::InlineFragment(f) => {
                let on = f
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.to_string())
                    .unwrap_or_else(|| parent.to_owned());
                name_abstract_types(registry, &on, &mut f.node.selection_set.node);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// Whether a fragment on `condition` applies to an object of type `ty`.
pub fn applies(registry: &Registry, ty: &str, condition: &str) -> bool {
    ty == condition
        || registry
            .implements
            .get(ty)
            .is_some_and(|interfaces| interfaces.contains(condition))
        || matches!(registry.types.get(condition), Some(MetaType::Union { possible_types, .. }) if possible_types.contains(ty))
}

/// Unwraps `ty!` and `[ty]` to the named type.
pub fn named_type(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

struct Entry<'a> {
    field_name: &'a str,
    /// The type the field was selected on (a fragment's condition, or the parent's type).
    parent: &'a str,
    sets: Vec<&'a SelectionSet>,
    /// Selected in a fragment whose condition could not be checked (an abstract type whose
    /// runtime type the response does not say): the key stays only if the executor wrote it.
    tentative: bool,
}

struct Walk<'a> {
    registry: &'a Registry,
    doc: &'a ExecutableDocument,
    op: &'a OperationDefinition,
    variables: &'a Variables,
    /// Every prefix of an error's path, and the error indexes at each exact path.
    with_errors: bool,
    under_error: HashSet<String>,
    at: HashMap<String, Vec<usize>>,
    /// Error indexes in response order.
    order: Vec<usize>,
    /// Positions never completed because a sibling before them had already nulled their
    /// parent: as graphql-js, which stops completing an object or list at its first null in a
    /// non-null position, their errors are not reported (one error per nulled position).
    skipped: Vec<String>,
    path: String,
}

fn path_key(path: &[PathSegment]) -> String {
    let mut s = String::new();
    for seg in path {
        push_segment(&mut s, seg);
    }
    s
}

fn push_segment(s: &mut String, seg: &PathSegment) {
    match seg {
        PathSegment::Field(f) => {
            s.push('.');
            s.push_str(f);
        }
        PathSegment::Index(i) => {
            s.push('[');
            s.push_str(&i.to_string());
            s.push(']');
        }
    }
}

/// Completes `response` (see the module's comment). Request errors (no path, nothing executed)
/// are left as they are.
pub fn complete(
    registry: &Registry,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    response: &mut Response,
) {
    let Some(op) = operation(doc, operation_name) else {
        return;
    };
    let executed =
        !response.errors.iter().any(|e| e.path.is_empty()) || response.data != Value::Null;
    if !executed {
        return;
    }
    let Some(root) = root_type(registry, op.node.ty) else {
        return;
    };
    let mut walk = Walk {
        registry,
        doc,
        op: &op.node,
        variables,
        with_errors: !response.errors.is_empty(),
        under_error: HashSet::new(),
        at: HashMap::new(),
        order: Vec::new(),
        skipped: Vec::new(),
        path: String::new(),
    };
    for (i, e) in response.errors.iter().enumerate() {
        if e.path.is_empty() {
            continue;
        }
        let mut s = String::new();
        for seg in &e.path {
            walk.under_error.insert(s.clone());
            push_segment(&mut s, seg);
        }
        walk.at.entry(s).or_default().push(i);
    }
    let data = std::mem::take(&mut response.data);
    let root_ty = format!("{root}!");
    response.data = walk
        .value(&root_ty, Some(data), &[&op.node.selection_set.node])
        .unwrap_or(Value::Null);
    if walk.with_errors {
        // Response order, one error per position; errors at no selected position (none are
        // expected) and request errors keep their place after them.
        let mut errors: Vec<Option<async_graphql::ServerError>> =
            std::mem::take(&mut response.errors)
                .into_iter()
                .map(Some)
                .collect();
        let mut seen = HashSet::new();
        for i in walk.order {
            if let Some(e) = errors[i].take()
                && seen.insert(path_key(&e.path))
            {
                response.errors.push(e);
            }
        }
        for e in errors.into_iter().flatten() {
            let key = path_key(&e.path);
            let skipped = walk.skipped.iter().any(|s| {
                key.starts_with(s.as_str()) && key[s.len()..].starts_with(['.', '[']) || key == *s
            });
            if e.path.is_empty() || (!skipped && seen.insert(key)) {
                response.errors.push(e);
            }
        }
    }
}

impl<'a> Walk<'a> {
    /// The completed value at the current path; `None` when it is null in a non-null position
    /// (the parent must be nulled).
    fn value(
        &mut self,
        ty: &str,
        value: Option<Value>,
        sets: &[&'a SelectionSet],
    ) -> Option<Value> {
        if self.with_errors
            && let Some(idx) = self.at.get(&self.path)
        {
            self.order.extend(idx.iter().copied());
        }
        let (non_null, ty) = match ty.strip_suffix('!') {
            Some(inner) => (true, inner),
            None => (false, ty),
        };
        let value = value.unwrap_or(Value::Null);
        let completed = if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']'))
        {
            match value {
                Value::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    let mut nulled = false;
                    for (i, item) in items.into_iter().enumerate() {
                        let len = self.path.len();
                        if self.with_errors {
                            push_segment(&mut self.path, &PathSegment::Index(i));
                        }
                        if nulled {
                            if self.with_errors {
                                self.skipped.push(self.path.clone());
                            }
                            self.path.truncate(len);
                            continue;
                        }
                        match self.value(inner, Some(item), sets) {
                            Some(v) => out.push(v),
                            None => nulled = true,
                        }
                        self.path.truncate(len);
                    }
                    if nulled {
                        Value::Null
                    } else {
                        Value::List(out)
                    }
                }
                other => other,
            }
        } else {
            let registry = self.registry;
            match registry.types.get(ty) {
                Some(meta) if meta.is_composite() => {
                    self.object(meta.name(), meta.is_abstract(), non_null, value, sets)
                }
                _ => value,
            }
        };
        if non_null && completed == Value::Null {
            None
        } else {
            Some(completed)
        }
    }

    fn object(
        &mut self,
        ty: &'a str,
        is_abstract: bool,
        non_null: bool,
        value: Value,
        sets: &[&'a SelectionSet],
    ) -> Value {
        let mut map = match value {
            Value::Object(map) => map,
            // The executor writes an object whose fields all failed (or were all skipped) as
            // null: errors under this position, or a non-null type, say it was one. An error
            // at the position itself is the field's own: it is null, and carries up.
            Value::Null
                if (non_null || (self.with_errors && self.under_error.contains(&self.path)))
                    && !(self.with_errors && self.at.contains_key(&self.path)) =>
            {
                IndexMap::new()
            }
            other => return other,
        };
        let runtime: Option<&str> = if is_abstract {
            match map.get("__typename") {
                Some(Value::String(t)) => self
                    .registry
                    .types
                    .get_key_value(t.as_str())
                    .map(|(k, _)| k.as_str()),
                _ => None,
            }
        } else {
            Some(ty)
        };
        let mut entries: IndexMap<&'a Name, Entry<'a>> = IndexMap::new();
        for set in sets {
            self.collect(set, ty, runtime, false, &mut entries);
        }
        let mut out = IndexMap::with_capacity(entries.len());
        let mut nulled = false;
        for (key, entry) in entries {
            let len = self.path.len();
            if self.with_errors {
                self.path.push('.');
                self.path.push_str(key);
            }
            let found = map.swap_remove(key.as_str());
            if nulled {
                if self.with_errors {
                    self.skipped.push(self.path.clone());
                }
                self.path.truncate(len);
                continue;
            }
            if entry.tentative
                && found.is_none()
                && !(self.with_errors
                    && (self.at.contains_key(&self.path) || self.under_error.contains(&self.path)))
            {
                self.path.truncate(len);
                continue;
            }
            let completed = if entry.field_name.starts_with("__") {
                if self.with_errors
                    && let Some(idx) = self.at.get(&self.path)
                {
                    self.order.extend(idx.iter().copied());
                }
                Some(found.unwrap_or(Value::Null))
            } else {
                let field_ty = self
                    .registry
                    .types
                    .get(entry.parent)
                    .and_then(|t| t.field_by_name(entry.field_name))
                    .map(|f| f.ty.as_str());
                match field_ty {
                    Some(field_ty) => self.value(field_ty, found, &entry.sets),
                    None => Some(found.unwrap_or(Value::Null)),
                }
            };
            self.path.truncate(len);
            match completed {
                Some(v) => {
                    out.insert(key.clone(), v);
                }
                None => nulled = true,
            }
        }
        if nulled {
            Value::Null
        } else {
            Value::Object(out)
        }
    }

    fn collect(
        &self,
        set: &'a SelectionSet,
        parent: &'a str,
        runtime: Option<&str>,
        tentative: bool,
        entries: &mut IndexMap<&'a Name, Entry<'a>>,
    ) {
        for selection in &set.items {
            let (condition, inner) = match &selection.node {
                Selection::Field(f) => {
                    if !included(&f.node.directives, self.op, self.variables) {
                        continue;
                    }
                    let key = &f.node.response_key().node;
                    let entry = entries.entry(key).or_insert_with(|| Entry {
                        field_name: f.node.name.node.as_str(),
                        parent,
                        sets: Vec::new(),
                        tentative,
                    });
                    entry.tentative &= tentative;
                    if !f.node.selection_set.node.items.is_empty() {
                        entry.sets.push(&f.node.selection_set.node);
                    }
                    continue;
                }
                Selection::FragmentSpread(s) => {
                    if !included(&s.node.directives, self.op, self.variables) {
                        continue;
                    }
                    let Some(fragment) = self.doc.fragments.get(&s.node.fragment_name.node) else {
                        continue;
                    };
                    (
                        Some(fragment.node.type_condition.node.on.node.as_str()),
                        &fragment.node.selection_set.node,
                    )
                }
                Selection::InlineFragment(f) => {
                    if !included(&f.node.directives, self.op, self.variables) {
                        continue;
                    }
                    (
                        f.node
                            .type_condition
                            .as_ref()
                            .map(|c| c.node.on.node.as_str()),
                        &f.node.selection_set.node,
                    )
                }
            };
            match (condition, runtime) {
                (None, _) => self.collect(inner, parent, runtime, tentative, entries),
                (Some(c), Some(rt)) => {
                    if applies(self.registry, rt, c) {
                        self.collect(inner, c, runtime, tentative, entries);
                    }
                }
                (Some(c), None) => {
                    // Selected on the abstract type itself: applies to every object of it.
                    let always = c == parent;
                    self.collect(inner, c, runtime, tentative || !always, entries);
                }
            }
        }
    }
}
