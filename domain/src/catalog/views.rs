//! The catalog as pages and the public join page show it: type summaries and
//! details, price labels, the public offer.

use super::*;

/// A membership type as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipTypeSummary {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub purchase_type: PurchaseType,
    pub billing_interval: Option<BillingInterval>,
    pub status: TypeStatus,
    pub display_order: i64,
    /// The price version in effect today.
    pub fee: Money,
    pub initiation_fee: Money,
    pub term: Term,
    pub all_locations: bool,
    pub location_ids: Vec<i64>,
    /// Memberships of this type, of any status.
    pub memberships: i64,
}

impl MembershipTypeSummary {
    /// "€59.00 monthly", "€590.00 once", "free".
    pub fn price_label(&self) -> String {
        price_label(self.purchase_type, self.billing_interval, self.fee)
    }

    pub fn offered_at(&self, location_id: i64) -> bool {
        self.all_locations || self.location_ids.contains(&location_id)
    }
}

/// "€59.00 monthly", "€590.00 once", "free".
pub fn price_label(
    purchase_type: PurchaseType,
    interval: Option<BillingInterval>,
    fee: Money,
) -> String {
    match (purchase_type, interval) {
        (PurchaseType::Benefit, _) => "free".to_string(),
        (PurchaseType::Recurring, Some(interval)) => {
            format!("{} {}", fee, interval.label().to_lowercase())
        }
        _ => format!("{fee} once"),
    }
}

/// Orders types as every list shows them: by status (active, draft, retired),
/// then display order, then name (case-insensitive).
pub fn sort_for_display(types: &mut [MembershipTypeSummary]) {
    types.sort_by(|a, b| {
        (
            a.status.sort_rank(),
            a.display_order,
            a.name.to_lowercase(),
            a.id,
        )
            .cmp(&(
                b.status.sort_rank(),
                b.display_order,
                b.name.to_lowercase(),
                b.id,
            ))
    });
}

/// The catalog page's filters. Retired types are listed only when asked for
/// (or when the status filter is "retired").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeFilter {
    pub status: Option<TypeStatus>,
    pub purchase_type: Option<PurchaseType>,
    pub location_id: Option<i64>,
    /// Matched case-insensitively against the name.
    pub search: String,
    pub include_retired: bool,
}

impl TypeFilter {
    pub fn matches(&self, t: &MembershipTypeSummary) -> bool {
        let status_ok = match self.status {
            Some(status) => t.status == status,
            None => self.include_retired || t.status != TypeStatus::Retired,
        };
        let search = self.search.trim().to_lowercase();
        status_ok
            && self.purchase_type.is_none_or(|p| t.purchase_type == p)
            && self.location_id.is_none_or(|l| t.offered_at(l))
            && (search.is_empty() || t.name.to_lowercase().contains(&search))
    }
}

/// What the type form offers to choose from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOptions {
    pub currency: Currency,
    /// (id, name)
    pub locations: Vec<(i64, String)>,
    pub member_types: Vec<String>,
    /// (id, name) of the business's types, for "renews into".
    pub types: Vec<(i64, String)>,
}

/// A location's public "join" page: what it offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicOffer {
    pub business_name: String,
    /// Where the business's members sign in: /portal/sign-in/{business_slug}.
    pub business_slug: String,
    pub location_name: String,
    pub types: Vec<PublicType>,
}

/// A type as the public sees it: no internal settings, only what a buyer needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicType {
    /// The type's id, for the signup link.
    pub id: i64,
    pub name: String,
    pub description: String,
    pub price: String,
    pub initiation_fee: Option<String>,
    pub term: String,
    pub benefits: Vec<String>,
    /// The member types it is for ("Student"); empty: anyone.
    pub member_types: Vec<String>,
}

impl PublicType {
    pub fn new(id: i64, spec: &TypeSpec, fee: Money, initiation_fee: Money) -> PublicType {
        let mut benefits = Vec::new();
        let b = &spec.benefits;
        if !spec.member_types.is_empty() {
            benefits.push(format!("for {} members", spec.member_types.join(" or ")));
        }
        if let Some(n) = spec.punch_card_credits {
            benefits.push(format!("{n} visits"));
        }
        if b.credits_per_period > 0 {
            let carry = match b.carry_over_cap {
                None => ", unused credits carry over".to_string(),
                Some(0) => String::new(),
                Some(cap) => format!(", up to {cap} carry over"),
            };
            benefits.push(format!(
                "{} credit(s) per period{carry}",
                b.credits_per_period
            ));
        }
        for service in &b.included_services {
            benefits.push(format!(
                "{} × {} per period",
                service.per_period, service.name
            ));
        }
        if !b.member_discount_percent.is_zero() {
            benefits.push(format!("{}% member discount", b.member_discount_percent));
        }
        if let Some(group) = &spec.group {
            let extra = if group.additional_member_fee.minor > 0 {
                format!(" ({} each per period)", group.additional_member_fee)
            } else {
                " (included)".to_string()
            };
            benefits.push(format!(
                "up to {} family members{extra}",
                group.max_family_members
            ));
        }
        if spec.policies.min_commitment_periods > 0 {
            benefits.push(format!(
                "minimum commitment: {} periods",
                spec.policies.min_commitment_periods
            ));
        }
        if spec.policies.pause.is_some() {
            benefits.push("can be paused".to_string());
        }
        PublicType {
            id,
            name: spec.name.clone(),
            description: spec.description.clone(),
            price: price_label(spec.purchase_type, spec.billing_interval, fee),
            initiation_fee: (initiation_fee.minor > 0).then(|| initiation_fee.to_string()),
            term: spec.term.describe(),
            benefits,
            member_types: spec.member_types.clone(),
        }
    }
}

