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
}

impl NodeType {
    const ALL: [NodeType; 10] = [
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
        }
    }
}

pub fn encode(ty: NodeType, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", ty.name())))
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
