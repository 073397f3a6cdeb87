//! `/subscriptions/confirm` and `/unsubscribe`: the pages behind subscription emails and the
//! opt-out links of participant emails. GET and HEAD show; POST acts (`/unsubscribe` is also the
//! RFC 8058 one-click target). A subscription's page shows its topics and language
//! (`/unsubscribe/preferences` saves them); an opt-out link's page stops that kind of email
//! (`/unsubscribe/resume` turns it back on).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use birgemiz_schema::i18n::Locale;
use birgemiz_schema::links::Links;
use birgemiz_schema::models::EmailSubscription;
use birgemiz_schema::opt_outs::{self, OptOut, OptOutKind};
use birgemiz_schema::subscriptions::{LinkKeys, Topic};
use birgemiz_schema::{Error, subscriptions};
use serde::Deserialize;

use super::pages::{Text, continue_to, escape, page, page_with_html};
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

const PREFS_TITLE: Text = Text {
    kk: "Жазылым баптаулары",
    ru: "Настройки подписки",
    en: "Subscription settings",
};
const PREFS_BODY: Text = Text {
    kk: "Қай хаттарды және қай тілде алатыныңызды таңдаңыз. Ешбірін белгілемесеңіз, жазылым тоқтатылады.",
    ru: "Выберите, какие письма и на каком языке получать. Если не отметить ничего, подписка будет отменена.",
    en: "Choose which emails you get and in which language. Leaving every box empty unsubscribes you.",
};
const PREFS_SAVED: Text = Text {
    kk: "Баптаулар сақталды.",
    ru: "Настройки сохранены.",
    en: "Your settings are saved.",
};
const PREFS_LANGUAGE: Text = Text {
    kk: "Хаттардың тілі",
    ru: "Язык писем",
    en: "Language of the emails",
};
const PREFS_BUTTON: Text = Text {
    kk: "Сақтау",
    ru: "Сохранить",
    en: "Save",
};
const UNSUB_ALL: Text = Text {
    kk: "Немесе Birgemiz хаттарының бәрінен бас тартыңыз:",
    ru: "Или откажитесь от всех писем Birgemiz:",
    en: "Or stop all Birgemiz emails:",
};

fn topic_label(topic: Topic) -> Text {
    match topic {
        Topic::WeeklyDigest => Text {
            kk: "Апталық шолу",
            ru: "Еженедельный дайджест",
            en: "Weekly digest",
        },
        Topic::AwardUpdates => Text {
            kk: "Марапаттар жаңалықтары",
            ru: "Новости премий",
            en: "Award updates",
        },
        Topic::News => Text {
            kk: "Жаңалықтар",
            ru: "Новости",
            en: "News",
        },
    }
}

/// Each language named in itself, so a reader finds their own whatever the page's language.
const LANGUAGES: [(Locale, &str); 3] = [
    (Locale::Kk, "Қазақша"),
    (Locale::Ru, "Русский"),
    (Locale::En, "English"),
];

/// The settings form (topics checked as they are, the language selected) followed by the
/// unsubscribe-from-everything button.
fn preferences_form(sub: &EmailSubscription, locale: Locale, token: &str) -> String {
    let active = sub.status != subscriptions::UNSUBSCRIBED;
    let topics = subscriptions::topics_of(sub);
    let mut html = format!(
        "<form method=\"post\" action=\"{}\"><fieldset>",
        escape(&action("/unsubscribe/preferences", token))
    );
    for topic in Topic::ALL {
        let checked = if active && topics.contains(&topic) {
            " checked"
        } else {
            ""
        };
        html.push_str(&format!(
            "<p><label><input type=\"checkbox\" name=\"{code}\" value=\"on\"{checked}> {label}</label></p>",
            code = topic.as_str(),
            label = escape(topic_label(topic).get(locale)),
        ));
    }
    html.push_str(&format!(
        "</fieldset><p><label>{} <select name=\"locale\">",
        escape(PREFS_LANGUAGE.get(locale))
    ));
    let current = Locale::parse(&sub.locale).unwrap_or_default();
    for (l, name) in LANGUAGES {
        let selected = if l == current { " selected" } else { "" };
        html.push_str(&format!(
            "<option value=\"{}\"{selected}>{name}</option>",
            l.as_str()
        ));
    }
    html.push_str(&format!(
        "</select></label></p><button type=\"submit\">{}</button></form><p>{}</p>\
         <form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
        escape(PREFS_BUTTON.get(locale)),
        escape(UNSUB_ALL.get(locale)),
        escape(&action("/unsubscribe", token)),
        escape(UNSUB_BUTTON.get(locale)),
    ));
    html
}

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
        Ok(None) => {
            let confirmed = async {
                let conn = state.pool.get().await?;
                subscriptions::already_confirmed(&conn, &q.token).await
            }
            .await;
            match confirmed {
                Ok(Some(sub)) => {
                    let l = Locale::parse(&sub.locale).unwrap_or_default();
                    continue_to(
                        &Links::of(&state.config),
                        StatusCode::OK,
                        l,
                        CONFIRM_TITLE.get(l),
                        ALREADY_CONFIRMED.get(l),
                    )
                }
                Ok(None) => failure(fallback, &Error::bad_input("token", "invalid")),
                Err(e) => failure(fallback, &e),
            }
        }
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
            continue_to(
                &Links::of(&state.config),
                StatusCode::OK,
                l,
                CONFIRM_TITLE.get(l),
                said.get(l),
            )
        }
        Err(e) => failure(header_locale(&headers), &e),
    }
}

