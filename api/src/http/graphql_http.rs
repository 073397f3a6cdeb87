//! GraphQL over HTTP: POST for everything, GET for queries only, GraphiQL for browsers in
//! development. The viewer and locale are read from the headers here, once per request.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use birgemiz_schema::accounts;
use birgemiz_schema::i18n::Locale;
use birgemiz_schema::tokens;
use serde::Deserialize;
use tracing::Instrument;

use super::{client_addr, limits};
use crate::graphql::RequestContext;
use crate::graphql::reads::Reads;
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
            return Html(
                GraphiQLSource::build()
                    .endpoint("/graphql")
                    .subscription_endpoint("/graphql/ws")
                    .finish(),
            )
            .into_response();
        }
        return error_response(&headers, StatusCode::BAD_REQUEST, "missing query parameter");
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
                "variables and extensions must be JSON",
            );
        }
    }
    let checked = match limits::check(&request.query, request.operation_name.as_deref()) {
        Ok(c) => c,
        Err(r) => return error_response(&headers, StatusCode::BAD_REQUEST, &r.message()),
    };
    // Links and scanners fetch with GET: a GET must never change state.
    if matches!(
        checked.operation,
        Some(OperationType::Mutation | OperationType::Subscription)
    ) {
        let mut resp = error_response(
            &headers,
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must use POST",
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    execute(state, peer, headers, request, checked).await
}

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
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
            "send application/json",
        );
    }
    // One operation per request: batches would multiply every limit by their length.
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                &headers,
                StatusCode::BAD_REQUEST,
                &format!("invalid JSON body: {e}"),
            );
        }
    };
    let checked = match limits::check(&request.query, request.operation_name.as_deref()) {
        Ok(c) => c,
        Err(r) => return error_response(&headers, StatusCode::BAD_REQUEST, &r.message()),
    };
    execute(state, peer, headers, request, checked).await
}

async fn execute(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    mut request: async_graphql::Request,
    checked: limits::Checked,
) -> Response {
    let (kind, operation) = (checked.operation, checked.operation_name);
    let checked_validated = checked.validated;
    if let Some(doc) = checked.document {
        request.set_parsed_query(doc);
    }
    let request_id = request_id(&headers);
    let span = tracing::info_span!("graphql", request_id = %request_id, operation = operation.as_deref().unwrap_or(""));
    async move {
        let started = std::time::Instant::now();
        // The wait for a turn counts in the request's duration. The semaphore is never closed.
        // The turn covers the session lookup: it is the first read on the request's connection,
        // which no request holds while it waits.
        let Ok(_turn) = state.executing.acquire().await else {
            return error_response(&headers, StatusCode::SERVICE_UNAVAILABLE, "shutting down");
        };
        let reads = Reads::for_request(state.pool.clone());
        // A mutation's transaction takes a connection of its own: a request that kept the shared
        // one from its session lookup through the transaction would hold two. Its lookup
        // returns its connection at once, and the payload's reads check one out after the commit.
        let lookup = if kind == Some(OperationType::Mutation) {
            Reads::Pool(state.pool.clone())
        } else {
            reads.clone()
        };
        let viewer = match bearer(&headers) {
            None => None,
            Some(token) => match viewer_for(&lookup, token).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(error = %e, "session lookup failed");
                    return error_response(
                        &headers,
                        StatusCode::SERVICE_UNAVAILABLE,
                        "temporarily unavailable",
                    );
                }
            },
        };
        let ctx = RequestContext {
            viewer,
            locale: Locale::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            ),
            client_ip: Some(
                client_addr::client_ip(peer.ip(), &headers, &state.config.trusted_proxies)
                    .to_string(),
            ),
            request_id: request_id.clone(),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(300).collect()),
            signed_in: Default::default(),
        };
        // Votes this process acknowledged are in the counters a query reads (read-your-writes
        // for a client on this process; at once when no fold is pending).
        if kind == Some(OperationType::Query) {
            state.vote_counts.caught_up().await;
        }
        let delay = state.config.dataloader_delay;
        let loader = crate::graphql::loaders::for_request(reads.clone(), delay);
        let award_loader = crate::graphql::award_loaders::for_request(reads.clone(), delay);
        let warnings = std::sync::Arc::new(crate::graphql::context::Warnings::default());
        let request = request
            .data(ctx)
            .data(loader)
            .data(award_loader)
            .data(reads)
            .data(warnings.clone());
        // Only a document without variables skips the rules: with variables, their values are
        // validated too.
        let without_variables = request.variables.is_empty();
        let validated = checked_validated.filter(|_| without_variables);
        let mut response = match &validated {
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
        };
        let warnings = warnings.take();
        if !warnings.is_empty()
            && let Ok(list) = async_graphql::Value::from_json(serde_json::Value::Array(warnings))
        {
            response.extensions.insert("warnings".into(), list);
        }
        // An internal error's cause is in the log next to this id; the client gets the id only.
        for e in &mut response.errors {
            let internal = e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::from("INTERNAL"));
            if internal && let Some(ext) = e.extensions.as_mut() {
                ext.set("requestId", request_id.as_str());
            }
        }
        let resp = respond(&headers, &response, &request_id);
        let codes: Vec<&str> = response
            .errors
            .iter()
            .map(
                |e| match e.extensions.as_ref().and_then(|x| x.get("code")) {
                    Some(async_graphql::Value::String(c)) => c.as_str(),
                    _ => "GRAPHQL_VALIDATION_FAILED",
                },
            )
            .collect();
        state.metrics.record(
            operation.as_deref(),
            resp.status().as_u16(),
            started.elapsed(),
            &codes,
        );
        resp
    }
    .instrument(span)
    .await
}

async fn viewer_for(
    reads: &Reads,
    token: &str,
) -> birgemiz_schema::Result<Option<accounts::Viewer>> {
    accounts::viewer_for_token(&*reads.conn().await?, token).await
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
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

fn respond(headers: &HeaderMap, response: &async_graphql::Response, request_id: &str) -> Response {
    let media = response_media(headers);
    // Under graphql-response+json a request that never executed (parse or validation error)
    // is a 400 without `data`; application/json clients expect 200 always.
    let not_executed = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response
            .errors
            .iter()
            .all(|e| e.path.is_empty() && e.extensions.is_none());
    let status = if media == GRAPHQL_RESPONSE && not_executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // Straight to bytes (`json`): the response is already a value tree, and copying it into a
    // `serde_json::Value` first cost a tenth of a front page.
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
    } else {
        crate::graphql::json::write_response(&mut body, response)
    };
    let body = written.map(|()| body);
    let mut resp = match body {
        Ok(body) => (status, [(header::CONTENT_TYPE, media)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "response serialization failed");
            return error_response(headers, StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
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

fn error_response(headers: &HeaderMap, status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message }] });
    (
        status,
        [(header::CONTENT_TYPE, response_media(headers))],
        body.to_string(),
    )
        .into_response()
}
