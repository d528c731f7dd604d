//! Memberships: selling, the lifecycle actions, the timeline and the lists.
//!
//! Every action is one write transaction: take the membership's row lock (a
//! conditional version bump), load its events, ask the domain's policy engine,
//! append the event, refresh the date projections, record the audit event.

use chrono::NaiveDate;
use domain::Invalid;
use domain::catalog::{PurchaseType, TypeStatus, current_price};
use domain::lifecycle::sale::{Payer, SaleCommand, SellForm, Source};
use domain::memberships::{
    ActionCommand, ActionPreview, Choice, FamilyMember, MembershipFilter, MembershipPage,
    MembershipQuery, MembershipSummary, SaleSummary, SellOptions, TimelineEntry,
};
use domain::paging::{self, Listed};
use domain::staff::Role;

pub use crate::engine::lifecycle::Showing;
use crate::engine::lifecycle::summaries;
use crate::engine::lifecycle::{
    act_as, check, holds_type, parties, preview_as, record_audit, refused, sell_in,
};
use crate::platform::actor::Actor;
pub use crate::platform::db::Seek;
use crate::platform::db::{Tx, Window};
use crate::platform::error::Error;
use crate::store::business::Business;
use crate::store::catalog::{self, Loaded};
pub use crate::store::memberships::HolderRef;
use crate::store::memberships::{
    EventRow, append_event, discount_of, holder, load_membership, lock_row, recorded, types,
};
use crate::store::memberships::{Filters, Order, count_filtered, fetch_page};
use crate::{Services, query};

// ---------------------------------------------------------------------------
// Selling

/// What can be sold to a member or an organization.
pub async fn sell_options(
    services: &Services,
    actor: &Actor,
    holder_ref: HolderRef,
) -> Result<SellOptions, Error> {
    actor.require(Role::FrontDesk)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let parties = parties(&mut tx, business.id, holder_ref).await?;
    let mut types: Vec<Loaded> = catalog::load(&mut tx, business.id, None)
        .await?
        .into_iter()
        .filter(|t| t.status == TypeStatus::Active)
        .collect();
    types.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    let prices = types
        .iter()
        .flat_map(|t| {
            t.prices.iter().map(|p| {
                (
                    t.id.to_string(),
                    Choice {
                        value: p.id.to_string(),
                        label: format!("{}: {} from {}", t.spec.name, p.fee, p.effective_from),
                    },
                )
            })
        })
        .collect();
    let types = types
        .iter()
        .map(|t| {
            let price = current_price(&t.prices, today)
                .map(|p| match t.spec.billing_interval {
                    Some(i) => format!(" — {} {}", p.fee, i.label().to_lowercase()),
                    None => format!(" — {}", p.fee),
                })
                .unwrap_or_default();
            Choice {
                value: t.id.to_string(),
                label: format!("{}{price}", t.spec.name),
            }
        })
        .collect();
    let locations = crate::store::business::locations(&mut tx, business.id)
        .await?
        .into_iter()
        .map(|l| Choice {
            value: l.id.to_string(),
            label: l.name,
        })
        .collect();
    tx.commit().await?;
    Ok(SellOptions {
        holder: parties.holder,
        types,
        prices,
        locations,
        organization: parties.organization.map(|(_, n)| n),
        today,
        currency: business.currency.code().to_string(),
        form: SellForm {
            start: today.to_string(),
            ..SellForm::default()
        },
    })
}

/// The preview of a sale: the first invoice and the dates, nothing saved.
pub async fn preview_sale(
    services: &Services,
    actor: &Actor,
    holder_ref: HolderRef,
    sale: &SaleCommand,
) -> Result<SaleSummary, Error> {
    actor.require(Role::FrontDesk)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let checked = check(&mut tx, &business, today, holder_ref, sale).await?;
    tx.commit().await?;
    Ok(checked.summary)
}

/// Sells a membership; returns its id.
pub async fn sell(
    services: &Services,
    actor: &Actor,
    holder_ref: HolderRef,
    sale: &SaleCommand,
) -> Result<i64, Error> {
    actor.require(Role::FrontDesk)?;
    sell_as(services, actor, holder_ref, sale).await
}

/// Sells a membership for whoever `by` is (staff, the portal, the system).
pub async fn sell_as(
    services: &Services,
    by: &Actor,
    holder_ref: HolderRef,
    sale: &SaleCommand,
) -> Result<i64, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, by.business_id).await?;
    let today = services.today(&business);
    let id = sell_in(&mut tx, &business, by, holder_ref, sale, today, now).await?;
    tx.commit().await?;
    // The first invoice is issued at once when the membership starts today.
    // Billing is "generate what is missing", so the daily run would write the
    // same lines; a failure here leaves them to it and the sale stands.
    if let Err(error) =
        crate::engine::invoicing::bill_membership(services, &business, id, today).await
    {
        tracing::error!(membership = id, %error, "billing right after the sale failed");
    }
    // Its first period's credits too, so the balance reads right at once.
    crate::engine::credits::grant_now(services, &business, id).await;
    Ok(id)
}

