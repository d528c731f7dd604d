//! Memberships: selling, the lifecycle actions, the timeline and the lists.
//!
//! Every action is one write transaction: take the membership's row lock (a
//! conditional version bump), load its events, ask the domain's policy engine,
//! append the event, refresh the date projections, record the audit event.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::Invalid;
use domain::billing::charges::Discount;
use domain::catalog::{PurchaseType, TypeStatus, current_price};
use domain::lifecycle::policy::{self, Acting, Action, Request};
use domain::lifecycle::sale::{
    Payer, SaleContext, SellForm, Source, TypeOnSale, check_sale, preview,
};
use domain::lifecycle::{Event, Membership, Recorded, Status, StatusReport};
use domain::memberships::{
    ActionForm, ActionPreview, Asked, Choice, FamilyMember, Holder, MembershipFilter,
    MembershipPage, MembershipSummary, SaleSummary, SellOptions, TimelineEntry,
};
use domain::staff::Role;

use crate::auth::Actor;
use crate::business::{self, Business};
use crate::catalog::{self, Loaded};
use crate::db::Tx;
use crate::error::Error;
use crate::{Services, audit, query};

/// Who a membership is sold to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolderRef {
    Member(i64),
    Organization(i64),
}

/// Who records an event.
#[derive(Clone, Copy, Debug)]
pub enum By<'a> {
    Staff(&'a Actor),
    /// A member through the portal.
    Member(i64),
    System,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    pub(crate) id: i64,
    pub(crate) member_id: Option<i64>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) membership_type_id: i64,
    pub(crate) price_id: i64,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: Option<NaiveDate>,
    pub(crate) payer: String,
    pub(crate) discount: String,
    pub(crate) source: String,
    pub(crate) notes: String,
    pub(crate) version: i64,
}

const MEMBERSHIP_COLUMNS: &str = "m.id, m.member_id, m.organization_id, m.membership_type_id, m.price_id, m.start_date, m.end_date, m.payer, m.discount, m.source, m.notes, m.version";

#[derive(sqlx::FromRow)]
struct EventRow {
    membership_id: i64,
    data: String,
    reason: String,
    forced: bool,
    actor_label: String,
    recorded_at: DateTime<Utc>,
}

fn recorded(row: &EventRow) -> Result<Recorded, Error> {
    let event: Event = serde_json::from_str(&row.data)
        .map_err(|e| Error::internal(format!("event of membership {}: {e}", row.membership_id)))?;
    Ok(Recorded {
        event,
        by: row.actor_label.clone(),
        reason: row.reason.clone(),
        forced: row.forced,
    })
}

pub(crate) fn discount_of(row: &MembershipRow) -> Result<Option<Discount>, Error> {
    if row.discount.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(&row.discount)
        .map(Some)
        .map_err(|e| Error::internal(format!("discount of membership {}: {e}", row.id)))
}

/// A membership with its events and the type in effect.
pub(crate) struct Stored {
    pub(crate) row: MembershipRow,
    pub(crate) events: Vec<Recorded>,
    event_rows: Vec<EventRow>,
}

async fn load_events(tx: &mut Tx, business_id: i64, id: i64) -> Result<Vec<EventRow>, Error> {
    Ok(query!(tx, fetch_all as EventRow,
        "SELECT membership_id, data, reason, forced, actor_label, recorded_at FROM membership_events
          WHERE business_id = $1 AND membership_id = $2 ORDER BY id",
        business_id, id)?)
}

impl Stored {
    /// The type and price version in effect on `today`, and the membership as
    /// that type's rules read it.
    fn in_effect<'a>(
        &'a self,
        types: &'a HashMap<i64, Loaded>,
        today: NaiveDate,
    ) -> Result<(&'a Loaded, i64, Membership<'a>), Error> {
        let (current, price_id) = type_in_effect(types, &self.row, &self.events, today)?;
        let m = Membership {
            spec: &current.spec,
            events: &self.events,
            overdue: Default::default(),
        };
        Ok((current, price_id, m))
    }
}

pub(crate) async fn load_membership(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<Stored, Error> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.business_id = $1 AND m.id = $2"
    );
    let row = query!(
        tx,
        fetch_optional as MembershipRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        id
    )?
    .ok_or(Error::NotFound)?;
    let event_rows = load_events(tx, business_id, id).await?;
    let events = event_rows.iter().map(recorded).collect::<Result<_, _>>()?;
    Ok(Stored {
        row,
        events,
        event_rows,
    })
}

/// The memberships with ids from `first` to `last`, with their events, read
/// in two queries (the billing run's batches).
pub(crate) async fn load_batch(
    tx: &mut Tx,
    business_id: i64,
    first: i64,
    last: i64,
) -> Result<Vec<Stored>, Error> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.business_id = $1 AND m.id BETWEEN $2 AND $3 ORDER BY m.id"
    );
    let rows = query!(
        tx,
        fetch_all as MembershipRow,
        sqlx::AssertSqlSafe(sql),
        business_id,
        first,
        last
    )?;
    let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
        return Ok(Vec::new());
    };
    let mut events: HashMap<i64, Vec<EventRow>> = HashMap::new();
    for row in query!(tx, fetch_all as EventRow,
        "SELECT membership_id, data, reason, forced, actor_label, recorded_at FROM membership_events
          WHERE business_id = $1 AND membership_id BETWEEN $2 AND $3 ORDER BY membership_id, id",
        business_id, first, last)?
    {
        events.entry(row.membership_id).or_default().push(row);
    }
    rows.into_iter()
        .map(|row| {
            let event_rows = events.remove(&row.id).unwrap_or_default();
            let events = event_rows.iter().map(recorded).collect::<Result<_, _>>()?;
            Ok(Stored {
                row,
                events,
                event_rows,
            })
        })
        .collect()
}

/// The types of the business by id.
pub(crate) async fn types(tx: &mut Tx, business_id: i64) -> Result<HashMap<i64, Loaded>, Error> {
    Ok(catalog::load(tx, business_id, None)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect())
}

