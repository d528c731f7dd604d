//! Rows of the bookings group: services, classes, bookings and the visits
//! of recurring services.

use crate::platform::db::{Tx, Window};
use crate::platform::error::Error;
use crate::query;
use chrono::{NaiveDate, NaiveDateTime};
use domain::visits::{VisitStatus, VisitView};

/// A window of the visits of a business by status and due dates, by due
/// date, and how many match in all. Only the conditions asked for are
/// written (the index on business and due date serves each); their values
/// are typed (a status's own text, dates), never text from a request.
pub(crate) async fn page_of(
    tx: &mut Tx,
    business_id: i64,
    status: Option<VisitStatus>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    window: Window,
) -> Result<(Vec<VisitView>, i64), Error> {
    let mut conditions = String::from("v.business_id = $1");
    if let Some(status) = status {
        conditions.push_str(&format!(" AND v.status = '{}'", status.as_str()));
    }
    if let Some(from) = from {
        conditions.push_str(&format!(" AND v.due_on >= '{from}'"));
    }
    if let Some(to) = to {
        conditions.push_str(&format!(" AND v.due_on <= '{to}'"));
    }
    let (total,) = query!(
        tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM service_visits v WHERE {conditions}"
        )),
        business_id
    )?;
    let rows = query!(
        tx,
        fetch_all as VisitRow,
        sqlx::AssertSqlSafe(format!(
            "{VISIT_SELECT} WHERE {conditions} ORDER BY v.due_on, v.id LIMIT $2 OFFSET $3"
        )),
        business_id,
        window.limit,
        window.offset
    )?;
    let rows = rows
        .into_iter()
        .map(visit_view)
        .collect::<Result<Vec<_>, Error>>()?;
    Ok((rows, total))
}

/// The visits scheduled on `day`, by time (for the day's schedule).
pub(crate) async fn scheduled_on(
    tx: &mut Tx,
    business_id: i64,
    day: NaiveDate,
) -> Result<Vec<VisitView>, Error> {
    let from = day.and_time(chrono::NaiveTime::MIN);
    let rows = query!(tx, fetch_all as VisitRow,
        sqlx::AssertSqlSafe(format!("{VISIT_SELECT}
          WHERE v.business_id = $1 AND v.status = 'scheduled' AND v.scheduled_at >= $2 AND v.scheduled_at < $3
          ORDER BY v.scheduled_at, v.id")),
        business_id, from, from + chrono::TimeDelta::days(1))?;
    rows.into_iter().map(visit_view).collect()
}

const VISIT_SELECT: &str = "SELECT v.id, r.name, a.address, a.membership_id, mb.first_name, mb.last_name, o.name, v.due_on, v.status, v.scheduled_at
           FROM service_visits v
           JOIN service_addresses a ON a.id = v.service_address_id
           JOIN recurring_services r ON r.id = a.recurring_service_id
           JOIN memberships m ON m.id = a.membership_id
           LEFT JOIN members mb ON mb.id = m.member_id
           LEFT JOIN organizations o ON o.id = m.organization_id";

type VisitRow = (
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

fn visit_view(
    (id, service, address, membership_id, first, last, org, due_on, status, scheduled_at): VisitRow,
) -> Result<VisitView, Error> {
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
}
