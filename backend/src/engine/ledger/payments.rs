//! Payments booked against invoices, found again by their key, and the card
//! they were charged to.

use super::*;

/// Books money received: the invoice it was taken for first, then the
/// account's other open invoices; the rest becomes account credit.
pub(crate) async fn book_payment(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    payment_id: i64,
    amount: Money,
    first: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, Money)>, Error> {
    let dues = dues(tx, business, account, first).await?;
    let (parts, left) = allocate(amount, &dues);
    for part in &parts {
        settle_invoice(
            tx,
            business,
            part.invoice_id,
            part.amount.minor,
            Source::Payment(payment_id),
            now,
        )
        .await?;
    }
    if left.minor > 0 {
        add_entry(
            tx,
            business.id,
            account,
            "overpayment",
            left.minor,
            Some(payment_id),
            None,
            now,
        )
        .await?;
    }
    Ok(parts.iter().map(|p| (p.invoice_id, p.amount)).collect())
}

#[derive(sqlx::FromRow)]
pub(crate) struct InvoiceRef {
    pub(crate) id: i64,
    pub(crate) number: i64,
    pub(crate) membership_id: i64,
    pub(crate) member_id: Option<i64>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) status: String,
    pub(crate) total_minor: i64,
    pub(crate) amount_paid_minor: i64,
    pub(crate) due_date: NaiveDate,
    pub(crate) attempts: i64,
}

impl InvoiceRef {
    pub(crate) fn account(&self) -> Result<Account, Error> {
        Account::from_columns(self.member_id, self.organization_id)
            .ok_or_else(|| Error::internal(format!("invoice {} has no account", self.id)))
    }
    pub(crate) fn due(&self) -> i64 {
        if self.status == InvoiceStatus::Open.as_str() {
            (self.total_minor - self.amount_paid_minor).max(0)
        } else {
            0
        }
    }
}

pub(crate) async fn invoice_ref(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<InvoiceRef, Error> {
    query!(tx, fetch_optional as InvoiceRef,
        "SELECT id, number, membership_id, member_id, organization_id, status, total_minor, amount_paid_minor, due_date, attempts
           FROM invoices WHERE business_id = $1 AND id = $2",
        business_id, id)?
    .ok_or(Error::NotFound)
}

pub(crate) async fn payment_by_key(
    tx: &mut Tx,
    business_id: i64,
    key: &str,
) -> Result<Option<i64>, Error> {
    Ok(query!(
        tx,
        fetch_optional as (i64,),
        "SELECT id FROM payments WHERE business_id = $1 AND idempotency_key = $2",
        business_id,
        key
    )?
    .map(|(id,)| id))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_payment(
    tx: &mut Tx,
    business: &Business,
    account: Account,
    invoice_id: i64,
    method: Method,
    amount: Money,
    outcome: Result<&str, &str>,
    key: &str,
    by: &Author,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let (member_id, organization_id) = account.columns();
    let (succeeded, reference, failure) = match outcome {
        Ok(reference) => (true, reference, ""),
        Err(failure) => (false, "", failure),
    };
    let (id,) = query!(tx, fetch_one as (i64,),
        "INSERT INTO payments (business_id, member_id, organization_id, invoice_id, method, amount_minor, currency, succeeded,
                               paid_on, reference, failure, idempotency_key, recorded_by, staff_user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        business.id, member_id, organization_id, invoice_id, method.as_str(), amount.minor, business.currency.code(),
        succeeded, today, reference, failure, key, &by.label, by.staff_user_id, now)?;
    Ok(id)
}

/// The card on file of an account: its id, token and label.
pub(crate) async fn card_of(
    tx: &mut Tx,
    business_id: i64,
    account: Account,
) -> Result<Option<(String, String)>, Error> {
    let sql = format!(
        "SELECT token, brand, last4, exp_month, exp_year FROM cards
          WHERE business_id = $1 AND {} = $2 AND removed_at IS NULL",
        account.column()
    );
    Ok(query!(
        tx,
        fetch_optional as (String, String, String, i64, i64),
        sqlx::AssertSqlSafe(sql),
        business_id,
        account.id()
    )?
    .map(|(token, brand, last4, m, y)| {
        (
            token,
            domain::payments::Card {
                brand,
                last4,
                exp_month: m as u32,
                exp_year: y as i32,
            }
            .label(),
        )
    }))
}