fn type_in_effect<'t>(
    types: &'t HashMap<i64, Loaded>,
    row: &MembershipRow,
    events: &[Recorded],
    today: NaiveDate,
) -> Result<(&'t Loaded, i64), Error> {
    // The type's rules decide which type is in effect only through events,
    // so any type's spec can read them.
    let sold = types
        .get(&row.membership_type_id)
        .ok_or_else(|| Error::internal(format!("type of membership {}", row.id)))?;
    let m = Membership {
        spec: &sold.spec,
        events,
        overdue: Default::default(),
    };
    let (type_id, price_id) = m.type_and_price_on((row.membership_type_id, row.price_id), today);
    let current = types
        .get(&type_id)
        .ok_or_else(|| Error::internal(format!("type {type_id} of membership {}", row.id)))?;
    Ok((current, price_id))
}

/// The type and price version in effect on `today`.
pub(crate) fn type_in_effect_pub<'t>(
    types: &'t HashMap<i64, Loaded>,
    stored: &Stored,
    today: NaiveDate,
) -> Result<(&'t Loaded, i64), Error> {
    type_in_effect(types, &stored.row, &stored.events, today)
}

/// The name of who holds a membership (a member or an organization).
pub(crate) async fn holder_name(
    tx: &mut Tx,
    business_id: i64,
    stored: &Stored,
) -> Result<String, Error> {
    Ok(holder(tx, business_id, &stored.row).await?.name)
}

async fn holder(tx: &mut Tx, business_id: i64, row: &MembershipRow) -> Result<Holder, Error> {
    if let Some(member_id) = row.member_id {
        let (first, last, number) = query!(
            tx,
            fetch_one as (String, String, i64),
            "SELECT first_name, last_name, member_number FROM members WHERE business_id = $1 AND id = $2",
            business_id,
            member_id
        )?;
        return Ok(Holder {
            name: format!("{first} {last}"),
            href: format!("/members/{member_id}"),
            member_number: Some(number),
        });
    }
    let org_id = row.organization_id.unwrap_or_default();
    let (name,) = query!(
        tx,
        fetch_one as (String,),
        "SELECT name FROM organizations WHERE business_id = $1 AND id = $2",
        business_id,
        org_id
    )?;
    Ok(Holder {
        name,
        href: format!("/organizations/{org_id}"),
        member_number: None,
    })
}

/// Who holds a membership, and its type's name (for invoices).
pub(crate) async fn holder_and_name(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
) -> Result<(Holder, String), Error> {
    let loaded = load_membership(tx, business_id, id).await?;
    let name = query!(
        tx,
        fetch_one as (String,),
        "SELECT name FROM membership_types WHERE business_id = $1 AND id = $2",
        business_id,
        loaded.row.membership_type_id
    )?
    .0;
    Ok((holder(tx, business_id, &loaded.row).await?, name))
}

/// The label an event records for who did it, and what they may do.
pub(crate) async fn who(
    tx: &mut Tx,
    by: By<'_>,
) -> Result<(&'static str, Option<i64>, String, Acting), Error> {
    Ok(match by {
        By::Staff(actor) => {
            let (name,) = query!(
                tx,
                fetch_one as (String,),
                "SELECT name FROM staff_users WHERE id = $1",
                actor.staff_user_id
            )?;
            let acting = if actor.role.allows(Role::Manager) {
                Acting::Manager
            } else {
                Acting::FrontDesk
            };
            let label = format!("{name} ({})", actor.role.label().to_lowercase());
            ("staff", Some(actor.staff_user_id), label, acting)
        }
        By::Member(id) => (
            "member",
            Some(id),
            "the member via the portal".to_string(),
            Acting::Member,
        ),
        By::System => ("system", None, "the system".to_string(), Acting::System),
    })
}