pub async fn unsubscribe_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    if opt_outs::is_opt_out_token(&state.config.app_secret, &q.token) {
        return opt_out_page(&state, &headers, &q.token, None).await;
    }
    let found = async {
        let conn = state.pool.get().await?;
        subscriptions::find_by_token(&conn, LinkKeys::of(&state.config), &q.token).await
    }
    .await;
    // A valid link of an address that never subscribed (a reminder's) still offers the
    // button: posting it records the opt-out.
    let locale = match found {
        Ok(sub) => {
            let l = Locale::parse(&sub.locale).unwrap_or_default();
            return page_with_html(
                StatusCode::OK,
                l,
                PREFS_TITLE.get(l),
                PREFS_BODY.get(l),
                &preferences_form(&sub, l, &q.token),
            );
        }
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
    if opt_outs::is_opt_out_token(&state.config.app_secret, &q.token) {
        return opt_out_page(&state, &headers, &q.token, Some(true)).await;
    }
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

/// The settings form's POST: the checked topics and the chosen language, through the same
/// schema function as `updateSubscription` (no topic checked unsubscribes).
pub async fn preferences_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let topics: Vec<Topic> = Topic::ALL
        .into_iter()
        .filter(|t| form.contains_key(t.as_str()))
        .collect();
    let locale = form.get("locale").and_then(|l| Locale::parse(l));
    let done = async {
        let mut conn = state.pool.get().await?;
        subscriptions::update(
            &mut conn,
            LinkKeys::of(&state.config),
            &q.token,
            Some(&topics),
            locale,
        )
        .await
    }
    .await;
    match done {
        Ok(sub) => {
            let l = Locale::parse(&sub.locale).unwrap_or_default();
            page_with_html(
                StatusCode::OK,
                l,
                PREFS_TITLE.get(l),
                PREFS_SAVED.get(l),
                &preferences_form(&sub, l, &q.token),
            )
        }
        Err(e) => failure(header_locale(&headers), &e),
    }
}

/// The resume button of an opt-out page: that kind of email is sent again.
pub async fn resume_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    opt_out_page(&state, &headers, &q.token, Some(false)).await
}

fn opt_out_title(kind: OptOutKind) -> Text {
    match kind {
        OptOutKind::Applications => Text {
            kk: "Өтініштеріңіз туралы хаттар",
            ru: "Письма о ваших заявках",
            en: "Emails about your applications",
        },
        OptOutKind::ProjectManagement => Text {
            kk: "Жобаларыңызға түскен өтініштер туралы хаттар",
            ru: "Письма о заявках на ваши проекты",
            en: "Emails about applications to your projects",
        },
        OptOutKind::Nominations => Text {
            kk: "Номинацияларыңыз туралы хаттар",
            ru: "Письма о ваших номинациях",
            en: "Emails about your nominations",
        },
        OptOutKind::Jury => Text {
            kk: "Қазылар алқасының еске салғыштары",
            ru: "Напоминания жюри",
            en: "Jury reminders",
        },
    }
}

const OPT_OUT_ASK: Text = Text {
    kk: "Бұл хаттарды бұдан былай алмау үшін батырманы басыңыз. Birgemiz-дің басқа хаттары өзгермейді.",
    ru: "Нажмите кнопку, чтобы больше не получать эти письма. Другие письма Birgemiz это не затронет.",
    en: "Press the button to stop these emails. Other Birgemiz emails are not affected.",
};
const OPT_OUT_STOPPED: Text = Text {
    kk: "Бұл хаттар енді жіберілмейді. Қайта алғыңыз келсе, батырманы басыңыз.",
    ru: "Эти письма больше не будут приходить. Чтобы снова их получать, нажмите кнопку.",
    en: "These emails are stopped. To get them again, press the button.",
};
const OPT_OUT_RESUMED: Text = Text {
    kk: "Бұл хаттар қайта жіберіледі.",
    ru: "Эти письма снова будут приходить.",
    en: "You will get these emails again.",
};
const OPT_OUT_BUTTON: Text = Text {
    kk: "Тоқтату",
    ru: "Больше не присылать",
    en: "Stop these emails",
};
const RESUME_BUTTON: Text = Text {
    kk: "Қайта алу",
    ru: "Получать снова",
    en: "Get them again",
};

/// The page of an opt-out link: `set` None only shows (GET), Some stops or resumes (POST).
async fn opt_out_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    set: Option<bool>,
) -> Response {
    let secret = &state.config.app_secret;
    let done: Result<Option<OptOut>, Error> = async {
        let mut conn = state.pool.get().await?;
        match set {
            None => opt_outs::find(&conn, secret, token).await,
            Some(stop) => opt_outs::set(&mut conn, secret, token, stop)
                .await
                .map(Some),
        }
    }
    .await;
    let found = match done {
        Ok(Some(found)) => found,
        Ok(None) => {
            return failure(
                header_locale(headers),
                &Error::bad_input("token", "invalid"),
            );
        }
        Err(e) => return failure(header_locale(headers), &e),
    };
    let l = found.locale;
    let body = match (set, found.opted_out) {
        (_, true) => OPT_OUT_STOPPED.get(l),
        (Some(false), false) => OPT_OUT_RESUMED.get(l),
        (_, false) => OPT_OUT_ASK.get(l),
    };
    let button = if found.opted_out {
        (action("/unsubscribe/resume", token), RESUME_BUTTON.get(l))
    } else {
        (action("/unsubscribe", token), OPT_OUT_BUTTON.get(l))
    };
    page(
        StatusCode::OK,
        l,
        opt_out_title(found.kind).get(l),
        body,
        Some((&button.0, button.1)),
    )
}
