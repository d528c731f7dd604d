//! The charges of one billing period of a membership: the recurring fee (or
//! the prepaid fee), the initiation fee on the first invoice, family members,
//! and the membership's discount, each a line that explains itself.
//!
//! The sale preview, the upcoming charges on a membership and the billing run
//! all take their lines from [`period_charges`], so what staff see before a
//! sale is what will be billed.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{BillingPeriod, fraction_of, period, prorate};
use crate::catalog::{PurchaseType, TypeSpec, text_enum};
use crate::money::Money;

text_enum! {
    /// What a line charges for.
    pub enum LineKind {
        Recurring = ("recurring", "Membership fee"),
        Prepaid = ("prepaid", "Prepaid fee"),
        Initiation = ("initiation", "Initiation fee"),
        FamilyMember = ("family_member", "Family members"),
        Discount = ("discount", "Discount"),
        PauseFee = ("pause_fee", "Pause fee"),
        /// The difference between what was billed and what the events now imply.
        Correction = ("correction", "Correction"),
        /// Written by a manager on a credit note; the generator never sees it.
        CreditNote = ("credit_note", "Credit note"),
        /// A booking paid with money, a late cancellation's fee, or their
        /// cancellation: not the membership's, so the generator never sees it.
        Fee = ("fee", "Fee"),
    }
}

/// A discount given on a membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discount {
    /// A percentage of the membership fee, for `periods` periods or forever.
    Percent {
        percent: Decimal,
        periods: Option<u32>,
    },
    /// A fixed amount off the membership fee, for `periods` periods or forever.
    Fixed { amount: Money, periods: Option<u32> },
    /// A one-off amount off the first invoice, with the reason staff gave.
    Manual { amount: Money, reason: String },
}

impl Discount {
    /// For people: "10% for 3 periods", "€5.00 off forever", "€20.00 once: referral".
    pub fn describe(&self) -> String {
        let periods = |p: &Option<u32>| match p {
            None => "forever".to_string(),
            Some(1) => "for 1 period".to_string(),
            Some(n) => format!("for {n} periods"),
        };
        match self {
            Discount::Percent {
                percent,
                periods: p,
            } => {
                format!("{}% {}", percent.normalize(), periods(p))
            }
            Discount::Fixed { amount, periods: p } => format!("{amount} off {}", periods(p)),
            Discount::Manual { amount, reason } => format!("{amount} once: {reason}"),
        }
    }

    pub fn applies_to(&self, n: u32) -> bool {
        match self {
            Discount::Percent { periods, .. } | Discount::Fixed { periods, .. } => {
                periods.is_none_or(|p| n < p)
            }
            Discount::Manual { .. } => n == 0,
        }
    }
}

/// One line of an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    /// The service period the line pays for, when it has one.
    pub period: Option<BillingPeriod>,
    pub amount: Money,
    /// How the amount was reached: "30 of 30 days at €49.00", "10% of €49.00".
    pub explanation: String,
}

/// What a membership is billed on: its type, price and dates.
#[derive(Clone, Copy, Debug)]
pub struct Plan<'a> {
    pub spec: &'a TypeSpec,
    pub fee: Money,
    pub initiation_fee: Money,
    /// The first day of the first period.
    pub anchor: NaiveDate,
    /// The first day after a fixed term; a last period that crosses it is prorated.
    pub term_end: Option<NaiveDate>,
    pub discount: Option<&'a Discount>,
    pub family_members: u32,
}

fn range(p: BillingPeriod) -> String {
    p.text()
}

