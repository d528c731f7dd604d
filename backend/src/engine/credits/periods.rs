//! Credit periods: each period's grant brought up to date, periods ended, lots
//! expired when their day comes.

use super::*;

/// Brings a membership's credits up to `today`: the grants of the periods
/// started, the ends of the periods over (carry-over and what expires), and
/// the lots past their expiry. Returns how many entries it wrote.
pub(crate) async fn bring_up_to_date(
    tx: &mut Tx,
    business: &Business,
    types: &Types,
    membership_id: i64,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let stored = load_membership(tx, business.id, membership_id).await?;
    let Some(current) = types.get(&stored.row.membership_type_id) else {
        return Ok(0);
    };
    let (in_effect, _) = crate::store::memberships::type_in_effect_pub(types, &stored, today)?;
    let spec = &in_effect.spec;
    let m = Membership {
        spec,
        events: &stored.events,
        overdue: crate::engine::ledger::overdue_of(tx, business, membership_id, today).await?,
    };
    let system = Author::system();
    let mut written = 0;
    let cap = spec.benefits.carry_over_cap;
    let schedule = m.schedule();
    let grants = if credits_of(spec) > 0 || credits_of(&current.spec) > 0 {
        grants_due(&m, today)
    } else {
        Vec::new()
    };
    // In date order: each period ends (carry-over, expiry) before the next
    // grant, so what is carried is older than what is granted after it.
    for g in &grants {
        written += end_periods(
            tx,
            business.id,
            membership_id,
            schedule.as_ref(),
            cap,
            g.on,
            now,
        )
        .await?;
        let reason = match g.period {
            Some((start, end)) => format!(
                "{} credits for {start} to {}",
                g.credits,
                end.pred_opt().unwrap_or(end)
            ),
            None => format!("{} credits with {}", g.credits, spec.name),
        };
        let id = write(
            tx,
            business.id,
            membership_id,
            NewEntry {
                kind: EntryKind::Grant,
                amount: g.credits,
                lot_id: None,
                period_start: g.period.map(|p| p.0),
                expires_on: g.expires_on,
                on: g.on,
                reason: &reason,
                booking_id: None,
                key: Some(g.key.clone()),
            },
            &system,
            now,
        )
        .await?;
        written += usize::from(id.is_some());
    }
    written += end_periods(
        tx,
        business.id,
        membership_id,
        schedule.as_ref(),
        cap,
        today,
        now,
    )
    .await?;
    written += expire_due(tx, business.id, membership_id, today, now).await?;
    Ok(written)
}

/// Ends the periods over by `up_to`: what is left of each one's periodic lots
/// carries into the next period up to the cap, the rest expires.
pub(crate) async fn end_periods(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    schedule: Option<&domain::billing::schedule::Schedule>,
    cap: Option<u32>,
    up_to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let system = Author::system();
    let mut written = 0;
    let mut starts: Vec<NaiveDate> = lots(tx, membership_id)
        .await?
        .iter()
        .filter(|l| l.periodic())
        .filter_map(|l| l.period_start)
        .collect();
    starts.sort();
    starts.dedup();
    for start in starts {
        let Some(end) = schedule
            .and_then(|s| s.slot_containing(start))
            .map(|s| s.end())
        else {
            continue;
        };
        if end > up_to {
            continue;
        }
        let lots = lots(tx, membership_id).await?;
        let ending = period_end(&lots, start, cap);
        let carried = ending.carried_total();
        for (lot, n) in &ending.expired {
            let why = format!("over the carry-over cap at the end of the period from {start}");
            expire_lot(tx, business_id, membership_id, *lot, *n, end, &why, now).await?;
            written += 1;
        }
        if carried > 0 {
            let new_lot = write(
                tx,
                business_id,
                membership_id,
                NewEntry {
                    kind: EntryKind::CarryOver,
                    amount: carried,
                    lot_id: None,
                    period_start: Some(end),
                    expires_on: ending
                        .carried
                        .iter()
                        .filter_map(|(id, _)| lots.iter().find(|l| l.id == *id))
                        .filter_map(|l| l.expires_on)
                        .min(),
                    on: end,
                    reason: &format!("left at the end of the period from {start}"),
                    booking_id: None,
                    key: Some(format!("carry:{end}")),
                },
                &system,
                now,
            )
            .await?;
            if new_lot.is_some() {
                for (lot, n) in &ending.carried {
                    write(
                        tx,
                        business_id,
                        membership_id,
                        NewEntry {
                            kind: EntryKind::CarryOver,
                            amount: -n,
                            lot_id: Some(*lot),
                            period_start: None,
                            expires_on: None,
                            on: end,
                            reason: &format!("carried into the period from {end}"),
                            booking_id: None,
                            key: Some(format!("carry_from:{lot}")),
                        },
                        &system,
                        now,
                    )
                    .await?;
                }
                written += 1 + ending.carried.len();
            }
        }
    }
    Ok(written)
}

/// Expires what is left of the lots whose expiry date has come.
pub(crate) async fn expire_due(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let lots = lots(tx, membership_id).await?;
    let due = expired(&lots, today);
    write_expiries(tx, business_id, membership_id, &lots, &due, today, now).await?;
    Ok(due.len())
}

pub(crate) async fn write_expiries(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    lots: &[Lot],
    due: &[(i64, i64)],
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for (lot, n) in due {
        let on = lots
            .iter()
            .find(|l| l.id == *lot)
            .and_then(|l| l.expires_on)
            .unwrap_or(today);
        let why = "passed its expiry date";
        expire_lot(tx, business_id, membership_id, *lot, *n, on, why, now).await?;
    }
    Ok(())
}

/// Expires `n` credits of a lot, once per lot.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn expire_lot(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    lot: i64,
    n: i64,
    on: NaiveDate,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    write(
        tx,
        business_id,
        membership_id,
        NewEntry {
            kind: EntryKind::Expire,
            amount: -n,
            lot_id: Some(lot),
            period_start: None,
            expires_on: None,
            on,
            reason,
            booking_id: None,
            key: Some(format!("expire:{lot}")),
        },
        &Author::system(),
        now,
    )
    .await
    .map(|_| ())
}
