//! The API's one error shape: `{ "error": { "code", "message", "field" } }`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// What went wrong, for the integrator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `validation_failed`, `unauthenticated`,
    /// `forbidden`, `not_found`, `conflict`, `idempotency_key_reused`,
    /// `idempotency_in_progress`, `policy_refused`, `rate_limited`,
    /// `method_not_allowed`, `insufficient_credits` (409, wherever credits
    /// run short), `internal`.
    pub code: String,
    /// For people; a policy refusal carries the policy's explanation.
    pub message: String,
    /// The first field at fault, for validation errors.
    pub field: Option<String>,
    /// Every field at fault with its message, for validation errors.
    pub fields: Vec<FieldProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// An error answer: status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message: message.into(),
                    field: None,
                    fields: Vec::new(),
                },
            },
        }
    }

    /// 400 on one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::from_invalid(domain::Invalid::one(field, message))
    }

    pub fn from_invalid(invalid: domain::Invalid) -> ApiError {
        let fields: Vec<FieldProblem> = invalid
            .errors
            .into_iter()
            .map(|e| FieldProblem {
                field: e.field,
                message: e.message,
            })
            .collect();
        let message = match fields.as_slice() {
            [] => "the request is not valid".to_string(),
            [one] => format!("{}: {}", one.field, one.message),
            [first, rest @ ..] => format!(
                "{}: {} (and {} more problem{})",
                first.field,
                first.message,
                rest.len(),
                if rest.len() == 1 { "" } else { "s" }
            ),
        };
        let mut error = ApiError::new(StatusCode::BAD_REQUEST, "validation_failed", message);
        error.body.error.field = fields.first().map(|f| f.field.clone());
        error.body.error.fields = fields;
        error
    }

    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "there is no such resource",
        )
    }
}

impl From<backend::Error> for ApiError {
    fn from(error: backend::Error) -> Self {
        use backend::Error as E;
        match error {
            E::Unauthenticated | E::SignInFailed => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send a valid API key: Authorization: Bearer tsk_...",
            ),
            E::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this API key's scopes do not allow this",
            ),
            E::NotFound => ApiError::not_found(),
            E::Invalid(invalid) => ApiError::from_invalid(invalid),
            E::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            E::Short { field, message } => {
                let mut e = ApiError::new(StatusCode::CONFLICT, "insufficient_credits", message);
                e.body.error.field = Some(field);
                e
            }
            E::SignInInstead => ApiError::new(
                StatusCode::CONFLICT,
                "sign_in_required",
                E::SignInInstead.to_string(),
            ),
            E::Refused(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "policy_refused", message)
            }
            E::TooMany(message) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            }
            E::Internal(cause) => {
                tracing::error!(error = %cause, "internal error in an API request");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; try again later",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthenticated = self.status == StatusCode::UNAUTHORIZED;
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if unauthenticated {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera\""),
            );
        }
        response
    }
}
