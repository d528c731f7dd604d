//! A sale inside a transaction: its parties, the checks against the catalog and
//! the holder, and the membership row written.

use super::*;

pub(crate) struct SaleParties {
    pub(crate) holder: Holder,
    pub(crate) member_type: Option<String>,
    pub(crate) organization: Option<(i64, String)>,
}

pub(crate) async fn parties(
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
pub(crate) async fn holds_type(
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

pub(crate) struct CheckedSale {
    /// The end date projection: a term that does not renew by itself.
    pub(crate) end: Option<NaiveDate>,
    pub(crate) parties: SaleParties,
    pub(crate) sale: domain::lifecycle::sale::Sale,
    pub(crate) summary: SaleSummary,
}

pub(crate) async fn check(
    tx: &mut Tx,
    business: &Business,
    today: NaiveDate,
    holder_ref: HolderRef,
    command: &SaleCommand,
) -> Result<CheckedSale, Error> {
    let parties = parties(tx, business.id, holder_ref).await?;
    let type_id = command.type_id;
    let sold = catalog::load_one(tx, business.id, type_id)
        .await
        .map_err(|e| match e {
            Error::NotFound => Invalid::one("type_id", "choose a membership type").into(),
            e => e,
        })?;
    let locations: Vec<i64> = crate::store::business::locations(tx, business.id)
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
    let mut sale = check_sale(command, &ctx)?;
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
    command: &SaleCommand,
) -> Result<SaleSummary, Error> {
    Ok(check(tx, business, today, holder_ref, command)
        .await?
        .summary)
}

/// Records a sale inside the caller's write transaction (the first invoice
/// is the caller's to bill after the commit); returns the membership's id.
pub(crate) async fn sell_in(
    tx: &mut Tx,
    business: &Business,
    by: &Actor,
    holder_ref: HolderRef,
    command: &SaleCommand,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64, Error> {
    let CheckedSale {
        end,
        parties,
        sale,
        summary,
    } = check(tx, business, today, holder_ref, command).await?;
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
    let (actor, actor_id) = by.kind_and_id();
    let label = by.author(tx).await?.label;
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
    crate::store::memberships::reproject(tx, business, None, id, today).await?;
    let details = serde_json::json!({
        "holder": parties.holder.name,
        "type": summary.type_name,
        "start": sale.start,
        "first_invoice_total": summary.preview.total.to_plain(),
    });
    record_audit(tx, by, "membership.sold", id, &details, now).await?;
    Ok(id)
}