/// Everything about one type, for its page and its edit form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipTypeDetail {
    pub id: i64,
    pub status: TypeStatus,
    pub display_order: i64,
    pub spec: TypeSpec,
    /// Oldest first.
    pub prices: Vec<PriceVersion>,
    pub current_price_id: i64,
    pub memberships: i64,
    pub location_names: Vec<String>,
    pub renew_into_name: Option<String>,
}

impl MembershipTypeDetail {
    pub fn current_price(&self) -> Option<&PriceVersion> {
        self.prices.iter().find(|p| p.id == self.current_price_id)
    }

    /// The edit form, filled with this type's settings.
    pub fn to_form(&self) -> MembershipTypeForm {
        let s = &self.spec;
        let on = |b: bool| if b { "on".to_string() } else { String::new() };
        let count = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        let (term_years, term_months, term_days, seasons) = match &s.term {
            Term::Fixed { length } => (
                length.years.to_string(),
                length.months.to_string(),
                length.days.to_string(),
                String::new(),
            ),
            Term::Seasons { ranges } => (
                String::new(),
                String::new(),
                String::new(),
                ranges
                    .iter()
                    .map(|r| format!("{} to {}", r.first, r.last))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Term::Ongoing => Default::default(),
        };
        let pause = s.policies.pause.as_ref();
        let price = self.current_price();
        MembershipTypeForm {
            name: s.name.clone(),
            description: s.description.clone(),
            color: s.color.clone(),
            purchase_type: s.purchase_type.as_str().to_string(),
            billing_interval: s
                .billing_interval
                .map(|i| i.as_str().to_string())
                .unwrap_or_default(),
            status: self.status.as_str().to_string(),
            fee: price.map(|p| p.fee.to_plain()).unwrap_or_default(),
            initiation_fee: price
                .map(|p| p.initiation_fee.to_plain())
                .unwrap_or_default(),
            term_kind: s.term.kind().as_str().to_string(),
            term_years,
            term_months,
            term_days,
            seasons,
            end_action: s.end_action.as_str().to_string(),
            renew_into: s.renew_into.map(|id| id.to_string()).unwrap_or_default(),
            punch_card_credits: count(s.punch_card_credits),
            location_scope: if s.all_locations { "all" } else { "selected" }.to_string(),
            location_ids: s.location_ids.iter().map(|id| id.to_string()).collect(),
            member_types: s.member_types.clone(),
            youth: on(s.youth),
            group: on(s.group.is_some()),
            max_family_members: s
                .group
                .as_ref()
                .map(|g| g.max_family_members.to_string())
                .unwrap_or_default(),
            additional_member_fee: s
                .group
                .as_ref()
                .map(|g| g.additional_member_fee.to_plain())
                .unwrap_or_default(),
            credits_per_period: if s.benefits.credits_per_period > 0 {
                s.benefits.credits_per_period.to_string()
            } else {
                String::new()
            },
            carry_over_cap: match s.benefits.carry_over_cap {
                None => "all".to_string(),
                Some(0) => String::new(),
                Some(n) => n.to_string(),
            },
            credit_expiry_after: s
                .benefits
                .credit_expiry
                .map(|e| e.after.to_string())
                .unwrap_or_default(),
            credit_expiry_unit: s
                .benefits
                .credit_expiry
                .map(|e| e.unit.as_str().to_string())
                .unwrap_or_else(|| "days".to_string()),
            included_services: s
                .benefits
                .included_services
                .iter()
                .map(|x| format!("{}: {}", x.name, x.per_period))
                .collect::<Vec<_>>()
                .join("\n"),
            member_discount_percent: if s.benefits.member_discount_percent.is_zero() {
                String::new()
            } else {
                s.benefits.member_discount_percent.to_string()
            },
            pause_allowed: on(pause.is_some()),
            pause_max_per_year: count(pause.and_then(|p| p.max_per_year)),
            pause_min_days: pause.map(|p| p.min_days.to_string()).unwrap_or_default(),
            pause_max_days: count(pause.and_then(|p| p.max_days)),
            pause_fee: pause
                .map(|p| p.fee_per_period.to_plain())
                .unwrap_or_default(),
            pause_extends_commitment: on(pause.is_some_and(|p| p.extends_commitment)),
            pause_portal: on(pause.is_some_and(|p| p.portal_allowed)),
            min_commitment_periods: if s.policies.min_commitment_periods > 0 {
                s.policies.min_commitment_periods.to_string()
            } else {
                String::new()
            },
            notice_days: if s.policies.notice_days > 0 {
                s.policies.notice_days.to_string()
            } else {
                String::new()
            },
            cancel_timing: s.policies.cancellation.timing.as_str().to_string(),
            cancel_portal: on(s.policies.cancellation.portal_allowed),
            approval_required: on(s.policies.approval_required),
            one_per_member: on(s.policies.one_per_member),
            revenue_account: s.revenue_account.clone(),
            deferred_revenue: on(s.deferred_revenue),
        }
    }
}
