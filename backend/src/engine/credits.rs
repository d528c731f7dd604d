//! The credit ledger: lots granted per period, taken by bookings and
//! redemptions, given back, expired; all as append-only entries.

use crate::platform::actor::{Actor, Author};
use crate::platform::db::Tx;
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::memberships::{load_membership, types};
use crate::{Services, query};
use chrono::{DateTime, NaiveDate, Utc};
use domain::credits::{EntryKind, Lot, credits_of, expired, grants_due, period_end, spend};
use domain::lifecycle::Membership;

pub(crate) use crate::store::catalog::Types;

mod periods;
pub(crate) use periods::{bring_up_to_date, write_expiries};

/// One entry to write.
pub(crate) struct NewEntry<'a> {
    pub(crate) kind: EntryKind,
    pub(crate) amount: i64,
    pub(crate) lot_id: Option<i64>,
    pub(crate) period_start: Option<NaiveDate>,
    pub(crate) expires_on: Option<NaiveDate>,
    pub(crate) on: NaiveDate,
    pub(crate) reason: &'a str,
    pub(crate) booking_id: Option<i64>,
    pub(crate) key: Option<String>,
}

/// Writes an entry and moves the balance with it. A keyed entry already
/// written is skipped (`Ok(None)`); a debit the balance cannot cover is
/// refused with the balance in the message.
pub(crate) async fn write(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    entry: NewEntry<'_>,
    author: &Author,
    now: DateTime<Utc>,
) -> Result<Option<i64>, Error> {
    if entry.amount < 0 {
        debit(tx, business_id, membership_id, -entry.amount).await?;
    }
    let id = query!(tx, fetch_optional as (i64,),
        "INSERT INTO credit_entries (business_id, membership_id, kind, amount, lot_id, period_start, expires_on, effective_on,
                                     reason, actor_label, staff_user_id, booking_id, entry_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (membership_id, entry_key) DO NOTHING RETURNING id",
        business_id, membership_id, entry.kind.as_str(), entry.amount, entry.lot_id, entry.period_start,
        entry.expires_on, entry.on, entry.reason, &author.label, author.staff_user_id, entry.booking_id,
        entry.key.as_deref(), now)?
    .map(|(id,)| id);
    match (id, entry.lot_id) {
        (None, _) if entry.amount < 0 => {
            // Written before: give back what was just taken.
            credit(tx, business_id, membership_id, -entry.amount).await?;
        }
        (Some(id), None) => {
            credit(tx, business_id, membership_id, entry.amount).await?;
            query!(tx, execute,
                "INSERT INTO credit_lots (entry_id, business_id, membership_id, kind, remaining, expires_on, period_start)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                id, business_id, membership_id, entry.kind.as_str(), entry.amount, entry.expires_on, entry.period_start)?;
        }
        (Some(_), Some(lot)) => move_lot(tx, lot, entry.amount).await?,
        (None, _) => {}
    }
    Ok(id)
}

/// Adds `delta` (negative: takes) to what is left of a lot.
pub(crate) async fn move_lot(tx: &mut Tx, lot: i64, delta: i64) -> Result<(), Error> {
    let moved = query!(
        tx,
        execute,
        "UPDATE credit_lots SET remaining = remaining + $2 WHERE entry_id = $1 AND remaining + $2 >= 0",
        lot,
        delta
    )?;
    if moved == 1 {
        Ok(())
    } else {
        Err(Error::internal(format!(
            "credit lot {lot} cannot move by {delta}"
        )))
    }
}

pub(crate) async fn credit(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    n: i64,
) -> Result<(), Error> {
    query!(tx, execute,
        "INSERT INTO credit_balances (membership_id, business_id, balance) VALUES ($1, $2, $3)
         ON CONFLICT (membership_id) DO UPDATE SET balance = credit_balances.balance + excluded.balance",
        membership_id, business_id, n)?;
    Ok(())
}

/// Takes `n` credits from the balance, or refuses with what is left.
pub(crate) async fn debit(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    n: i64,
) -> Result<(), Error> {
    let taken = query!(
        tx,
        fetch_optional as (i64,),
        "UPDATE credit_balances SET balance = balance - $3
          WHERE membership_id = $1 AND business_id = $2 AND balance >= $3 RETURNING balance",
        membership_id,
        business_id,
        n
    )?;
    if taken.is_some() {
        return Ok(());
    }
    let left = balance(tx, membership_id).await?;
    Err(short("credits", left, n))
}

/// Not enough credits: `asked` wanted, `left` there.
pub(crate) fn short(field: &str, left: i64, asked: i64) -> Error {
    Error::Short {
        field: field.into(),
        message: domain::credits::Short {
            balance: left,
            asked,
        }
        .to_string(),
    }
}

pub(crate) async fn balance(tx: &mut Tx, membership_id: i64) -> Result<i64, Error> {
    Ok(query!(
        tx,
        fetch_optional as (i64,),
        "SELECT balance FROM credit_balances WHERE membership_id = $1",
        membership_id
    )?
    .map_or(0, |(b,)| b))
}

/// The membership's lots with credits left.
pub(crate) async fn lots(tx: &mut Tx, membership_id: i64) -> Result<Vec<Lot>, Error> {
    type Row = (i64, String, i64, Option<NaiveDate>, Option<NaiveDate>);
    let rows = query!(
        tx,
        fetch_all as Row,
        "SELECT entry_id, kind, remaining, expires_on, period_start FROM credit_lots
          WHERE membership_id = $1 AND remaining > 0 ORDER BY entry_id",
        membership_id
    )?;
    rows.into_iter()
        .map(|(id, kind, remaining, expires_on, period_start)| {
            Ok(Lot {
                id,
                kind: EntryKind::parse(&kind)
                    .ok_or_else(|| Error::internal(format!("credit lot {id} kind {kind}")))?,
                remaining,
                expires_on,
                period_start,
            })
        })
        .collect()
}

/// Takes `n` credits oldest expiry first, one entry per lot. The debit of the
/// balance comes first and holds its lock, so the lots read after it are the
/// ones this spend may take.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn take(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    kind: EntryKind,
    n: i64,
    today: NaiveDate,
    reason: &str,
    booking_id: Option<i64>,
    key: &str,
    author: &Author,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, i64)>, Error> {
    // The common case: the first lot in spending order (usable, oldest
    // expiry, oldest) covers the whole spend.
    if matches!(tx, Tx::Postgres(_)) {
        // One round trip on PostgreSQL: debit the balance (its row lock first,
        // as every spend takes it), take the lot, write the entry.
        let (debited, lot) = query!(tx, fetch_one as (i64, Option<i64>),
            "WITH b AS (UPDATE credit_balances SET balance = balance - $3
                         WHERE membership_id = $2 AND business_id = $1 AND balance >= $3
                         RETURNING membership_id),
                  l AS (UPDATE credit_lots SET remaining = remaining - $3
                         WHERE entry_id = (SELECT entry_id FROM credit_lots
                                            WHERE membership_id = $2 AND remaining > 0
                                              AND (expires_on IS NULL OR expires_on > $4)
                                            ORDER BY (expires_on IS NULL), expires_on, entry_id LIMIT 1)
                           AND remaining >= $3 AND EXISTS (SELECT 1 FROM b)
                         RETURNING entry_id),
                  e AS (INSERT INTO credit_entries (business_id, membership_id, kind, amount, lot_id, effective_on,
                                                    reason, actor_label, staff_user_id, booking_id, entry_key, created_at)
                        SELECT $1, $2, $5, -$3, entry_id, $4, $6, $7, $8, $9, $10, $11 FROM l
                        RETURNING lot_id)
             SELECT CAST((SELECT COUNT(*) FROM b) AS BIGINT), (SELECT lot_id FROM e)",
            business_id, membership_id, n, today, kind.as_str(), reason, &author.label,
            author.staff_user_id, booking_id, key, now)?;
        match (debited, lot) {
            (0, _) => {
                let left = balance(tx, membership_id).await?;
                return Err(short("credits", left, n));
            }
            (_, Some(lot)) => return Ok(vec![(lot, n)]),
            // Debited; the spend takes from several lots (below).
            (_, None) => {}
        }
    } else {
        debit(tx, business_id, membership_id, n).await?;
        let first = query!(tx, fetch_optional as (i64,),
            "UPDATE credit_lots SET remaining = remaining - $2
              WHERE entry_id = (SELECT entry_id FROM credit_lots
                                 WHERE membership_id = $1 AND remaining > 0 AND (expires_on IS NULL OR expires_on > $3)
                                 ORDER BY (expires_on IS NULL), expires_on, entry_id LIMIT 1)
                AND remaining >= $2
              RETURNING entry_id",
            membership_id, n, today)?;
        if let Some((lot,)) = first {
            let taken = Taken {
                kind,
                today,
                reason,
                booking_id,
                author,
                now,
            };
            insert_taken(tx, business_id, membership_id, &taken, lot, n, key).await?;
            return Ok(vec![(lot, n)]);
        }
    }
    let lots = lots(tx, membership_id).await?;
    // Lots past their expiry go first (the daily work may not have run yet);
    // if the rest cannot cover the spend, it is refused with what is usable.
    let stale = expired(&lots, today);
    if !stale.is_empty() {
        let usable: i64 = lots.iter().map(|l| l.remaining).sum::<i64>()
            - stale.iter().map(|(_, k)| k).sum::<i64>();
        if usable < n {
            return Err(Error::Conflict(
                domain::credits::Short {
                    balance: usable,
                    asked: n,
                }
                .to_string(),
            ));
        }
        write_expiries(tx, business_id, membership_id, &lots, &stale, today, now).await?;
    }
    let parts = spend(&lots, n, today).map_err(|short| {
        Error::internal(format!(
            "membership {membership_id}: balance and lots disagree ({short})"
        ))
    })?;
    let taken = Taken {
        kind,
        today,
        reason,
        booking_id,
        author,
        now,
    };
    for (i, (lot, k)) in parts.iter().enumerate() {
        let key = if i == 0 {
            key.to_string()
        } else {
            format!("{key}:{i}")
        };
        insert_taken(tx, business_id, membership_id, &taken, *lot, *k, &key).await?;
        move_lot(tx, *lot, -k).await?;
    }
    Ok(parts)
}

