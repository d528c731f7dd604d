//! What is mailed about invoices: a change that needs notice, the invoice's
//! text and its mail.

use super::*;

/// Whether the invoice of a change is mailed: one notice per member a day.
/// A change that nets to nothing is not mailed; a later change of the same
/// day is mailed only when it leaves something to pay (a credit, or a charge
/// the account's credit settled, shows on the portal without a second mail).
pub(crate) async fn change_needs_notice(
    tx: &mut Tx,
    business: &Business,
    p: &Planned,
    invoice_id: i64,
) -> Result<bool, Error> {
    if p.total() == 0 {
        return Ok(false);
    }
    let (member_id, organization_id) = p.account.columns();
    let (earlier,) = query!(
        tx,
        fetch_one as (i64,),
        "SELECT COUNT(*) FROM outbox o JOIN invoices i ON i.id = o.invoice_id
          WHERE o.business_id = $1 AND o.kind = 'invoice' AND i.billing_date = $2
            AND (i.member_id = $3 OR i.organization_id = $4)",
        business.id,
        p.billing_date,
        member_id,
        organization_id
    )?;
    if earlier == 0 {
        return Ok(true);
    }
    let (status,) = query!(
        tx,
        fetch_one as (String,),
        "SELECT status FROM invoices WHERE id = $1",
        invoice_id
    )?;
    Ok(status == InvoiceStatus::Open.as_str())
}

/// The subject and body of an invoice's mail.
pub(crate) fn invoice_text(
    business: &Business,
    number: i64,
    total: Money,
    due_date: NaiveDate,
) -> (String, String) {
    let (what, body) = if total.minor > 0 {
        (
            "Invoice",
            format!("Invoice #{number} for {total} is due on {due_date}."),
        )
    } else {
        (
            "Credit note",
            format!(
                "Credit note #{number} credits {} to your account; it pays your next invoices.",
                Money::new(-total.minor, total.currency)
            ),
        )
    };
    (
        format!("{what} #{number} from {}", business.name),
        format!("{body}\n\n{}", business.name),
    )
}

/// Puts an invoice's message in the mail outbox (again).
pub(crate) async fn invoice_mail(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    invoice_id: i64,
    number: i64,
    membership_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let (total, due_date) = query!(
        tx,
        fetch_one as (i64, NaiveDate),
        "SELECT total_minor, due_date FROM invoices WHERE id = $1",
        invoice_id
    )?;
    let (subject, body) = invoice_text(
        business,
        number,
        Money::new(total, business.currency),
        due_date,
    );
    crate::engine::ledger::mail(
        tx,
        business,
        account,
        "invoice",
        &subject,
        &body,
        Some(invoice_id),
        Some(membership_id),
        now,
    )
    .await
}
