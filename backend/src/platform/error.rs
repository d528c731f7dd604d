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

    /// What a person may read: the message, or for an internal error only
    /// that it happened (the cause goes to the log).
    pub fn for_people(&self) -> String {
        match self {
            Error::Internal(_) => "something went wrong; the server log has the cause".into(),
            other => other.to_string(),
        }
    }

    /// The unique constraint a write broke, as its table and columns (both
    /// databases name them so; index names differ between them), or `None`
    /// for any other error.
    pub fn unique_violation(&self) -> Option<Unique> {
        let Error::Internal(source) = self else {
            return None;
        };
        let db = source
            .downcast_ref::<sqlx::Error>()?
            .as_database_error()
            .filter(|e| e.is_unique_violation())?;
        if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            return Unique::from_postgres(pg.table()?, pg.detail()?);
        }
        Unique::from_sqlite(db.message())
    }

    /// Whether this error is the unique constraint on `table (columns)`.
    pub fn violates_unique(&self, table: &str, columns: &[&str]) -> bool {
        self.unique_violation()
            .is_some_and(|u| u.table == table && u.columns == columns)
    }
}

/// A unique constraint: its table and its columns in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unique {
    pub table: String,
    pub columns: Vec<String>,
}

impl Unique {
    /// From PostgreSQL's table and detail: `Key (business_id, name)=(1, Gym) already exists.`
    fn from_postgres(table: &str, detail: &str) -> Option<Unique> {
        let columns = detail.strip_prefix("Key (")?.split_once(")=")?.0;
        Some(Unique {
            table: table.to_string(),
            columns: columns.split(", ").map(str::to_string).collect(),
        })
    }

    /// From SQLite's message: `UNIQUE constraint failed: services.business_id, services.name`.
    fn from_sqlite(message: &str) -> Option<Unique> {
        let list = message.strip_prefix("UNIQUE constraint failed: ")?;
        let mut table = None;
        let mut columns = Vec::new();
        for qualified in list.split(", ") {
            let (t, column) = qualified.split_once('.')?;
            if *table.get_or_insert(t) != t {
                return None;
            }
            columns.push(column.to_string());
        }
        Some(Unique {
            table: table?.to_string(),
            columns,
        })
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

#[cfg(test)]
mod tests {
    use super::Unique;

    fn unique(table: &str, columns: &[&str]) -> Option<Unique> {
        Some(Unique {
            table: table.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        })
    }

    #[test]
    fn both_databases_name_a_unique_constraint_by_its_table_and_columns() {
        assert_eq!(
            Unique::from_sqlite("UNIQUE constraint failed: services.business_id, services.name"),
            unique("services", &["business_id", "name"])
        );
        assert_eq!(
            Unique::from_postgres(
                "services",
                "Key (business_id, name)=(1, Yoga, a)) already exists."
            ),
            unique("services", &["business_id", "name"])
        );
        assert_eq!(
            Unique::from_postgres("charge_intents", "Key (invoice_id)=(7) already exists."),
            unique("charge_intents", &["invoice_id"])
        );
        // An index on an expression has no columns to name.
        assert_eq!(
            Unique::from_sqlite("UNIQUE constraint failed: index 'x'"),
            None
        );
        assert_eq!(Unique::from_sqlite("NOT NULL constraint failed: t.a"), None);
    }
}
