//! The one place domain errors become GraphQL errors with `extensions.code`.

use async_graphql::ErrorExtensions;
use birgemiz_schema::Error;

pub type ApiResult<T> = Result<T, ApiError>;

/// Deliberately not `Display`: async-graphql converts any `Display` error into a bare message,
/// and that path would skip the code and leak internal text. This type only converts here.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError(Error::Database(e))
    }
}

impl From<async_graphql::Error> for ApiError {
    fn from(e: async_graphql::Error) -> Self {
        ApiError(Error::Internal(e.message))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(ApiError(e): ApiError) -> Self {
        let code = e.code();
        if e.is_internal() {
            // The cause goes to the log with the request's span; the client sees only the code.
            tracing::error!(error = %e, "internal error");
            return async_graphql::Error::new("internal error").extend_with(|_, ext| ext.set("code", code));
        }
        let message = e.to_string();
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            match &e {
                Error::BadInput { field, .. } => ext.set("field", field.as_str()),
                Error::RateLimited { retry_after } => ext.set("retryAfter", retry_after.as_secs()),
                _ => {}
            }
        })
    }
}

/// A GraphQL-level error (bad argument) with the same shape as a domain BadInput.
pub fn bad_input(field: &str, message: impl Into<String>) -> ApiError {
    ApiError(Error::bad_input(field, message))
}
