//! The one place domain errors become GraphQL errors with `extensions.code`.

use async_graphql::ErrorExtensions;
use birgemiz_schema::Error;

pub type ApiResult<T> = Result<T, ApiError>;

/// A domain error already mapped for clients. Deliberately not `Display`: async-graphql turns
/// any `Display` error into a bare message, and that path would skip the code and could leak
/// internal text; this type reaches clients only through the conversion below.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: &'static str,
    message: String,
    field: Option<String>,
    retry_after_secs: Option<u64>,
    /// The global id of the nomination a duplicate ran into, when the viewer may see it.
    existing_nomination: Option<String>,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = e.code();
        if e.is_internal() {
            // The cause goes to the log inside the request's span (with its request id); the
            // client sees only the code.
            tracing::error!(error = %e, "internal error");
            return ApiError {
                code,
                message: "internal error".into(),
                field: None,
                retry_after_secs: None,
                existing_nomination: None,
            };
        }
        if code == "SERVICE_UNAVAILABLE" {
            tracing::warn!(error = %e, "temporarily unavailable");
        }
        ApiError {
            code,
            message: e.client_message(),
            field: match &e {
                Error::BadInput { field, .. } => Some(field.clone()),
                _ => None,
            },
            retry_after_secs: e.retry_after().map(|d| d.as_secs().max(1)),
            existing_nomination: match &e {
                Error::DuplicateNomination {
                    existing: Some((id, _)),
                } => Some(super::ids::encode(super::ids::NodeType::Nomination, *id).to_string()),
                _ => None,
            },
        }
    }
}

impl From<async_graphql::Error> for ApiError {
    fn from(e: async_graphql::Error) -> Self {
        Error::Internal(e.message).into()
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        async_graphql::Error::new(e.message).extend_with(|_, ext| {
            ext.set("code", e.code);
            if let Some(field) = &e.field {
                ext.set("field", field.as_str());
            }
            if let Some(secs) = e.retry_after_secs {
                ext.set("retryAfter", secs);
            }
            if let Some(id) = &e.existing_nomination {
                ext.set("existingNominationId", id.as_str());
            }
        })
    }
}

/// A bad argument, shaped like a domain BadInput.
pub fn bad_input(field: &str, message: impl Into<String>) -> ApiError {
    Error::bad_input(field, message).into()
}
