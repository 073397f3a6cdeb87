//! Localized text: one jsonb value per field holding the kk, ru and en translations.

use std::io::Write;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Jsonb;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Kk,
    Ru,
    En,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::Kk, Locale::Ru, Locale::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Kk => "kk",
            Locale::Ru => "ru",
            Locale::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s.to_ascii_lowercase().as_str() {
            "kk" => Some(Locale::Kk),
            "ru" => Some(Locale::Ru),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// Picks the first supported language of an `Accept-Language` header by its q-values;
    /// anything else or nothing means kk.
    pub fn from_accept_language(header: Option<&str>) -> Locale {
        Self::from_accept_language_opt(header).unwrap_or_default()
    }

    /// The request's language: a supported one the client asks for (`Accept-Language`) first,
    /// since it says what the page around the answer is written in; else the signed-in user's
    /// saved one; else kk.
    pub fn of_request(header: Option<&str>, saved: Option<Locale>) -> Locale {
        Self::from_accept_language_opt(header)
            .or(saved)
            .unwrap_or_default()
    }

    /// The best supported language of an `Accept-Language` header, if it names one.
    pub fn from_accept_language_opt(header: Option<&str>) -> Option<Locale> {
        let header = header?;
        let mut best: Option<(f32, usize, Locale)> = None;
        for (pos, part) in header.split(',').enumerate() {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(locale) = Locale::parse(primary)
                && q > 0.0
                && best.is_none_or(|(bq, bpos, _)| q > bq || (q == bq && pos < bpos))
            {
                best = Some((q, pos, locale));
            }
        }
        best.map(|(_, _, l)| l)
    }
}

/// All translations of one text field, as stored in its jsonb column.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Jsonb)]
pub struct LocalizedText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl LocalizedText {
    pub fn new(kk: &str, ru: &str, en: &str) -> Self {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        LocalizedText {
            kk: some(kk),
            ru: some(ru),
            en: some(en),
        }
    }

    pub fn get(&self, locale: Locale) -> Option<&str> {
        match locale {
            Locale::Kk => self.kk.as_deref(),
            Locale::Ru => self.ru.as_deref(),
            Locale::En => self.en.as_deref(),
        }
    }

    /// The requested language, else kk → ru → en, the first that exists.
    pub fn resolve(&self, locale: Locale) -> Option<&str> {
        self.get(locale)
            .or(self.kk.as_deref())
            .or(self.ru.as_deref())
            .or(self.en.as_deref())
    }

    pub fn is_empty(&self) -> bool {
        Locale::ALL.iter().all(|l| self.get(*l).is_none())
    }

    /// Trims every translation, drops empty ones, and bounds their length.
    pub fn normalized(self, field: &str, max_chars: usize, required: bool) -> Result<Self> {
        let clean = |s: Option<String>| -> Result<Option<String>> {
            let Some(s) = s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) else {
                return Ok(None);
            };
            if s.chars().count() > max_chars {
                return Err(Error::bad_input(
                    field,
                    format!("must be at most {max_chars} characters"),
                ));
            }
            Ok(Some(s))
        };
        let text = LocalizedText {
            kk: clean(self.kk)?,
            ru: clean(self.ru)?,
            en: clean(self.en)?,
        };
        if required && text.is_empty() {
            return Err(Error::bad_input(
                field,
                "needs at least one non-empty translation",
            ));
        }
        Ok(text)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}))
    }

    pub fn from_json(value: &serde_json::Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }
}

impl FromSql<Jsonb, Pg> for LocalizedText {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        // Straight from the wire format (a version byte, then JSON text) into the struct: going
        // through a `serde_json::Value` first allocated a map per column per row.
        match value.as_bytes().split_first() {
            Some((1, json)) => match Self::from_plain_json(json) {
                Some(text) => Ok(text),
                None => Ok(serde_json::from_slice(json)?),
            },
            _ => Err("unsupported JSONB encoding version".into()),
        }
    }
}

