//! What the API sends and takes: snake_case fields, ids as strings, money as
//! `{ amount_minor, currency, display }`, dates `YYYY-MM-DD`, times RFC 3339 UTC.

use chrono::{DateTime, NaiveDate, Utc};
use domain::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An amount of money in minor units (cents) of a currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MoneyDto {
    /// Integer minor units: 5900 is €59.00.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// For people: "€59.00".
    pub display: String,
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        MoneyDto {
            amount_minor: m.minor,
            currency: m.currency.code().to_string(),
            display: m.to_string(),
        }
    }
}

pub fn ids(ids: &[i64]) -> Vec<String> {
    ids.iter().map(i64::to_string).collect()
}

// ---------------------------------------------------------------------------
// Membership types

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PriceDto {
    pub id: String,
    /// Per billing interval, or the prepaid price.
    pub fee: MoneyDto,
    pub initiation_fee: MoneyDto,
    pub effective_from: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TermDto {
    /// `ongoing`, `fixed` or `seasons`.
    pub kind: String,
    pub years: u32,
    pub months: u32,
    pub days: u32,
    /// For `seasons`: the date ranges, both ends included.
    pub seasons: Vec<SeasonDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SeasonDto {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct GroupDto {
    pub max_family_members: u32,
    pub additional_member_fee: MoneyDto,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct IncludedServiceDto {
    pub name: String,
    pub per_period: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct BenefitsDto {
    pub credits_per_period: u32,
    /// Unused credits carried into the next period; null carries all.
    pub carry_over_cap: Option<u32>,
    /// "3 months", or null when credits do not expire.
    pub credit_expiry: Option<String>,
    pub included_services: Vec<IncludedServiceDto>,
    /// 0 to 100, as a decimal string.
    pub member_discount_percent: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PausePolicyDto {
    pub max_per_year: Option<u32>,
    pub min_days: u32,
    pub max_days: Option<u32>,
    pub fee_per_period: MoneyDto,
    pub extends_commitment: bool,
    pub portal_allowed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PoliciesDto {
    /// Null: pausing is not allowed.
    pub pause: Option<PausePolicyDto>,
    pub min_commitment_periods: u32,
    pub notice_days: u32,
    /// `immediately`, `at_period_end`, ...
    pub cancellation_timing: String,
    pub cancellation_portal_allowed: bool,
    pub approval_required: bool,
    pub one_per_member: bool,
}

/// A membership type with every catalog field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MembershipTypeDto {
    pub id: String,
    pub name: String,
    pub description: String,
    pub color: String,
    /// `draft`, `active` or `retired`.
    pub status: String,
    pub display_order: i64,
    /// `recurring`, `prepaid` or `benefit`.
    pub purchase_type: String,
    /// `monthly`, `yearly`, ...; null unless recurring.
    pub billing_interval: Option<String>,
    /// "€59.00 monthly".
    pub price_label: String,
    /// The price in effect today.
    pub price: Option<PriceDto>,
    /// Every price version, oldest first.
    pub prices: Vec<PriceDto>,
    pub term: TermDto,
    pub end_action: String,
    pub renew_into_id: Option<String>,
    pub punch_card_credits: Option<u32>,
    pub all_locations: bool,
    pub location_ids: Vec<String>,
    /// Allowed member types; empty allows all.
    pub member_types: Vec<String>,
    pub youth: bool,
    pub group: Option<GroupDto>,
    pub benefits: BenefitsDto,
    pub policies: PoliciesDto,
    pub revenue_account: String,
    pub deferred_revenue: bool,
    /// Memberships of this type, of any status.
    pub memberships: i64,
}

impl From<domain::catalog::MembershipTypeDetail> for MembershipTypeDto {
    fn from(d: domain::catalog::MembershipTypeDetail) -> Self {
        use domain::catalog::Term;
        let s = &d.spec;
        let price = |p: &domain::catalog::PriceVersion| PriceDto {
            id: p.id.to_string(),
            fee: p.fee.into(),
            initiation_fee: p.initiation_fee.into(),
            effective_from: p.effective_from,
        };
        let current = d.current_price();
        let term = match &s.term {
            Term::Ongoing => TermDto {
                kind: "ongoing".into(),
                years: 0,
                months: 0,
                days: 0,
                seasons: vec![],
            },
            Term::Fixed { length } => TermDto {
                kind: "fixed".into(),
                years: length.years,
                months: length.months,
                days: length.days,
                seasons: vec![],
            },
            Term::Seasons { ranges } => TermDto {
                kind: "seasons".into(),
                years: 0,
                months: 0,
                days: 0,
                seasons: ranges
                    .iter()
                    .map(|r| SeasonDto {
                        first: r.first,
                        last: r.last,
                    })
                    .collect(),
            },
        };
        let p = &s.policies;
        MembershipTypeDto {
            id: d.id.to_string(),
            name: s.name.clone(),
            description: s.description.clone(),
            color: s.color.clone(),
            status: d.status.as_str().into(),
            display_order: d.display_order,
            purchase_type: s.purchase_type.as_str().into(),
            billing_interval: s.billing_interval.map(|i| i.as_str().to_string()),
            price_label: current
                .map(|c| domain::catalog::price_label(s.purchase_type, s.billing_interval, c.fee))
                .unwrap_or_default(),
            price: current.map(price),
            prices: d.prices.iter().map(price).collect(),
            term,
            end_action: s.end_action.as_str().into(),
            renew_into_id: s.renew_into.map(|i| i.to_string()),
            punch_card_credits: s.punch_card_credits,
            all_locations: s.all_locations,
            location_ids: ids(&s.location_ids),
            member_types: s.member_types.clone(),
            youth: s.youth,
            group: s.group.as_ref().map(|g| GroupDto {
                max_family_members: g.max_family_members,
                additional_member_fee: g.additional_member_fee.into(),
            }),
            benefits: BenefitsDto {
                credits_per_period: s.benefits.credits_per_period,
                carry_over_cap: s.benefits.carry_over_cap,
                credit_expiry: s
                    .benefits
                    .credit_expiry
                    .map(|e| format!("{} {}", e.after, e.unit.as_str())),
                included_services: s
                    .benefits
                    .included_services
                    .iter()
                    .map(|i| IncludedServiceDto {
                        name: i.name.clone(),
                        per_period: i.per_period,
                    })
                    .collect(),
                member_discount_percent: s.benefits.member_discount_percent.to_string(),
            },
            policies: PoliciesDto {
                pause: p.pause.as_ref().map(|pp| PausePolicyDto {
                    max_per_year: pp.max_per_year,
                    min_days: pp.min_days,
                    max_days: pp.max_days,
                    fee_per_period: pp.fee_per_period.into(),
                    extends_commitment: pp.extends_commitment,
                    portal_allowed: pp.portal_allowed,
                }),
                min_commitment_periods: p.min_commitment_periods,
                notice_days: p.notice_days,
                cancellation_timing: p.cancellation.timing.as_str().into(),
                cancellation_portal_allowed: p.cancellation.portal_allowed,
                approval_required: p.approval_required,
                one_per_member: p.one_per_member,
            },
            revenue_account: s.revenue_account.clone(),
            deferred_revenue: s.deferred_revenue,
            memberships: d.memberships,
        }
    }
}

// ---------------------------------------------------------------------------
// Members

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberDto {
    pub id: String,
    pub member_number: i64,
    /// `active` or `archived`.
    pub status: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub date_of_birth: Option<NaiveDate>,
    pub member_type: Option<String>,
    pub home_location_id: Option<String>,
    pub notes: String,
    pub marketing_consent: bool,
    /// The member's newest 50 memberships, newest first (`GET
    /// /memberships?member=` lists them all).
    pub membership_ids: Vec<String>,
    /// Organizations that authorize the member.
    pub organization_ids: Vec<String>,
}

impl From<domain::members::MemberView> for MemberDto {
    fn from(v: domain::members::MemberView) -> Self {
        let d = v.details;
        MemberDto {
            id: v.id.to_string(),
            member_number: v.member_number,
            status: v.status.as_str().into(),
            first_name: d.first_name,
            last_name: d.last_name,
            email: d.email,
            phone: d.phone,
            date_of_birth: d.date_of_birth,
            member_type: d.member_type,
            home_location_id: d.home_location_id.map(|i| i.to_string()),
            notes: d.notes,
            marketing_consent: d.marketing_consent,
            membership_ids: v
                .memberships
                .rows
                .iter()
                .map(|m| m.id.to_string())
                .collect(),
            organization_ids: v
                .organizations
                .iter()
                .map(|(id, _)| id.to_string())
                .collect(),
        }
    }
}

/// A member as lists show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberSummaryDto {
    pub id: String,
    pub member_number: i64,
    pub status: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub member_type: Option<String>,
}

impl From<domain::members::MemberSummary> for MemberSummaryDto {
    fn from(m: domain::members::MemberSummary) -> Self {
        MemberSummaryDto {
            id: m.id.to_string(),
            member_number: m.member_number,
            status: m.status.as_str().into(),
            name: m.name,
            email: m.email,
            phone: m.phone,
            member_type: m.member_type,
        }
    }
}

/// A new member, or (PATCH) the fields to change: a field left out keeps its
/// value; `null` clears an optional one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub date_of_birth: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub member_type: Option<Option<String>>,
    /// A location's id.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub home_location_id: Option<Option<String>>,
    pub notes: Option<String>,
    pub marketing_consent: Option<bool>,
}

/// Tells a field sent as `null` (Some(None)) from one left out (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl MemberInput {
    /// The staff form's fields, laid over the member's current details.
    pub fn onto(
        &self,
        current: Option<&domain::members::MemberDetails>,
    ) -> domain::members::MemberForm {
        let keep = |new: &Option<String>, old: String| new.clone().unwrap_or(old);
        let keep_opt = |new: &Option<Option<String>>, old: Option<String>| match new {
            Some(value) => value.clone().unwrap_or_default(),
            None => old.unwrap_or_default(),
        };
        let c = current.cloned();
        let c = c.as_ref();
        domain::members::MemberForm {
            first_name: keep(
                &self.first_name,
                c.map(|c| c.first_name.clone()).unwrap_or_default(),
            ),
            last_name: keep(
                &self.last_name,
                c.map(|c| c.last_name.clone()).unwrap_or_default(),
            ),
            email: keep(&self.email, c.map(|c| c.email.clone()).unwrap_or_default()),
            phone: keep(&self.phone, c.map(|c| c.phone.clone()).unwrap_or_default()),
            date_of_birth: keep_opt(
                &self.date_of_birth,
                c.and_then(|c| c.date_of_birth.map(|d| d.to_string())),
            ),
            member_type: keep_opt(&self.member_type, c.and_then(|c| c.member_type.clone())),
            home_location: keep_opt(
                &self.home_location_id,
                c.and_then(|c| c.home_location_id.map(|i| i.to_string())),
            ),
            notes: keep(&self.notes, c.map(|c| c.notes.clone()).unwrap_or_default()),
            marketing_consent: match self.marketing_consent.or(c.map(|c| c.marketing_consent)) {
                Some(true) => "on".into(),
                _ => String::new(),
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Memberships

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusDto {
    /// `not_approved`, `pending`, `active`, `paused`, `past_due`, `suspended`, `cancelled`, `expired`, ...
    pub status: String,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// For people: why the membership has this status.
    pub explanation: String,
}

impl From<domain::lifecycle::StatusReport> for StatusDto {
    fn from(s: domain::lifecycle::StatusReport) -> Self {
        StatusDto {
            status: s.status.as_str().into(),
            since: s.since,
            until: s.until,
            explanation: s.explanation,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct HolderDto {
    /// `member` or `organization`.
    pub kind: String,
    pub id: String,
    pub name: String,
    pub member_number: Option<i64>,
}

impl From<&domain::parties::Holder> for HolderDto {
    fn from(h: &domain::parties::Holder) -> Self {
        let (kind, id) = match h.href.rsplit_once('/') {
            Some((path, id)) if path.ends_with("organizations") => ("organization", id),
            Some((_, id)) => ("member", id),
            None => ("member", ""),
        };
        HolderDto {
            kind: kind.into(),
            id: id.into(),
            name: h.name.clone(),
            member_number: h.member_number,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct LineDto {
    /// `recurring`, `initiation`, `discount`, `pause_fee`, `correction`, ...
    pub kind: String,
    pub description: String,
    /// The first day the line pays for.
    pub period_start: Option<NaiveDate>,
    /// The last day (included) the line pays for.
    pub period_last_day: Option<NaiveDate>,
    pub amount: MoneyDto,
    /// How the amount was reached: "30 days at €49.00 per period".
    pub explanation: String,
}

impl From<domain::billing::charges::Line> for LineDto {
    fn from(l: domain::billing::charges::Line) -> Self {
        LineDto {
            kind: l.kind.as_str().into(),
            description: l.description,
            period_start: l.period.map(|p| p.start),
            period_last_day: l.period.map(|p| p.last_day()),
            amount: l.amount.into(),
            explanation: l.explanation,
        }
    }
}

/// A membership with its computed status and its explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MembershipDto {
    pub id: String,
    pub holder: HolderDto,
    pub type_id: String,
    pub type_name: String,
    /// The fee per period now.
    pub fee: MoneyDto,
    pub interval: String,
    pub status: StatusDto,
    pub locked: bool,
    /// The billing anchor in effect today: the periods billed now are counted
    /// from it (after a new billing date or cycle, the day that took effect).
    pub anchor: NaiveDate,
    pub term_last_day: Option<NaiveDate>,
    /// The last day (included) of the minimum commitment.
    pub commitment_last_day: Option<NaiveDate>,
    pub next_billing: Option<NaiveDate>,
    /// The last day (included) of a membership that is cancelled or cancelling.
    pub last_day: Option<NaiveDate>,
    pub payer: String,
    pub source: String,
    pub discount: Option<String>,
    pub notes: String,
}

impl From<domain::memberships::MembershipPage> for MembershipDto {
    fn from(p: domain::memberships::MembershipPage) -> Self {
        MembershipDto {
            id: p.id.to_string(),
            holder: (&p.holder).into(),
            type_id: p.type_id.to_string(),
            type_name: p.type_name,
            fee: p.fee.into(),
            interval: p.interval,
            status: p.status.into(),
            locked: p.locked,
            anchor: p.anchor,
            term_last_day: p.term_last_day,
            commitment_last_day: p.commitment_last_day,
            next_billing: p.next_billing,
            last_day: p.last_day,
            payer: p.payer,
            source: p.source,
            discount: p.discount,
            notes: p.notes,
        }
    }
}

/// A sale: who buys what, from when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleInput {
    /// The member who holds it (or `organization_id`).
    pub member_id: Option<String>,
    pub organization_id: Option<String>,
    pub type_id: String,
    /// A price version's id; left out, the one in effect on the start date.
    pub price_id: Option<String>,
    /// YYYY-MM-DD; left out, today.
    pub start: Option<NaiveDate>,
    /// Locations where it may be used, when the type allows a choice.
    #[serde(default)]
    pub location_ids: Vec<String>,
    /// `member`, `organization` or `personal`; left out, the holder.
    pub payer: Option<String>,
    /// `percent` or `amount`, with `discount_value`.
    pub discount_kind: Option<String>,
    pub discount_value: Option<String>,
    /// How many periods the discount lasts; left out, forever.
    pub discount_periods: Option<u32>,
    pub discount_reason: Option<String>,
    pub source: Option<String>,
    pub notes: Option<String>,
}

/// What a sale would do: its first invoice and dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SalePreviewDto {
    pub type_name: String,
    pub price: MoneyDto,
    /// The status it would start with.
    pub status: String,
    pub lines: Vec<LineDto>,
    pub total: MoneyDto,
    pub first_billing: Option<NaiveDate>,
    pub next_billing: Option<NaiveDate>,
    /// The last day (included) of the minimum commitment.
    pub commitment_last_day: Option<NaiveDate>,
    /// The last day (included) of a fixed term.
    pub term_last_day: Option<NaiveDate>,
    pub explanation: String,
}

impl From<domain::memberships::SaleSummary> for SalePreviewDto {
    fn from(s: domain::memberships::SaleSummary) -> Self {
        let p = s.preview;
        SalePreviewDto {
            type_name: s.type_name,
            price: s.price.into(),
            status: p.status.as_str().into(),
            lines: p.lines.into_iter().map(LineDto::from).collect(),
            total: p.total.into(),
            first_billing: p.first_billing,
            next_billing: p.next_billing,
            commitment_last_day: p.commitment_last_day,
            term_last_day: p.term_last_day,
            explanation: p.explanation,
        }
    }
}

/// An action's details; which fields matter depends on the action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// pause: its first day (left out: today).
    pub from: Option<NaiveDate>,
    /// pause: the day it ends (left out: until resumed).
    pub until: Option<NaiveDate>,
    /// resume, reactivate, change_billing_date, switch_cycle: the day.
    pub on: Option<NaiveDate>,
    /// cancel: `at_period_end` (default: the current period's last day is
    /// the last day), `immediately`, or `earliest` (the earliest last day
    /// the type's policy allows: after the minimum commitment and the notice
    /// period); change_type / change_price: `now` or `next_period` (default).
    pub when: Option<String>,
    /// change_type / switch_cycle: the new type's id.
    pub type_id: Option<String>,
    /// change_price: the price version's id.
    pub price_id: Option<String>,
    /// add_free_period: how many periods.
    pub periods: Option<u32>,
    /// change_billing_date: prorate the bridging period (default true).
    pub prorate: Option<bool>,
    /// Why; kept on the membership's timeline. Required for pause, cancel,
    /// reject, lock, add_free_period and change_billing_date, and whenever
    /// `force` is set; optional for the others.
    pub reason: Option<String>,
    /// Carry the action out although the business's policy refuses it (a
    /// 422 `policy_refused`), as a manager can in the staff app. Needs the
    /// `override_policy` scope on a manager's or owner's key, and a reason.
    /// Facts of the membership's state (409) cannot be overridden.
    pub force: Option<bool>,
}

/// What an action does (or would do, with `preview=true`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActionResultDto {
    /// For people: "Paused from 2026-12-01 until 2026-12-31".
    pub effect: String,
    /// The status the membership has today afterwards.
    pub status_after: StatusDto,
    /// What billing writes for the change, up to `billing_up_to`.
    pub billing: Vec<LineDto>,
    pub billing_up_to: NaiveDate,
    /// True when nothing was saved.
    pub preview: bool,
    /// The membership after the action (absent in a preview).
    pub membership: Option<MembershipDto>,
}

// ---------------------------------------------------------------------------
// Invoices and payments

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvoiceSummaryDto {
    pub id: String,
    pub number: i64,
    /// `open`, `paid`, `void`, `uncollectible`, `draft`.
    pub status: String,
    /// Where it stands as people read it: the status, or `refunded` /
    /// `partly_refunded` when refunds gave back all or some of what paid it,
    /// or `credit` for a credit note.
    pub state: String,
    pub billing_date: NaiveDate,
    pub due_date: NaiveDate,
    pub total: MoneyDto,
    pub amount_paid: MoneyDto,
    /// What is still to be paid: zero unless the invoice is open.
    pub amount_due: MoneyDto,
    /// What refunds gave back of the payments that paid it.
    pub refunded: MoneyDto,
    pub membership_id: Option<String>,
    pub member_id: Option<String>,
    pub organization_id: Option<String>,
    /// Set on a credit note: the invoice it credits.
    pub credit_note_for: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvoiceLineDto {
    pub kind: String,
    pub description: String,
    /// The first day the line pays for.
    pub period_start: Option<NaiveDate>,
    /// The last day (included) the line pays for.
    pub period_last_day: Option<NaiveDate>,
    pub amount: MoneyDto,
    pub explanation: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentDto {
    pub id: String,
    pub paid_on: NaiveDate,
    /// `cash`, `card_present`, `bank_transfer`, `external`, `card_on_file`.
    pub method: String,
    pub amount: MoneyDto,
    /// The part of the payment applied to this invoice.
    pub applied_here: MoneyDto,
    pub succeeded: bool,
    pub reference: String,
    pub failure: String,
    pub refundable: MoneyDto,
}

/// An invoice with its lines and payments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvoiceDto {
    pub id: String,
    pub number: i64,
    /// `open`, `paid`, `void`, `uncollectible`, `draft`.
    pub status: String,
    /// `refunded`, `partly_refunded`, `credit` or the status (see the list).
    pub state: String,
    pub billing_date: NaiveDate,
    pub due_date: NaiveDate,
    pub total: MoneyDto,
    pub amount_paid: MoneyDto,
    /// What is still to be paid: zero unless the invoice is open.
    pub amount_due: MoneyDto,
    pub refunded: MoneyDto,
    pub membership_id: String,
    pub holder: HolderDto,
    /// Who is billed.
    pub account_name: String,
    pub lines: Vec<InvoiceLineDto>,
    pub payments: Vec<PaymentDto>,
    pub paid_from_credit: MoneyDto,
    pub credit_note_for: Option<String>,
    pub credit_note_ids: Vec<String>,
    pub memo: String,
}

impl From<domain::invoices::InvoiceView> for InvoiceDto {
    fn from(v: domain::invoices::InvoiceView) -> Self {
        let s = &v.summary;
        InvoiceDto {
            id: s.id.to_string(),
            number: s.number,
            status: s.status.as_str().into(),
            state: s.state().as_str().into(),
            billing_date: s.billing_date,
            due_date: s.due_date,
            total: s.total.into(),
            amount_paid: s.amount_paid.into(),
            amount_due: s.amount_due().into(),
            refunded: s.refunded.into(),
            membership_id: v.membership_id.to_string(),
            holder: (&v.holder).into(),
            account_name: v.account_name,
            lines: v
                .lines
                .into_iter()
                .map(|l| InvoiceLineDto {
                    kind: l.kind.as_str().into(),
                    description: l.description,
                    period_start: l.period.map(|p| p.0),
                    period_last_day: l.period.map(|p| p.1),
                    amount: l.amount.into(),
                    explanation: l.explanation,
                })
                .collect(),
            payments: v
                .payments
                .into_iter()
                .map(|p| PaymentDto {
                    id: p.id.to_string(),
                    paid_on: p.paid_on,
                    method: p.method.as_str().into(),
                    amount: p.amount.into(),
                    applied_here: p.applied_here.into(),
                    succeeded: p.succeeded,
                    reference: p.reference,
                    failure: p.failure,
                    refundable: p.refundable.into(),
                })
                .collect(),
            paid_from_credit: v.paid_from_credit.into(),
            credit_note_for: v.credit_note_for.map(|l| l.id.to_string()),
            credit_note_ids: v.credit_notes.iter().map(|l| l.id.to_string()).collect(),
            memo: v.memo,
        }
    }
}

/// A payment taken outside Tessera, to record against an invoice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// "59.00" in the business's currency; left out, what is due.
    pub amount: Option<String>,
    /// `cash`, `card_present`, `bank_transfer` or `external`.
    pub method: String,
    pub reference: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordedPaymentDto {
    pub payment_id: String,
    pub invoice: InvoiceDto,
}

// ---------------------------------------------------------------------------
// Events

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EventDto {
    /// The event's number in the business's feed: 1, 2, 3...
    pub seq: i64,
    /// `member.created`, `membership.sold`, `membership.paused`, `invoice.paid`, `payment.failed`, ...
    pub kind: String,
    pub subject: String,
    pub subject_id: Option<String>,
    /// Details, by kind.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EventsPageDto {
    pub results: Vec<EventDto>,
    /// Ask with `after=` this number next time.
    pub last_seq: i64,
    /// More events are waiting: ask again at once.
    pub has_more: bool,
}

// ---------------------------------------------------------------------------
// Credits

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CreditEntryDto {
    pub id: String,
    /// `grant`, `carry_over`, `expire`, `adjust`, `redeem`, `reverse`.
    pub kind: String,
    /// Signed whole credits.
    pub amount: i64,
    pub on: NaiveDate,
    pub recorded_at: String,
    pub by: String,
    pub reason: String,
    pub expires_on: Option<NaiveDate>,
    pub booking_id: Option<String>,
}

/// A membership's credits: balance and history, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CreditsDto {
    pub membership_id: String,
    /// Never below zero.
    pub balance: i64,
    pub next_expiry_on: Option<NaiveDate>,
    pub next_expiry_credits: Option<i64>,
    pub credits_per_period: u32,
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<CreditEntryDto>,
}

/// A staff adjustment of a membership's credits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    /// Signed whole credits, not zero: 5 or -2. A negative one that would
    /// take the balance below zero is refused.
    pub amount: i64,
    /// Why; required, kept on the entry.
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdjustedDto {
    pub membership_id: String,
    pub balance: i64,
}

// ---------------------------------------------------------------------------
// Services and bookings

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ServiceDto {
    pub id: String,
    pub name: String,
    /// `class`, `appointment` or `resource`.
    pub kind: String,
    pub location_id: Option<String>,
    pub location: String,
    pub duration_minutes: u32,
    /// Places per slot.
    pub capacity: u32,
    pub price: Option<MoneyDto>,
    pub price_credits: Option<u32>,
    pub cancel_window_hours: u32,
    pub late_fee: MoneyDto,
    pub requires_membership: bool,
    /// Weekly start times: "mon 18:00".
    pub timetable: Vec<String>,
    pub active: bool,
}

impl From<domain::bookings::ServiceView> for ServiceDto {
    fn from(v: domain::bookings::ServiceView) -> Self {
        let s = v.spec;
        ServiceDto {
            id: v.id.to_string(),
            name: s.name,
            kind: s.kind.as_str().into(),
            location_id: s.location_id.map(|i| i.to_string()),
            location: v.location,
            duration_minutes: s.duration_minutes,
            capacity: s.capacity,
            price: s.price.map(Into::into),
            price_credits: s.price_credits,
            cancel_window_hours: s.cancel_window_hours,
            late_fee: s.late_fee.into(),
            requires_membership: s.requires_membership,
            timetable: s
                .timetable
                .iter()
                .map(|(d, t)| format!("{} {}", d.to_string().to_lowercase(), t.format("%H:%M")))
                .collect(),
            active: v.active,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SlotDto {
    /// Local time of the business, without an offset: `2026-12-02T18:00:00`.
    #[schema(value_type = String, example = "2026-12-02T18:00:00")]
    pub starts: chrono::NaiveDateTime,
    pub capacity: u32,
    pub booked: u32,
    pub places_left: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AvailabilityDto {
    pub service_id: String,
    pub day: NaiveDate,
    pub slots: Vec<SlotDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct BookingDto {
    pub id: String,
    pub service_id: String,
    pub service: String,
    pub location: String,
    /// Local time of the business, without an offset: `2026-12-02T18:00:00`.
    #[schema(value_type = String, example = "2026-12-02T18:00:00")]
    pub starts: chrono::NaiveDateTime,
    /// Local time of the business, without an offset.
    #[schema(value_type = String, example = "2026-12-02T19:00:00")]
    pub ends: chrono::NaiveDateTime,
    pub member_id: String,
    pub member: String,
    pub membership_id: Option<String>,
    /// `booked`, `cancelled`, `attended`, `no_show`.
    pub status: String,
    /// `allowance`, `credits`, `money`, `free`.
    pub paid_by: String,
    pub credits: i64,
    pub price: Option<MoneyDto>,
    /// Cancelled after the window: credits kept, late fee charged.
    pub late: bool,
    pub invoice_id: Option<String>,
    pub booked_by: String,
}

impl From<domain::bookings::BookingView> for BookingDto {
    fn from(b: domain::bookings::BookingView) -> Self {
        BookingDto {
            id: b.id.to_string(),
            service_id: b.service_id.to_string(),
            service: b.service,
            location: b.location,
            starts: b.starts,
            ends: b.ends,
            member_id: b.member_id.to_string(),
            member: b.member,
            membership_id: b.membership_id.map(|i| i.to_string()),
            status: b.status.as_str().into(),
            paid_by: b.paid_by.as_str().into(),
            credits: b.credits,
            price: b.price.map(Into::into),
            late: b.late,
            invoice_id: b.invoice_id.map(|i| i.to_string()),
            booked_by: b.booked_by,
        }
    }
}

/// A booking to make.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    pub service_id: String,
    pub membership_id: String,
    /// YYYY-MM-DD
    pub day: String,
    /// HH:MM, one of the service's start times that day.
    pub time: String,
    /// `allowance`, `credits` or `money`; left out, the first that works.
    pub pay_with: Option<String>,
    /// Who it is for, when not the membership's holder (a family member, or
    /// an organization's authorized member).
    pub member_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CancelledBookingDto {
    /// What happened, for people: credits given back, or kept with a late fee.
    pub outcome: String,
    pub booking: BookingDto,
}

// ---------------------------------------------------------------------------
// Organizations

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuthorizedMemberDto {
    pub member_id: String,
    pub member_number: i64,
    pub name: String,
    pub since: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationDto {
    pub id: String,
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub billing_address: String,
    /// Null: no limit.
    pub max_members: Option<u32>,
    pub authorized_members: Vec<AuthorizedMemberDto>,
    /// The newest 50 memberships the organization holds itself, newest
    /// first (`GET /memberships?organization=` lists them all).
    pub membership_ids: Vec<String>,
}

impl From<domain::organizations::OrganizationView> for OrganizationDto {
    fn from(v: domain::organizations::OrganizationView) -> Self {
        let d = v.details;
        OrganizationDto {
            id: v.id.to_string(),
            name: d.name,
            contact_name: d.contact_name,
            email: d.email,
            phone: d.phone,
            billing_address: d.billing_address,
            max_members: d.max_members,
            authorized_members: v
                .authorized
                .into_iter()
                .map(|a| AuthorizedMemberDto {
                    member_id: a.member_id.to_string(),
                    member_number: a.member_number,
                    name: a.name,
                    since: a.since,
                })
                .collect(),
            membership_ids: v
                .memberships
                .rows
                .iter()
                .map(|m| m.id.to_string())
                .collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationSummaryDto {
    pub id: String,
    pub name: String,
    pub contact_name: String,
    pub email: String,
    /// Members it authorizes now.
    pub authorized: i64,
    pub max_members: Option<u32>,
}

/// A new organization, or (PATCH) the fields to change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationInput {
    pub name: Option<String>,
    pub contact_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub billing_address: Option<String>,
    /// The most members it may authorize; `null` for no limit.
    #[serde(default, deserialize_with = "present_u32")]
    #[schema(value_type = Option<u32>)]
    pub max_members: Option<Option<u32>>,
}

fn present_u32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

impl OrganizationInput {
    /// The staff form's fields, laid over the organization's current details.
    pub fn onto(
        &self,
        c: Option<&domain::organizations::OrganizationDetails>,
    ) -> domain::organizations::OrganizationForm {
        let keep = |new: &Option<String>, old: Option<&String>| {
            new.clone().or_else(|| old.cloned()).unwrap_or_default()
        };
        domain::organizations::OrganizationForm {
            name: keep(&self.name, c.map(|c| &c.name)),
            contact_name: keep(&self.contact_name, c.map(|c| &c.contact_name)),
            email: keep(&self.email, c.map(|c| &c.email)),
            phone: keep(&self.phone, c.map(|c| &c.phone)),
            billing_address: keep(&self.billing_address, c.map(|c| &c.billing_address)),
            max_members: match self.max_members {
                Some(value) => value,
                None => c.and_then(|c| c.max_members),
            }
            .map(|n| n.to_string())
            .unwrap_or_default(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeInput {
    pub member_id: String,
}

/// A refund of a payment, or a credit note on an invoice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// "20.00" in the business's currency; left out, all that may still be refunded (or credited).
    pub amount: Option<String>,
    /// Why; required, kept with it.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RefundDto {
    pub refund_id: String,
    pub payment_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChargeDto {
    pub payment_id: String,
    pub invoice: InvoiceDto,
}

/// A membership as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MembershipSummaryDto {
    pub id: String,
    pub holder: HolderDto,
    pub type_name: String,
    pub status: StatusDto,
    pub start: NaiveDate,
    /// Its last day (included), when it ends.
    pub last_day: Option<NaiveDate>,
    pub locked: bool,
}

impl From<domain::memberships::MembershipSummary> for MembershipSummaryDto {
    fn from(m: domain::memberships::MembershipSummary) -> Self {
        MembershipSummaryDto {
            id: m.id.to_string(),
            holder: (&m.holder).into(),
            type_name: m.type_name,
            status: m.status.into(),
            start: m.start,
            last_day: m.last_day,
            locked: m.locked,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FamilyMemberDto {
    pub member_id: String,
    pub member_number: i64,
    pub name: String,
    pub since: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FamilyDto {
    pub membership_id: String,
    /// Family members besides the primary member.
    pub results: Vec<FamilyMemberDto>,
    /// The most the type allows; null: not a group type.
    pub max: Option<u32>,
}

impl From<&domain::memberships::MembershipPage> for FamilyDto {
    fn from(p: &domain::memberships::MembershipPage) -> Self {
        FamilyDto {
            membership_id: p.id.to_string(),
            results: p
                .family
                .iter()
                .map(|f| FamilyMemberDto {
                    member_id: f.member_id.to_string(),
                    member_number: f.member_number,
                    name: f.name.clone(),
                    since: f.added_on,
                })
                .collect(),
            max: p.family_max,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyInput {
    pub member_id: String,
}

// ---------------------------------------------------------------------------
// Public (no key)

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicTypeDto {
    pub id: String,
    pub name: String,
    pub description: String,
    /// For people: "€59.00 monthly".
    pub price: String,
    pub initiation_fee: Option<String>,
    pub term: String,
    pub benefits: Vec<String>,
    /// The member types it is for ("Student"): a signup says which it joins
    /// as (`member_type`). Empty: anyone.
    pub member_types: Vec<String>,
}

/// What a location offers the public.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicOfferDto {
    pub business_name: String,
    /// The business's member portal: /portal/sign-in/{business_slug}.
    pub business_slug: String,
    pub location_name: String,
    /// Active types offered there, in display order.
    pub results: Vec<PublicTypeDto>,
}

impl From<domain::catalog::PublicOffer> for PublicOfferDto {
    fn from(o: domain::catalog::PublicOffer) -> Self {
        PublicOfferDto {
            business_name: o.business_name,
            business_slug: o.business_slug,
            location_name: o.location_name,
            results: o
                .types
                .into_iter()
                .map(|t| PublicTypeDto {
                    id: t.id.to_string(),
                    name: t.name,
                    description: t.description,
                    price: t.price,
                    initiation_fee: t.initiation_fee,
                    term: t.term,
                    benefits: t.benefits,
                    member_types: t.member_types,
                })
                .collect(),
        }
    }
}

/// A visitor's signup: their details, the type, and a card (sandbox).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupInput {
    pub type_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    /// YYYY-MM-DD.
    pub date_of_birth: Option<String>,
    /// The first day, YYYY-MM-DD; left out, today.
    pub start: Option<String>,
    /// Who the visitor joins as, for a type that is for some member types
    /// only (its `member_types` in the location's offer), such as "Student".
    pub member_type: Option<String>,
    /// The card's number (the sandbox gateway: 4242 4242 4242 4242 is accepted, 4000 0000 0000 0002 declined).
    pub card_number: String,
    /// MM/YY.
    pub card_expiry: String,
}

/// A signup's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SignupStatusDto {
    /// The signup's token: `/join/status/{token}` shows it to the visitor.
    pub token: String,
    /// `active`, `pending_approval` or `payment_failed`.
    pub state: String,
    /// For people.
    pub message: String,
    pub business_name: String,
    pub member_name: String,
    pub email: String,
    pub type_name: String,
    pub start: NaiveDate,
    pub first_invoice_total: Option<MoneyDto>,
    pub amount_due: Option<MoneyDto>,
}

impl From<domain::signup::SignupView> for SignupStatusDto {
    fn from(v: domain::signup::SignupView) -> Self {
        use domain::signup::SignupState;
        SignupStatusDto {
            message: v.message(),
            state: match &v.state {
                SignupState::Active => "active",
                SignupState::PendingApproval => "pending_approval",
                SignupState::PaymentFailed { .. } => "payment_failed",
            }
            .into(),
            token: v.token,
            business_name: v.business_name,
            member_name: v.member_name,
            email: v.email,
            type_name: v.type_name,
            start: v.start,
            first_invoice_total: v.first_invoice_total.map(Into::into),
            amount_due: v.amount_due.map(Into::into),
        }
    }
}
