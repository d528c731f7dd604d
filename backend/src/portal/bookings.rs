//! The member's bookings: the booking page of a class, booking it and
//! cancelling, under the same rules as the front desk.

use super::memberships::reach;
use super::session::Member;
use crate::Services;
use crate::platform::error::Error;
use domain::paging::{self, Listed};

/// A page of the member's own bookings (all their memberships), newest
/// first, by status.
pub async fn bookings(
    services: &Services,
    member: Member,
    status: &str,
    page: &str,
) -> Result<Listed<domain::bookings::BookingView>, Error> {
    let page = paging::page_number(page).map_err(|m| domain::Invalid::one("page", m))?;
    let status = match status.trim() {
        "" => None,
        s => Some(
            domain::bookings::BookingStatus::parse(s)
                .ok_or_else(|| domain::Invalid::one("status", "choose a status from the list"))?,
        ),
    };
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let list =
        crate::bookings::of_member(&mut tx, &business, member.member_id, status, page).await?;
    tx.commit().await?;
    Ok(list)
}

/// One of the member's bookings; anyone else's is "not found".
pub async fn booking(
    services: &Services,
    member: Member,
    id: i64,
) -> Result<domain::bookings::BookingView, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, member.business_id).await?;
    let found =
        crate::bookings::booking_of_member(&mut tx, &business, member.member_id, id).await?;
    tx.commit().await?;
    found.ok_or(Error::NotFound)
}

/// Cancels one of the member's bookings (credits back inside the window).
pub async fn cancel_booking(services: &Services, member: Member, id: i64) -> Result<String, Error> {
    crate::bookings::cancel_as(
        services,
        &crate::platform::actor::Actor::member(member.business_id, member.member_id),
        id,
        Some(member.member_id),
    )
    .await
}

/// The booking page of a membership the member reaches.
pub async fn booking_page(
    services: &Services,
    member: Member,
    membership_id: i64,
    service_id: Option<i64>,
    day: Option<chrono::NaiveDate>,
    page: i64,
) -> Result<domain::bookings::BookingPage, Error> {
    let mut tx = services.db.begin_read().await?;
    reach(&mut tx, member, membership_id).await?;
    tx.commit().await?;
    let mut page = crate::bookings::booking_page_for(
        services,
        member.business_id,
        membership_id,
        service_id,
        day,
        crate::bookings::Viewer::Member(member.member_id),
        page,
    )
    .await?;
    // A member sees and books only for themselves.
    page.users.retain(|(id, _)| *id == member.member_id);
    Ok(page)
}

/// Books a slot for the member with a membership they reach.
pub async fn book(
    services: &Services,
    member: Member,
    form: &domain::bookings::BookingForm,
) -> Result<i64, Error> {
    let membership_id = form
        .membership_id
        .trim()
        .parse::<i64>()
        .map_err(|_| domain::Invalid::one("membership_id", "choose a membership"))?;
    let mut tx = services.db.begin_read().await?;
    reach(&mut tx, member, membership_id).await?;
    tx.commit().await?;
    let form = domain::bookings::BookingForm {
        member_id: member.member_id.to_string(),
        ..form.clone()
    };
    crate::bookings::book_as(
        services,
        &crate::platform::actor::Actor::member(member.business_id, member.member_id),
        &form,
    )
    .await
}
