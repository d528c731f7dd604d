use domain::Invalid;

/// The one error of the backend's use cases.
///
/// Everything but `Internal` carries a message meant for the person who asked;
/// `Internal` carries the cause for the log and is shown as "something went wrong".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sign in to continue")]
    Unauthenticated,
    #[error("that email and password do not match an active account")]
    SignInFailed,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The request is well formed but conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A policy of the business refuses it (staff may override some with
    /// `force`); the message is the policy's explanation.
    #[error("{0}")]
    Refused(String),
    /// A public signup with an email that already belongs to a member of the
    /// business: nothing was made; a portal sign-in code went to the email.
    #[error(
        "this email belongs to a member here: we sent a sign-in code to it; sign in to the member portal to add a membership"
    )]
    SignInInstead,
    /// Not enough credits for what the request spends: the same answer
    /// wherever credits run short (a redemption, a booking paid with credits,
    /// an adjustment taking more than the balance). `field` names the input
    /// at fault for forms; the API answers 409 `insufficient_credits`.
    #[error("{message}")]
    Short { field: String, message: String },
    /// Asked too often (sign-in codes); the message says how long to wait.
    #[error("{0}")]
    TooMany(String),
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn internal(message: impl Into<String>) -> Error {
        Error::Internal(message.into().into())
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Error {
        Error::Invalid(Invalid::one(field, message))
    }

    /// Whether this error is a unique-constraint violation of the database.
    /// What a person may read: the message, or for an internal error only
    /// that it happened (the cause goes to the log).
    pub fn for_people(&self) -> String {
        match self {
            Error::Internal(_) => "something went wrong; the server log has the cause".into(),
            other => other.to_string(),
        }
    }

    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Internal(source) => source
                .downcast_ref::<sqlx::Error>()
                .and_then(|e| e.as_database_error())
                .is_some_and(|e| e.is_unique_violation()),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error::Internal(Box::new(error))
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(Box::new(error))
    }
}