/// Puts what billing did or saw on a membership's timeline, as the system.
pub(crate) async fn append_billing_note(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    on: NaiveDate,
    note: &domain::lifecycle::BillingNote,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let event = Event::Billing {
        on,
        note: note.clone(),
    };
    append_event(
        tx,
        business_id,
        membership_id,
        &event,
        "",
        false,
        ("system", None, "the system"),
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn append_event(
    tx: &mut Tx,
    business_id: i64,
    membership_id: i64,
    event: &Event,
    reason: &str,
    forced: bool,
    (actor, actor_id, label): (&str, Option<i64>, &str),
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let data = serde_json::to_string(event).map_err(|e| Error::internal(e.to_string()))?;
    query!(tx, execute,
        "INSERT INTO membership_events (business_id, membership_id, kind, effective_on, data, reason, forced, actor, actor_id, actor_label, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        business_id, membership_id, event.kind(), event.effective(), data, reason, forced, actor, actor_id, label, now)?;
    Ok(())
}

/// The dates kept on the row for range queries: the anchor, and the end that a
/// cancellation or a term that does not renew by itself sets.
async fn refresh_projection(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
    m: &Membership<'_>,
    today: NaiveDate,
) -> Result<(), Error> {
    let renews = m.spec.end_action == domain::catalog::spec::EndAction::RenewSame;
    let term_end = if renews { None } else { m.term_end(today) };
    let end = match (m.cancel_end(), term_end) {
        (Some(c), Some(t)) => Some(c.min(t)),
        (c, t) => c.or(t),
    };
    let anchor = m.anchor().unwrap_or(today);
    query!(
        tx,
        execute,
        "UPDATE memberships SET start_date = $1, end_date = $2 WHERE business_id = $3 AND id = $4",
        anchor,
        end,
        business_id,
        id
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Selling

struct SaleParties {
    holder: Holder,
    member_type: Option<String>,
    organization: Option<(i64, String)>,
}

async fn parties(
    tx: &mut Tx,
    business_id: i64,
    holder_ref: HolderRef,
) -> Result<SaleParties, Error> {
    match holder_ref {
        HolderRef::Member(id) => {
            let (first, last, number, member_type, status) = query!(tx, fetch_optional as (String, String, i64, Option<String>, String),
                "SELECT first_name, last_name, member_number, member_type, status FROM members WHERE business_id = $1 AND id = $2",
                business_id, id)?
            .ok_or(Error::NotFound)?;
            if status != "active" {
                return Err(Error::Conflict(
                    "this member is archived: restore them before selling a membership".into(),
                ));
            }
            let organization = query!(tx, fetch_optional as (i64, String),
                "SELECT o.id, o.name FROM organization_members om JOIN organizations o ON o.id = om.organization_id
                  WHERE om.business_id = $1 AND om.member_id = $2 AND om.removed_at IS NULL ORDER BY om.id LIMIT 1",
                business_id, id)?;
            Ok(SaleParties {
                holder: Holder {
                    name: format!("{first} {last}"),
                    href: format!("/members/{id}"),
                    member_number: Some(number),
                },
                member_type,
                organization,
            })
        }
        HolderRef::Organization(id) => {
            let (name,) = query!(
                tx,
                fetch_optional as (String,),
                "SELECT name FROM organizations WHERE business_id = $1 AND id = $2 AND deleted_at IS NULL",
                business_id,
                id
            )?
            .ok_or(Error::NotFound)?;
            Ok(SaleParties {
                holder: Holder {
                    name: name.clone(),
                    href: format!("/organizations/{id}"),
                    member_number: None,
                },
                member_type: None,
                organization: Some((id, name)),
            })
        }
    }
}

/// Whether the holder has a membership of the type that has not ended.
async fn holds_type(
    tx: &mut Tx,
    business: &Business,
    holder_ref: HolderRef,
    type_id: i64,
    today: NaiveDate,
) -> Result<bool, Error> {
    let (member_id, org_id) = match holder_ref {
        HolderRef::Member(id) => (id, 0),
        HolderRef::Organization(id) => (0, id),
    };
    let ids = query!(
        tx,
        fetch_all as (i64,),
        "SELECT id FROM memberships WHERE business_id = $1 AND membership_type_id = $2
            AND ((member_id = $3) OR (member_id IS NULL AND organization_id = $4))
            AND (end_date IS NULL OR end_date > $5)",
        business.id,
        type_id,
        member_id,
        org_id,
        today
    )?;
    let types = types(tx, business.id).await?;
    for (id,) in ids {
        let loaded = load_membership(tx, business.id, id).await?;
        let (_, _, m) = loaded.in_effect(&types, today)?;
        let status = m.status(today).status;
        if !matches!(
            status,
            Status::Cancelled | Status::Expired | Status::Rejected
        ) {
            return Ok(true);
        }
    }
    Ok(false)
}

struct CheckedSale {
    /// The end date projection: a term that does not renew by itself.
    end: Option<NaiveDate>,
    parties: SaleParties,
    sale: domain::lifecycle::sale::Sale,
    summary: SaleSummary,
}

async fn check(
    tx: &mut Tx,
    business: &Business,
    today: NaiveDate,
    holder_ref: HolderRef,
    form: &SellForm,
) -> Result<CheckedSale, Error> {
    let parties = parties(tx, business.id, holder_ref).await?;
    let Some(type_id) = form.type_id.trim().parse::<i64>().ok() else {
        return Err(Invalid::one("type_id", "choose a membership type").into());
    };
    let sold = catalog::load_one(tx, business.id, type_id)
        .await
        .map_err(|e| match e {
            Error::NotFound => Invalid::one("type_id", "choose a membership type").into(),
            e => e,
        })?;
    let locations: Vec<i64> = business::locations(tx, business.id)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    let holds = holds_type(tx, business, holder_ref, type_id, today).await?;
    let ctx = SaleContext {
        today,
        currency: business.currency,
        sold: TypeOnSale {
            id: sold.id,
            status: sold.status,
            spec: &sold.spec,
            prices: &sold.prices,
        },
        member_type: parties.member_type.as_deref(),
        organization: parties.organization.as_ref().map(|(_, n)| n.as_str()),
        holds_this_type: holds,
        business_locations: &locations,
    };
    let mut sale = check_sale(form, &ctx)?;
    if matches!(holder_ref, HolderRef::Organization(_)) {
        sale.payer = Payer::Organization;
    }
    let price = sold
        .prices
        .iter()
        .find(|p| p.id == sale.price_id)
        .ok_or_else(|| Error::internal("a checked sale has its price"))?;
    let summary = SaleSummary {
        type_name: sold.spec.name.clone(),
        price: price.fee,
        preview: preview(&sold.spec, price, &sale, today),
    };
    let renews = sold.spec.end_action == domain::catalog::spec::EndAction::RenewSame;
    let end = summary
        .preview
        .term_last_day
        .and_then(|d| d.succ_opt())
        .filter(|_| !renews);
    Ok(CheckedSale {
        end,
        parties,
        sale,
        summary,
    })
}

/// The first invoice and dates a sale would have, inside the caller's transaction.
pub(crate) async fn sale_summary(
    tx: &mut Tx,
    business: &Business,
    today: NaiveDate,
    holder_ref: HolderRef,
    form: &SellForm,
) -> Result<SaleSummary, Error> {
    Ok(check(tx, business, today, holder_ref, form).await?.summary)
}

/// What can be sold to a member or an organization.
pub async fn sell_options(
    services: &Services,
    actor: &Actor,
    holder_ref: HolderRef,
) -> Result<SellOptions, Error> {
    actor.require(Role::FrontDesk)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
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
    let locations = business::locations(&mut tx, business.id)
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
    form: &SellForm,
) -> Result<SaleSummary, Error> {
    actor.require(Role::FrontDesk)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let checked = check(&mut tx, &business, today, holder_ref, form).await?;
    tx.commit().await?;
    Ok(checked.summary)
}

/// Sells a membership; returns its id.
pub async fn sell(
    services: &Services,
    actor: &Actor,
    holder_ref: HolderRef,
    form: &SellForm,
) -> Result<i64, Error> {
    actor.require(Role::FrontDesk)?;
    sell_as(
        services,
        By::Staff(actor),
        actor.business_id,
        holder_ref,
        form,
    )
    .await
}

/// Sells a membership for whoever `by` is (staff, the portal, the system).
pub async fn sell_as(
    services: &Services,
    by: By<'_>,
    business_id: i64,
    holder_ref: HolderRef,
    form: &SellForm,
) -> Result<i64, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    let id = sell_in(&mut tx, &business, by, holder_ref, form, today, now).await?;
    tx.commit().await?;
    // The first invoice is issued at once when the membership starts today.
    // Billing is "generate what is missing", so the daily run would write the
    // same lines; a failure here leaves them to it and the sale stands.
    if let Err(error) = crate::billing::bill_membership(services, &business, id, today).await {
        tracing::error!(membership = id, %error, "billing right after the sale failed");
    }
    // Its first period's credits too, so the balance reads right at once.
    crate::credits::grant_now(services, &business, id).await;
    Ok(id)
}

/// Records a sale inside the caller's write transaction (the first invoice
/// is the caller's to bill after the commit); returns the membership's id.
pub(crate) async fn sell_in(
    tx: &mut Tx,
    business: &Business,
    by: By<'_>,
    holder_ref: HolderRef,
    form: &SellForm,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let CheckedSale {
        end,
        parties,
        sale,
        summary,
    } = check(tx, business, today, holder_ref, form).await?;
    let (member_id, organization_id) = match holder_ref {
        HolderRef::Member(id) => (
            Some(id),
            match sale.payer {
                Payer::Organization => parties.organization.as_ref().map(|(id, _)| *id),
                _ => None,
            },
        ),
        HolderRef::Organization(id) => (None, Some(id)),
    };
    let discount = match &sale.discount {
        Some(d) => serde_json::to_string(d).map_err(|e| Error::internal(e.to_string()))?,
        None => String::new(),
    };
    let (id,) = query!(tx, fetch_one as (i64,),
        "INSERT INTO memberships (business_id, member_id, organization_id, membership_type_id, price_id, start_date, end_date,
                                  payer, discount, source, notes, version, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12) RETURNING id",
        business.id, member_id, organization_id, sale.type_id, sale.price_id, sale.start, end,
        sale.payer.as_str(), discount, sale.source.as_str(), &sale.notes, now)?;
    for location_id in &sale.location_ids {
        query!(
            tx,
            execute,
            "INSERT INTO membership_locations (membership_id, location_id) VALUES ($1, $2)",
            id,
            *location_id
        )?;
    }
    let (actor, actor_id, label, _) = who(tx, by).await?;
    let event = Event::Sold {
        start: sale.start,
        approval_required: sale.approval_required,
    };
    append_event(
        tx,
        business.id,
        id,
        &event,
        "",
        false,
        (actor, actor_id, &label),
        now,
    )
    .await?;
    let details = serde_json::json!({
        "holder": parties.holder.name,
        "type": summary.type_name,
        "start": sale.start,
        "first_invoice_total": summary.preview.total.to_plain(),
    });
    record_audit(tx, business.id, by, "membership.sold", id, &details, now).await?;
    Ok(id)
}

async fn record_audit(
    tx: &mut Tx,
    business_id: i64,
    by: By<'_>,
    action: &str,
    id: i64,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let by = match by {
        By::Staff(actor) => audit::By::Staff(actor.staff_user_id),
        By::Member(_) | By::System => audit::By::System,
    };
    audit::record(
        tx,
        business_id,
        by,
        action,
        "membership",
        Some(id),
        &details.to_string(),
        now,
    )
    .await
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
    m.overdue = crate::payments::overdue_of(tx, business, id, today).await?;
    let discount = discount_of(&loaded.row)?;
    let price = current
        .prices
        .iter()
        .find(|p| p.id == price_id)
        .ok_or_else(|| Error::internal(format!("price of membership {id}")))?;
    let family = family(tx, business.id, id).await?;
    let upcoming = crate::billing::upcoming(tx, business, &loaded, &m, today).await?;
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
        can_manage: actor.role.allows(Role::Manager),
        can_change: actor.role.allows(Role::FrontDesk),
        today,
        version: loaded.row.version,
        family_max: current.spec.group.as_ref().map(|g| g.max_family_members),
        family,
        invoices: crate::billing::of_membership(tx, business.id, id).await?,
    })
}

pub async fn membership(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> Result<MembershipPage, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let page = page(&mut tx, &business, actor, id, today).await?;
    tx.commit().await?;
    Ok(page)
}

/// Turns a parsed form into a request, looking up the type or price it names.
fn request_for(
    asked: Asked,
    form: &ActionForm,
    types: &HashMap<i64, Loaded>,
    current: &Loaded,
    today: NaiveDate,
) -> Result<Request, Error> {
    let action = match asked {
        // A type that renews into another: the renewal continues as that type.
        Asked::Ready(Action::Renew)
            if current.spec.end_action == domain::catalog::spec::EndAction::RenewOther =>
        {
            let target = current
                .spec
                .renew_into
                .and_then(|id| types.get(&id))
                .filter(|t| t.status == TypeStatus::Active)
                .ok_or_else(|| {
                    Error::Conflict(format!(
                        "{} renews into another type that is not on sale: activate it or change the type's end action.",
                        current.spec.name
                    ))
                })?;
            let price = current_price(&target.prices, today)
                .ok_or_else(|| Error::internal("an active type has a price"))?;
            Action::RenewInto(policy::RenewTarget {
                type_id: target.id,
                type_name: target.spec.name.clone(),
                price_id: price.id,
                term: target.spec.term.clone(),
            })
        }
        Asked::Ready(action) => action,
        Asked::ChangeType { type_id, when } => {
            let target = types
                .get(&type_id)
                .filter(|t| t.status == TypeStatus::Active)
                .ok_or_else(|| Invalid::one("type_id", "choose an active membership type"))?;
            if target.id == current.id {
                return Err(
                    Invalid::one("type_id", "the membership is already of this type").into(),
                );
            }
            if target.spec.purchase_type != current.spec.purchase_type {
                return Err(Invalid::one(
                    "type_id",
                    format!(
                        "a {} membership changes only to another {} type",
                        current.spec.purchase_type.label().to_lowercase(),
                        current.spec.purchase_type.label().to_lowercase()
                    ),
                )
                .into());
            }
            if target.spec.billing_interval != current.spec.billing_interval {
                return Err(Invalid::one(
                    "type_id",
                    format!(
                        "{} is billed by another interval: switch the billing cycle instead",
                        target.spec.name
                    ),
                )
                .into());
            }
            let price = current_price(&target.prices, today)
                .ok_or_else(|| Error::internal("an active type has a price"))?;
            Action::ChangeType {
                type_id,
                type_name: target.spec.name.clone(),
                price_id: price.id,
                when,
            }
        }
        Asked::SwitchCycle { type_id, on } => {
            let target = types
                .get(&type_id)
                .filter(|t| t.status == TypeStatus::Active)
                .ok_or_else(|| Invalid::one("type_id", "choose an active membership type"))?;
            let (Some(interval), PurchaseType::Recurring) =
                (target.spec.billing_interval, target.spec.purchase_type)
            else {
                return Err(Invalid::one(
                    "type_id",
                    "choose a recurring type: only those have a billing cycle",
                )
                .into());
            };
            let price = current_price(&target.prices, on.max(today))
                .ok_or_else(|| Error::internal("an active type has a price"))?;
            Action::SwitchCycle {
                on,
                type_id,
                type_name: target.spec.name.clone(),
                price_id: price.id,
                fee: price.fee,
                interval,
            }
        }
        Asked::ChangePrice { price_id, when } => {
            let price = current
                .prices
                .iter()
                .find(|p| p.id == price_id)
                .ok_or_else(|| {
                    Invalid::one("price_id", "choose one of this type's price versions")
                })?;
            Action::ChangePrice {
                price_id,
                fee: price.fee,
                when,
            }
        }
    };
    Ok(Request {
        action,
        reason: form.reason.trim().to_string(),
        force: form.force(),
    })
}

/// A missing field, a policy's objection, or a fact of the membership's
/// state that no one can override.
fn refused(refusal: policy::Refusal) -> Error {
    match refusal.field {
        Some(field) => Error::invalid(&field, refusal.message),
        None if refusal.policy => Error::Refused(refusal.message),
        None => Error::Conflict(refusal.message),
    }
}

/// What an action would do, without saving it.
pub async fn preview_action(
    services: &Services,
    actor: &Actor,
    id: i64,
    form: &ActionForm,
) -> Result<ActionPreview, Error> {
    actor.require(Role::FrontDesk)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let preview = decide(&mut tx, &business, By::Staff(actor), id, form, today)
        .await?
        .1;
    tx.commit().await?;
    Ok(preview)
}

/// What an action would do for whoever `by` is, without saving it.
pub(crate) async fn preview_as(
    services: &Services,
    by: By<'_>,
    business_id: i64,
    id: i64,
    form: &ActionForm,
) -> Result<ActionPreview, Error> {
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    let preview = decide(&mut tx, &business, by, id, form, today).await?.1;
    tx.commit().await?;
    Ok(preview)
}

/// Loads, decides, and returns the decision with its preview.
async fn decide(
    tx: &mut Tx,
    business: &Business,
    by: By<'_>,
    id: i64,
    form: &ActionForm,
    today: NaiveDate,
) -> Result<(policy::Decision, ActionPreview, Stored), Error> {
    let loaded = load_membership(tx, business.id, id).await?;
    let types = types(tx, business.id).await?;
    let (current, _) = type_in_effect(&types, &loaded.row, &loaded.events, today)?;
    let asked = form.parse(today)?;
    let request = request_for(asked, form, &types, current, today)?;
    let (_, _, _, acting) = who(tx, by).await?;
    let m = Membership {
        spec: &current.spec,
        events: &loaded.events,
        overdue: crate::payments::overdue_of(tx, business, id, today).await?,
    };
    let decision = policy::decide(&m, acting, &request, today).map_err(refused)?;
    let mut after = loaded.events.clone();
    after.push(Recorded {
        event: decision.event.clone(),
        by: String::new(),
        reason: request.reason.clone(),
        forced: decision.forced,
    });
    let status_after = Membership {
        events: &after,
        ..m
    }
    .status(today);
    // What billing will write for it: the generator on a copy of the events,
    // up to the day the change takes effect (today at the earliest).
    let billing_up_to = decision.event.effective().max(today);
    let (_, billing) =
        crate::billing::missing_with(tx, business, &loaded, &after, billing_up_to).await?;
    let (_, anyway) =
        crate::billing::missing_with(tx, business, &loaded, &loaded.events, billing_up_to).await?;
    // Only what the change makes different: lines billed anyway are left out.
    let billing: Vec<_> = billing
        .into_iter()
        .filter(|l| !anyway.contains(l))
        .collect();
    let preview = ActionPreview {
        effect: decision.effect.clone(),
        forced: decision.forced,
        status_after,
        billing: billing.into_iter().map(|l| l.line).collect(),
        billing_up_to,
    };
    Ok((decision, preview, loaded))
}

/// The row lock: concurrent changes to one membership run one after the
/// other, and a form made from an older version is refused.
async fn lock_row(
    tx: &mut Tx,
    business_id: i64,
    id: i64,
    version: Option<i64>,
) -> Result<(), Error> {
    let bumped = query!(
        tx,
        fetch_optional as (i64,),
        "UPDATE memberships SET version = version + 1 WHERE business_id = $1 AND id = $2 AND ($3 < 0 OR version = $3) RETURNING version",
        business_id,
        id,
        version.unwrap_or(-1)
    )?;
    if bumped.is_some() {
        return Ok(());
    }
    let exists = query!(
        tx,
        fetch_optional as (i64,),
        "SELECT id FROM memberships WHERE business_id = $1 AND id = $2",
        business_id,
        id
    )?;
    Err(match exists {
        None => Error::NotFound,
        Some(_) => Error::Conflict(
            "This membership was changed by someone else while you were looking at it. Reload the page to see the change, then try again.".into(),
        ),
    })
}

/// Where each member's memberships (held by them) stand on `today`: the
/// most pressing status of them, for the desk's search.
pub(crate) async fn standings(
    tx: &mut Tx,
    business: &Business,
    member_ids: &[i64],
    today: NaiveDate,
) -> Result<HashMap<i64, StatusReport>, Error> {
    if member_ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Ids read from the database: safe to write into the statement.
    let list = member_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let held = query!(
        tx,
        fetch_all as (i64, i64),
        sqlx::AssertSqlSafe(format!(
            "SELECT id, member_id FROM memberships WHERE business_id = $1 AND member_id IN ({list}) ORDER BY id"
        )),
        business.id
    )?;
    let types = types(tx, business.id).await?;
    let pressing = |s: Status| match s {
        Status::Suspended => 9,
        Status::PastDue => 8,
        Status::Paused => 7,
        Status::Active => 6,
        Status::Cancelling => 5,
        Status::Pending => 4,
        Status::NotApproved => 3,
        Status::Cancelled => 2,
        Status::Expired => 1,
        Status::Rejected => 0,
    };
    let mut out: HashMap<i64, StatusReport> = HashMap::new();
    for (id, member) in held {
        let stored = load_membership(tx, business.id, id).await?;
        let (current, _) = type_in_effect(&types, &stored.row, &stored.events, today)?;
        let m = Membership {
            spec: &current.spec,
            events: &stored.events,
            overdue: crate::payments::overdue_of(tx, business, id, today).await?,
        };
        let report = m.status(today);
        match out.get(&member) {
            Some(r) if pressing(r.status) >= pressing(report.status) => {}
            _ => {
                out.insert(member, report);
            }
        }
    }
    Ok(out)
}

/// Applies an action to a membership as staff.
pub async fn act(
    services: &Services,
    actor: &Actor,
    id: i64,
    form: &ActionForm,
) -> Result<MembershipPage, Error> {
    actor.require(Role::FrontDesk)?;
    act_as(services, By::Staff(actor), actor.business_id, id, form).await?;
    membership(services, actor, id).await
}

/// Applies an action for whoever `by` is; returns what it did.
pub async fn act_as(
    services: &Services,
    by: By<'_>,
    business_id: i64,
    id: i64,
    form: &ActionForm,
) -> Result<ActionPreview, Error> {
    let now = services.clock.now();
    let mut tx = services.db.begin_write().await?;
    let business = business::load(&mut tx, business_id).await?;
    let today = services.today(&business);
    lock_row(&mut tx, business.id, id, form.version()).await?;
    let (decision, preview, loaded) = decide(&mut tx, &business, by, id, form, today).await?;
    let (actor_kind, actor_id, label, _) = who(&mut tx, by).await?;
    append_event(
        &mut tx,
        business.id,
        id,
        &decision.event,
        form.reason.trim(),
        decision.forced,
        (actor_kind, actor_id, &label),
        now,
    )
    .await?;
    let types = types(&mut tx, business.id).await?;
    let mut events = loaded.events;
    events.push(Recorded {
        event: decision.event.clone(),
        by: label,
        reason: form.reason.trim().to_string(),
        forced: decision.forced,
    });
    let (current, _) = type_in_effect(&types, &loaded.row, &events, today)?;
    let m = Membership {
        spec: &current.spec,
        events: &events,
        overdue: Default::default(),
    };
    refresh_projection(&mut tx, business.id, id, &m, today).await?;
    let details = serde_json::json!({
        "event": decision.event,
        "reason": form.reason.trim(),
        "forced": decision.forced,
    });
    let action = format!("membership.{}", decision.event.kind());
    record_audit(&mut tx, business.id, by, &action, id, &details, now).await?;
    tx.commit().await?;
    // What the change means for today's bill is written at once (a credit, a
    // prorated difference); later periods are billed on their days.
    if let Err(error) = crate::billing::bill_membership(services, &business, id, today).await {
        tracing::error!(membership = id, %error, "billing right after a change failed");
    }
    Ok(preview)
}

// ---------------------------------------------------------------------------
// Lists

const LIST_LIMIT: usize = 500;

/// Memberships matching the filters, newest first.
pub async fn list_memberships(
    services: &Services,
    actor: &Actor,
    filter: &MembershipFilter,
) -> Result<Vec<MembershipSummary>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let q = filter.parse(today)?;
    let rows = fetch_filtered(
        &mut tx,
        &Filters {
            business_id: business.id,
            location_id: q.location_id.unwrap_or(0),
            active: q.active,
            ending: q.ending,
            holder: None,
        },
        today,
    )
    .await?;
    let out = summaries(&mut tx, &business, rows, today, LIST_LIMIT, |s, type_id| {
        q.status.is_none_or(|st| s.status.status == st) && q.type_id.is_none_or(|t| t == type_id)
    })
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The filters a query runs in SQL; status and type are computed afterwards.
struct Filters {
    business_id: i64,
    location_id: i64,
    active: Option<(NaiveDate, NaiveDate)>,
    ending: Option<(NaiveDate, NaiveDate)>,
    holder: Option<HolderRef>,
}

const FILTERS: &str = "m.business_id = $1
    AND ($2 = 0 OR EXISTS (SELECT 1 FROM membership_locations ml WHERE ml.membership_id = m.id AND ml.location_id = $2))
    AND ($3 = 0 OR (m.start_date <= $5 AND (m.end_date IS NULL OR m.end_date > $4)))
    AND ($6 = 0 OR (m.end_date >= $7 AND m.end_date <= $8))
    AND ($9 = 0 OR m.member_id = $9 OR EXISTS (SELECT 1 FROM membership_members mm WHERE mm.membership_id = m.id AND mm.member_id = $9 AND mm.removed_at IS NULL))
    AND ($10 = 0 OR (m.member_id IS NULL AND m.organization_id = $10))";

async fn fetch_filtered(
    tx: &mut Tx,
    f: &Filters,
    today: NaiveDate,
) -> Result<(Vec<MembershipRow>, Vec<EventRow>), Error> {
    let flag = |range: Option<(NaiveDate, NaiveDate)>| match range {
        Some((from, to)) => (1i64, from, to),
        None => (0, today, today),
    };
    let (active_on, active_from, active_to) = flag(f.active);
    let (ending_on, ending_from, ending_to) = flag(f.ending);
    let (member_id, organization_id) = match f.holder {
        Some(HolderRef::Member(id)) => (id, 0),
        Some(HolderRef::Organization(id)) => (0, id),
        None => (0, 0),
    };
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE {FILTERS} ORDER BY m.start_date DESC, m.id DESC"
    );
    let rows = query!(
        tx,
        fetch_all as MembershipRow,
        sqlx::AssertSqlSafe(sql),
        f.business_id,
        f.location_id,
        active_on,
        active_from,
        active_to,
        ending_on,
        ending_from,
        ending_to,
        member_id,
        organization_id
    )?;
    let sql = format!(
        "SELECT e.membership_id, e.data, e.reason, e.forced, e.actor_label, e.recorded_at
           FROM membership_events e JOIN memberships m ON m.id = e.membership_id
          WHERE {FILTERS} ORDER BY e.membership_id, e.id"
    );
    let events = query!(
        tx,
        fetch_all as EventRow,
        sqlx::AssertSqlSafe(sql),
        f.business_id,
        f.location_id,
        active_on,
        active_from,
        active_to,
        ending_on,
        ending_from,
        ending_to,
        member_id,
        organization_id
    )?;
    Ok((rows, events))
}

