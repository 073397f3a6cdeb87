//! GraphQL over HTTP: POST for everything, GET for queries only, GraphiQL for browsers in
//! development. The viewer and locale are read from the headers here, once per request.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use async_graphql::parser::types::OperationType;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use birgemiz_schema::i18n::Locale;
use birgemiz_schema::messages;
use birgemiz_schema::tokens;
use birgemiz_schema::{Error, accounts};
use serde::Deserialize;
use tracing::Instrument;

use super::{client_addr, limits};
use crate::graphql::RequestContext;
use crate::graphql::errors::ApiError;
use crate::graphql::reads::ReadSource;
use crate::state::AppState;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let Some(query) = params.query else {
        if accepts(&headers, "text/html") && !state.config.is_production() {
            return super::graphiql::page().into_response();
        }
        return error_response(
            &headers,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "missing query parameter",
        );
    };
    let mut request = async_graphql::Request::new(query);
    request.operation_name = params.operation_name;
    let parse_json = |s: Option<String>| {
        s.map(|s| serde_json::from_str::<serde_json::Value>(&s))
            .transpose()
    };
    match (parse_json(params.variables), parse_json(params.extensions)) {
        (Ok(vars), Ok(_)) => {
            if let Some(v) = vars {
                request.variables = async_graphql::Variables::from_json(v);
            }
        }
        _ => {
            return error_response(
                &headers,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "variables and extensions must be JSON",
            );
        }
    }
    let checked = match limits::check(
        &request.query,
        request.operation_name.as_deref(),
        state.config.graphql_fast_paths,
    ) {
        Ok(c) => c,
        Err(r) => return rejected(&headers, &r),
    };
    // Links and scanners fetch with GET: a GET must never change state.
    if matches!(
        checked.operation,
        Some(OperationType::Mutation | OperationType::Subscription)
    ) {
        let mut resp = error_response(
            &headers,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must use POST",
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let max_age = state.config.graphql_get_max_age;
    let mut resp = execute(state, peer, headers.clone(), request, checked).await;
    cache_headers(&headers, &mut resp, max_age);
    resp
}

/// A GET answer depends on the language and the viewer; an anonymous one that executed without
/// errors may be shared for `GRAPHQL_GET_MAX_AGE` seconds, anything else is not stored.
fn cache_headers(headers: &HeaderMap, resp: &mut Response, max_age: u32) {
    let clean = resp.status() == StatusCode::OK && resp.extensions().get::<WithErrors>().is_none();
    let cache = if headers.contains_key(header::AUTHORIZATION) {
        HeaderValue::from_static("private, no-store")
    } else if max_age > 0 && clean {
        HeaderValue::from_str(&format!("public, max-age={max_age}"))
            .unwrap_or(HeaderValue::from_static("no-store"))
    } else {
        HeaderValue::from_static("no-store")
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, cache);
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Authorization"),
    );
}

/// Marks a response that carries errors (not to be shared by caches).
#[derive(Clone, Copy)]
struct WithErrors;

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // Only JSON: a form or text/plain body could come from a cross-site form without a preflight.
    if content_type != "application/json" && content_type != "application/graphql+json" {
        return error_response(
            &headers,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send application/json",
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let (status, code) = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                (StatusCode::PAYLOAD_TOO_LARGE, "QUERY_TOO_LARGE")
            } else {
                (e.status(), "BAD_REQUEST")
            };
            return error_response(&headers, status, code, &e.body_text());
        }
    };
    // One operation per request: batches would multiply every limit by their length.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            &headers,
            StatusCode::BAD_REQUEST,
            "BATCH_NOT_SUPPORTED",
            "batched requests are not supported: send one operation per request",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                &headers,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("invalid JSON body: {e}"),
            );
        }
    };
    let checked = match limits::check(
        &request.query,
        request.operation_name.as_deref(),
        state.config.graphql_fast_paths,
    ) {
        Ok(c) => c,
        Err(r) => return rejected(&headers, &r),
    };
    execute(state, peer, headers, request, checked).await
}

