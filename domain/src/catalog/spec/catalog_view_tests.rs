use chrono::NaiveDate;

use crate::catalog::*;
use crate::money::{Currency, Money};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn version(id: i64, fee: i64, from: NaiveDate) -> PriceVersion {
    PriceVersion {
        id,
        fee: Money::new(fee, Currency::EUR),
        initiation_fee: Money::zero(Currency::EUR),
        effective_from: from,
        memberships: 0,
    }
}

#[test]
fn the_current_price_is_the_latest_version_that_has_started() {
    let versions = vec![
        version(1, 5000, d(2026, 1, 1)),
        version(2, 5500, d(2027, 1, 1)),
    ];
    assert_eq!(current_price(&versions, d(2026, 12, 31)).unwrap().id, 1);
    assert_eq!(current_price(&versions, d(2027, 1, 1)).unwrap().id, 2);
    // A type whose first price starts later shows that first price.
    assert_eq!(current_price(&versions, d(2025, 6, 1)).unwrap().id, 1);
    assert!(current_price(&[], d(2026, 1, 1)).is_none());
}

#[test]
fn a_new_price_starts_today_or_later_on_a_free_date() {
    let versions = vec![version(1, 5000, d(2026, 1, 1))];
    let today = d(2026, 11, 22);
    assert!(check_new_price_version(&versions, today, today).is_ok());
    assert!(
        check_new_price_version(&versions, d(2026, 11, 21), today)
            .unwrap_err()
            .contains("today")
    );
    let future = vec![
        version(1, 5000, d(2026, 1, 1)),
        version(2, 5500, d(2027, 1, 1)),
    ];
    assert!(
        check_new_price_version(&future, d(2027, 1, 1), today)
            .unwrap_err()
            .contains("already")
    );
}

fn summary(
    name: &str,
    status: TypeStatus,
    purchase_type: PurchaseType,
    locations: Option<Vec<i64>>,
) -> MembershipTypeSummary {
    MembershipTypeSummary {
        id: 1,
        name: name.into(),
        color: DEFAULT_COLOR.into(),
        purchase_type,
        billing_interval: None,
        status,
        display_order: 0,
        fee: Money::zero(Currency::EUR),
        initiation_fee: Money::zero(Currency::EUR),
        term: Term::Ongoing,
        all_locations: locations.is_none(),
        location_ids: locations.unwrap_or_default(),
        memberships: 0,
    }
}

#[test]
fn filters_hide_retired_types_unless_asked_and_match_name_type_and_location() {
    let gym = summary(
        "Gym Monthly",
        TypeStatus::Active,
        PurchaseType::Recurring,
        None,
    );
    let old = summary(
        "Old Plan",
        TypeStatus::Retired,
        PurchaseType::Recurring,
        None,
    );
    let river = summary(
        "River Pass",
        TypeStatus::Draft,
        PurchaseType::Prepaid,
        Some(vec![2]),
    );
    let all = TypeFilter::default();
    assert!(all.matches(&gym) && all.matches(&river) && !all.matches(&old));
    assert!(
        TypeFilter {
            include_retired: true,
            ..Default::default()
        }
        .matches(&old)
    );
    assert!(
        TypeFilter {
            status: Some(TypeStatus::Retired),
            ..Default::default()
        }
        .matches(&old)
    );
    assert!(
        !TypeFilter {
            status: Some(TypeStatus::Active),
            ..Default::default()
        }
        .matches(&river)
    );
    let prepaid = TypeFilter {
        purchase_type: Some(PurchaseType::Prepaid),
        ..Default::default()
    };
    assert!(prepaid.matches(&river) && !prepaid.matches(&gym));
    let at_1 = TypeFilter {
        location_id: Some(1),
        ..Default::default()
    };
    assert!(
        at_1.matches(&gym) && !at_1.matches(&river),
        "all-locations types are offered everywhere"
    );
    let search = TypeFilter {
        search: " gym ".into(),
        ..Default::default()
    };
    assert!(search.matches(&gym) && !search.matches(&river));
}

#[test]
fn price_labels_read_naturally() {
    let fee = Money::new(5900, Currency::EUR);
    assert_eq!(
        price_label(
            PurchaseType::Recurring,
            Some(BillingInterval::TwoWeeks),
            fee
        ),
        "€59.00 every two weeks"
    );
    assert_eq!(price_label(PurchaseType::Prepaid, None, fee), "€59.00 once");
    assert_eq!(
        price_label(PurchaseType::Benefit, None, Money::zero(Currency::EUR)),
        "free"
    );
}

#[test]
fn the_edit_form_of_a_type_validates_back_to_the_same_settings() {
    let ctx = CatalogContext {
        currency: Currency::EUR,
        location_ids: vec![1, 2],
        member_types: vec!["Youth".into()],
        other_type_ids: vec![9],
    };
    let form = MembershipTypeForm {
        name: "Youth Team".into(),
        purchase_type: "recurring".into(),
        billing_interval: "monthly".into(),
        fee: "35".into(),
        status: "active".into(),
        term_kind: "seasons".into(),
        seasons: "2026-09-01 to 2027-05-31\n2027-09-01 to 2028-05-31".into(),
        end_action: "renew_other".into(),
        renew_into: "9".into(),
        location_scope: "selected".into(),
        location_ids: vec!["2".into()],
        member_types: vec!["Youth".into()],
        youth: "on".into(),
        group: "on".into(),
        max_family_members: "2".into(),
        credits_per_period: "2".into(),
        carry_over_cap: "all".into(),
        credit_expiry_after: "3".into(),
        credit_expiry_unit: "periods".into(),
        included_services: "Coaching: 2".into(),
        member_discount_percent: "5".into(),
        pause_allowed: "on".into(),
        pause_max_days: "20".into(),
        pause_fee: "2.5".into(),
        min_commitment_periods: "2".into(),
        notice_days: "7".into(),
        cancel_timing: "immediately".into(),
        approval_required: "on".into(),
        one_per_member: "on".into(),
        revenue_account: "4300".into(),
        deferred_revenue: "on".into(),
        ..Default::default()
    };
    let new = form.validate_new(&ctx).unwrap();
    let detail = MembershipTypeDetail {
        id: 3,
        status: new.status,
        display_order: 10,
        spec: new.spec.clone(),
        prices: vec![PriceVersion {
            id: 4,
            fee: new.price.fee,
            initiation_fee: new.price.initiation_fee,
            effective_from: d(2026, 1, 1),
            memberships: 0,
        }],
        current_price_id: 4,
        memberships: 0,
        location_names: vec![],
        renew_into_name: None,
    };
    let again = detail.to_form().validate_new(&ctx).unwrap();
    assert_eq!(again.spec, new.spec);
    assert_eq!(again.price, new.price);
    assert_eq!(
        new.spec.benefits.carry_over_cap, None,
        "\"all\" carries every credit over"
    );
}