/// The charges of period `n` (0 is the first, which carries the initiation fee).
/// Empty for periods after a fixed term, and for benefit types.
pub fn period_charges(plan: &Plan, n: u32) -> Vec<Line> {
    let spec = plan.spec;
    let mut lines = Vec::new();
    let base = match (spec.purchase_type, spec.billing_interval) {
        (PurchaseType::Benefit, _) => return lines,
        (PurchaseType::Recurring, Some(interval)) => {
            let full = period(plan.anchor, interval, n);
            if plan.term_end.is_some_and(|end| full.start >= end) {
                return lines;
            }
            let end = plan.term_end.map_or(full.end, |end| end.min(full.end));
            let served = BillingPeriod {
                start: full.start,
                end,
            };
            let (amount, explanation) = if end == full.end {
                (
                    plan.fee,
                    format!("{} days at {} per period", full.days(), plan.fee),
                )
            } else {
                let fraction = fraction_of(full, full.start, end);
                (
                    prorate(plan.fee, fraction),
                    format!(
                        "{} of {} days at {}: the term's last day is {}",
                        served.days(),
                        full.days(),
                        plan.fee,
                        super::day_text(served.last_day())
                    ),
                )
            };
            lines.push(Line {
                kind: LineKind::Recurring,
                description: format!("{}, {}", spec.name, range(served)),
                period: Some(served),
                amount,
                explanation,
            });
            amount
        }
        // Prepaid (or a recurring type without an interval, which validation refuses):
        // one charge for the whole term.
        _ => {
            if n > 0 {
                return lines;
            }
            let served = plan.term_end.map(|end| BillingPeriod {
                start: plan.anchor,
                end,
            });
            let description = match served {
                Some(p) => format!("{}, {}", spec.name, range(p)),
                None => spec.name.clone(),
            };
            lines.push(Line {
                kind: LineKind::Prepaid,
                description,
                period: served,
                amount: plan.fee,
                explanation: "paid once for the term".to_string(),
            });
            plan.fee
        }
    };
    if n == 0 && plan.initiation_fee.minor != 0 {
        lines.push(Line {
            kind: LineKind::Initiation,
            description: "Initiation fee".to_string(),
            period: None,
            amount: plan.initiation_fee,
            explanation: "once, on the first invoice".to_string(),
        });
    }
    if let Some(group) = &spec.group
        && plan.family_members > 0
        && group.additional_member_fee.minor != 0
    {
        let fee = group.additional_member_fee;
        lines.push(Line {
            kind: LineKind::FamilyMember,
            description: format!("Family members ({})", plan.family_members),
            period: lines[0].period,
            amount: Money::new(fee.minor * i64::from(plan.family_members), fee.currency),
            explanation: format!("{} × {fee}", plan.family_members),
        });
    }
    if let Some(discount) = plan.discount.filter(|d| d.applies_to(n)) {
        let (off, explanation) = match discount {
            Discount::Percent { percent, .. } => (
                prorate(base, *percent / Decimal::ONE_HUNDRED),
                format!("{}% of {base}", percent.normalize()),
            ),
            Discount::Fixed { amount, .. } => (
                Money::new(amount.minor.min(base.minor), base.currency),
                format!("{amount} off the membership fee"),
            ),
            Discount::Manual { amount, reason } => {
                let subtotal: i64 = lines.iter().map(|l| l.amount.minor).sum();
                (
                    Money::new(amount.minor.min(subtotal), base.currency),
                    format!("once: {reason}"),
                )
            }
        };
        if off.minor != 0 {
            lines.push(Line {
                kind: LineKind::Discount,
                description: format!("Discount ({})", discount.describe()),
                period: lines[0].period,
                amount: Money::new(-off.minor, off.currency),
                explanation,
            });
        }
    }
    lines
}