/// Serves a checked request: priced, executed within its deadline, its errors completed, the
/// answer written and measured.
async fn execute(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    mut request: async_graphql::Request,
    checked: limits::Checked,
) -> Response {
    let (kind, operation) = (checked.operation, checked.operation_name);
    let checked_validated = checked.validated;
    let document = checked.document;
    if let Some(doc) = &document {
        request.set_parsed_query(crate::graphql::completion::with_typenames(
            &state.schema.registry,
            doc,
        ));
    }
    let requested_operation = request.operation_name.clone();
    let variables = request.variables.clone();
    if let Some(doc) = &document
        && let Some(refused) = too_costly(
            &state,
            &headers,
            doc,
            requested_operation.as_deref(),
            &variables,
        )
    {
        return refused;
    }
    let request_id = request_id(&headers);
    let span = tracing::info_span!("graphql", request_id = %request_id, operation = operation.as_deref().unwrap_or(""));
    async move {
        let started = std::time::Instant::now();
        let fast = state.config.graphql_fast_paths;
        let work = run(
            &state,
            &headers,
            peer,
            request,
            kind,
            checked_validated,
            &request_id,
        );
        let mut response = match within_deadline(&state, work).await {
            Ok(response) => response,
            Err(refused) => return refused,
        };
        label_request_errors(&mut response, document.is_some());
        if let Some(doc) = &document {
            crate::graphql::completion::complete(
                &state.schema.registry,
                doc,
                requested_operation.as_deref(),
                &variables,
                &mut response,
            );
        }
        attach_request_id(&mut response, &request_id);
        let resp = respond(&headers, &response, &request_id, fast);
        state.metrics.record(
            operation.as_deref(),
            resp.status().as_u16(),
            started.elapsed(),
            &error_codes(&response),
        );
        resp
    }
    .instrument(span)
    .await
}

/// The refusal of a document priced over the limit, before anything executes, with the
/// request's variables (`graphql::cost`).
fn too_costly(
    state: &AppState,
    headers: &HeaderMap,
    doc: &async_graphql::parser::types::ExecutableDocument,
    operation: Option<&str>,
    variables: &async_graphql::Variables,
) -> Option<Response> {
    let max = crate::graphql::cost::MAX_COST;
    let cost = crate::graphql::cost::of(&state.schema.registry, doc, operation, variables);
    if cost <= max {
        return None;
    }
    let body = serde_json::json!({ "errors": [{
        "message": format!(
            "query costs {cost}, more than the {max} allowed: ask for smaller pages or fewer nested lists"
        ),
        "extensions": {
            "code": "QUERY_TOO_COMPLEX",
            "cost": cost,
            "maxCost": max,
        },
    }] });
    Some(
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, response_media(headers))],
            body.to_string(),
        )
            .into_response(),
    )
}

/// Bounded twice: by the request deadline, and after SIGTERM by the end of the grace period;
/// either way the client gets a retryable SERVICE_UNAVAILABLE, not a cut socket.
async fn within_deadline(state: &AppState, work: impl Future<Output = Outcome>) -> Outcome {
    tokio::select! {
        outcome = work => outcome,
        () = tokio::time::sleep(state.config.request_timeout) => {
            tracing::warn!("request deadline passed; answered SERVICE_UNAVAILABLE");
            Ok(unavailable(Error::Unavailable { what: "request deadline", retry_after: RETRY_SOON }))
        }
        () = state.grace_over() => {
            tracing::warn!("shutdown grace period over; answered SERVICE_UNAVAILABLE");
            Ok(unavailable(Error::Unavailable { what: "shutting down", retry_after: RETRY_SOON }))
        }
    }
}