async fn summaries(
    tx: &mut Tx,
    business: &Business,
    (rows, event_rows): (Vec<MembershipRow>, Vec<EventRow>),
    today: NaiveDate,
    limit: usize,
    keep: impl Fn(&MembershipSummary, i64) -> bool,
) -> Result<Vec<MembershipSummary>, Error> {
    let types = types(tx, business.id).await?;
    let unpaid = crate::payments::oldest_unpaid_all(tx, business.id).await?;
    let mut events: HashMap<i64, Vec<Recorded>> = HashMap::new();
    for row in &event_rows {
        events
            .entry(row.membership_id)
            .or_default()
            .push(recorded(row)?);
    }
    let members: HashMap<i64, (String, i64)> = query!(tx, fetch_all as (i64, String, String, i64),
        "SELECT id, first_name, last_name, member_number FROM members WHERE business_id = $1 AND id IN (SELECT member_id FROM memberships WHERE business_id = $1)",
        business.id)?
    .into_iter()
    .map(|(id, f, l, n)| (id, (format!("{f} {l}"), n)))
    .collect();
    let orgs: HashMap<i64, String> = query!(
        tx,
        fetch_all as (i64, String),
        "SELECT id, name FROM organizations WHERE business_id = $1",
        business.id
    )?
    .into_iter()
    .collect();
    let mut out = Vec::new();
    for row in rows {
        let evs = events.remove(&row.id).unwrap_or_default();
        let (current, _) = type_in_effect(&types, &row, &evs, today)?;
        let m = Membership {
            spec: &current.spec,
            events: &evs,
            overdue: business
                .dunning
                .overdue(unpaid.get(&row.id).copied(), today),
        };
        let holder = match (row.member_id, row.organization_id) {
            (Some(id), _) => {
                let (name, number) = members.get(&id).cloned().unwrap_or_default();
                Holder {
                    name,
                    href: format!("/members/{id}"),
                    member_number: Some(number),
                }
            }
            (None, org) => {
                let id = org.unwrap_or_default();
                Holder {
                    name: orgs.get(&id).cloned().unwrap_or_default(),
                    href: format!("/organizations/{id}"),
                    member_number: None,
                }
            }
        };
        let summary = MembershipSummary {
            id: row.id,
            holder,
            type_name: current.spec.name.clone(),
            type_color: current.spec.color.clone(),
            status: m.status(today),
            start: m.anchor().unwrap_or(row.start_date),
            last_day: row.end_date.and_then(|e| e.pred_opt()),
            locked: m.locked(),
        };
        if keep(&summary, current.id) {
            out.push(summary);
            if out.len() == limit {
                break;
            }
        }
    }
    Ok(out)
}

