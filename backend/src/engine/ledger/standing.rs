//! Standings: what an account owes and since when, read for dunning and
//! timelines.

use super::*;

/// Timeline notes after invoices were (partly) settled: money received, and
/// "restored" when a past-due membership has nothing overdue any more.
pub(crate) async fn after_settlement(
    tx: &mut Tx,
    business: &Business,
    settled: &[(i64, Money)],
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut memberships = Vec::new();
    for (invoice_id, amount) in settled {
        let invoice = invoice_ref(tx, business.id, *invoice_id).await?;
        crate::store::memberships::append_billing_note(
            tx,
            business.id,
            invoice.membership_id,
            today,
            &BillingNote::PaymentReceived {
                invoice_number: invoice.number,
                amount: *amount,
            },
            now,
        )
        .await?;
        if !memberships.contains(&invoice.membership_id) {
            memberships.push(invoice.membership_id);
        }
    }
    for membership_id in memberships {
        let overdue = overdue_of(tx, business, membership_id, today).await?;
        if overdue.past_due_since.is_none()
            && matches!(
                last_standing(tx, business.id, membership_id).await?,
                Some(Standing::PastDue | Standing::Suspended)
            )
        {
            crate::store::memberships::append_billing_note(
                tx,
                business.id,
                membership_id,
                today,
                &BillingNote::Restored,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Standing {
    PastDue,
    Suspended,
    Restored,
}

/// The last of past due / suspended / restored on the timeline, and the invoice it named.
pub(crate) async fn last_standing(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Option<Standing>, Error> {
    Ok(last_standing_with_invoice(tx, business_id, membership_id)
        .await?
        .map(|(s, _)| s))
}

pub(crate) async fn last_standing_with_invoice(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Option<(Standing, Option<i64>)>, Error> {
    let rows = query!(
        tx,
        fetch_all as (String,),
        "SELECT data FROM membership_events WHERE business_id = $1 AND membership_id = $2 AND kind = 'billing' ORDER BY id DESC",
        business_id,
        membership_id
    )?;
    for (data,) in rows {
        let event: Event = serde_json::from_str(&data)
            .map_err(|e| Error::internal(format!("billing event: {e}")))?;
        if let Event::Billing { note, .. } = event {
            match note {
                BillingNote::PastDue { invoice_number } => {
                    return Ok(Some((Standing::PastDue, Some(invoice_number))));
                }
                BillingNote::Suspended { invoice_number } => {
                    return Ok(Some((Standing::Suspended, Some(invoice_number))));
                }
                BillingNote::Restored => return Ok(Some((Standing::Restored, None))),
                _ => {}
            }
        }
    }
    Ok(None)
}

/// The oldest due date among a membership's unpaid open invoices.
pub(crate) async fn oldest_unpaid(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Option<(NaiveDate, i64)>, Error> {
    Ok(query!(
        tx,
        fetch_optional as (NaiveDate, i64),
        "SELECT due_date, number FROM invoices
          WHERE business_id = $1 AND membership_id = $2 AND status = 'open' AND total_minor > amount_paid_minor
          ORDER BY due_date, number LIMIT 1",
        business_id,
        membership_id
    )?)
}

/// Where a membership stands with its unpaid invoices on `today`.
pub(crate) async fn overdue_of(
    tx: &mut Tx,
    business: &Business,
    membership_id: i64,
    today: NaiveDate,
) -> Result<Overdue, Error> {
    let oldest = oldest_unpaid(tx, business.id, membership_id).await?;
    Ok(business.dunning.overdue(oldest.map(|(d, _)| d), today))
}

/// The oldest unpaid due date of every membership of a business that has one.
pub(crate) async fn oldest_unpaid_all(
    tx: &mut Tx,
    business_id: i64,
) -> Result<std::collections::HashMap<i64, NaiveDate>, Error> {
    Ok(query!(
        tx,
        fetch_all as (i64, NaiveDate),
        "SELECT membership_id, MIN(due_date) FROM invoices
          WHERE business_id = $1 AND status = 'open' AND total_minor > amount_paid_minor
          GROUP BY membership_id",
        business_id
    )?
    .into_iter()
    .collect())
}