/// Request errors (parse, validation, the executor's own limits) come without a code.
fn label_request_errors(response: &mut async_graphql::Response, parsed: bool) {
    let code = if parsed {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        "GRAPHQL_PARSE_FAILED"
    };
    for e in &mut response.errors {
        if e.path.is_empty() && e.extensions.as_ref().and_then(|x| x.get("code")).is_none() {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", code);
        }
    }
}

/// An internal error's cause is in the log next to this id; the client gets the id only.
fn attach_request_id(response: &mut async_graphql::Response, request_id: &str) {
    for e in &mut response.errors {
        let code = e.extensions.as_ref().and_then(|x| x.get("code"));
        let internal = code == Some(&async_graphql::Value::from("INTERNAL"));
        if internal && let Some(ext) = e.extensions.as_mut() {
            ext.set("requestId", request_id);
        }
    }
}

/// Every error's code, for the metrics.
fn error_codes(response: &async_graphql::Response) -> Vec<&str> {
    response
        .errors
        .iter()
        .map(
            |e| match e.extensions.as_ref().and_then(|x| x.get("code")) {
                Some(async_graphql::Value::String(c)) => c.as_str(),
                _ => "GRAPHQL_VALIDATION_FAILED",
            },
        )
        .collect()
}

/// An executed response, or an HTTP answer that ends the request before execution (a refused
/// token).
type Outcome = Result<async_graphql::Response, Response>;

/// What a client is told to wait after a deadline or during shutdown.
const RETRY_SOON: std::time::Duration = std::time::Duration::from_secs(1);

/// A response of one error and no data, shaped like any executed request's errors.
fn unavailable(e: Error) -> async_graphql::Response {
    let e: async_graphql::Error = ApiError::from(e).into();
    async_graphql::Response::from_errors(vec![e.into_server_error(Default::default())])
}

/// Takes a turn, looks the session up and executes the request.
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    request: async_graphql::Request,
    kind: Option<OperationType>,
    checked_validated: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    request_id: &str,
) -> Outcome {
    // The wait for a turn counts in the request's duration. The semaphore is never closed.
    // The turn covers the session lookup: it is the first read on the request's connection,
    // which no request holds while it waits.
    let Ok(_turn) = state.executing.acquire().await else {
        return Ok(unavailable(Error::Unavailable {
            what: "shutting down",
            retry_after: RETRY_SOON,
        }));
    };
    let fast = state.config.graphql_fast_paths;
    let (reads, lookup) = connections(state, kind);
    let viewer = match viewer_of(headers, &lookup).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let locale = Locale::of_request(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
        viewer.as_ref().map(|v| v.locale),
    );
    let ctx = request_context(state, headers, peer, viewer, locale, request_id);
    // Votes this process acknowledged are in the counters a query reads (read-your-writes
    // for a client on this process; at once when no fold is pending).
    if kind == Some(OperationType::Query) {
        state.vote_counts.caught_up().await;
    }
    let warnings = std::sync::Arc::new(crate::graphql::context::Warnings::default());
    let request = with_request_data(state, request, ctx, reads, warnings.clone());
    let mut response = execute_on_schema(state, request, checked_validated, fast).await;
    add_warnings(&mut response, &warnings);
    translate_messages(&mut response, locale);
    Ok(response)
}

/// The reads of the request, and the connection its session lookup uses. With the fast paths
/// the request shares one connection; without, every read checks one out of the pool.
fn connections(state: &AppState, kind: Option<OperationType>) -> (ReadSource, ReadSource) {
    let reads = if state.config.graphql_fast_paths {
        ReadSource::for_request(state.pool.clone())
    } else {
        ReadSource::Pool(state.pool.clone())
    };
    // A mutation's transaction takes a connection of its own: a request that kept the shared
    // one from its session lookup through the transaction would hold two. Its lookup
    // returns its connection at once, and the payload's reads check one out after the commit.
    let lookup = if kind == Some(OperationType::Mutation) {
        ReadSource::Pool(state.pool.clone())
    } else {
        reads.clone()
    };
    (reads, lookup)
}

