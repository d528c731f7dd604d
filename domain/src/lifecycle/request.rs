//! From what a person asked to the request the policy engine decides: the
//! type or price version a form names, looked up in the catalog.

use chrono::NaiveDate;

use crate::catalog::spec::{EndAction, TypeSpec};
use crate::catalog::{PriceVersion, PurchaseType, current_price};
use crate::lifecycle::policy::{Action, ChangeWhen, Refusal, RenewTarget, Request};

/// A parsed action; type and price changes still need their names and fees
/// looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asked {
    Ready(Action),
    ChangeType { type_id: i64, when: ChangeWhen },
    ChangePrice { price_id: i64, when: ChangeWhen },
    SwitchCycle { type_id: i64, on: NaiveDate },
}

/// A type of the business's catalog, as a request reads it.
#[derive(Clone, Copy, Debug)]
pub struct Offered<'a> {
    pub id: i64,
    /// Active: it may be sold, changed to or renewed into.
    pub on_sale: bool,
    pub spec: &'a TypeSpec,
    pub prices: &'a [PriceVersion],
}

/// A field the person must correct.
fn wrong(field: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        message: message.into(),
        overridable: false,
        policy: false,
        field: Some(field.to_string()),
    }
}

/// A fact of the catalog no one can override here.
fn conflict(message: impl Into<String>) -> Refusal {
    Refusal {
        message: message.into(),
        overridable: false,
        policy: false,
        field: None,
    }
}

fn price_on<'a>(t: Offered<'a>, day: NaiveDate) -> Result<&'a PriceVersion, Refusal> {
    current_price(t.prices, day)
        .ok_or_else(|| conflict(format!("{} has no price in effect on {day}", t.spec.name)))
}