/// The memberships a member or organization holds (or pays for), newest first.
pub(crate) async fn held_by(
    tx: &mut Tx,
    business: &Business,
    holder_ref: HolderRef,
    today: NaiveDate,
) -> Result<Vec<MembershipSummary>, Error> {
    let rows = fetch_filtered(
        tx,
        &Filters {
            business_id: business.id,
            location_id: 0,
            active: None,
            ending: None,
            holder: Some(holder_ref),
        },
        today,
    )
    .await?;
    summaries(tx, business, rows, today, LIST_LIMIT, |_, _| true).await
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
    let business = business::load(&mut tx, actor.business_id).await?;
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
    let (actor_kind, actor_id, label, _) = who(&mut tx, By::Staff(actor)).await?;
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
    record_audit(
        &mut tx,
        business.id,
        By::Staff(actor),
        &action,
        id,
        &details,
        now,
    )
    .await?;
    let page = page(&mut tx, &business, actor, id, today).await?;
    tx.commit().await?;
    Ok(page)
}

/// The type names of the memberships an organization holds or pays for that
/// have not ended.
pub(crate) async fn running_for_organization(
    tx: &mut Tx,
    business: &Business,
    organization_id: i64,
    today: NaiveDate,
) -> Result<Vec<String>, Error> {
    let ids = query!(
        tx,
        fetch_all as (i64,),
        "SELECT id FROM memberships WHERE business_id = $1 AND organization_id = $2 ORDER BY id",
        business.id,
        organization_id
    )?;
    let types = types(tx, business.id).await?;
    let mut running = Vec::new();
    for (id,) in ids {
        let loaded = load_membership(tx, business.id, id).await?;
        let (current, _, m) = loaded.in_effect(&types, today)?;
        if !matches!(
            m.status(today).status,
            Status::Cancelled | Status::Expired | Status::Rejected
        ) {
            running.push(current.spec.name.clone());
        }
    }
    Ok(running)
}

