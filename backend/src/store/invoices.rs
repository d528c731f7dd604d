//! Rows of invoices: summaries of one, of a member's and of a membership's.

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::query;
use chrono::NaiveDate;
use domain::invoices::{InvoiceStatus, InvoiceSummary};
use domain::paging::{self, Listed};
use domain::{Currency, Money};

#[derive(sqlx::FromRow)]
pub(crate) struct InvoiceRow {
    pub(crate) id: i64,
    pub(crate) number: i64,
    pub(crate) billing_date: NaiveDate,
    pub(crate) due_date: NaiveDate,
    pub(crate) status: String,
    pub(crate) currency: String,
    pub(crate) total_minor: i64,
    pub(crate) amount_paid_minor: i64,
    pub(crate) refunded_minor: i64,
}

pub(crate) fn summary(r: InvoiceRow) -> Result<InvoiceSummary, Error> {
    let currency = Currency::from_code(&r.currency)
        .map_err(|_| Error::internal(format!("currency of invoice {}", r.id)))?;
    Ok(InvoiceSummary {
        id: r.id,
        number: r.number,
        billing_date: r.billing_date,
        due_date: r.due_date,
        status: InvoiceStatus::parse(&r.status)
            .ok_or_else(|| Error::internal(format!("status of invoice {}", r.id)))?,
        total: Money::new(r.total_minor, currency),
        amount_paid: Money::new(r.amount_paid_minor, currency),
        refunded: Money::new(r.refunded_minor, currency),
    })
}

/// What refunds gave back of an invoice, for `invoices` named `i`.
pub(crate) const REFUNDED: &str = "CAST(COALESCE((SELECT SUM(ra.amount_minor) FROM refund_allocations ra WHERE ra.invoice_id = i.id), 0) AS BIGINT) AS refunded_minor";

pub(crate) const INVOICE_COLUMNS: &str = "i.id, i.number, i.billing_date, i.due_date, i.status, i.currency, i.total_minor, i.amount_paid_minor";

/// How many of a member's invoices the portal lists per page.
pub const MEMBER_INVOICES_PER_PAGE: i64 = 50;

/// A page of the invoices billed to a member, newest first, and how many
/// there are.
pub(crate) async fn of_member(
    tx: &mut Tx,
    business_id: i64,
    member_id: i64,
    page: i64,
) -> Result<Listed<InvoiceSummary>, Error> {
    let conditions = "business_id = $1 AND member_id = $2 AND status <> 'draft'";
    let (total,) = query!(
        tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM invoices i WHERE {conditions}"
        )),
        business_id,
        member_id
    )?;
    let sql = format!(
        "SELECT {INVOICE_COLUMNS}, {REFUNDED} FROM invoices i WHERE {conditions}
          ORDER BY billing_date DESC, number DESC LIMIT $3 OFFSET $4"
    );
    let rows = query!(
        tx,
        fetch_all as InvoiceRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        member_id,
        MEMBER_INVOICES_PER_PAGE,
        paging::offset_of(page, MEMBER_INVOICES_PER_PAGE)
    )?;
    Ok(Listed {
        rows: rows
            .into_iter()
            .map(summary)
            .collect::<Result<_, Error>>()?,
        total,
        page,
        per_page: MEMBER_INVOICES_PER_PAGE,
    })
}

/// The invoices of a membership, newest first.
pub(crate) async fn of_membership(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
) -> Result<Vec<InvoiceSummary>, Error> {
    let sql = format!(
        "SELECT {INVOICE_COLUMNS}, {REFUNDED} FROM invoices i WHERE business_id = $1 AND membership_id = $2 ORDER BY billing_date DESC, number DESC"
    );
    let rows = query!(
        tx,
        fetch_all as InvoiceRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        membership_id
    )?;
    rows.into_iter().map(summary).collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct ListRow {
    #[sqlx(flatten)]
    pub(crate) invoice: InvoiceRow,
    pub(crate) credit_note_for: Option<i64>,
    pub(crate) member_id: Option<i64>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) account_name: String,
    pub(crate) type_name: String,
}

/// One invoice's summary.
pub(crate) async fn summary_of(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<InvoiceSummary, Error> {
    let sql = format!(
        "SELECT {INVOICE_COLUMNS}, {REFUNDED} FROM invoices i WHERE business_id = $1 AND id = $2"
    );
    let row = query!(
        tx,
        fetch_optional as InvoiceRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        id
    )?
    .ok_or(Error::NotFound)?;
    summary(row)
}
