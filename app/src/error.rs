use domain::Invalid;
use http::StatusCode;
use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

/// The error every server function returns, sent to the browser as JSON.
///
/// Messages are for the person using the app. Internal failures never carry
/// their cause here: the server logs it and the browser gets `Internal`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("That email and password do not match an active account.")]
    SignInFailed,
    #[error("Your role does not allow this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("Please correct the highlighted fields.")]
    Invalid { invalid: Invalid },
    #[error("{message}")]
    Conflict { message: String },
    #[error("{message}")]
    TooMany { message: String },
    #[error(
        "Something went wrong on our side. Please try again; if it keeps happening, tell your administrator."
    )]
    Internal,
    /// The request did not reach the server function intact (network, encoding).
    #[error("The request could not be completed: {message}")]
    Request { message: String },
}

impl AppError {
    /// The message for one form field, if the error is about it.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid { invalid } => invalid.message_for(name).map(str::to_string),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request {
            message: value.to_string(),
        }
    }
}

impl AppError {
    /// The HTTP status a server function answers with for this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::SignInFailed => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } | AppError::Request { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Invalid> for AppError {
    fn from(invalid: Invalid) -> Self {
        AppError::Invalid { invalid }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::Error> for AppError {
    fn from(error: backend::Error) -> Self {
        use backend::Error as E;
        match error {
            E::Unauthenticated => AppError::Unauthenticated,
            E::SignInFailed => AppError::SignInFailed,
            E::Forbidden => AppError::Forbidden,
            E::NotFound => AppError::NotFound,
            E::Invalid(invalid) => AppError::Invalid { invalid },
            E::Short { field, message } => AppError::Invalid {
                invalid: domain::Invalid::one(&field, message),
            },
            E::Conflict(message) | E::Refused(message) => AppError::Conflict { message },
            E::SignInInstead => AppError::Conflict {
                message: E::SignInInstead.to_string(),
            },
            E::TooMany(message) => AppError::TooMany { message },
            E::Internal(cause) => {
                tracing::error!(error = %cause, "internal error in a server function");
                AppError::Internal
            }
        }
    }
}