/// What a spend records on each of its entries.
pub(crate) struct Taken<'a> {
    pub(crate) kind: EntryKind,
    pub(crate) today: NaiveDate,
    pub(crate) reason: &'a str,
    pub(crate) booking_id: Option<i64>,
    pub(crate) author: &'a Author,
    pub(crate) now: DateTime<Utc>,
}

/// The entry that takes `k` credits from `lot` (its remainder is moved by the caller).
pub(crate) async fn insert_taken(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    t: &Taken<'_>,
    lot: i64,
    k: i64,
    key: &str,
) -> Result<(), Error> {
    query!(tx, execute,
        "INSERT INTO credit_entries (business_id, membership_id, kind, amount, lot_id, effective_on, reason,
                                     actor_label, staff_user_id, booking_id, entry_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        business_id, membership_id, t.kind.as_str(), -k, lot, t.today, t.reason, &t.author.label,
        t.author.staff_user_id, t.booking_id, key, t.now)?;
    Ok(())
}

/// Brings one membership's credits up to date now (after a sale, so its
/// first period's credits are there at once). A failure is logged and left
/// to the day's work, which writes the same entries.
pub(crate) async fn grant_now(services: &Services, business: &Business, membership_id: i64) {
    let result = async {
        let mut tx = services.db.begin_write().await?;
        let types = types(&mut tx, business.id).await?;
        let today = services.today(business);
        let n = bring_up_to_date(
            &mut tx,
            business,
            &types,
            membership_id,
            today,
            services.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok::<usize, Error>(n)
    }
    .await;
    if let Err(error) = result {
        tracing::error!(membership = membership_id, %error, "credits right after the sale failed");
    }
}

/// Spends credits for a booking or a service, in the caller's transaction
/// (which has brought the membership up to date). Refused with the balance.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn redeem(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    n: i64,
    today: NaiveDate,
    reason: &str,
    booking_id: Option<i64>,
    key: &str,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let author = by.author(tx).await?;
    take(
        tx,
        business_id,
        membership_id,
        EntryKind::Redeem,
        n,
        today,
        reason,
        booking_id,
        key,
        &author,
        now,
    )
    .await
    .map(|_| ())
}