// ---------------------------------------------------------------------------
// The membership page and its actions

async fn family(tx: &mut Tx, business_id: i64, id: i64) -> Result<Vec<FamilyMember>, Error> {
    Ok(query!(tx, fetch_all as (i64, String, String, i64, NaiveDate),
        "SELECT mb.id, mb.first_name, mb.last_name, mb.member_number, mm.added_on
           FROM membership_members mm JOIN members mb ON mb.id = mm.member_id
          WHERE mm.business_id = $1 AND mm.membership_id = $2 AND mm.removed_at IS NULL ORDER BY mm.id",
        business_id, id)?
    .into_iter()
    .map(|(member_id, first, last, member_number, added_on)| FamilyMember {
        member_id,
        name: format!("{first} {last}"),
        member_number,
        added_on,
    })
    .collect())
}

fn timeline(rows: &[EventRow], business: &Business) -> Result<Vec<TimelineEntry>, Error> {
    let mut entries: Vec<TimelineEntry> = rows
        .iter()
        .map(|row| {
            let r = recorded(row)?;
            Ok(TimelineEntry {
                effective: r.event.effective(),
                recorded_at: row
                    .recorded_at
                    .with_timezone(&business.time_zone)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                by: r.by,
                what: r.event.describe(),
                reason: r.reason,
                forced: r.forced,
            })
        })
        .collect::<Result<_, Error>>()?;
    entries.reverse();
    Ok(entries)
}

async fn page(
    tx: &mut Tx,
    business: &Business,
    actor: &Actor,
    id: i64,
    today: NaiveDate,
) -> Result<MembershipPage, Error> {
    let loaded = load_membership(tx, business.id, id).await?;
    let types = types(tx, business.id).await?;
    let (current, price_id, mut m) = loaded.in_effect(&types, today)?;
    m.overdue = crate::engine::ledger::overdue_of(tx, business, id, today).await?;
    let discount = discount_of(&loaded.row)?;
    let price = current
        .prices
        .iter()
        .find(|p| p.id == price_id)
        .ok_or_else(|| Error::internal(format!("price of membership {id}")))?;
    let family = family(tx, business.id, id).await?;
    let upcoming =
        crate::engine::invoicing::upcoming(tx, business, &types, &loaded, &m, today).await?;
    let locations = query!(
        tx,
        fetch_all as (String,),
        "SELECT l.name FROM membership_locations ml JOIN locations l ON l.id = ml.location_id
          WHERE ml.membership_id = $1 AND l.business_id = $2 ORDER BY l.name",
        id,
        business.id
    )?
    .into_iter()
    .map(|(n,)| n)
    .collect();
    let choices = |same_interval: bool| {
        let mut out: Vec<Choice> = types
            .values()
            .filter(|t| {
                t.id != current.id
                    && t.status == TypeStatus::Active
                    && t.spec.purchase_type == current.spec.purchase_type
                    && (t.spec.billing_interval == current.spec.billing_interval) == same_interval
            })
            .map(|t| Choice {
                value: t.id.to_string(),
                label: match t.spec.billing_interval {
                    Some(i) if !same_interval => {
                        format!("{} ({})", t.spec.name, i.label().to_lowercase())
                    }
                    _ => t.spec.name.clone(),
                },
            })
            .collect();
        out.sort_by(|a, b| a.label.cmp(&b.label));
        out
    };
    let other_types = choices(true);
    let cycle_types = if current.spec.purchase_type == PurchaseType::Recurring {
        choices(false)
    } else {
        Vec::new()
    };
    let price_versions = current
        .prices
        .iter()
        .map(|p| Choice {
            value: p.id.to_string(),
            label: format!("{} from {}", p.fee, p.effective_from),
        })
        .collect();
    Ok(MembershipPage {
        id,
        holder: holder(tx, business.id, &loaded.row).await?,
        type_id: current.id,
        type_name: current.spec.name.clone(),
        type_color: current.spec.color.clone(),
        fee: price.fee,
        interval: match (current.spec.purchase_type, current.spec.billing_interval) {
            (PurchaseType::Recurring, Some(i)) => i.label().to_lowercase(),
            (purchase, _) => purchase.label().to_lowercase(),
        },
        status: m.status(today),
        locked: m.locked(),
        anchor: m.billing_anchor(today).unwrap_or(loaded.row.start_date),
        pause_refused: current
            .spec
            .policies
            .pause
            .is_none()
            .then(|| format!("{} does not allow pauses.", current.spec.name)),
        term_last_day: m.term_end(today).and_then(|d| d.pred_opt()),
        commitment_last_day: m.commitment_end().and_then(|e| e.pred_opt()),
        next_billing: m.next_billing(today),
        last_day: m.cancel_end().and_then(|e| e.pred_opt()),
        payer: Payer::parse(&loaded.row.payer)
            .map(|p| p.label().to_string())
            .unwrap_or_default(),
        source: Source::parse(&loaded.row.source)
            .map(|s| s.label().to_string())
            .unwrap_or_default(),
        discount: discount.map(|d| d.describe()),
        notes: loaded.row.notes.clone(),
        locations,
        timeline: timeline(&loaded.event_rows, business)?,
        upcoming,
        other_types,
        cycle_types,
        price_versions,
        can_manage: actor.allows(Role::Manager),
        can_change: actor.allows(Role::FrontDesk),
        today,
        version: loaded.row.version,
        family_max: current.spec.group.as_ref().map(|g| g.max_family_members),
        family,
        invoices: crate::store::invoices::of_membership(tx, business.id, id).await?,
    })
}

