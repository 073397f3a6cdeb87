//! `/auth/link`: the page behind sign-in and email-verification emails. GET and HEAD only show a
//! button (mail scanners fetch links); the POST uses the token. A sign-in hands the new session
//! token over on the page, for the person to paste into the app (there is no web front end
//! here to redirect to).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use birgemiz_schema::Error;
use birgemiz_schema::accounts::{self, LinkPurpose, LinkUsed};

use super::email_links::{TokenQuery, action, failure, header_locale};
use super::pages::{Text, page, page_with_code};
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
                Ok(Some(_)) => page(
                    StatusCode::OK,
                    l,
                    VERIFY_TITLE.get(l),
                    ALREADY_VERIFIED.get(l),
                    None,
                ),
                Ok(None) => failure(l, &Error::bad_input("token", "invalid")),
                Err(e) => failure(l, &e),
            };
        }
        Err(e) => return failure(l, &e),
    };
    page(
        StatusCode::OK,
        l,
        title.get(l),
        body.get(l),
        Some((&action("/auth/link", &q.token), button.get(l))),
    )
}

pub async fn link_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let l = header_locale(&headers);
    let used = async {
        let mut conn = state.pool.get().await?;
        accounts::use_link(&mut conn, &q.token, l).await
    }
    .await;
    match used {
        Ok(LinkUsed::Verified(_)) => page(
            StatusCode::OK,
            l,
            VERIFY_TITLE.get(l),
            VERIFIED.get(l),
            None,
        ),
        Ok(LinkUsed::AlreadyVerified(_)) => page(
            StatusCode::OK,
            l,
            VERIFY_TITLE.get(l),
            ALREADY_VERIFIED.get(l),
            None,
        ),
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
