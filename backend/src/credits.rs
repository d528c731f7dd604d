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
    AdjustCommand, CreditsView, EntryFilter, EntryKind, EntryView, check_adjust, credits_of,
};
use domain::paging::{self, Listed};
use domain::staff::Role;

use crate::platform::actor::Actor;
use crate::platform::db::{Tx, Window};
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::memberships::{load_membership, types};

use crate::engine::credits::{NewEntry, balance, bring_up_to_date, lots, redeem, take, write};
use crate::{Services, query};

/// A membership's credits tab. Viewers and up.
pub async fn view(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
    filter: &EntryFilter,
) -> Result<CreditsView, Error> {
    let page = paging::page_number(&filter.page).map_err(|m| Error::invalid("page", m))?;
    let window = Window {
        offset: paging::offset_of(page, paging::PER_PAGE),
        limit: paging::PER_PAGE,
    };
    view_window(services, actor, membership_id, filter, window).await
}

/// A membership's credits with the history's `window` (the API's pages).
pub async fn view_window(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
    filter: &EntryFilter,
    window: Window,
) -> Result<CreditsView, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let mut view = view_in(&mut tx, &business, membership_id, filter, window, today).await?;
    tx.commit().await?;
    view.can_adjust = actor.allows(Role::FrontDesk);
    view.negative_limit = (!actor.allows(Role::Manager)).then_some(business.credit_adjust_limit);
    Ok(view)
}

/// A membership's credits as a reader sees them (nothing to adjust).
pub(crate) async fn view_in(
    tx: &mut Tx,
    business: &Business,
    membership_id: i64,
    filter: &EntryFilter,
    window: Window,
    today: NaiveDate,
) -> Result<CreditsView, Error> {
    let stored = load_membership(tx, business.id, membership_id).await?;
    let types = types(tx, business.id).await?;
    let (current, _) = crate::store::memberships::type_in_effect_pub(&types, &stored, today)?;
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
    // One membership's history: its index narrows to it, the rest filters.
    let conditions = "business_id = $1 AND membership_id = $2 AND ($3 = '' OR kind = $3)
            AND ($4 IS NULL OR effective_on >= $4) AND ($5 IS NULL OR effective_on <= $5)";
    let kind = kind.map(|k| k.as_str()).unwrap_or("");
    let (total,) = query!(
        tx,
        fetch_one as (i64,),
        sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM credit_entries WHERE {conditions}"
        )),
        business.id,
        membership_id,
        kind,
        from,
        to
    )?;
    let rows = query!(tx, fetch_all as Row,
        sqlx::AssertSqlSafe(format!(
            "SELECT id, kind, amount, effective_on, created_at, actor_label, reason, expires_on, booking_id
               FROM credit_entries WHERE {conditions}
              ORDER BY effective_on DESC, id DESC LIMIT $6 OFFSET $7")),
        business.id, membership_id, kind, from, to, window.limit, window.offset)?;
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
        entries: Listed {
            rows: entries,
            total,
            page: window.offset / window.limit.max(1) + 1,
            per_page: window.limit,
        },
        can_adjust: false,
        negative_limit: None,
        form_key: crate::engine::ledger::new_key(),
    })
}

/// A staff adjustment, positive or negative, with its reason. Front desk may
/// take away at most the business's limit at once; managers any amount. The
/// form's key makes a repeated request adjust once. Returns the balance.
pub async fn adjust(
    services: &Services,
    actor: &Actor,
    membership_id: i64,
    command: &AdjustCommand,
) -> Result<i64, Error> {
    actor.require(Role::FrontDesk)?;
    let adjustment = check_adjust(command)?;
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    // Also proves the membership is this business's.
    load_membership(&mut tx, business.id, membership_id).await?;
    if adjustment.amount < 0
        && -adjustment.amount > business.credit_adjust_limit
        && !actor.allows(Role::Manager)
    {
        return Err(Error::Conflict(format!(
            "Taking away more than {} credits at once needs a manager.",
            business.credit_adjust_limit
        )));
    }
    let today = services.today(&business);
    let types = types(&mut tx, business.id).await?;
    bring_up_to_date(&mut tx, &business, &types, membership_id, today, now).await?;
    let author = actor.author(&mut tx).await?;
    let key = format!("adjust:{}", command.key.trim());
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
        Err(e) if e.violates_unique("credit_entries", &["membership_id", "entry_key"]) => {
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
    crate::platform::audit::record(
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
        &Actor::system(business_id),
        now,
    )
    .await?;
    tx.commit().await
}
