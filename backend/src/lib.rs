//! Tessera's server side: storage on SQLite or PostgreSQL, the use cases that
//! load, apply a domain rule and persist in one transaction, authentication,
//! and the clock. Nothing here renders HTML or parses HTTP.

pub mod api_keys;
pub mod auth;
pub mod billing;
pub mod bookings;
pub mod business;
pub mod catalog;
pub mod credits;
pub mod engine;
pub mod jobs;
pub mod members;
pub mod memberships;
pub mod ops;
pub mod organizations;
pub mod payments;
pub mod platform;
pub mod portal;
pub mod signup;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod visits;

pub use platform::actor::Actor;
pub use platform::clock::Clock;
pub use platform::db::Db;
pub use platform::error::Error;

/// What every use case needs: the database, the clock and the card gateway.
#[derive(Clone, Debug)]
pub struct Services {
    pub db: Db,
    pub clock: Clock,
    pub gateway: std::sync::Arc<dyn platform::gateway::PaymentGateway>,
    /// How often portal sign-in codes may be asked for.
    pub code_limits: domain::portal::CodeLimits,
    /// Public signups one client address may make per hour.
    pub signups_per_client: u32,
    /// Mail really goes out (SMTP is set up): staff no longer see the codes
    /// of sign-in and email-change messages in the outbox. Without a mail
    /// server the outbox is how codes reach anyone, so they stay readable.
    pub mail_goes_out: bool,
    /// The pause after a first wrong staff password; it doubles with each
    /// one after it (see `auth::failure_delay`). Tests set it to zero.
    pub sign_in_pause: std::time::Duration,
    /// This server among several on one database: the name its claims on a
    /// business's daily work are held by (`jobs::lease`).
    pub server_id: std::sync::Arc<str>,
}

impl Services {
    /// Services with the sandbox card gateway.
    pub fn new(db: Db, clock: Clock) -> Services {
        Services {
            db,
            clock,
            gateway: std::sync::Arc::new(platform::gateway::Sandbox::default()),
            code_limits: Default::default(),
            signups_per_client: domain::signup::SIGNUPS_PER_CLIENT,
            mail_goes_out: false,
            sign_in_pause: auth::FAILED_SIGN_IN_DELAY,
            server_id: format!("{}-{:08x}", std::process::id(), rand::random::<u32>()).into(),
        }
    }
}
