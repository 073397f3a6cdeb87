//! Opaque Relay global IDs: base64url of `Type:id`, checked for the expected type on input.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::errors::{ApiError, bad_input};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeType {
    User,
    Organization,
    Project,
    Application,
    Post,
    Award,
    AwardCategory,
    Nomination,
    Vote,
    DigestRun,
    JudgingCriterion,
    Juror,
    JuryScore,
    IntegritySignal,
}

impl NodeType {
    const ALL: [NodeType; 14] = [
        NodeType::User,
        NodeType::Organization,
        NodeType::Project,
        NodeType::Application,
        NodeType::Post,
        NodeType::Award,
        NodeType::AwardCategory,
        NodeType::Nomination,
        NodeType::Vote,
        NodeType::DigestRun,
        NodeType::JudgingCriterion,
        NodeType::Juror,
        NodeType::JuryScore,
        NodeType::IntegritySignal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NodeType::User => "User",
            NodeType::Organization => "Organization",
            NodeType::Project => "Project",
            NodeType::Application => "Application",
            NodeType::Post => "Post",
            NodeType::Award => "Award",
            NodeType::AwardCategory => "AwardCategory",
            NodeType::Nomination => "Nomination",
            NodeType::Vote => "Vote",
            NodeType::DigestRun => "DigestRun",
            NodeType::JudgingCriterion => "JudgingCriterion",
            NodeType::Juror => "Juror",
            NodeType::JuryScore => "JuryScore",
            NodeType::IntegritySignal => "IntegritySignal",
        }
    }
}

/// `Type:id` put together and encoded on the stack, then copied into a string of the exact
/// size: a front page encodes hundreds of IDs, and `format!`, a second allocation and base64's
/// chunked writer made each of them expensive.
pub fn encode(ty: NodeType, id: i64) -> ID {
    let mut raw = [0u8; 40];
    let name = ty.name().as_bytes();
    raw[..name.len()].copy_from_slice(name);
    raw[name.len()] = b':';
    let len = name.len() + 1 + write_decimal(&mut raw[name.len() + 1..], id);
    let mut encoded = [0u8; 56];
    let written = URL_SAFE_NO_PAD
        .encode_slice(&raw[..len], &mut encoded)
        .expect("56 bytes hold the base64 of 40");
    ID(std::str::from_utf8(&encoded[..written])
        .expect("base64 is ASCII")
        .to_owned())
}

/// `n` in decimal at the start of `out` (which holds any i64); returns its length.
fn write_decimal(out: &mut [u8], n: i64) -> usize {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let sign = usize::from(n < 0);
    if n < 0 {
        out[0] = b'-';
    }
    let len = digits.len() - at;
    out[sign..sign + len].copy_from_slice(&digits[at..]);
    sign + len
}

/// Any global ID, whatever its type (for `node` and `nodes`).
pub fn decode_any(id: &str) -> Option<(NodeType, i64)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let (name, num) = raw.split_once(':')?;
    let ty = NodeType::ALL.into_iter().find(|t| t.name() == name)?;
    let num: i64 = num.parse().ok().filter(|n| *n > 0)?;
    Some((ty, num))
}

/// A global ID that must name a `ty`; `field` names the argument in the error.
pub fn decode(ty: NodeType, id: &ID, field: &str) -> Result<i64, ApiError> {
    match decode_any(id) {
        Some((t, n)) if t == ty => Ok(n),
        Some((t, _)) => Err(bad_input(
            field,
            format!("expected a {} ID, got a {} ID", ty.name(), t.name()),
        )),
        None => Err(bad_input(field, "is not a valid ID")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_type_and_id_as_base64url_of_their_text() {
        let ids = [
            0,
            1,
            9,
            10,
            42,
            99,
            100,
            12_345,
            -1,
            -10,
            i64::MAX,
            i64::MIN,
        ];
        for ty in NodeType::ALL {
            for id in ids {
                let text = format!("{}:{id}", ty.name());
                assert_eq!(encode(ty, id).0, URL_SAFE_NO_PAD.encode(&text), "{text}");
            }
        }
    }

    #[test]
    fn round_trips_and_checks_type() {
        let id = encode(NodeType::Project, 42);
        assert_eq!(decode(NodeType::Project, &id, "id").ok(), Some(42));
        assert!(decode(NodeType::Organization, &id, "id").is_err());
        assert!(decode(NodeType::Project, &ID("not-an-id".into()), "id").is_err());
        assert_eq!(
            decode_any(&encode(NodeType::Vote, 7)),
            Some((NodeType::Vote, 7))
        );
    }
}
