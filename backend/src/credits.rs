//! The credits ledger of each membership: grants each period, carry-over and
//! expiry, staff adjustments, redemptions by bookings and their reversals.
//!
//! Entries are append-only. The balance row (`credit_balances`) is changed in
//! the same transaction as every entry: added to with an upsert, taken from
//! with a conditional `UPDATE ... WHERE balance >= $n`, so concurrent
//! redemptions on either database can never overdraw it. Which lots a spend
//! takes from is decided by `domain::credits` after the debit succeeded, under
//! the balance row's lock. Scheduled work (grants, period ends, expiry) writes
//! under keys unique per membership, so running it twice writes nothing twice.

use chrono::{DateTime, NaiveDate, Utc};
use domain::credits::{
    AdjustForm, CreditsView, EntryFilter, EntryKind, EntryView, Lot, check_adjust, credits_of,
    expired, grants_due, period_end, spend,
};
use domain::lifecycle::Membership;
use domain::staff::Role;

use crate::auth::Actor;
use crate::business::{self, Business};
use crate::db::Tx;
use crate::error::Error;
use crate::memberships::{By, load_membership, types, who};

type Types = std::collections::HashMap<i64, crate::catalog::Loaded>;
use crate::{Services, query};

/// Who wrote an entry, as stored.
struct Author {
    label: String,
    staff_user_id: Option<i64>,
}

impl Author {
    /// The scheduled work's entries.
    fn system() -> Author {
        Author {
            label: "the system".into(),
            staff_user_id: None,
        }
    }
}

async fn author(tx: &mut Tx, by: By<'_>) -> Result<Author, Error> {
    let (_, id, label, _) = who(tx, by).await?;
    let staff_user_id = match by {
        By::Staff(_) => id,
        _ => None,
    };
    Ok(Author {
        label,
        staff_user_id,
    })
}

/// One entry to write.
struct NewEntry<'a> {
    kind: EntryKind,
    amount: i64,
    lot_id: Option<i64>,
    period_start: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    on: NaiveDate,
    reason: &'a str,
    booking_id: Option<i64>,
    key: Option<String>,
}