/// The signed-in viewer, or the answer that ends the request: a token that names no live
/// session is refused, never served as anonymous, so the client learns to drop it rather than
/// show a signed-out page as if signed in.
async fn viewer_of(
    headers: &HeaderMap,
    lookup: &ReadSource,
) -> Result<Option<accounts::Viewer>, Outcome> {
    match bearer(headers) {
        Credentials::None => Ok(None),
        Credentials::Malformed => Err(Err(unauthenticated(headers))),
        Credentials::Bearer(token) => match viewer_for(lookup, token).await {
            Ok(Some(v)) => Ok(Some(v)),
            Ok(None) => Err(Err(unauthenticated(headers))),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                // Whatever failed, the request can't be served now; retrying may work.
                let e = match e {
                    e if e.code() == "SERVICE_UNAVAILABLE" => e,
                    _ => Error::Unavailable {
                        what: "sessions",
                        retry_after: RETRY_SOON,
                    },
                };
                Err(Ok(unavailable(e)))
            }
        },
    }
}

/// Who asks, in which language, from where: what resolvers read from the context.
fn request_context(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    viewer: Option<accounts::Viewer>,
    locale: Locale,
    request_id: &str,
) -> RequestContext {
    RequestContext {
        viewer,
        locale,
        client_ip: Some(
            client_addr::client_ip(peer.ip(), headers, &state.config.trusted_proxies).to_string(),
        ),
        request_id: request_id.to_owned(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
        signed_in: Default::default(),
    }
}

/// The request with its context, this request's DataLoaders, its reads and its warnings.
fn with_request_data(
    state: &AppState,
    request: async_graphql::Request,
    ctx: RequestContext,
    reads: ReadSource,
    warnings: std::sync::Arc<crate::graphql::context::Warnings>,
) -> async_graphql::Request {
    let delay = state.config.dataloader_delay;
    let loader = crate::graphql::loaders::for_request(reads.clone(), delay);
    let award_loader = crate::graphql::award_loaders::for_request(reads.clone(), delay);
    let jury_loader = crate::graphql::juries::for_request(reads.clone(), delay);
    request
        .data(ctx)
        .data(loader)
        .data(award_loader)
        .data(jury_loader)
        .data(reads)
        .data(warnings)
}

/// Executes on the schema without validation when this document was validated before (fast
/// paths, no variables), else on the validating one, remembering a document that passed.
async fn execute_on_schema(
    state: &AppState,
    request: async_graphql::Request,
    checked_validated: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    fast: bool,
) -> async_graphql::Response {
    // Only a document without variables skips the rules: with variables, their values are
    // validated too.
    let without_variables = request.variables.is_empty();
    let validated = checked_validated.filter(|_| without_variables && fast);
    match &validated {
        Some(v) if v.load(Ordering::Relaxed) => state.schema.fast.execute(request).await,
        _ => {
            let response = state.schema.strict.execute(request).await;
            // Past validation every error is a field's, with its path.
            if let Some(v) = &validated
                && response.errors.iter().all(|e| !e.path.is_empty())
            {
                v.store(true, Ordering::Relaxed);
            }
            response
        }
    }
}

/// The warnings resolvers left, as the response's `extensions.warnings`.
fn add_warnings(
    response: &mut async_graphql::Response,
    warnings: &crate::graphql::context::Warnings,
) {
    let warnings = warnings.take();
    if !warnings.is_empty()
        && let Ok(list) = async_graphql::Value::from_json(serde_json::Value::Array(warnings))
    {
        response.extensions.insert("warnings".into(), list);
    }
}

/// The domain's messages (those with a code) read in the request's language.
fn translate_messages(response: &mut async_graphql::Response, locale: Locale) {
    for e in &mut response.errors {
        let has_code = e.extensions.as_ref().and_then(|x| x.get("code")).is_some();
        if has_code && let Some(message) = messages::translate(&e.message, locale) {
            e.message = message;
        }
    }
}

async fn viewer_for(
    reads: &ReadSource,
    token: &str,
) -> birgemiz_schema::Result<Option<accounts::Viewer>> {
    accounts::viewer_for_token(&*reads.conn().await?, token).await
}

enum Credentials<'a> {
    None,
    Bearer(&'a str),
    /// An `Authorization` header that is not `Bearer <token>`.
    Malformed,
}

fn bearer(headers: &HeaderMap) -> Credentials<'_> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Credentials::None;
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim());
    match token {
        Some(t) => Credentials::Bearer(t),
        None => Credentials::Malformed,
    }
}

