//! Input rules shared by every mutation: slugs, countries, plain text lengths.

use crate::error::{Error, Result};
use crate::i18n::LocalizedText;

pub const NAME_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const BODY_MAX: usize = 100_000;
pub const SHORT_TEXT_MAX: usize = 100;
pub const URL_MAX: usize = 500;
pub const MESSAGE_MAX: usize = 4_000;
pub const SLUG_MAX: usize = 80;

/// ISO 3166-1 alpha-2, the officially assigned codes.
pub const ISO_3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An ISO 3166-1 alpha-2 code, upper-cased ("kz" is accepted as KZ).
pub fn country(field: &str, value: &str) -> Result<String> {
    let code = value.trim().to_ascii_uppercase();
    if ISO_3166_ALPHA2.binary_search(&code.as_str()).is_ok() {
        Ok(code)
    } else {
        Err(Error::bad_input(
            field,
            "must be an ISO 3166-1 alpha-2 country code such as KZ",
        ))
    }
}

/// Trimmed optional text; empty means none.
pub fn opt_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(Error::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Error::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(v))
}

/// Trimmed required text.
pub fn text(field: &str, value: &str, max: usize) -> Result<String> {
    opt_text(field, Some(value.to_owned()), max)?
        .ok_or_else(|| Error::bad_input(field, "must not be empty"))
}

pub fn website(field: &str, value: Option<String>) -> Result<Option<String>> {
    let v = opt_text(field, value, URL_MAX)?;
    if let Some(url) = &v {
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
            return Err(Error::bad_input(field, "must be an http(s) URL"));
        }
    }
    Ok(v)
}

pub fn slug(field: &str, value: &str) -> Result<String> {
    let s = value.trim().to_ascii_lowercase();
    let valid = !s.is_empty()
        && s.len() <= SLUG_MAX
        && s.split('-').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if valid {
        Ok(s)
    } else {
        Err(Error::bad_input(
            field,
            "must be lowercase latin letters and digits separated by single hyphens, at most 80 characters",
        ))
    }
}

/// A slug made from a title: Kazakh and Russian letters are transliterated, the rest dropped.
pub fn slugify(text: &LocalizedText) -> String {
    let source = text
        .en
        .as_deref()
        .or(text.ru.as_deref())
        .or(text.kk.as_deref())
        .unwrap_or("");
    let mut out = String::new();
    for c in source.to_lowercase().chars() {
        let piece: &str = match c {
            'a'..='z' | '0'..='9' => {
                out.push(c);
                continue;
            }
            'а' | 'ә' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ғ' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' | 'і' => "i",
            'к' | 'қ' => "k",
            'л' => "l",
            'м' => "m",
            'н' | 'ң' => "n",
            'о' | 'ө' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ұ' | 'ү' => "u",
            'ф' => "f",
            'х' | 'һ' => "h",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            'ъ' | 'ь' => "",
            _ => "-",
        };
        out.push_str(piece);
    }
    let mut slug = String::new();
    for part in out.split('-').filter(|p| !p.is_empty()) {
        if slug.len() + part.len() + 1 > 60 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(part);
    }
    if slug.is_empty() { "item".into() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_sorted_and_checked() {
        assert!(ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(country("c", "kz").ok().as_deref(), Some("KZ"));
        assert!(country("c", "XX").is_err());
        assert!(country("c", "KAZ").is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slugify(&LocalizedText::new("Ұлттық желі", "", "")),
            "ulttyk-zheli"
        );
        assert_eq!(
            slugify(&LocalizedText::new("", "", "  Hello, World! ")),
            "hello-world"
        );
        assert!(slug("s", "a--b").is_err());
        assert_eq!(slug("s", "ok-1").ok().as_deref(), Some("ok-1"));
    }
}
