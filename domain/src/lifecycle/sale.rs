//! Selling a membership: the sale form, its rules, and the preview of what
//! the sale will bill, computed by the same code the billing run uses.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Event, Membership, Recorded, Status};
use crate::billing::charges::{Discount, Line, total};
use crate::billing::generator::{BillingInput, CatalogType, generate};
use crate::catalog::spec::{Term, TypeSpec, parse_percent};
use crate::catalog::{PriceVersion, TypeStatus, current_price, text_enum};
use crate::money::{Currency, Money};
use crate::validation::Invalid;

text_enum! {
    /// Who pays a membership.
    pub enum Payer {
        Member = ("member", "The member"),
        Organization = ("organization", "The member's organization"),
        /// A member of an organization who pays for this one themselves.
        Personal = ("personal", "The member personally"),
    }
}

text_enum! {
    /// Where a sale came from.
    pub enum Source {
        FrontDesk = ("front_desk", "Front desk"),
        Portal = ("portal", "Member portal"),
        Api = ("api", "API"),
        Import = ("import", "Import"),
    }
}

text_enum! {
    pub enum DiscountKind {
        None = ("", "No discount"),
        Percent = ("percent", "Percent of the fee"),
        Fixed = ("fixed", "Fixed amount off the fee"),
        Manual = ("manual", "One-off amount off the first invoice"),
    }
}

/// The sale as typed; every field is text so that a form keeps what was entered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SellForm {
    pub type_id: String,
    /// Empty: the price version in effect on the start date.
    pub price_id: String,
    pub start: String,
    pub location_ids: Vec<String>,
    pub payer: String,
    pub discount_kind: String,
    pub discount_value: String,
    /// Empty: forever.
    pub discount_periods: String,
    pub discount_reason: String,
    pub source: String,
    pub notes: String,
}

/// A sale, typed: what the staff app's form and the API's JSON both become
/// before it is checked against the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleCommand {
    pub type_id: i64,
    /// `None`: the price version in effect on the start date.
    pub price_id: Option<i64>,
    /// `None`: today.
    pub start: Option<NaiveDate>,
    /// Empty: every location the type is offered at.
    pub location_ids: Vec<i64>,
    /// `None`: the holder pays.
    pub payer: Option<Payer>,
    pub discount: DiscountAsk,
    /// `None`: the front desk.
    pub source: Option<Source>,
    pub notes: String,
}

impl SaleCommand {
    /// A sale of `type_id` from today, with nothing else chosen.
    pub fn of_type(type_id: i64) -> Self {
        Self {
            type_id,
            price_id: None,
            start: None,
            location_ids: Vec::new(),
            payer: None,
            discount: DiscountAsk::default(),
            source: None,
            notes: String::new(),
        }
    }
}

/// A discount as asked: its value is text in both doors ("10" percent,
/// "5.00" off), read in the business's currency when the sale is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscountAsk {
    pub kind: DiscountKind,
    pub value: String,
    /// `None`: forever.
    pub periods: Option<u32>,
    pub reason: String,
}

impl Default for DiscountAsk {
    /// No discount.
    fn default() -> Self {
        Self {
            kind: DiscountKind::None,
            value: String::new(),
            periods: None,
            reason: String::new(),
        }
    }
}

impl SellForm {
    /// The typed sale the form asks for, or what to correct in its shape
    /// (what the catalog allows is checked by `check_sale`).
    pub fn command(&self) -> Result<SaleCommand, Invalid> {
        let mut invalid = Invalid::default();
        let type_id = parse_id(&self.type_id);
        if type_id.is_none() {
            invalid.push("type_id", "choose a membership type");
        }
        let start = match self.start.trim() {
            "" => None,
            text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    invalid.push("start", "enter a date as YYYY-MM-DD");
                    None
                }
            },
        };
        let price_id = match self.price_id.trim() {
            "" => None,
            text => {
                let id = parse_id(text);
                if id.is_none() {
                    invalid.push("price_id", "choose one of this type's price versions");
                }
                id
            }
        };
        let mut location_ids = Vec::new();
        for text in self.location_ids.iter().filter(|t| !t.trim().is_empty()) {
            match parse_id(text) {
                Some(id) => location_ids.push(id),
                None => {
                    invalid.push("location_ids", "choose locations from the list");
                    break;
                }
            }
        }
        let payer = match self.payer.trim() {
            "" => None,
            text => {
                let payer = Payer::parse(text);
                if payer.is_none() {
                    invalid.push("payer", "choose who pays");
                }
                payer
            }
        };
        let kind = DiscountKind::parse(self.discount_kind.trim());
        if kind.is_none() {
            invalid.push("discount_kind", "choose a kind of discount");
        }
        let periods = match self.discount_periods.trim() {
            "" => None,
            text => {
                let periods = text.parse::<u32>().ok();
                if periods.is_none() {
                    invalid.push("discount_periods", "enter a whole number, such as 3");
                }
                periods
            }
        };
        let source = match self.source.trim() {
            "" => None,
            text => {
                let source = Source::parse(text);
                if source.is_none() {
                    invalid.push("source", "choose where the sale came from");
                }
                source
            }
        };
        match (type_id, kind) {
            (Some(type_id), Some(kind)) if invalid.is_empty() => Ok(SaleCommand {
                type_id,
                price_id,
                start,
                location_ids,
                payer,
                discount: DiscountAsk {
                    kind,
                    value: self.discount_value.clone(),
                    periods,
                    reason: self.discount_reason.clone(),
                },
                source,
                notes: self.notes.clone(),
            }),
            _ => Err(invalid),
        }
    }
}