/// An expired, revoked, unknown or malformed token: 401 with a challenge where the response
/// type allows a status other than 200 (GraphQL over HTTP), else 200 with the same error.
fn unauthenticated(headers: &HeaderMap) -> Response {
    let graphql_response = response_media(headers) == GRAPHQL_RESPONSE;
    let status = if graphql_response {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut resp = error_response(
        headers,
        status,
        "UNAUTHENTICATED",
        "the session token is expired, revoked or invalid: sign in again",
    );
    if graphql_response {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

fn rejected(headers: &HeaderMap, rejection: &limits::Rejection) -> Response {
    error_response(
        headers,
        StatusCode::BAD_REQUEST,
        rejection.code(),
        &rejection.message(),
    )
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .unwrap_or_else(|| tokens::random_token()[..16].to_owned())
}

fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            part.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(media)
        })
}

fn response_media(headers: &HeaderMap) -> &'static str {
    if accepts(headers, GRAPHQL_RESPONSE) {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    }
}

fn respond(
    headers: &HeaderMap,
    response: &async_graphql::Response,
    request_id: &str,
    fast: bool,
) -> Response {
    let media = response_media(headers);
    // Under graphql-response+json a request that never executed (parse or validation error)
    // is a 400 without `data`; application/json clients expect 200 always.
    let not_executed = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    // A request refused because something is away (PostgreSQL, Redis for a limit, the deadline,
    // shutdown) is a 503 for clients that read statuses; its body is the same GraphQL response.
    let retry_after = response
        .errors
        .iter()
        .filter(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::from("SERVICE_UNAVAILABLE"))
        })
        .filter_map(|e| match e.extensions.as_ref()?.get("retryAfter")? {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .max();
    // Refused for now, not invalid: the body keeps `data` like any executed request's.
    let not_executed = not_executed && retry_after.is_none();
    let status = if media == GRAPHQL_RESPONSE && retry_after.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else if media == GRAPHQL_RESPONSE && not_executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // Straight to bytes (`json`): the response is already a value tree, and copying it into a
    // `serde_json::Value` first would build every value twice.
    // Sized for a front page, so the buffer is not grown a dozen times while written.
    let mut body = Vec::with_capacity(32 * 1024);
    let written = if not_executed {
        serde_json::to_writer(
            &mut body,
            &NotExecuted {
                errors: &response.errors,
                extensions: &response.extensions,
            },
        )
    } else if fast {
        crate::graphql::json::write_response(&mut body, response)
    } else {
        serde_json::to_writer(&mut body, response)
    };
    let body = written.map(|()| body);
    let mut resp = match body {
        Ok(body) => (status, [(header::CONTENT_TYPE, media)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "response serialization failed");
            return error_response(
                headers,
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            );
        }
    };
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    if !response.errors.is_empty() {
        resp.extensions_mut().insert(WithErrors);
    }
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// A response to a request that never executed: no `data` key at all.
#[derive(serde::Serialize)]
struct NotExecuted<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

fn error_response(headers: &HeaderMap, status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (
        status,
        [(header::CONTENT_TYPE, response_media(headers))],
        body.to_string(),
    )
        .into_response()
}
