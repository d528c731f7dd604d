use super::*;
use crate::catalog::spec::DateRange;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn adult() -> TypeSpec {
    let mut spec = TypeSpec {
        name: "Adult Monthly".into(),
        member_types: vec!["Adult".into(), "Senior".into()],
        ..TypeSpec::default()
    };
    spec.policies.min_commitment_periods = 3;
    spec.policies.one_per_member = true;
    spec
}

fn prices() -> Vec<PriceVersion> {
    vec![
        PriceVersion {
            id: 10,
            fee: eur(4500),
            initiation_fee: eur(2500),
            effective_from: d(2025, 1, 1),
            memberships: 0,
        },
        PriceVersion {
            id: 11,
            fee: eur(4900),
            initiation_fee: eur(2500),
            effective_from: d(2026, 12, 1),
            memberships: 0,
        },
    ]
}

fn ctx<'a>(spec: &'a TypeSpec, prices: &'a [PriceVersion]) -> SaleContext<'a> {
    SaleContext {
        today: d(2026, 11, 22),
        currency: Currency::EUR,
        sold: TypeOnSale {
            id: 1,
            status: TypeStatus::Active,
            spec,
            prices,
        },
        member_type: Some("Adult"),
        organization: None,
        holds_this_type: false,
        business_locations: &[1, 2],
    }
}

/// The form as the staff app sends it, read and checked.
fn check_sale(form: &SellForm, ctx: &SaleContext) -> Result<Sale, Invalid> {
    super::check_sale(&form.command().unwrap(), ctx)
}

fn form(start: &str) -> SellForm {
    SellForm {
        type_id: "1".into(),
        start: start.into(),
        ..SellForm::default()
    }
}

#[test]
fn a_sale_takes_the_price_in_effect_on_its_start_and_previews_its_first_invoice() {
    let spec = adult();
    let prices = prices();
    let sale = check_sale(
        &SellForm {
            discount_kind: "percent".into(),
            discount_value: "10".into(),
            discount_periods: "3".into(),
            ..form("2026-12-01")
        },
        &ctx(&spec, &prices),
    )
    .unwrap();
    assert_eq!((sale.price_id, sale.location_ids.clone()), (11, vec![1, 2]));
    let p = preview(&spec, &prices[1], &sale, d(2026, 11, 22));
    let amounts: Vec<_> = p.lines.iter().map(|l| l.amount.minor).collect();
    // As the invoice will show them: the initiation fee first.
    assert_eq!(amounts, [2500, 4900, -490]);
    assert_eq!(p.total, eur(6910));
    assert_eq!(p.status, Status::Pending);
    assert_eq!(
        (p.first_billing, p.next_billing, p.commitment_last_day),
        (
            Some(d(2026, 12, 1)),
            Some(d(2027, 1, 1)),
            Some(d(2027, 2, 28))
        )
    );
    let today = check_sale(&form(""), &ctx(&spec, &prices)).unwrap();
    assert_eq!((today.start, today.price_id), (d(2026, 11, 22), 10));
    let older = SellForm {
        price_id: "10".into(),
        ..form("2026-12-01")
    };
    assert_eq!(
        check_sale(&older, &ctx(&spec, &prices)).unwrap().price_id,
        10
    );
    let foreign = SellForm {
        price_id: "99".into(),
        ..form("2026-12-01")
    };
    assert_eq!(
        check_sale(&foreign, &ctx(&spec, &prices))
            .unwrap_err()
            .message_for("price_id"),
        Some("choose one of this type's price versions")
    );
}

#[test]
fn a_sale_reports_every_problem_next_to_its_field() {
    let spec = adult();
    let prices = prices();
    let mut c = ctx(&spec, &prices);
    c.member_type = Some("Youth");
    c.holds_this_type = true;
    c.sold.status = TypeStatus::Retired;
    let errors = check_sale(
        &SellForm {
            location_ids: vec!["9".into()],
            payer: "organization".into(),
            discount_kind: "manual".into(),
            discount_value: "-5".into(),
            ..form("2026-11-01")
        },
        &c,
    )
    .unwrap_err();
    let fields: Vec<(&str, &str)> = errors
        .errors
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "type_id",
                "Adult Monthly is retired and cannot be sold: activate it first"
            ),
            ("start", "start today (2026-11-22) or later"),
            (
                "type_id",
                "Adult Monthly is for Adult or Senior members; this member is Youth"
            ),
            (
                "type_id",
                "this holder already has an active Adult Monthly membership, and the type allows one at a time"
            ),
            (
                "location_ids",
                "Adult Monthly is not offered at one of the chosen locations"
            ),
            (
                "payer",
                "this member is not authorized by an organization: the member pays"
            ),
            ("discount_reason", "say why this discount is given"),
            ("discount_value", "enter an amount above zero"),
        ]
    );
}

#[test]
fn a_sale_form_reports_what_is_not_readable() {
    let errors = SellForm {
        start: "tomorrow".into(),
        price_id: "ten".into(),
        payer: "uncle".into(),
        discount_kind: "huge".into(),
        discount_periods: "three".into(),
        ..form("")
    }
    .command()
    .unwrap_err();
    let fields: Vec<&str> = errors.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "start",
            "price_id",
            "payer",
            "discount_kind",
            "discount_periods"
        ]
    );
    let read = SellForm {
        location_ids: vec!["2".into(), "".into()],
        discount_kind: "percent".into(),
        discount_value: "10".into(),
        discount_periods: "3".into(),
        ..form("2026-12-01")
    }
    .command()
    .unwrap();
    assert_eq!(
        (
            read.type_id,
            read.start,
            read.location_ids,
            read.discount.periods
        ),
        (1, Some(d(2026, 12, 1)), vec![2], Some(3))
    );
}

#[test]
fn approval_and_seasons_show_in_the_preview() {
    let mut spec = TypeSpec {
        name: "Youth Climbing Team".into(),
        term: Term::Seasons {
            ranges: vec![DateRange {
                first: d(2026, 9, 1),
                last: d(2027, 5, 31),
            }],
        },
        ..TypeSpec::default()
    };
    spec.policies.approval_required = true;
    let prices = prices();
    let sale = check_sale(&form("2026-12-01"), &ctx(&spec, &prices)).unwrap();
    assert!(sale.approval_required);
    let p = preview(&spec, &prices[1], &sale, d(2026, 11, 22));
    assert_eq!(p.status, Status::NotApproved);
    assert_eq!(p.term_last_day, Some(d(2027, 5, 31)));
    let errors = check_sale(&form("2027-07-01"), &ctx(&spec, &prices)).unwrap_err();
    assert_eq!(
        errors.message_for("start"),
        Some("no season of Youth Climbing Team covers this date: add a season to the type")
    );
}