// ---------------------------------------------------------------------------
// The daily work

/// Renews, as the system, the memberships whose term has ended and whose type
/// renews into another type. Safe to run any number of times: a renewed
/// membership's end moves on, so it is not picked again. Returns how many it renewed.
pub async fn renew_due(services: &Services, business_id: i64) -> Result<usize, Error> {
    let (today, candidates) = {
        let mut tx = services.db.begin_read().await?;
        let business = business::load(&mut tx, business_id).await?;
        let today = services.today(&business);
        let ids = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM memberships WHERE business_id = $1 AND end_date IS NOT NULL AND end_date <= $2 ORDER BY id",
            business_id,
            today
        )?;
        let types = types(&mut tx, business_id).await?;
        let mut due = Vec::new();
        for (id,) in ids {
            let loaded = load_membership(&mut tx, business_id, id).await?;
            let (current, _, m) = loaded.in_effect(&types, today)?;
            let renews = current.spec.end_action == domain::catalog::spec::EndAction::RenewOther;
            if renews && m.cancel_end().is_none() && m.status(today).status == Status::Expired {
                due.push((id, loaded.row.version));
            }
        }
        tx.commit().await?;
        (today, due)
    };
    let mut renewed = 0;
    for (id, version) in candidates {
        let form = ActionForm {
            action: "renew".into(),
            version: version.to_string(),
            ..ActionForm::default()
        };
        match act_as(services, By::System, business_id, id, &form).await {
            Ok(_) => renewed += 1,
            // Someone changed it meanwhile, or the renewal type is not on sale:
            // the membership stays as it is and the next run looks again.
            Err(error) => tracing::warn!(membership = id, %today, %error, "renewal not made"),
        }
    }
    Ok(renewed)
}