/// Gives back the credits a booking redeemed (a cancellation inside the
/// window), as a new lot that expires when the latest lot they came from
/// would have (never, if one of them never expires). Written once per booking.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn give_back(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    booking_id: i64,
    today: NaiveDate,
    reason: &str,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let taken = query!(tx, fetch_all as (i64, Option<NaiveDate>),
        "SELECT e.amount, l.expires_on FROM credit_entries e JOIN credit_lots l ON l.entry_id = e.lot_id
          WHERE e.membership_id = $1 AND e.booking_id = $2 AND e.kind = 'redeem'",
        membership_id, booking_id)?;
    let n: i64 = -taken.iter().map(|(a, _)| a).sum::<i64>();
    if n <= 0 {
        return Ok(0);
    }
    let expires_on = if taken.iter().any(|(_, e)| e.is_none()) {
        None
    } else {
        taken.iter().filter_map(|(_, e)| *e).max()
    };
    let author = by.author(tx).await?;
    write(
        tx,
        business_id,
        membership_id,
        NewEntry {
            kind: EntryKind::Reverse,
            amount: n,
            lot_id: None,
            period_start: None,
            expires_on,
            on: today,
            reason,
            booking_id: Some(booking_id),
            key: Some(format!("reverse:booking:{booking_id}")),
        },
        &author,
        now,
    )
    .await?;
    Ok(n)
}
