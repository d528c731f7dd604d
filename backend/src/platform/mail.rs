//! Sending the mail outbox by SMTP.
//!
//! Every message (sign-in codes, receipts, invoices, reminders) is first
//! written to the `outbox` table in the transaction that made it, so nothing
//! is sent for work that rolled back and nothing is lost when the mail server
//! is down. When the server has `TESSERA_SMTP_URL`, a sender takes waiting
//! messages oldest first, claims each for two minutes (so two servers never
//! send one twice), sends it and records `sent_at`; a failure is counted with
//! its error and tried again later (1, 5, 30 minutes, then every 2 hours),
//! up to eight attempts. Without an SMTP server the outbox is the mail: staff
//! read it under Billing.

use chrono::{DateTime, Duration, Utc};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::platform::error::Error;
use crate::{Services, query};

/// How many times a message is tried before it is left for staff to see.
pub const MAX_ATTEMPTS: i64 = 8;

/// How long a sender holds a message it is sending.
const CLAIM: Duration = Duration::minutes(2);

/// The wait before the next try after `attempts` failed ones.
pub fn retry_after(attempts: i64) -> Duration {
    match attempts {
        ..=1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        3 => Duration::minutes(30),
        _ => Duration::hours(2),
    }
}

/// An SMTP connection's settings: where to send and who the mail is from.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The sender's address; each business's name is its display name.
    from: lettre::Address,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// `url` in lettre's form: `smtp://host:25` (plain, for a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host` (TLS); `from` a bare address such as
    /// `noreply@club.example`.
    pub fn new(url: &str, from: &str) -> Result<Mailer, Error> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| {
                Error::internal(format!(
                    "TESSERA_SMTP_URL is not an SMTP address such as smtp://host:25 or smtps://user:pass@host ({e})"
                ))
            })?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.trim().parse::<lettre::Address>().map_err(|e| {
            Error::internal(format!(
                "TESSERA_MAIL_FROM {from:?} is not an email address ({e})"
            ))
        })?;
        Ok(Mailer { transport, from })
    }

    /// The mailer the environment asks for: `TESSERA_SMTP_URL` (none: mail
    /// stays in the outbox) and `TESSERA_MAIL_FROM` (required with it).
    pub fn from_env() -> Result<Option<Mailer>, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(url) = var("TESSERA_SMTP_URL") else {
            return Ok(None);
        };
        let from = var("TESSERA_MAIL_FROM").ok_or_else(|| {
            Error::internal("TESSERA_SMTP_URL is set: set TESSERA_MAIL_FROM too (the sender's address, such as noreply@club.example)")
        })?;
        Mailer::new(&url, &from).map(Some)
    }

    fn message(&self, m: &Waiting) -> Result<Message, String> {
        let to: Mailbox =
            m.to.parse()
                .map_err(|e| format!("the address {:?} cannot be sent to ({e})", m.to))?;
        Message::builder()
            .from(Mailbox::new(Some(m.business.clone()), self.from.clone()))
            .to(to)
            .subject(m.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| format!("the message cannot be built ({e})"))
    }
}

/// What one pass over the outbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub failed: usize,
}

/// A message waiting to be sent.
struct Waiting {
    business: String,
    to: String,
    subject: String,
    body: String,
    attempts: i64,
}

/// Sends up to `limit` waiting messages, oldest first: those never sent, with
/// an address, fewer than `MAX_ATTEMPTS` tries, whose next try is due and
/// that no other sender holds. Each is claimed, sent and recorded on its own,
/// so a crash leaves at most the message being sent to be tried again after
/// its claim runs out.
pub async fn send_waiting(
    services: &Services,
    mailer: &Mailer,
    limit: i64,
) -> Result<SendReport, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_read().await?;
    let ids = query!(
        &mut tx,
        fetch_all as (i64,),
        "SELECT id FROM outbox
          WHERE sent_at IS NULL AND to_address <> '' AND attempts < $1
            AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
            AND (claimed_until IS NULL OR claimed_until <= $2)
          ORDER BY id LIMIT $3",
        MAX_ATTEMPTS,
        now,
        limit
    )?;
    tx.commit().await?;
    let mut report = SendReport::default();
    for (id,) in ids {
        let Some(message) = claim(services, id, now).await? else {
            continue;
        };
        let outcome = match mailer.message(&message) {
            Ok(built) => mailer
                .transport
                .send(built)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(why) => Err(why),
        };
        let done = services.clock.now();
        let mut tx = services.db.begin_write().await?;
        match outcome {
            Ok(()) => {
                query!(
                    &mut tx,
                    execute,
                    "UPDATE outbox SET sent_at = $2, attempts = attempts + 1, claimed_until = NULL WHERE id = $1",
                    id,
                    done
                )?;
                report.sent += 1;
            }
            Err(error) => {
                let attempts = message.attempts + 1;
                tracing::warn!(outbox_id = id, attempts, %error, "a message could not be sent");
                query!(&mut tx, execute,
                    "UPDATE outbox SET attempts = $2, last_error = $3, next_attempt_at = $4, claimed_until = NULL
                      WHERE id = $1",
                    id, attempts, error, done + retry_after(attempts))?;
                report.failed += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}

/// Holds message `id` for this sender (if it is still waiting and nobody
/// else holds it) and reads it.
async fn claim(services: &Services, id: i64, now: DateTime<Utc>) -> Result<Option<Waiting>, Error> {
    let mut tx = services.db.begin_write().await?;
    let claimed = query!(
        &mut tx,
        execute,
        "UPDATE outbox SET claimed_until = $2
          WHERE id = $1 AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $3)",
        id,
        now + CLAIM,
        now
    )?;
    if claimed == 0 {
        tx.commit().await?;
        return Ok(None);
    }
    let (business, to, subject, body, attempts) = query!(
        &mut tx,
        fetch_one as (String, String, String, String, i64),
        "SELECT b.name, o.to_address, o.subject, o.body, o.attempts
           FROM outbox o JOIN businesses b ON b.id = o.business_id WHERE o.id = $1",
        id
    )?;
    tx.commit().await?;
    Ok(Some(Waiting {
        business,
        to,
        subject,
        body,
        attempts,
    }))
}

/// Sends the outbox every few seconds while the server runs.
pub fn spawn_sender(services: Services, mailer: Mailer) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            loop {
                match send_waiting(&services, &mailer, 50).await {
                    // A full batch: more may be waiting.
                    Ok(report) if report.sent + report.failed == 50 => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::error!(%error, "sending the outbox failed; it is tried again shortly");
                        break;
                    }
                }
            }
        }
    });
}
