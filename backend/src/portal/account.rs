//! The member's invoices, their card on file and paying an invoice with it.

use super::session::Member;
use crate::platform::error::Error;
use crate::{Services, query};
use domain::paging::{self, Listed};

/// A page of the invoices billed to the member, newest first.
pub async fn invoices(
    services: &Services,
    member: Member,
    page: &str,
) -> Result<Listed<domain::invoices::InvoiceSummary>, Error> {
    let page = paging::page_number(page).map_err(|m| Error::invalid("page", m))?;
    let mut tx = services.db.begin_read().await?;
    let list =
        crate::store::invoices::of_member(&mut tx, member.business_id, member.member_id, page)
            .await?;
    tx.commit().await?;
    Ok(list)
}

/// One invoice billed to the member; anyone else's is "not found".
pub async fn invoice(
    services: &Services,
    member: Member,
    id: i64,
) -> Result<domain::invoices::InvoiceView, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let owner = query!(
        &mut tx,
        fetch_optional as (Option<i64>,),
        "SELECT member_id FROM invoices WHERE business_id = $1 AND id = $2",
        business.id,
        id
    )?;
    if owner != Some((Some(member.member_id),)) {
        return Err(Error::NotFound);
    }
    let view = crate::billing::invoice_view(&mut tx, business, id, false, false).await?;
    tx.commit().await?;
    Ok(view)
}

/// The member's card on file, as "Visa ending 4242 (expires 04/2029)".
pub async fn card(services: &Services, member: Member) -> Result<Option<String>, Error> {
    let mut tx = services.db.begin_read().await?;
    let card = crate::payments::card_label_of(
        &mut tx,
        member.business_id,
        crate::engine::ledger::Account::Member(member.member_id),
    )
    .await?;
    tx.commit().await?;
    Ok(card)
}

/// Keeps a card on file for the member (replacing the one there). Only the
/// gateway's token and the last four digits are stored.
pub async fn keep_card(
    services: &Services,
    member: Member,
    form: &domain::payments::CardForm,
) -> Result<String, Error> {
    crate::payments::keep_card(
        services,
        member.business_id,
        None,
        crate::engine::ledger::Account::Member(member.member_id),
        form,
    )
    .await
}

/// Removes the member's card on file.
pub async fn remove_card(services: &Services, member: Member) -> Result<(), Error> {
    crate::payments::remove_card(
        services,
        member.business_id,
        None,
        crate::engine::ledger::Account::Member(member.member_id),
    )
    .await
}

/// Pays what is due on one of the member's invoices with their card on file.
/// The form's key makes a repeated request charge once. Says what happened.
pub async fn pay_invoice(
    services: &Services,
    member: Member,
    id: i64,
    key: &str,
) -> Result<String, Error> {
    use crate::payments::{Charged, charge_card};
    let by = crate::platform::actor::Actor::member(member.business_id, member.member_id);
    Ok(match charge_card(services, &by, id, None, key).await? {
        Charged::Succeeded(_) | Charged::Replayed(_) => {
            "Paid with your card on file. A receipt is on its way.".to_string()
        }
        Charged::Failed { reason, .. } => {
            return Err(Error::Conflict(format!(
                "Your card was declined: {reason}. Try another card."
            )));
        }
    })
}