pub async fn membership(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> Result<MembershipPage, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let page = page(&mut tx, &business, actor, id, today).await?;
    tx.commit().await?;
    Ok(page)
}

/// What an action would do, without saving it.
pub async fn preview_action(
    services: &Services,
    actor: &Actor,
    id: i64,
    command: &ActionCommand,
) -> Result<ActionPreview, Error> {
    actor.require(Role::FrontDesk)?;
    preview_as(services, actor, id, command).await
}

/// Applies an action to a membership as staff (or an API key): what it did,
/// with the membership afterwards. `showing` says whether the answer carries
/// the billing lines of the change (the API's does; the staff page reloads
/// the membership instead).
pub async fn act(
    services: &Services,
    actor: &Actor,
    id: i64,
    command: &ActionCommand,
    showing: Showing,
) -> Result<(ActionPreview, MembershipPage), Error> {
    actor.require(Role::FrontDesk)?;
    let done = act_as(services, actor, id, command, showing).await?;
    Ok((done, membership(services, actor, id).await?))
}

// ---------------------------------------------------------------------------
// Lists

/// A page of the memberships matching the filters, newest first, with how
/// many match in all: filtered, ordered, counted and paged in SQL on the
/// stored projection; only the page's rows are loaded and explained.
pub async fn list_memberships(
    services: &Services,
    actor: &Actor,
    filter: &MembershipFilter,
) -> Result<Listed<MembershipSummary>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let q = filter.parse(today)?;
    let mut tx = up_to_date(services, tx, &business, today).await?;
    let filters = filters_of(&business, &q, None);
    let total = count_filtered(&mut tx, &filters).await?;
    let window = Window {
        offset: paging::offset_of(q.page, paging::PER_PAGE),
        limit: paging::PER_PAGE,
    };
    let rows = fetch_page(&mut tx, &filters, Order::Newest, window).await?;
    let rows = summaries(&mut tx, &business, rows, today).await?;
    tx.commit().await?;
    Ok(Listed {
        rows,
        total,
        page: q.page,
        per_page: paging::PER_PAGE,
    })
}

/// Up to `limit` of the memberships matching the filters (and held by
/// `holder`, when given) in id order from `seek` (before an id: descending,
/// the nearest first), and how many match in all: the API's list.
pub async fn page_matching(
    services: &Services,
    actor: &Actor,
    filter: &MembershipFilter,
    holder: Option<HolderRef>,
    seek: Seek,
    limit: i64,
) -> Result<(Vec<MembershipSummary>, i64), Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let q = filter.parse(today)?;
    let mut tx = up_to_date(services, tx, &business, today).await?;
    let filters = filters_of(&business, &q, holder);
    let count = count_filtered(&mut tx, &filters).await?;
    let window = Window { offset: 0, limit };
    let rows = fetch_page(&mut tx, &filters, Order::Id(seek), window).await?;
    let rows = summaries(&mut tx, &business, rows, today).await?;
    tx.commit().await?;
    Ok((rows, count))
}

fn filters_of(business: &Business, q: &MembershipQuery, holder: Option<HolderRef>) -> Filters {
    Filters {
        location_id: q.location_id.unwrap_or(0),
        active: q.active,
        ending: q.ending,
        holder,
        status: q.status,
        type_id: q.type_id,
        ..Filters::all(business.id)
    }
}