/// Writes an entry and moves the balance with it. A keyed entry already
/// written is skipped (`Ok(None)`); a debit the balance cannot cover is
/// refused with the balance in the message.
async fn write(
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
async fn move_lot(tx: &mut Tx, lot: i64, delta: i64) -> Result<(), Error> {
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

async fn credit(tx: &mut Tx, business_id: i64, membership_id: i64, n: i64) -> Result<(), Error> {
    query!(tx, execute,
        "INSERT INTO credit_balances (membership_id, business_id, balance) VALUES ($1, $2, $3)
         ON CONFLICT (membership_id) DO UPDATE SET balance = credit_balances.balance + excluded.balance",
        membership_id, business_id, n)?;
    Ok(())
}

/// Takes `n` credits from the balance, or refuses with what is left.
async fn debit(tx: &mut Tx, business_id: i64, membership_id: i64, n: i64) -> Result<(), Error> {
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
fn short(field: &str, left: i64, asked: i64) -> Error {
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
async fn lots(tx: &mut Tx, membership_id: i64) -> Result<Vec<Lot>, Error> {
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
async fn take(
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
struct Taken<'a> {
    kind: EntryKind,
    today: NaiveDate,
    reason: &'a str,
    booking_id: Option<i64>,
    author: &'a Author,
    now: DateTime<Utc>,
}

/// The entry that takes `k` credits from `lot` (its remainder is moved by the caller).
async fn insert_taken(
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
    let (in_effect, _) = crate::memberships::type_in_effect_pub(types, &stored, today)?;
    let spec = &in_effect.spec;
    let m = Membership {
        spec,
        events: &stored.events,
        overdue: crate::payments::overdue_of(tx, business, membership_id, today).await?,
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
async fn end_periods(
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
async fn expire_due(
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

async fn write_expiries(
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
async fn expire_lot(
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

/// The daily credits work of a business: every membership whose type (now
/// or when sold) grants credits, or that holds credits, is brought up to date,
/// each in its own transaction.
pub async fn credits_work(services: &Services, business_id: i64) -> Result<usize, Error> {
    let now = services.clock.now();
    let (business, types, ids) = {
        let mut tx = services.db.begin_read().await?;
        let business = business::load(&mut tx, business_id).await?;
        let types = types(&mut tx, business_id).await?;
        // Ids are numbers from the database: safe to write into the statement.
        let granting: Vec<String> = types
            .values()
            .filter(|t| credits_of(&t.spec) > 0)
            .map(|t| t.id.to_string())
            .collect();
        let by_type = if granting.is_empty() {
            "FALSE".to_string()
        } else {
            format!("membership_type_id IN ({})", granting.join(", "))
        };
        let sql = format!(
            "SELECT id FROM memberships WHERE business_id = $1
                AND ({by_type}
                     OR id IN (SELECT membership_id FROM credit_lots WHERE business_id = $1 AND remaining > 0)
                     OR id IN (SELECT membership_id FROM membership_events WHERE business_id = $1 AND kind IN ('type_changed', 'cycle_switched', 'renewed_into')))
              ORDER BY id"
        );
        let ids = query!(
            &mut tx,
            fetch_all as (i64,),
            sqlx::AssertSqlSafe(sql),
            business_id
        )?;
        tx.commit().await?;
        (business, types, ids)
    };
    let today = services.today(&business);
    let mut written = 0;
    for (id,) in ids {
        let mut tx = services.db.begin_write().await?;
        match bring_up_to_date(&mut tx, &business, &types, id, today, now).await {
            Ok(n) => {
                tx.commit().await?;
                written += n;
            }
            Err(error) => tracing::error!(membership = id, %error, "credits work failed"),
        }
    }
    Ok(written)
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

/// A membership's credits tab. Viewers and up.
pub async fn view(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
    filter: &EntryFilter,
) -> Result<CreditsView, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let mut view = view_in(&mut tx, &business, membership_id, filter, today).await?;
    tx.commit().await?;
    view.can_adjust = actor.role.allows(Role::FrontDesk);
    view.negative_limit =
        (!actor.role.allows(Role::Manager)).then_some(business.credit_adjust_limit);
    Ok(view)
}

/// A membership's credits as a reader sees them (nothing to adjust).
pub(crate) async fn view_in(
    tx: &mut Tx,
    business: &Business,
    membership_id: i64,
    filter: &EntryFilter,
    today: NaiveDate,
) -> Result<CreditsView, Error> {
    let stored = load_membership(tx, business.id, membership_id).await?;
    let types = types(tx, business.id).await?;
    let (current, _) = crate::memberships::type_in_effect_pub(&types, &stored, today)?;
    let kind = match filter.kind.trim() {
        "" => None,
        k => Some(
            EntryKind::parse(k)
                .ok_or_else(|| domain::Invalid::one("kind", "choose a kind from the list"))?,
        ),
    };
    let mut invalid = domain::Invalid::default();
    let date = |invalid: &mut domain::Invalid, field: &str, text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        invalid.check(
            field,
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "enter a date as YYYY-MM-DD"),
        )
    };
    let from = date(&mut invalid, "from", &filter.from);
    let to = date(&mut invalid, "to", &filter.to);
    if !invalid.is_empty() {
        return Err(invalid.into());
    }
    type Row = (
        i64,
        String,
        i64,
        NaiveDate,
        DateTime<Utc>,
        String,
        String,
        Option<NaiveDate>,
        Option<i64>,
    );
    let rows = query!(tx, fetch_all as Row,
        "SELECT id, kind, amount, effective_on, created_at, actor_label, reason, expires_on, booking_id
           FROM credit_entries
          WHERE business_id = $1 AND membership_id = $2
            AND ($3 = '' OR kind = $3)
            AND ($4 IS NULL OR effective_on >= $4) AND ($5 IS NULL OR effective_on <= $5)
          ORDER BY effective_on DESC, id DESC LIMIT 500",
        business.id, membership_id, kind.map(|k| k.as_str()).unwrap_or(""), from, to)?;
    let balance = balance(tx, membership_id).await?;
    let lots = lots(tx, membership_id).await?;
    let next_expiry = lots
        .iter()
        .filter_map(|l| {
            l.expires_on
                .filter(|e| *e > today)
                .map(|e| (e, l.remaining))
        })
        .min_by_key(|(e, _)| *e)
        .map(|(e, _)| {
            let n = lots
                .iter()
                .filter(|l| l.expires_on == Some(e))
                .map(|l| l.remaining)
                .sum();
            (e, n)
        });
    let entries = rows
        .into_iter()
        .map(
            |(id, kind, amount, on, at, by, reason, expires_on, booking_id)| {
                Ok(EntryView {
                    id,
                    kind: EntryKind::parse(&kind)
                        .ok_or_else(|| Error::internal(format!("credit entry {id} kind {kind}")))?,
                    amount,
                    on,
                    recorded_at: at
                        .with_timezone(&business.time_zone)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                    by,
                    reason,
                    expires_on,
                    booking_id,
                })
            },
        )
        .collect::<Result<_, Error>>()?;
    Ok(CreditsView {
        membership_id,
        balance,
        next_expiry,
        credits_per_period: credits_of(&current.spec),
        entries,
        can_adjust: false,
        negative_limit: None,
        form_key: crate::payments::new_key(),
    })
}

/// A staff adjustment, positive or negative, with its reason. Front desk may
/// take away at most the business's limit at once; managers any amount. The
/// form's key makes a repeated request adjust once. Returns the balance.
pub async fn adjust(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
    form: &AdjustForm,
) -> Result<i64, Error> {
    actor.require(Role::FrontDesk)?;
    let adjustment = check_adjust(form)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    // Also proves the membership is this business's.
    load_membership(&mut tx, business.id, membership_id).await?;
    if adjustment.amount < 0
        && -adjustment.amount > business.credit_adjust_limit
        && !actor.role.allows(Role::Manager)
    {
        return Err(Error::Conflict(format!(
            "Taking away more than {} credits at once needs a manager.",
            business.credit_adjust_limit
        )));
    }
    let today = services.today(&business);
    let types = types(&mut tx, business.id).await?;
    bring_up_to_date(&mut tx, &business, &types, membership_id, today, now).await?;
    let author = author(&mut tx, By::Staff(actor)).await?;
    let key = format!("adjust:{}", form.key.trim());
    let done = if adjustment.amount > 0 {
        write(
            &mut tx,
            business.id,
            membership_id,
            NewEntry {
                kind: EntryKind::Adjust,
                amount: adjustment.amount,
                lot_id: None,
                period_start: None,
                expires_on: None,
                on: today,
                reason: &adjustment.reason,
                booking_id: None,
                key: Some(key),
            },
            &author,
            now,
        )
        .await
        .map(|_| ())
    } else {
        take(
            &mut tx,
            business.id,
            membership_id,
            EntryKind::Adjust,
            -adjustment.amount,
            today,
            &adjustment.reason,
            None,
            &key,
            &author,
            now,
        )
        .await
        .map(|_| ())
    };
    match done {
        Ok(()) => {}
        // The same form sent twice: the first adjusted, this one changes nothing.
        Err(e) if e.is_unique_violation() => {
            drop(tx);
            let mut tx = services.db.begin_read().await?;
            let b = balance(&mut tx, membership_id).await?;
            tx.commit().await?;
            return Ok(b);
        }
        Err(Error::Short { message, .. }) => {
            return Err(Error::Short {
                field: "amount".into(),
                message,
            });
        }
        Err(e) => return Err(e),
    }
    crate::audit::by_staff(
        &mut tx,
        actor,
        "credits.adjusted",
        "membership",
        Some(membership_id),
        &format!("{:+} credits: {}", adjustment.amount, adjustment.reason),
        now,
    )
    .await?;
    let b = balance(&mut tx, membership_id).await?;
    tx.commit().await?;
    Ok(b)
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
    by: By<'_>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let author = author(tx, by).await?;
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

/// Redeems one credit as fast as the ledger allows: the benchmark's and the
/// concurrency test's unit of work. Its own transaction.
pub async fn redeem_one(
    services: &Services,
    business_id: i64,
    membership_id: i64,
    key: &str,
) -> Result<(), Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let today = now.date_naive();
    redeem(
        &mut tx,
        business_id,
        membership_id,
        1,
        today,
        "a redemption",
        None,
        key,
        By::System,
        now,
    )
    .await?;
    tx.commit().await
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
    by: By<'_>,
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
    let author = author(tx, by).await?;
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