/// Turns what was asked into a request, looking up the type or price it
/// names: `current` is the membership's type in effect, `catalog` finds any
/// type of the business by id.
pub fn request_for<'a>(
    asked: Asked,
    reason: &str,
    force: bool,
    current: Offered<'a>,
    catalog: impl Fn(i64) -> Option<Offered<'a>>,
    today: NaiveDate,
) -> Result<Request, Refusal> {
    let on_sale = |id: i64| catalog(id).filter(|t| t.on_sale);
    let action = match asked {
        // A type that renews into another: the renewal continues as that type.
        Asked::Ready(Action::Renew) if current.spec.end_action == EndAction::RenewOther => {
            let target = current.spec.renew_into.and_then(on_sale).ok_or_else(|| {
                conflict(format!(
                    "{} renews into another type that is not on sale: activate it or change the type's end action.",
                    current.spec.name
                ))
            })?;
            let price = price_on(target, today)?;
            Action::RenewInto(RenewTarget {
                type_id: target.id,
                type_name: target.spec.name.clone(),
                price_id: price.id,
                term: target.spec.term.clone(),
            })
        }
        Asked::Ready(action) => action,
        Asked::ChangeType { type_id, when } => {
            let target = on_sale(type_id)
                .ok_or_else(|| wrong("type_id", "choose an active membership type"))?;
            if target.id == current.id {
                return Err(wrong("type_id", "the membership is already of this type"));
            }
            if target.spec.purchase_type != current.spec.purchase_type {
                let kind = current.spec.purchase_type.label().to_lowercase();
                return Err(wrong(
                    "type_id",
                    format!("a {kind} membership changes only to another {kind} type"),
                ));
            }
            if target.spec.billing_interval != current.spec.billing_interval {
                return Err(wrong(
                    "type_id",
                    format!(
                        "{} is billed by another interval: switch the billing cycle instead",
                        target.spec.name
                    ),
                ));
            }
            let price = price_on(target, today)?;
            Action::ChangeType {
                type_id,
                type_name: target.spec.name.clone(),
                price_id: price.id,
                when,
            }
        }
        Asked::SwitchCycle { type_id, on } => {
            let target = on_sale(type_id)
                .ok_or_else(|| wrong("type_id", "choose an active membership type"))?;
            let (Some(interval), PurchaseType::Recurring) =
                (target.spec.billing_interval, target.spec.purchase_type)
            else {
                return Err(wrong(
                    "type_id",
                    "choose a recurring type: only those have a billing cycle",
                ));
            };
            let price = price_on(target, on.max(today))?;
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
                .ok_or_else(|| wrong("price_id", "choose one of this type's price versions"))?;
            Action::ChangePrice {
                price_id,
                fee: price.fee,
                when,
            }
        }
    };
    Ok(Request {
        action,
        reason: reason.trim().to_string(),
        force,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BillingInterval;
    use crate::money::{Currency, Money};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn price(id: i64, minor: i64, from: NaiveDate) -> PriceVersion {
        PriceVersion {
            id,
            fee: Money::new(minor, Currency::EUR),
            initiation_fee: Money::new(0, Currency::EUR),
            effective_from: from,
            memberships: 0,
        }
    }

    #[test]
    fn a_form_names_a_type_or_price_that_is_looked_up_or_refused_by_its_field() {
        let today = d(2026, 12, 5);
        let gym = TypeSpec {
            name: "Gym Monthly".into(),
            ..TypeSpec::default()
        };
        let spa = TypeSpec {
            name: "Spa Monthly".into(),
            ..TypeSpec::default()
        };
        let yearly = TypeSpec {
            name: "Gym Yearly".into(),
            billing_interval: Some(BillingInterval::Yearly),
            ..TypeSpec::default()
        };
        let gym_prices = [
            price(10, 4900, d(2026, 1, 1)),
            price(11, 5400, d(2027, 1, 1)),
        ];
        let spa_prices = [price(20, 6900, d(2026, 1, 1))];
        let offered = |id| match id {
            1 => Some(Offered {
                id: 1,
                on_sale: true,
                spec: &gym,
                prices: &gym_prices,
            }),
            2 => Some(Offered {
                id: 2,
                on_sale: true,
                spec: &spa,
                prices: &spa_prices,
            }),
            3 => Some(Offered {
                id: 3,
                on_sale: true,
                spec: &yearly,
                prices: &spa_prices,
            }),
            4 => Some(Offered {
                id: 4,
                on_sale: false,
                spec: &spa,
                prices: &spa_prices,
            }),
            _ => None,
        };
        let current = offered(1).unwrap();
        let ask = |asked| request_for(asked, " moving ", false, current, offered, today);
        let when = ChangeWhen::Now;

        let change = ask(Asked::ChangeType { type_id: 2, when }).unwrap();
        assert_eq!(
            change.action,
            Action::ChangeType {
                type_id: 2,
                type_name: "Spa Monthly".into(),
                price_id: 20,
                when
            }
        );
        assert_eq!(change.reason, "moving");
        let field = |asked| ask(asked).unwrap_err().field.unwrap();
        assert_eq!(field(Asked::ChangeType { type_id: 1, when }), "type_id");
        assert_eq!(field(Asked::ChangeType { type_id: 4, when }), "type_id");
        assert_eq!(field(Asked::ChangeType { type_id: 9, when }), "type_id");
        let other_interval = ask(Asked::ChangeType { type_id: 3, when }).unwrap_err();
        assert!(other_interval.message.contains("switch the billing cycle"));
        // A price version of the type itself, with its fee.
        let later = ask(Asked::ChangePrice { price_id: 11, when }).unwrap();
        assert_eq!(
            later.action,
            Action::ChangePrice {
                price_id: 11,
                fee: Money::new(5400, Currency::EUR),
                when
            }
        );
        assert_eq!(field(Asked::ChangePrice { price_id: 20, when }), "price_id");
        // A type that renews into one not on sale: a fact to fix in the catalog.
        let renews = TypeSpec {
            end_action: EndAction::RenewOther,
            renew_into: Some(4),
            ..gym.clone()
        };
        let current = Offered {
            spec: &renews,
            ..current
        };
        let refused = request_for(
            Asked::Ready(Action::Renew),
            "",
            false,
            current,
            offered,
            today,
        )
        .unwrap_err();
        assert_eq!((refused.field, refused.policy), (None, false));
        assert!(
            refused.message.contains("not on sale"),
            "{}",
            refused.message
        );
    }
}
