//! The mail the business sent or is about to send, with one-time codes
//! masked once mail really goes out.

use crate::platform::actor::Actor;
use crate::platform::error::Error;
use crate::{Services, query};
use chrono::{DateTime, Utc};
use domain::paging::{self, Listed};
use domain::staff::Role;

/// A page (`page` as typed, empty for the first) of the mail outbox, newest
/// first, with how many messages there are. Viewers and up.
pub async fn outbox(
    services: &Services,
    actor: &Actor,
    page: &str,
) -> Result<Listed<domain::invoices::OutboxMessage>, Error> {
    actor.require(Role::Viewer)?;
    let page = paging::page_number(page).map_err(|m| Error::invalid("page", m))?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let (total,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM outbox WHERE business_id = $1",
        business.id
    )?;
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        DateTime<Utc>,
        Option<i64>,
        Option<DateTime<Utc>>,
        i64,
        Option<String>,
        Option<DateTime<Utc>>,
    );
    let rows = query!(
        &mut tx,
        fetch_all as Row,
        "SELECT id, to_address, subject, body, kind, created_at, invoice_id, sent_at, attempts, last_error, next_attempt_at
           FROM outbox WHERE business_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
        business.id,
        paging::PER_PAGE,
        paging::offset_of(page, paging::PER_PAGE)
    )?;
    tx.commit().await?;
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&business.time_zone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let rows = rows
        .into_iter()
        .map(
            |(id, to, subject, body, kind, at, invoice_id, sent, attempts, error, next)| {
                let delivery = match (sent, error) {
                    (Some(sent), _) => format!("sent {}", local(sent)),
                    _ if to.is_empty() => "not sent: no email address on file".to_string(),
                    (None, Some(error)) if attempts >= crate::platform::mail::MAX_ATTEMPTS => {
                        format!("not sent after {attempts} tries: {error}")
                    }
                    (None, Some(error)) => format!(
                        "not sent yet ({attempts} failed {}: {error}); next try {}",
                        if attempts == 1 { "try" } else { "tries" },
                        next.map_or_else(|| "soon".to_string(), local)
                    ),
                    (None, None) => "waiting".to_string(),
                };
                let secret = matches!(kind.as_str(), "portal_code" | "portal_email_code");
                let (subject, body) = if secret && services.mail_goes_out {
                    (mask_codes(&subject), mask_codes(&body))
                } else {
                    (subject, body)
                };
                domain::invoices::OutboxMessage {
                    id,
                    to,
                    subject,
                    body,
                    kind,
                    created: local(at),
                    invoice_id,
                    delivery,
                }
            },
        )
        .collect();
    Ok(Listed {
        rows,
        total,
        page,
        per_page: paging::PER_PAGE,
    })
}

/// Hides one-time codes ("123456" or "123 456") behind dots.
pub(crate) fn mask_codes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = (i..).take_while(|&j| digit(j)).count();
        let starts = i == 0 || !digit(i - 1);
        if starts && run == 6 {
            out.push_str("••••••");
            i += 6;
        } else if starts
            && run == 3
            && chars.get(i + 3) == Some(&' ')
            && (i + 4..i + 7).all(digit)
            && !digit(i + 7)
        {
            out.push_str("••• •••");
            i += 7;
        } else if run > 0 {
            out.extend(&chars[i..i + run]);
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}