/// A read transaction on a stored projection that is current on `today`:
/// when rows are due for recomputation (the daily work has not reached them
/// yet), they are advanced first, in write transactions of their own.
async fn up_to_date(
    services: &Services,
    mut tx: Tx,
    business: &Business,
    today: NaiveDate,
) -> Result<Tx, Error> {
    if !crate::store::memberships::any_due(&mut tx, business.id, today).await? {
        return Ok(tx);
    }
    tx.commit().await?;
    crate::store::memberships::advance(&services.db, business, today).await?;
    services.db.begin_read().await
}

// ---------------------------------------------------------------------------
// Households

/// Adds a family member (by member number) to a group membership.
pub async fn add_family_member(
    services: &Services,
    actor: &Actor,
    id: i64,
    member_number: &str,
    version: Option<i64>,
) -> Result<MembershipPage, Error> {
    actor.require(Role::FrontDesk)?;
    let number: i64 = member_number
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| Invalid::one("member_number", "enter a member number, such as 1002"))?;
    change_household(services, actor, id, version, Household::Add(number)).await
}

/// Removes a current family member; the row is ended, not deleted.
pub async fn remove_family_member(
    services: &Services,
    actor: &Actor,
    id: i64,
    member_id: i64,
    version: Option<i64>,
) -> Result<MembershipPage, Error> {
    actor.require(Role::FrontDesk)?;
    change_household(services, actor, id, version, Household::Remove(member_id)).await
}

/// A change to a household: add by member number, or remove by member id.
enum Household {
    Add(i64),
    Remove(i64),
}

async fn change_household(
    services: &Services,
    actor: &Actor,
    id: i64,
    version: Option<i64>,
    change: Household,
) -> Result<MembershipPage, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = crate::store::business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    lock_row(&mut tx, business.id, id, version).await?;
    let (member_id, first, last) = match change {
        Household::Add(number) => query!(&mut tx, fetch_optional as (i64, String, String),
            "SELECT id, first_name, last_name FROM members WHERE business_id = $1 AND member_number = $2 AND status = 'active'",
            business.id, number)?
        .ok_or_else(|| Error::from(Invalid::one("member_number", format!("no active member has number {number}"))))?,
        Household::Remove(member_id) => query!(&mut tx, fetch_optional as (i64, String, String),
            "SELECT id, first_name, last_name FROM members WHERE business_id = $1 AND id = $2",
            business.id, member_id)?
        .ok_or(Error::NotFound)?,
    };
    let adding = matches!(change, Household::Add(_));
    let name = format!("{first} {last}");
    let loaded = load_membership(&mut tx, business.id, id).await?;
    let types = types(&mut tx, business.id).await?;
    let (current, _, m) = loaded.in_effect(&types, today)?;
    let family = family(&mut tx, business.id, id).await?;
    let holds_same_type = adding
        && holds_type(
            &mut tx,
            &business,
            HolderRef::Member(member_id),
            current.id,
            today,
        )
        .await?;
    let candidate = domain::lifecycle::household::Candidate {
        member_id,
        name: &name,
        is_holder: loaded.row.member_id == Some(member_id),
        on_it: family.iter().any(|f| f.member_id == member_id),
        holds_same_type,
    };
    let decided = if adding {
        domain::lifecycle::household::add(&m, family.len() as u32, &candidate, today)
    } else {
        domain::lifecycle::household::remove(&m, &candidate, today)
    };
    let event = decided.map_err(refused)?;
    if adding {
        query!(
            &mut tx,
            execute,
            "INSERT INTO membership_members (business_id, membership_id, member_id, added_on, added_at) VALUES ($1, $2, $3, $4, $5)",
            business.id,
            id,
            member_id,
            today,
            now
        )?;
    } else {
        query!(&mut tx, execute,
            "UPDATE membership_members SET removed_on = $1, removed_at = $2
              WHERE business_id = $3 AND membership_id = $4 AND member_id = $5 AND removed_at IS NULL",
            today, now, business.id, id, member_id)?;
    }
    let (actor_kind, actor_id) = actor.kind_and_id();
    let label = actor.author(&mut tx).await?.label;
    append_event(
        &mut tx,
        business.id,
        id,
        &event,
        "",
        false,
        (actor_kind, actor_id, &label),
        now,
    )
    .await?;
    let details = serde_json::json!({ "event": event });
    let action = format!("membership.{}", event.kind());
    record_audit(&mut tx, actor, &action, id, &details, now).await?;
    let page = page(&mut tx, &business, actor, id, today).await?;
    tx.commit().await?;
    Ok(page)
}
