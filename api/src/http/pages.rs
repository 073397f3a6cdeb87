//! The small HTML pages behind email links. A GET (or HEAD) only shows a page with a button;
//! the POST acts. Mail scanners fetch every link and some submit forms, so nothing is consumed,
//! confirmed or unsubscribed by a GET.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use birgemiz_schema::i18n::Locale;

/// Text of one page in the three languages.
pub struct Text {
    pub kk: &'static str,
    pub ru: &'static str,
    pub en: &'static str,
}

impl Text {
    pub fn get(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::Kk => self.kk,
            Locale::Ru => self.ru,
            Locale::En => self.en,
        }
    }
}

pub use birgemiz_schema::html::escape;

/// A page with a heading, a paragraph and optionally a button that POSTs to `action`.
pub fn page(
    status: StatusCode,
    locale: Locale,
    title: &str,
    body: &str,
    button: Option<(&str, &str)>,
) -> Response {
    let form = button
        .map(|(action, label)| {
            format!(
                "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
                escape(action),
                escape(label)
            )
        })
        .unwrap_or_default();
    render(status, locale, title, body, &form)
}

/// A page with a heading, a paragraph and a value to copy (a session token) in a `<code>`.
pub fn page_with_code(
    status: StatusCode,
    locale: Locale,
    title: &str,
    body: &str,
    code: &str,
) -> Response {
    let code = format!("<p><code id=\"code\">{}</code></p>", escape(code));
    render(status, locale, title, body, &code)
}

/// A page with a heading, a paragraph and `extra`: trusted HTML the caller has escaped.
pub fn page_with_html(
    status: StatusCode,
    locale: Locale,
    title: &str,
    body: &str,
    extra: &str,
) -> Response {
    render(status, locale, title, body, extra)
}

const CONTINUE: Text = Text {
    kk: "Birgemiz-ге өту",
    ru: "Перейти в Birgemiz",
    en: "Continue to Birgemiz",
};

/// A result page that, with a frontend, ends with a link into it.
pub fn continue_to(
    links: &birgemiz_schema::links::Links,
    status: StatusCode,
    locale: Locale,
    title: &str,
    body: &str,
) -> Response {
    let extra = links
        .frontend()
        .map(|f| {
            format!(
                "<p><a href=\"{}/\">{}</a></p>",
                escape(f),
                escape(CONTINUE.get(locale))
            )
        })
        .unwrap_or_default();
    render(status, locale, title, body, &extra)
}

/// `extra` is trusted HTML, already escaped by the caller.
fn render(status: StatusCode, locale: Locale, title: &str, body: &str, extra: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title} · Birgemiz</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}\
         button{{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}}\
         code{{word-break:break-all;user-select:all}}</style></head>\
         <body><h1>{title}</h1><p>{body}</p>{extra}</body></html>",
        lang = locale.as_str(),
        title = escape(title),
        body = escape(body),
    );
    let mut resp = (status, Html(html)).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Lets the page's form end in the frontend: browsers apply `form-action` to the redirect
/// that answers the POST too.
pub fn form_may_go_to(mut resp: Response, frontend: Option<&str>) -> Response {
    let Some(origin) = frontend.and_then(origin_of) else {
        return resp;
    };
    let csp = CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {origin}"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = url.len() - rest.len() + rest.find('/').unwrap_or(rest.len());
    Some(&url[..end]).filter(|o| !o.contains([' ', ';', ',', '\'', '"']))
}
