//! Giving money back: refunds of a payment (allocated to the invoices it
//! paid), credit notes, and closing an invoice without payment.

use crate::engine::ledger::Account;
use crate::engine::ledger::{
    add_entry, apply_credit, balance, creditable, invoice_ref, lock_account, mail,
};
use crate::platform::actor::Actor;
use crate::platform::audit;
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::{Services, query};
use chrono::{DateTime, Utc};
use domain::billing::charges::LineKind;
use domain::invoices::{CreditNoteForm, InvoiceStatus, ReasonForm};
use domain::payments::{Method, RefundForm, check_refund};
use domain::staff::Role;
use domain::{Invalid, Money};

/// Gives back part or all of a payment. Managers and owners. A card payment
/// is refunded through the gateway; the part of a payment still held as
/// account credit is taken from the credit first, so nothing is paid back twice.
pub async fn refund(
    services: &Services,
    actor: &Actor,
    payment_id: i64,
    form: &RefundForm,
) -> Result<i64, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    if let Some((id,)) = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT id FROM refunds WHERE business_id = $1 AND idempotency_key = $2",
        business.id,
        form.key.trim()
    )? {
        return Ok(id);
    }
    let (member_id, organization_id, method, amount, succeeded, reference, invoice_id) = query!(
        &mut tx,
        fetch_optional as (Option<i64>, Option<i64>, String, i64, bool, String, Option<i64>),
        "SELECT member_id, organization_id, method, amount_minor, succeeded, reference, invoice_id FROM payments
          WHERE business_id = $1 AND id = $2",
        business.id,
        payment_id
    )?
    .ok_or(Error::NotFound)?;
    if !succeeded {
        return Err(Error::Conflict(
            "this charge failed; there is nothing to refund".into(),
        ));
    }
    let account = Account::from_columns(member_id, organization_id)
        .ok_or_else(|| Error::internal("a payment without account"))?;
    lock_account(&mut tx, business.id, account).await?;
    let (refunded,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE payment_id = $1",
        payment_id
    )?;
    let paid = Money::new(amount, business.currency);
    let checked = check_refund(form, paid, Money::new(refunded, business.currency))?;
    // What of this payment still sits on the account as credit.
    let (held,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM account_entries
          WHERE payment_id = $1 AND kind IN ('overpayment', 'refunded')",
        payment_id
    )?;
    let from_credit = checked
        .amount
        .minor
        .min(held)
        .min(balance(&mut tx, business.id, account).await?)
        .max(0);
    let reference = if Method::parse(&method) == Some(Method::CardOnFile) {
        services
            .gateway
            .refund(&reference, checked.amount, &checked.key)
            .await
            .map_err(|reason| {
                Error::Conflict(format!("the card gateway refused the refund: {reason}"))
            })?
    } else {
        String::new()
    };
    if from_credit > 0 {
        add_entry(
            &mut tx,
            business.id,
            account,
            "refunded",
            -from_credit,
            Some(payment_id),
            None,
            now,
        )
        .await?;
    }
    let (id,) = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO refunds (business_id, payment_id, amount_minor, reason, refunded_on, reference, idempotency_key, staff_user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        business.id, payment_id, checked.amount.minor, &checked.reason, today, reference, &checked.key,
        actor.staff_user_id(), now)?;
    allocate_refund(
        &mut tx,
        business.id,
        payment_id,
        id,
        checked.amount.minor - from_credit,
        now,
    )
    .await?;
    mail(
        &mut tx,
        &business,
        account,
        "refund",
        &format!("We refunded {}", checked.amount),
        &format!(
            "We refunded {} of your payment of {paid}: {}.\n\n{}",
            checked.amount, checked.reason, business.name
        ),
        invoice_id,
        None,
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "payment.refunded",
        "payment",
        Some(payment_id),
        &format!("{} refunded: {}", checked.amount, checked.reason),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Spreads the part of a refund that gave back what paid invoices over the
/// invoices the payment paid, oldest first, each up to what this payment
/// paid of it less what earlier refunds of it gave back.
pub(crate) async fn allocate_refund(
    tx: &mut Tx,
    business_id: i64,
    payment_id: i64,
    refund_id: i64,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut left = amount;
    let paid = query!(
        tx,
        fetch_all as (i64, i64, i64),
        "SELECT a.invoice_id, CAST(SUM(a.amount_minor) AS BIGINT),
                CAST(COALESCE((SELECT SUM(ra.amount_minor) FROM refund_allocations ra
                                JOIN refunds r ON r.id = ra.refund_id
                               WHERE r.payment_id = $1 AND ra.invoice_id = a.invoice_id), 0) AS BIGINT)
           FROM payment_allocations a WHERE a.payment_id = $1
          GROUP BY a.invoice_id ORDER BY MIN(a.id)",
        payment_id
    )?;
    for (invoice_id, paid, refunded) in paid {
        let part = left.min(paid - refunded);
        if part <= 0 {
            continue;
        }
        query!(
            tx,
            execute,
            "INSERT INTO refund_allocations (business_id, refund_id, invoice_id, amount_minor, created_at) VALUES ($1, $2, $3, $4, $5)",
            business_id,
            refund_id,
            invoice_id,
            part,
            now
        )?;
        left -= part;
        if left == 0 {
            break;
        }
    }
    Ok(())
}

pub(crate) fn reason_of(form: &ReasonForm) -> Result<String, Error> {
    let reason = form.reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "give the reason; it is kept with the invoice",
        ));
    }
    Ok(reason.to_string())
}

