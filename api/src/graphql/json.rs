//! Responses written as JSON without serde's machinery for the value tree: a front page is a
//! thousand short strings, and serde_json's escaping looks at every byte through a table and
//! writes each string in pieces (`format_escaped_str_contents` and its copies showed high in the
//! api's profile). The output is byte for byte serde_json's: anything unusual (an escape, a
//! float, bytes, an error) is still written by serde_json.

use async_graphql::Value;
use serde::Serializer;

/// A response as serde_json writes it: `data`, then `extensions` and `errors` when there are any.
pub fn write_response(
    out: &mut Vec<u8>,
    response: &async_graphql::Response,
) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"data\":");
    write_value(out, &response.data)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut *out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut *out, &response.errors)?;
    }
    out.push(b'}');
    Ok(())
}

pub fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(s) => write_str(out, s)?,
        Value::Enum(name) => write_str(out, name)?,
        Value::Number(n) => match n.as_i64() {
            Some(i) => serde_json::Serializer::new(&mut *out).serialize_i64(i)?,
            None => serde_json::to_writer(&mut *out, n)?,
        },
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(object) => {
            out.push(b'{');
            for (i, (key, item)) in object.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key)?;
                out.push(b':');
                write_value(out, item)?;
            }
            out.push(b'}');
        }
        Value::Binary(_) => serde_json::to_writer(&mut *out, value)?,
    }
    Ok(())
}

/// A JSON string: at once when nothing in it needs an escape, else as serde_json escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    if needs_escape(s.as_bytes()) {
        return serde_json::Serializer::new(&mut *out).serialize_str(s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Whether a byte of `s` is one JSON escapes: a quote, a backslash or a control character.
/// Eight bytes at a time (measurably cheaper than a byte-by-byte loop on a front page):
/// a word holds a byte below 0x20, or equal to one, exactly when the classic zero-byte test
/// flags it.
fn needs_escape(s: &[u8]) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |w: u64| w.wrapping_sub(LOW) & !w & HIGH != 0;
    let below_space = |w: u64| w.wrapping_sub(LOW * 0x20) & !w & HIGH != 0;
    let mut words = s.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if below_space(w)
            || has_zero(w ^ (LOW * u64::from(b'"')))
            || has_zero(w ^ (LOW * u64::from(b'\\')))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Name;
    use async_graphql::indexmap::IndexMap;

    fn object(fields: Vec<(&str, Value)>) -> Value {
        Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (Name::new(k), v))
                .collect::<IndexMap<_, _>>(),
        )
    }

    fn sample() -> Value {
        let strings = [
            "",
            "plain",
            "Ұйым 1 — Қазақстан",
            "quote \" and backslash \\",
            "line\nbreak\ttab\r\u{8}\u{c}",
            "\u{1}\u{1f}\u{7f}",
            "</script>",
            "emoji 🙂 and \u{2028}",
        ];
        object(vec![
            ("null", Value::Null),
            ("yes", Value::Boolean(true)),
            ("no", Value::Boolean(false)),
            ("int", Value::from(-42)),
            ("big", Value::from(u64::MAX)),
            ("float", Value::from(1.5e300)),
            ("small", Value::from(0.1)),
            ("enum", Value::Enum(Name::new("MOST_VOTES"))),
            ("bytes", Value::Binary(vec![0, 1, 255].into())),
            (
                "strings",
                Value::List(strings.iter().map(|s| Value::from(*s)).collect()),
            ),
            ("empty list", Value::List(vec![])),
            ("empty object", object(vec![])),
            (
                "nested \"key\"",
                object(vec![(
                    "a",
                    Value::List(vec![object(vec![("b", Value::Null)])]),
                )]),
            ),
        ])
    }

    #[test]
    fn every_byte_that_needs_an_escape_is_found_at_every_position() {
        for len in 0..20 {
            let plain = "й".repeat(len / 2) + &"a".repeat(len % 2);
            assert!(!needs_escape(plain.as_bytes()), "{plain:?}");
            for at in 0..plain.len() {
                for b in (0u8..0x20).chain([b'"', b'\\']) {
                    let mut bytes = plain.clone().into_bytes();
                    bytes[at] = b;
                    assert!(needs_escape(&bytes), "{bytes:?}");
                }
            }
        }
        // Bytes next to those escaped are not mistaken for them (UTF-8 continuation bytes,
        // space, DEL, the characters after the quote and the backslash).
        assert!(!needs_escape(" !#[]^~\x7f\u{80}\u{ff}Ё".as_bytes()));
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let value = sample();
        let mut ours = Vec::new();
        write_value(&mut ours, &value).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }

    #[test]
    fn responses_with_errors_and_extensions_are_written_as_serde_json_writes_them() {
        let mut response = async_graphql::Response::new(sample());
        response
            .errors
            .push(async_graphql::ServerError::new("boom \"x\"", None));
        response
            .extensions
            .insert("requestId".into(), Value::from("abc"));
        let mut ours = Vec::new();
        write_response(&mut ours, &response).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(&response).unwrap()
        );
    }
}