/// A validated sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub type_id: i64,
    pub price_id: i64,
    pub start: NaiveDate,
    pub location_ids: Vec<i64>,
    pub payer: Payer,
    pub discount: Option<Discount>,
    pub source: Source,
    pub notes: String,
    pub approval_required: bool,
}

/// The type being sold, as the sale needs it.
#[derive(Clone, Debug)]
pub struct TypeOnSale<'a> {
    pub id: i64,
    pub status: TypeStatus,
    pub spec: &'a TypeSpec,
    pub prices: &'a [PriceVersion],
}

/// What the sale is checked against.
#[derive(Clone, Debug)]
pub struct SaleContext<'a> {
    pub today: NaiveDate,
    pub currency: Currency,
    pub sold: TypeOnSale<'a>,
    /// The member's type ("Adult"); `None` when an organization buys for itself.
    pub member_type: Option<&'a str>,
    /// The organization that has authorized the member, if any.
    pub organization: Option<&'a str>,
    /// The holder already has an active (or upcoming) membership of this type.
    pub holds_this_type: bool,
    /// The business's locations, for types offered everywhere.
    pub business_locations: &'a [i64],
}

pub const NOTES_MAX_CHARS: usize = 2000;

fn parse_id(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// Checks a sale against the catalog and the holder: every problem is
/// reported next to its field.
pub fn check_sale(sale: &SaleCommand, ctx: &SaleContext) -> Result<Sale, Invalid> {
    let mut invalid = Invalid::default();
    let spec = ctx.sold.spec;
    if ctx.sold.status != TypeStatus::Active {
        invalid.push(
            "type_id",
            format!(
                "{} is {} and cannot be sold: activate it first",
                spec.name,
                ctx.sold.status.label().to_lowercase()
            ),
        );
    }
    let start = match sale.start {
        None => Some(ctx.today),
        Some(d) if d < ctx.today => {
            invalid.push("start", format!("start today ({}) or later", ctx.today));
            None
        }
        Some(d) => Some(d),
    };
    if let (Some(start), Term::Seasons { .. }) = (start, &spec.term)
        && super::membership::term_end_from(&spec.term, start).is_none()
    {
        invalid.push(
            "start",
            format!(
                "no season of {} covers this date: add a season to the type",
                spec.name
            ),
        );
    }
    let price = match sale.price_id {
        None => current_price(ctx.sold.prices, start.unwrap_or(ctx.today)),
        Some(id) => {
            let found = ctx.sold.prices.iter().find(|p| p.id == id);
            if found.is_none() {
                invalid.push("price_id", "choose one of this type's price versions");
            }
            found
        }
    };
    if let Some(member_type) = ctx.member_type
        && !spec.member_types.is_empty()
        && !spec.member_types.iter().any(|t| t == member_type)
    {
        invalid.push(
            "type_id",
            format!(
                "{} is for {} members; this member is {member_type}",
                spec.name,
                spec.member_types.join(" or ")
            ),
        );
    }
    if ctx.holds_this_type && spec.policies.one_per_member {
        invalid.push(
            "type_id",
            format!(
                "this holder already has an active {} membership, and the type allows one at a time",
                spec.name
            ),
        );
    }
    let offered: Vec<i64> = if spec.all_locations {
        ctx.business_locations.to_vec()
    } else {
        spec.location_ids.clone()
    };
    let mut location_ids = Vec::new();
    for &id in &sale.location_ids {
        match Some(id).filter(|id| offered.contains(id)) {
            Some(id) if !location_ids.contains(&id) => location_ids.push(id),
            Some(_) => {}
            None => {
                invalid.push(
                    "location_ids",
                    format!(
                        "{} is not offered at one of the chosen locations",
                        spec.name
                    ),
                );
                break;
            }
        }
    }
    if location_ids.is_empty() {
        location_ids = offered;
    }
    let payer = Some(sale.payer.unwrap_or(Payer::Member));
    let payer = match payer {
        None => None,
        Some(Payer::Organization | Payer::Personal) if ctx.organization.is_none() => {
            invalid.push(
                "payer",
                "this member is not authorized by an organization: the member pays",
            );
            None
        }
        Some(payer) => Some(payer),
    };
    let discount = discount(&sale.discount, ctx.currency, &mut invalid);
    let source = Some(sale.source.unwrap_or(Source::FrontDesk));
    let notes = sale.notes.trim().to_string();
    if notes.chars().count() > NOTES_MAX_CHARS {
        invalid.push(
            "notes",
            format!("keep notes under {NOTES_MAX_CHARS} characters"),
        );
    }
    if !invalid.is_empty() {
        return Err(invalid);
    }
    let (Some(start), Some(price), Some(payer), Some(discount), Some(source)) =
        (start, price, payer, discount, source)
    else {
        unreachable!("every missing value recorded an error");
    };
    Ok(Sale {
        type_id: ctx.sold.id,
        price_id: price.id,
        start,
        location_ids,
        payer,
        discount,
        source,
        notes,
        approval_required: spec.policies.approval_required,
    })
}

/// `Some(None)`: no discount; `None`: the discount fields have errors.
fn discount(
    ask: &DiscountAsk,
    currency: Currency,
    invalid: &mut Invalid,
) -> Option<Option<Discount>> {
    let errors_before = invalid.errors.len();
    let periods = ask.periods;
    match periods {
        Some(0) => invalid.push(
            "discount_periods",
            "give at least 1 period, or leave empty for forever",
        ),
        Some(n) if n > 1200 => invalid.push("discount_periods", "use a number from 0 to 1200"),
        _ => {}
    }
    let amount = |invalid: &mut Invalid| match Money::parse(ask.value.trim(), currency) {
        Ok(m) if m.minor > 0 => Some(m),
        Ok(_) => {
            invalid.push("discount_value", "enter an amount above zero");
            None
        }
        Err(e) => {
            invalid.push("discount_value", e.to_string());
            None
        }
    };
    let discount = match ask.kind {
        DiscountKind::None => return Some(None),
        DiscountKind::Percent => match parse_percent(&ask.value) {
            Ok(p) if p.is_zero() => {
                invalid.push("discount_value", "enter a percentage above 0");
                None
            }
            Ok(percent) => Some(Discount::Percent { percent, periods }),
            Err(e) => {
                invalid.push("discount_value", e);
                None
            }
        },
        DiscountKind::Fixed => amount(invalid).map(|amount| Discount::Fixed { amount, periods }),
        DiscountKind::Manual => {
            let reason = ask.reason.trim().to_string();
            if reason.is_empty() {
                invalid.push("discount_reason", "say why this discount is given");
            }
            amount(invalid).map(|amount| Discount::Manual { amount, reason })
        }
    };
    (invalid.errors.len() == errors_before).then_some(discount)
}

/// What a sale will do, before it is saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalePreview {
    pub status: Status,
    /// The first invoice: first period, initiation fee, family members, discount.
    pub lines: Vec<Line>,
    pub total: Money,
    /// `None` for benefits (nothing is billed).
    pub first_billing: Option<NaiveDate>,
    pub next_billing: Option<NaiveDate>,
    /// The last day of the minimum commitment (included).
    pub commitment_last_day: Option<NaiveDate>,
    /// The last day of a fixed term.
    pub term_last_day: Option<NaiveDate>,
    pub explanation: String,
}