/// The sum of some lines (zero in `currency` when there are none).
pub fn total(lines: &[Line], currency: crate::money::Currency) -> Money {
    Money::new(lines.iter().map(|l| l.amount.minor).sum(), currency)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BillingInterval;
    use crate::catalog::spec::{GroupPolicy, Term};
    use crate::money::Currency;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::EUR)
    }

    fn monthly() -> TypeSpec {
        TypeSpec {
            name: "Adult Monthly".into(),
            purchase_type: PurchaseType::Recurring,
            billing_interval: Some(BillingInterval::Monthly),
            ..TypeSpec::default()
        }
    }

    fn plan<'a>(spec: &'a TypeSpec, discount: Option<&'a Discount>) -> Plan<'a> {
        Plan {
            spec,
            fee: eur(4900),
            initiation_fee: eur(2500),
            anchor: d(2026, 12, 1),
            term_end: None,
            discount,
            family_members: 0,
        }
    }

    fn amounts(lines: &[Line]) -> Vec<(LineKind, i64)> {
        lines.iter().map(|l| (l.kind, l.amount.minor)).collect()
    }

    #[test]
    fn the_first_invoice_has_the_period_and_the_initiation_fee() {
        let spec = monthly();
        let lines = period_charges(&plan(&spec, None), 0);
        assert_eq!(
            amounts(&lines),
            [(LineKind::Recurring, 4900), (LineKind::Initiation, 2500)]
        );
        assert_eq!(lines[0].description, "Adult Monthly, 1–31 Dec 2026");
        assert_eq!(lines[0].explanation, "31 days at €49.00 per period");
        assert_eq!(
            amounts(&period_charges(&plan(&spec, None), 1)),
            [(LineKind::Recurring, 4900)]
        );
    }

    #[test]
    fn a_percent_discount_for_three_periods_rounds_once_half_away_from_zero() {
        let spec = monthly();
        let discount = Discount::Percent {
            percent: Decimal::new(125, 1), // 12.5% of €49.00 = €6.125 → €6.13
            periods: Some(3),
        };
        let p = plan(&spec, Some(&discount));
        let discounted: Vec<_> = (0..4)
            .map(|n| {
                period_charges(&p, n)
                    .iter()
                    .filter(|l| l.kind == LineKind::Discount)
                    .map(|l| l.amount.minor)
                    .sum::<i64>()
            })
            .collect();
        assert_eq!(discounted, [-613, -613, -613, 0]);
        assert_eq!(
            period_charges(&p, 0)[2].description,
            "Discount (12.5% for 3 periods)"
        );
    }

    #[test]
    fn fixed_and_manual_discounts_never_exceed_what_they_discount() {
        let spec = monthly();
        let fixed = Discount::Fixed {
            amount: eur(10000),
            periods: None,
        };
        let lines = period_charges(&plan(&spec, Some(&fixed)), 5);
        assert_eq!(
            amounts(&lines),
            [(LineKind::Recurring, 4900), (LineKind::Discount, -4900)]
        );
        let manual = Discount::Manual {
            amount: eur(2000),
            reason: "referral".into(),
        };
        let p = plan(&spec, Some(&manual));
        assert_eq!(total(&period_charges(&p, 0), Currency::EUR), eur(5400));
        assert_eq!(total(&period_charges(&p, 1), Currency::EUR), eur(4900));
    }

    #[test]
    fn a_last_period_crossing_the_term_end_is_prorated_by_its_days() {
        let spec = TypeSpec {
            term: Term::Seasons { ranges: vec![] },
            ..monthly()
        };
        let p = Plan {
            term_end: Some(d(2027, 6, 1)),
            anchor: d(2026, 9, 15),
            ..plan(&spec, None)
        };
        // Period 8 is 2027-05-15 to 2027-06-14: 17 of 31 days are inside the term.
        let lines = period_charges(&p, 8);
        assert_eq!(amounts(&lines), [(LineKind::Recurring, 2687)]); // 4900 × 17/31 = 2687.10
        assert_eq!(
            lines[0].explanation,
            "17 of 31 days at €49.00: the term's last day is 31 May 2027"
        );
        assert!(period_charges(&p, 9).is_empty());
    }

    #[test]
    fn prepaid_types_charge_once_and_benefits_never() {
        let spec = TypeSpec {
            name: "10-Visit Pass".into(),
            purchase_type: PurchaseType::Prepaid,
            billing_interval: None,
            ..TypeSpec::default()
        };
        let p = Plan {
            term_end: Some(d(2027, 6, 1)),
            initiation_fee: eur(0),
            fee: eur(12000),
            ..plan(&spec, None)
        };
        let lines = period_charges(&p, 0);
        assert_eq!(amounts(&lines), [(LineKind::Prepaid, 12000)]);
        assert_eq!(
            lines[0].description,
            "10-Visit Pass, 1 Dec 2026 – 31 May 2027"
        );
        assert!(period_charges(&p, 1).is_empty());
        let benefit = TypeSpec {
            purchase_type: PurchaseType::Benefit,
            ..spec
        };
        assert!(period_charges(&plan(&benefit, None), 0).is_empty());
    }

    #[test]
    fn family_members_add_their_fee_each_period() {
        let spec = TypeSpec {
            group: Some(GroupPolicy {
                max_family_members: 4,
                additional_member_fee: eur(1500),
            }),
            ..monthly()
        };
        let p = Plan {
            family_members: 2,
            ..plan(&spec, None)
        };
        assert_eq!(
            amounts(&period_charges(&p, 1)),
            [(LineKind::Recurring, 4900), (LineKind::FamilyMember, 3000)]
        );
    }
}
