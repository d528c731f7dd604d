//! Rows of the bookings group: services, classes, bookings and the visits
//! of recurring services.

use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::query;
use chrono::{NaiveDate, NaiveDateTime};
use domain::visits::{VisitStatus, VisitView};

/// The visits of a business by status and due dates, by due date.
pub(crate) async fn list(
    tx: &mut Tx,
    business_id: i64,
    status: Option<VisitStatus>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<VisitView>, Error> {
    type Row = (
        i64,
        String,
        String,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        NaiveDate,
        String,
        Option<NaiveDateTime>,
    );
    let rows = query!(tx, fetch_all as Row,
        "SELECT v.id, r.name, a.address, a.membership_id, mb.first_name, mb.last_name, o.name, v.due_on, v.status, v.scheduled_at
           FROM service_visits v
           JOIN service_addresses a ON a.id = v.service_address_id
           JOIN recurring_services r ON r.id = a.recurring_service_id
           JOIN memberships m ON m.id = a.membership_id
           LEFT JOIN members mb ON mb.id = m.member_id
           LEFT JOIN organizations o ON o.id = m.organization_id
          WHERE v.business_id = $1 AND ($2 = '' OR v.status = $2)
            AND ($3 IS NULL OR v.due_on >= $3) AND ($4 IS NULL OR v.due_on <= $4)
          ORDER BY v.due_on, v.id LIMIT 500",
        business_id, status.map(|s| s.as_str()).unwrap_or(""), from, to)?;
    rows.into_iter()
        .map(
            |(
                id,
                service,
                address,
                membership_id,
                first,
                last,
                org,
                due_on,
                status,
                scheduled_at,
            )| {
                Ok(VisitView {
                    id,
                    service,
                    address,
                    membership_id,
                    holder: match (first, last, org) {
                        (Some(f), Some(l), _) => format!("{f} {l}"),
                        (_, _, Some(o)) => o,
                        _ => String::new(),
                    },
                    due_on,
                    status: VisitStatus::parse(&status)
                        .ok_or_else(|| Error::internal(format!("visit {id} status {status}")))?,
                    scheduled_at,
                })
            },
        )
        .collect::<Result<_, Error>>()
}

/// The visits scheduled on `day`, by time (for the day's schedule).
pub(crate) async fn scheduled_on(
    tx: &mut Tx,
    business_id: i64,
    day: NaiveDate,
) -> Result<Vec<VisitView>, Error> {
    let mut visits: Vec<VisitView> =
        list(tx, business_id, Some(VisitStatus::Scheduled), None, None)
            .await?
            .into_iter()
            .filter(|v| v.scheduled_at.is_some_and(|t| t.date() == day))
            .collect();
    visits.sort_by_key(|v| v.scheduled_at);
    Ok(visits)
}