/// Voids an open invoice nothing was paid on (void) or writes it off as
/// uncollectible. Managers and owners. The lines stay billed: the generator
/// will not bill them again.
pub async fn close_invoice(
    services: &Services,
    actor: &Actor,
    invoice_id: i64,
    to: InvoiceStatus,
    form: &ReasonForm,
) -> Result<(), Error> {
    actor.require(Role::Manager)?;
    let reason = reason_of(form)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let invoice = invoice_ref(&mut tx, actor.business_id, invoice_id).await?;
    if invoice.status != InvoiceStatus::Open.as_str() {
        return Err(Error::Conflict(format!(
            "invoice #{} is not open; only open invoices can be voided or written off",
            invoice.number
        )));
    }
    match to {
        InvoiceStatus::Void if invoice.amount_paid_minor != 0 => {
            return Err(Error::Conflict(format!(
                "invoice #{} has payments; issue a credit note or write it off instead",
                invoice.number
            )));
        }
        InvoiceStatus::Void | InvoiceStatus::Uncollectible => {}
        _ => return Err(Error::internal("close_invoice to an open status")),
    }
    query!(
        &mut tx,
        execute,
        "UPDATE invoices SET status = $1, next_attempt_on = NULL,
                memo = CASE WHEN memo = '' THEN $2 ELSE memo || ' / ' || $2 END
          WHERE id = $3 AND status = 'open'",
        to.as_str(),
        format!("{}: {reason}", to.label()),
        invoice_id
    )?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    crate::store::memberships::reproject_invoice(
        &mut tx,
        &business,
        invoice_id,
        services.today(&business),
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        &format!("invoice.{}", to.as_str()),
        "invoice",
        Some(invoice_id),
        &reason,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Issues a credit note against an invoice: a negative invoice that names it.
/// The amount becomes account credit, which settles what is open (this
/// invoice first) and can be refunded. Managers and owners; never more than
/// the invoice's total less earlier credit notes. Returns the credit note's id.
pub async fn credit_note(
    services: &Services,
    actor: &Actor,
    invoice_id: i64,
    form: &CreditNoteForm,
) -> Result<i64, Error> {
    actor.require(Role::Manager)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let invoice = invoice_ref(&mut tx, business.id, invoice_id).await?;
    let account = invoice.account()?;
    lock_account(&mut tx, business.id, account).await?;
    let line_key = format!("credit_note:{}", form.key.trim());
    if let Some((id,)) = query!(
        &mut tx,
        fetch_optional as (i64,),
        "SELECT invoice_id FROM invoice_lines WHERE membership_id = $1 AND line_key = $2",
        invoice.membership_id,
        &line_key
    )? {
        return Ok(id);
    }
    let creditable = creditable(&mut tx, &invoice).await?;
    let mut invalid = Invalid::default();
    let amount = invalid.check(
        "amount",
        Money::parse(form.amount.trim(), business.currency),
    );
    match amount {
        Some(a) if a.minor <= 0 => invalid.push("amount", "enter an amount above zero"),
        Some(a) if a.minor > creditable => invalid.push(
            "amount",
            format!(
                "at most {} can be credited on invoice #{}",
                Money::new(creditable, business.currency),
                invoice.number
            ),
        ),
        _ => {}
    }
    let reason = form.reason.trim();
    if reason.is_empty() {
        invalid.push(
            "reason",
            "give the reason; it is printed on the credit note",
        );
    }
    if form.key.trim().is_empty() {
        invalid.push(
            "key",
            "this form has expired; reload the page and try again",
        );
    }
    if !invalid.is_empty() {
        return Err(invalid.into());
    }
    let amount = amount.expect("checked");
    let (number,) = query!(
        &mut tx,
        fetch_one as (i64,),
        "UPDATE businesses SET next_invoice_number = next_invoice_number + 1 WHERE id = $1 RETURNING next_invoice_number - 1",
        business.id
    )?;
    let (member_id, organization_id) = account.columns();
    let (id,) = query!(&mut tx, fetch_one as (i64,),
        "INSERT INTO invoices (business_id, membership_id, number, billing_date, due_date, status, currency, total_minor,
                               created_at, member_id, organization_id, credit_note_for, memo)
         VALUES ($1, $2, $3, $4, $4, 'paid', $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        business.id, invoice.membership_id, number, today, business.currency.code(), -amount.minor, now,
        member_id, organization_id, invoice_id, reason)?;
    query!(&mut tx, execute,
        "INSERT INTO invoice_lines (business_id, invoice_id, membership_id, line_key, seq, kind, description, amount_minor, explanation)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8)",
        business.id, id, invoice.membership_id, &line_key, LineKind::CreditNote.as_str(),
        format!("Credit note for invoice #{}", invoice.number), -amount.minor, reason)?;
    add_entry(
        &mut tx,
        business.id,
        account,
        "credit_note",
        amount.minor,
        None,
        Some(id),
        now,
    )
    .await?;
    apply_credit(&mut tx, &business, account, now).await?;
    mail(
        &mut tx,
        &business,
        account,
        "credit_note",
        &format!("Credit note #{number} for invoice #{}", invoice.number),
        &format!(
            "We credited {amount} on invoice #{}: {reason}. The credit is on your account.\n\n{}",
            invoice.number, business.name
        ),
        Some(id),
        Some(invoice.membership_id),
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "invoice.credited",
        "invoice",
        Some(invoice_id),
        &format!("credit note #{number}: {amount}: {reason}"),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