/// The day's work for every business: renewals, then billing.
pub async fn run_daily(services: &Services) -> Result<(), Error> {
    let ids = {
        let mut tx = services.db.begin_read().await?;
        let ids = query!(
            &mut tx,
            fetch_all as (i64,),
            "SELECT id FROM businesses ORDER BY id"
        )?;
        tx.commit().await?;
        ids
    };
    for (id,) in ids {
        day_work(services, id).await?;
    }
    Ok(())
}

/// One business's day, as the scheduler does it.
pub async fn day_work(services: &Services, business_id: i64) -> Result<(), Error> {
    day_work_as(services, business_id, crate::billing::SCHEDULER).await
}

/// One business's day: renewals first, then billing up to its date, the run
/// recorded as started by `started_by`.
pub async fn day_work_as(
    services: &Services,
    business_id: i64,
    started_by: &str,
) -> Result<(), Error> {
    renew_due(services, business_id).await?;
    let today = {
        let mut tx = services.db.begin_read().await?;
        let business = business::load(&mut tx, business_id).await?;
        tx.commit().await?;
        services.today(&business)
    };
    let report = crate::billing::run_billing_as(services, business_id, today, started_by).await?;
    if report.invoices > 0 || !report.failed.is_empty() {
        tracing::info!(business = business_id, %today, invoices = report.invoices, failed = report.failed.len(), "billing run");
    }
    let charged = crate::payments::collect(services, business_id).await?;
    if charged > 0 {
        tracing::info!(business = business_id, %today, charged, "collection");
    }
    crate::visits::visits_work(services, business_id).await?;
    // Credits last: a membership suspended for an unpaid invoice earns none.
    let entries = crate::credits::credits_work(services, business_id).await?;
    if entries > 0 {
        tracing::info!(business = business_id, %today, entries, "credits");
    }
    Ok(())
}

