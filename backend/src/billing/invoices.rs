//! Invoices as staff and the API read them: one invoice with its lines and
//! payments, lists and pages, and mailing one again.

use super::*;

/// One invoice with its lines and how each amount was reached, its
/// payments, refunds and credit notes. Viewers and up.
pub async fn invoice(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    id: i64,
) -> Result<InvoiceView, Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let view = invoice_view(
        &mut tx,
        business,
        id,
        actor.allows(domain::staff::Role::FrontDesk),
        actor.allows(domain::staff::Role::Manager),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// An invoice as its page shows it, for whoever may see it.
pub(crate) async fn invoice_view(
    tx: &mut Tx,
    business: Business,
    id: i64,
    can_take_payments: bool,
    can_manage: bool,
) -> Result<InvoiceView, Error> {
    let summary = summary_of(tx, business.id, id).await?;
    let (credit_note_for, memo, attempts, next_attempt_on) = query!(
        tx,
        fetch_one as (Option<i64>, String, i64, Option<NaiveDate>),
        "SELECT credit_note_for, memo, attempts, next_attempt_on FROM invoices WHERE id = $1",
        id
    )?;
    let reference = crate::engine::ledger::invoice_ref(tx, business.id, id).await?;
    let membership_id = reference.membership_id;
    let currency = summary.total.currency;
    let lines = query!(
        tx,
        fetch_all
            as (
                String,
                String,
                Option<NaiveDate>,
                Option<NaiveDate>,
                i64,
                String
            ),
        "SELECT kind, description, period_start, period_end, amount_minor, explanation
           FROM invoice_lines WHERE business_id = $1 AND invoice_id = $2 ORDER BY id",
        business.id,
        id
    )?
    .into_iter()
    .map(|(kind, description, start, end, minor, explanation)| {
        Ok(InvoiceLineView {
            kind: LineKind::parse(&kind)
                .ok_or_else(|| Error::internal(format!("line kind {kind:?}")))?,
            description,
            period: start.zip(end.and_then(|e| e.pred_opt())),
            amount: Money::new(minor, currency),
            explanation,
        })
    })
    .collect::<Result<Vec<_>, Error>>()?;
    let (holder, membership_name) =
        crate::store::memberships::holder_and_name(tx, business.id, membership_id).await?;
    let account = reference.account()?;
    let account_name = match account {
        Account::Member(_) => holder.name.clone(),
        Account::Organization(org) => {
            query!(
                tx,
                fetch_one as (String,),
                "SELECT name FROM organizations WHERE id = $1",
                org
            )?
            .0
        }
    };
    let money =
        crate::engine::ledger::invoice_money(tx, &business, &reference, credit_note_for).await?;
    Ok(InvoiceView {
        summary,
        membership_id,
        membership_name,
        holder,
        account_name,
        account_href: account.href(),
        business_name: business.name,
        lines,
        memo,
        payments: money.payments,
        paid_from_credit: money.paid_from_credit,
        credit_note_for: money.credit_note_for,
        credit_notes: money.credit_notes,
        creditable: money.creditable,
        account_credit: money.account_credit,
        card: money.card,
        automatic_attempts: attempts,
        next_attempt_on,
        can_take_payments,
        can_manage,
        keys: FormKeys {
            pay: crate::engine::ledger::new_key(),
            charge: crate::engine::ledger::new_key(),
            refund: crate::engine::ledger::new_key(),
            credit: crate::engine::ledger::new_key(),
        },
    })
}

/// Invoices of the business by status, billing dates and who is billed,
/// newest first: a page of them, and how many match (filtered, counted and
/// paged in SQL). Viewers and up.
pub async fn list_invoices(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    filter: &domain::invoices::InvoiceFilter,
) -> Result<Listed<domain::invoices::InvoiceListRow>, Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let q = filter.check()?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let who = format!("%{}%", q.who.replace(['%', '_'], ""));
    let number: Option<i64> = q.who.parse().ok();
    const FROM: &str = "FROM invoices i
           JOIN memberships m ON m.id = i.membership_id
           JOIN membership_types t ON t.id = m.membership_type_id
           LEFT JOIN members mb ON mb.id = i.member_id
           LEFT JOIN organizations o ON o.id = i.organization_id
          WHERE i.business_id = $1
            AND ($2 = '' OR i.status = $2)
            AND ($3 = FALSE OR (i.status = 'open' AND i.total_minor > i.amount_paid_minor))
            AND ($4 = FALSE OR (i.status = 'open' AND i.total_minor > i.amount_paid_minor AND i.due_date < $5))
            AND ($6 IS NULL OR i.billing_date >= $6)
            AND ($7 IS NULL OR i.billing_date <= $7)
            AND ($8 = '%%' OR LOWER(mb.first_name || ' ' || mb.last_name) LIKE $8 OR LOWER(o.name) LIKE $8
                 OR mb.member_number = $9)";
    let status = q.status.map(|s| s.as_str()).unwrap_or("");
    let (total,) = query!(
        &mut tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {FROM}")),
        business.id,
        status,
        q.unpaid,
        q.overdue,
        today,
        q.from,
        q.to,
        &who,
        number
    )?;
    let rows = query!(
        &mut tx,
        fetch_all as ListRow,
        sqlx::AssertSqlSafe(format!(
            "SELECT {INVOICE_COLUMNS}, {REFUNDED},
                i.credit_note_for, i.member_id, i.organization_id, t.name AS type_name,
                COALESCE(mb.first_name || ' ' || mb.last_name, o.name, '') AS account_name
           {}
          ORDER BY i.billing_date DESC, i.number DESC
          LIMIT $10 OFFSET $11",
            FROM
        )),
        business.id,
        status,
        q.unpaid,
        q.overdue,
        today,
        q.from,
        q.to,
        &who,
        number,
        paging::PER_PAGE,
        paging::offset_of(q.page, paging::PER_PAGE)
    )?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let account = Account::from_columns(r.member_id, r.organization_id);
            Ok(domain::invoices::InvoiceListRow {
                credit_note: r.credit_note_for.is_some(),
                account_name: r.account_name,
                account_href: account.map(|a| a.href()).unwrap_or_default(),
                membership_name: r.type_name,
                summary: summary(r.invoice)?,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(Listed {
        rows,
        total,
        page: q.page,
        per_page: paging::PER_PAGE,
    })
}

/// Puts the invoice's message in the mail outbox again. Front desk and up.
pub async fn resend_invoice(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    id: i64,
) -> Result<(), Error> {
    actor.require(domain::staff::Role::FrontDesk)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let invoice = crate::engine::ledger::invoice_ref(&mut tx, business.id, id).await?;
    invoice_mail(
        &mut tx,
        &business,
        invoice.account()?,
        id,
        invoice.number,
        invoice.membership_id,
        now,
    )
    .await?;
    crate::platform::audit::record(
        &mut tx,
        actor,
        "invoice.resent",
        "invoice",
        Some(id),
        &format!("invoice #{}", invoice.number),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The API's invoice list filters, combined with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvoiceListFilter {
    pub status: Option<domain::invoices::InvoiceStatus>,
    /// The billed member.
    pub member_id: Option<i64>,
    pub membership_id: Option<i64>,
    /// Billing dates from and to, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One invoice of the API's list.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InvoiceListItem {
    pub id: i64,
    pub number: i64,
    pub billing_date: NaiveDate,
    pub due_date: NaiveDate,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub amount_paid_minor: i64,
    pub membership_id: i64,
    pub member_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub credit_note_for: Option<i64>,
    pub refunded_minor: i64,
}

/// A window of the business's invoices in id order, and how many match.
pub async fn page_of_invoices(
    services: &Services,
    actor: &crate::platform::actor::Actor,
    filter: &InvoiceListFilter,
    window: crate::platform::db::Window,
) -> Result<(Vec<InvoiceListItem>, i64), Error> {
    actor.require(domain::staff::Role::Viewer)?;
    let conditions = "business_id = $1 AND ($2 = '' OR status = $2) AND ($3 = 0 OR member_id = $3)
        AND ($4 = 0 OR membership_id = $4) AND billing_date >= $5 AND billing_date <= $6";
    let status = filter.status.map(|s| s.as_str()).unwrap_or_default();
    // Dates both databases store and compare as text and as dates alike.
    let from = filter
        .from
        .unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).expect("a date"));
    let to = filter
        .to
        .unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date"));
    let mut tx = services.db.begin_read().await?;
    let (count,) = query!(
        &mut tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM invoices WHERE {conditions}")),
        actor.business_id,
        status,
        filter.member_id.unwrap_or(0),
        filter.membership_id.unwrap_or(0),
        from,
        to
    )?;
    let rows = query!(&mut tx, fetch_all as InvoiceListItem,
        sqlx::AssertSqlSafe(format!(
            "SELECT id, number, billing_date, due_date, status, currency, total_minor, amount_paid_minor,
                    membership_id, member_id, organization_id, credit_note_for, {REFUNDED}
               FROM invoices i WHERE {conditions} ORDER BY id LIMIT $7 OFFSET $8")),
        actor.business_id, status, filter.member_id.unwrap_or(0), filter.membership_id.unwrap_or(0), from, to,
        window.limit, window.offset)?;
    tx.commit().await?;
    Ok((rows, count))
}
