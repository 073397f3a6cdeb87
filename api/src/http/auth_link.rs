//! `/auth/link`: the page behind sign-in and email-verification emails. GET and HEAD only show a
//! button (mail scanners fetch links); the POST uses the token. With `FRONTEND_URL`, a sign-in
//! ends in the frontend, signed in: a 303 to `FRONTEND_URL/sign-in#code=…`, a one-time code the
//! frontend exchanges (`exchangeSignInCode`) for a session; the fragment never reaches a server,
//! so no proxy or access log holds it. Without a frontend there is nowhere to send the person,
//! and the page shows the session token to paste into an app.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use birgemiz_schema::Error;
use birgemiz_schema::accounts::{self, LinkPurpose, LinkUsed};
use birgemiz_schema::links::Links;

use super::email_links::{TokenQuery, action, failure, header_locale};
use super::pages::{Text, continue_to, form_may_go_to, page, page_with_code};
use crate::state::AppState;

const SIGN_IN_TITLE: Text = Text {
    kk: "Birgemiz-ге кіру",
    ru: "Вход в Birgemiz",
    en: "Sign in to Birgemiz",
};
const SIGN_IN_BODY: Text = Text {
    kk: "Кіру үшін батырманы басыңыз. Сілтеме бір рет қана жұмыс істейді.",
    ru: "Нажмите кнопку, чтобы войти. Ссылка действует один раз.",
    en: "Press the button to sign in. The link works once.",
};
const SIGN_IN_BUTTON: Text = Text {
    kk: "Кіру",
    ru: "Войти",
    en: "Sign in",
};
const SIGNED_IN: Text = Text {
    kk: "Сіз кірдіңіз. Бұл сессия кілтін қолданбаға қойыңыз; оны ешкімге бермеңіз:",
    ru: "Вы вошли. Вставьте этот ключ сессии в приложение и никому его не передавайте:",
    en: "You are signed in. Paste this session key into the app and share it with no one:",
};
const VERIFY_TITLE: Text = Text {
    kk: "Электрондық поштаны растау",
    ru: "Подтверждение адреса почты",
    en: "Verify your email address",
};
const VERIFY_BODY: Text = Text {
    kk: "Мекенжайыңызды растау үшін батырманы басыңыз.",
    ru: "Нажмите кнопку, чтобы подтвердить адрес.",
    en: "Press the button to verify your address.",
};
const VERIFY_BUTTON: Text = Text {
    kk: "Растау",
    ru: "Подтвердить",
    en: "Verify",
};
const ALREADY_VERIFIED: Text = Text {
    kk: "Бұл мекенжай бұрын расталған, бәрі дұрыс.",
    ru: "Этот адрес уже подтверждён, всё в порядке.",
    en: "This address is already verified; nothing more to do.",
};
const VERIFIED: Text = Text {
    kk: "Рақмет! Мекенжайыңыз расталды.",
    ru: "Спасибо! Адрес подтверждён.",
    en: "Thank you! Your address is verified.",
};

pub async fn link_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let l = header_locale(&headers);
    let found = async {
        let mut conn = state.pool.get().await?;
        accounts::peek_link(&mut conn, &q.token).await
    }
    .await;
    let (title, body, button) = match found {
        Ok(Some(LinkPurpose::SignIn)) => (SIGN_IN_TITLE, SIGN_IN_BODY, SIGN_IN_BUTTON),
        Ok(Some(LinkPurpose::VerifyEmail)) => (VERIFY_TITLE, VERIFY_BODY, VERIFY_BUTTON),
        Ok(None) => {
            let verified = async {
                let mut conn = state.pool.get().await?;
                accounts::already_verified(&mut conn, &q.token).await
            }
            .await;
            return match verified {
                Ok(Some(_)) => continue_to(
                    &Links::of(&state.config),
                    StatusCode::OK,
                    l,
                    VERIFY_TITLE.get(l),
                    ALREADY_VERIFIED.get(l),
                ),
                Ok(None) => failure(l, &Error::bad_input("token", "invalid")),
                Err(e) => failure(l, &e),
            };
        }
        Err(e) => return failure(l, &e),
    };
    form_may_go_to(
        page(
            StatusCode::OK,
            l,
            title.get(l),
            body.get(l),
            Some((&action("/auth/link", &q.token), button.get(l))),
        ),
        state.config.frontend_url.as_deref(),
    )
}

pub async fn link_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let l = header_locale(&headers);
    let links = Links::of(&state.config);
    let used = async {
        let mut conn = state.pool.get().await?;
        accounts::use_link(&mut conn, &q.token, l, links.has_frontend()).await
    }
    .await;
    match used {
        Ok(LinkUsed::Verified(_)) => continue_to(
            &links,
            StatusCode::OK,
            l,
            VERIFY_TITLE.get(l),
            VERIFIED.get(l),
        ),
        Ok(LinkUsed::AlreadyVerified(_)) => continue_to(
            &links,
            StatusCode::OK,
            l,
            VERIFY_TITLE.get(l),
            ALREADY_VERIFIED.get(l),
        ),
        Ok(LinkUsed::HandedOff(_, code)) => match links.signed_in(&code) {
            Some(to) => hand_off(&to),
            None => failure(l, &Error::Internal("a hand-off without a frontend".into())),
        },
        Ok(LinkUsed::SignedIn(_, session)) => page_with_code(
            StatusCode::OK,
            l,
            SIGN_IN_TITLE.get(l),
            SIGNED_IN.get(l),
            &session,
        ),
        Err(e) => failure(l, &e),
    }
}

/// A 303 to the frontend with the sign-in code in the fragment. Not stored, not passed on as a
/// referrer.
fn hand_off(to: &str) -> Response {
    let mut r = Response::new(axum::body::Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(to) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}