impl LocalizedText {
    /// The common case read without a JSON parser: PostgreSQL prints a jsonb object as
    /// `{"en": "…", "kk": "…"}`, and most texts hold no character that JSON escapes. Anything
    /// else (an escape, another shape or spacing, invalid UTF-8) gives `None` for `serde_json`
    /// to read. A list page decodes hundreds of titles, so this path is hot.
    fn from_plain_json(json: &[u8]) -> Option<LocalizedText> {
        // Checked once as a whole rather than per key and value (a call per string showed in
        // the front page's profile); cut only at ASCII bytes below.
        let json = std::str::from_utf8(json).ok()?;
        let mut text = LocalizedText::default();
        let mut rest = json.strip_prefix('{')?.strip_suffix('}')?;
        while !rest.is_empty() {
            let (key, after) = plain_string(rest)?;
            let (value, after) = plain_string(after.strip_prefix(": ")?)?;
            let slot = match key {
                "kk" => &mut text.kk,
                "ru" => &mut text.ru,
                "en" => &mut text.en,
                _ => return None,
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(value.to_owned());
            rest = match after.strip_prefix(", ") {
                Some(next) if !next.is_empty() => next,
                Some(_) => return None,
                None if after.is_empty() => after,
                None => return None,
            };
        }
        Some(text)
    }
}

/// A JSON string without escapes at the start of `s`, and what follows it.
fn plain_string(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('"')?;
    let end = s
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
    if s.as_bytes()[end] != b'"' {
        return None;
    }
    Some((&s[..end], &s[end + 1..]))
}

impl ToSql<Jsonb, Pg> for LocalizedText {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        // jsonb's binary format: a version byte, then the JSON text.
        out.write_all(&[1])?;
        serde_json::to_writer(out, self)?;
        Ok(IsNull::No)
    }
}

/// The Russian form of a noun after the whole number `n` (one, few, many): 1 и 21 голос,
/// 2–4 и 22–24 голоса, 5–20 и 25 голосов.
pub fn ru_form(n: i64, forms: [&str; 3]) -> &str {
    let (d, h) = (n.abs() % 10, n.abs() % 100);
    if d == 1 && h != 11 {
        forms[0]
    } else if (2..=4).contains(&d) && !(12..=14).contains(&h) {
        forms[1]
    } else {
        forms[2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_best_supported() {
        assert_eq!(Locale::from_accept_language(None), Locale::Kk);
        assert_eq!(Locale::from_accept_language(Some("de-DE")), Locale::Kk);
        assert_eq!(
            Locale::from_accept_language(Some("ru-RU,ru;q=0.9,en;q=0.8")),
            Locale::Ru
        );
        assert_eq!(
            Locale::from_accept_language(Some("de, en;q=0.5, ru;q=0.7")),
            Locale::Ru
        );
        assert_eq!(Locale::from_accept_language(Some("EN")), Locale::En);
        assert_eq!(Locale::of_request(None, Some(Locale::Ru)), Locale::Ru);
        assert_eq!(Locale::of_request(Some("de"), Some(Locale::En)), Locale::En);
        assert_eq!(Locale::of_request(Some("kk"), Some(Locale::En)), Locale::Kk);
        assert_eq!(Locale::of_request(None, None), Locale::Kk);
    }

    #[test]
    fn jsonb_text_reads_as_serde_json_reads_it() {
        for json in [
            r#"{}"#,
            r#"{"en": "League"}"#,
            r#"{"en": "Project 1", "kk": "Жоба 1", "ru": "Проект 1"}"#,
            r#"{"en": "", "ru": "x"}"#,
            r#"{"en": "say \"hi\"", "kk": "a\\b"}"#,
            r#"{"ru": "line\nnext", "en": "\u0416"}"#,
            r#"{"kk":"tight"}"#,
            r#"{"de": "ignored", "en": "kept"}"#,
            r#"{"en": "x", }"#,
            r#"{"en": "x",  "ru": "y"}"#,
            r#"{"en": 5}"#,
            r#"{"en": "x", "en": "y"}"#,
        ] {
            let fast = LocalizedText::from_plain_json(json.as_bytes());
            let serde = serde_json::from_str::<LocalizedText>(json).ok();
            if let Some(fast) = fast {
                assert_eq!(Some(fast), serde, "{json}");
            }
        }
        // Escapes are left to serde_json; PostgreSQL's own shape takes the fast path.
        assert!(LocalizedText::from_plain_json(br#"{"en": "a\nb"}"#).is_none());
        assert_eq!(
            LocalizedText::from_plain_json("{\"en\": \"a\", \"kk\": \"Ж\"}".as_bytes()),
            Some(LocalizedText::new("Ж", "", "a"))
        );
        assert_eq!(
            LocalizedText::from_plain_json(b"{}"),
            Some(LocalizedText::default())
        );
        assert!(LocalizedText::from_plain_json(b"{\"en\": \"\xff\"}").is_none());
    }

    #[test]
    fn resolve_falls_back_kk_ru_en() {
        let t = LocalizedText::new("", "Лига", "League");
        assert_eq!(t.resolve(Locale::Kk), Some("Лига"));
        assert_eq!(t.resolve(Locale::En), Some("League"));
        assert_eq!(
            LocalizedText::new("", "", "x").resolve(Locale::Ru),
            Some("x")
        );
        assert_eq!(LocalizedText::default().resolve(Locale::Ru), None);
    }
}