/// Previews a sale of `spec` at `price` from the sale's start.
pub fn preview(
    spec: &TypeSpec,
    price: &PriceVersion,
    sale: &Sale,
    today: NaiveDate,
) -> SalePreview {
    let events = [Recorded {
        event: Event::Sold {
            start: sale.start,
            approval_required: sale.approval_required,
        },
        by: String::new(),
        reason: String::new(),
        forced: false,
    }];
    let m = Membership {
        spec,
        events: &events,
        overdue: Default::default(),
    };
    let term_end = m.term_end(sale.start);
    // The first invoice as billing will write it: the generator on the sale
    // alone (as if approved: an approval bills the same lines).
    let approved = [Recorded {
        event: Event::Sold {
            start: sale.start,
            approval_required: false,
        },
        ..events[0].clone()
    }];
    let prices = [price.clone()];
    let catalog = [CatalogType {
        id: 0,
        spec,
        prices: &prices,
    }];
    let input = BillingInput {
        catalog: &catalog,
        sold: (0, price.id),
        events: &approved,
        discount: sale.discount.as_ref(),
        credit_unused_on_cancel: false,
        currency: price.fee.currency,
    };
    let lines: Vec<Line> = generate(&input, &[], sale.start)
        .into_iter()
        .map(|l| l.line)
        .collect();
    let billed = !lines.is_empty();
    let report = m.status(today);
    SalePreview {
        status: report.status,
        total: total(&lines, price.fee.currency),
        lines,
        first_billing: billed.then_some(sale.start),
        next_billing: m.next_billing(sale.start),
        commitment_last_day: m.commitment_end().and_then(|e| e.pred_opt()),
        term_last_day: term_end.and_then(|e| e.pred_opt()),
        explanation: report.explanation,
    }
}

#[cfg(test)]
mod tests;
