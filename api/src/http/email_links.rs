//! `/subscriptions/confirm` and `/unsubscribe`: the pages behind subscription emails.
//! GET and HEAD show; POST acts (`/unsubscribe` is also the RFC 8058 one-click target).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use birgemiz_schema::i18n::Locale;
use birgemiz_schema::subscriptions::LinkKeys;
use birgemiz_schema::{Error, subscriptions};
use serde::Deserialize;

use super::pages::{Text, page};
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    pub(super) token: String,
}

pub(super) fn header_locale(headers: &HeaderMap) -> Locale {
    Locale::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

const INVALID: Text = Text {
    kk: "Сілтеме жарамсыз немесе мерзімі өтіп кеткен.",
    ru: "Ссылка недействительна или устарела.",
    en: "This link is invalid or has expired.",
};
const ERROR: Text = Text {
    kk: "Қате орын алды, кейінірек қайталап көріңіз.",
    ru: "Произошла ошибка, попробуйте позже.",
    en: "Something went wrong; please try again later.",
};
const CONFIRM_TITLE: Text = Text {
    kk: "Жазылымды растау",
    ru: "Подтверждение подписки",
    en: "Confirm your subscription",
};
const CONFIRM_BODY: Text = Text {
    kk: "Birgemiz жаңалықтарына жазылуды растау үшін батырманы басыңыз.",
    ru: "Нажмите кнопку, чтобы подтвердить подписку на новости Birgemiz.",
    en: "Press the button to confirm your subscription to Birgemiz updates.",
};
const CONFIRM_BUTTON: Text = Text {
    kk: "Растау",
    ru: "Подтвердить",
    en: "Confirm",
};
const CONFIRMED: Text = Text {
    kk: "Рақмет! Жазылым расталды.",
    ru: "Спасибо! Подписка подтверждена.",
    en: "Thank you! Your subscription is confirmed.",
};
const ALREADY_CONFIRMED: Text = Text {
    kk: "Бұл жазылым бұрын расталған, бәрі дұрыс.",
    ru: "Эта подписка уже подтверждена, всё в порядке.",
    en: "This subscription is already confirmed; nothing more to do.",
};
const UNSUB_TITLE: Text = Text {
    kk: "Жазылымнан бас тарту",
    ru: "Отписка",
    en: "Unsubscribe",
};
const UNSUB_BODY: Text = Text {
    kk: "Birgemiz хаттарын бұдан былай алмау үшін батырманы басыңыз.",
    ru: "Нажмите кнопку, чтобы больше не получать письма Birgemiz.",
    en: "Press the button to stop receiving Birgemiz emails.",
};
const UNSUB_BUTTON: Text = Text {
    kk: "Бас тарту",
    ru: "Отписаться",
    en: "Unsubscribe",
};
const UNSUBSCRIBED: Text = Text {
    kk: "Сіз жазылымнан бас тарттыңыз.",
    ru: "Вы отписались от рассылки.",
    en: "You have been unsubscribed.",
};

pub(super) fn failure(locale: Locale, e: &Error) -> Response {
    // A link can't be judged while PostgreSQL is away: "try later", not "invalid".
    if e.is_internal() || e.code() == "SERVICE_UNAVAILABLE" {
        tracing::error!(error = %e, "email link failed");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            locale,
            ERROR.get(locale),
            ERROR.get(locale),
            None,
        );
    }
    page(
        StatusCode::BAD_REQUEST,
        locale,
        INVALID.get(locale),
        INVALID.get(locale),
        None,
    )
}

pub(super) fn action(path: &str, token: &str) -> String {
    format!(
        "{path}?token={}",
        token.replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_' && c != '.',
            ""
        )
    )
}

pub async fn confirm_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let fallback = header_locale(&headers);
    let found = async {
        let mut conn = state.pool.get().await?;
        subscriptions::confirmation_locale(&mut conn, &q.token).await
    }
    .await;
    match found {
        Ok(Some(l)) => page(
            StatusCode::OK,
            l,
            CONFIRM_TITLE.get(l),
            CONFIRM_BODY.get(l),
            Some((
                &action("/subscriptions/confirm", &q.token),
                CONFIRM_BUTTON.get(l),
            )),
        ),
        Ok(None) => failure(fallback, &Error::bad_input("token", "invalid")),
        Err(e) => failure(fallback, &e),
    }
}

pub async fn confirm_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let done = async {
        let mut conn = state.pool.get().await?;
        subscriptions::confirm(&mut conn, &q.token).await
    }
    .await;
    match done {
        Ok((sub, already)) => {
            let l = Locale::parse(&sub.locale).unwrap_or_default();
            let said = if already {
                &ALREADY_CONFIRMED
            } else {
                &CONFIRMED
            };
            page(StatusCode::OK, l, CONFIRM_TITLE.get(l), said.get(l), None)
        }
        Err(e) => failure(header_locale(&headers), &e),
    }
}

pub async fn unsubscribe_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let found = async {
        let conn = state.pool.get().await?;
        subscriptions::find_by_token(&conn, LinkKeys::of(&state.config), &q.token).await
    }
    .await;
    // A valid link of an address that never subscribed (a reminder's) still offers the
    // button: posting it records the opt-out.
    let locale = match found {
        Ok(sub) => Locale::parse(&sub.locale).unwrap_or_default(),
        Err(Error::NotFound(_)) => header_locale(&headers),
        Err(e) => return failure(header_locale(&headers), &e),
    };
    page(
        StatusCode::OK,
        locale,
        UNSUB_TITLE.get(locale),
        UNSUB_BODY.get(locale),
        Some((&action("/unsubscribe", &q.token), UNSUB_BUTTON.get(locale))),
    )
}

/// The button's POST and RFC 8058 one-click (`List-Unsubscribe=One-Click` in the body) alike:
/// unsubscribe from everything at once, idempotently.
pub async fn unsubscribe_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let done = async {
        let mut conn = state.pool.get().await?;
        subscriptions::unsubscribe(&mut conn, LinkKeys::of(&state.config), &q.token, None).await
    }
    .await;
    match done {
        Ok(sub) => {
            let l = Locale::parse(&sub.locale).unwrap_or_default();
            page(
                StatusCode::OK,
                l,
                UNSUB_TITLE.get(l),
                UNSUBSCRIBED.get(l),
                None,
            )
        }
        Err(e) => failure(header_locale(&headers), &e),
    }
}