/// Applies an action as staff (or an API key) and returns what it did with
/// the membership afterwards.
pub async fn act_returning(
    services: &Services,
    actor: &Actor,
    id: i64,
    form: &ActionForm,
) -> Result<(ActionPreview, MembershipPage), Error> {
    actor.require(Role::FrontDesk)?;
    let done = act_as(services, By::Staff(actor), actor.business_id, id, form).await?;
    Ok((done, membership(services, actor, id).await?))
}

/// Every membership matching the filters (and held by `holder`, when given),
/// in id order, with no limit: the API pages through it.
pub async fn all_matching(
    services: &Services,
    actor: &Actor,
    filter: &MembershipFilter,
    holder: Option<HolderRef>,
) -> Result<Vec<MembershipSummary>, Error> {
    actor.require(Role::Viewer)?;
    let mut tx = services.db.begin_read().await?;
    let business = business::load(&mut tx, actor.business_id).await?;
    let today = services.today(&business);
    let q = filter.parse(today)?;
    let rows = fetch_filtered(
        &mut tx,
        &Filters {
            business_id: business.id,
            location_id: q.location_id.unwrap_or(0),
            active: q.active,
            ending: q.ending,
            holder,
        },
        today,
    )
    .await?;
    let mut out = summaries(&mut tx, &business, rows, today, usize::MAX, |s, type_id| {
        q.status.is_none_or(|st| s.status.status == st) && q.type_id.is_none_or(|t| t == type_id)
    })
    .await?;
    tx.commit().await?;
    out.sort_by_key(|m| m.id);
    Ok(out)
}
