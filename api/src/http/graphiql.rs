//! GraphiQL for browsers outside production, its assets compiled into the binary
//! (`api/assets/graphiql/README.md`: pinned versions, licences): no CDN, so it also works
//! without internet access.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::state::AppState;

/// Part of every asset's URL, so a new version is never served from a stale cache.
const VERSION: &str = "graphiql-3.8.3-react-18.3.1";

const ASSETS: [(&str, &str, &[u8]); 5] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "start.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/start.js"),
    ),
];

pub fn page() -> Html<String> {
    let asset = |name: &str| format!("/graphql/assets/{VERSION}/{name}");
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Birgemiz GraphiQL</title>
<link rel="stylesheet" href="{css}">
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading…</div>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
<script src="{start}"></script>
</body>
</html>
"#,
        css = asset("graphiql.min.css"),
        react = asset("react.production.min.js"),
        react_dom = asset("react-dom.production.min.js"),
        graphiql = asset("graphiql.min.js"),
        start = asset("start.js"),
    ))
}

pub async fn asset(
    State(state): State<AppState>,
    Path((version, name)): Path<(String, String)>,
) -> Response {
    let found = ASSETS.iter().find(|(n, ..)| *n == name);
    match found {
        Some((_, media, body)) if version == VERSION && !state.config.is_production() => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(media)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *body,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
