use super::*;
use crate::catalog::{CatalogContext, MembershipTypeForm, TypeStatus};

fn ctx() -> CatalogContext {
    CatalogContext {
        currency: Currency::EUR,
        location_ids: vec![1, 2],
        member_types: vec!["Adult".into(), "Youth".into(), "Student".into()],
        other_type_ids: vec![7],
    }
}

fn recurring() -> MembershipTypeForm {
    MembershipTypeForm {
        name: "Gym Monthly".into(),
        purchase_type: "recurring".into(),
        billing_interval: "monthly".into(),
        fee: "49".into(),
        status: "active".into(),
        ..Default::default()
    }
}

fn errors_of(form: &MembershipTypeForm) -> Invalid {
    form.validate_new(&ctx()).expect_err("the form is refused")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn a_gym_membership_with_commitment_pause_policy_and_initiation_fee_is_modelled() {
    let mut f = recurring();
    f.initiation_fee = "25".into();
    f.min_commitment_periods = "3".into();
    f.notice_days = "14".into();
    f.pause_allowed = "on".into();
    f.pause_max_per_year = "2".into();
    f.pause_min_days = "7".into();
    f.pause_max_days = "60".into();
    f.pause_fee = "5".into();
    f.pause_extends_commitment = "on".into();
    f.pause_portal = "on".into();
    f.cancel_portal = "on".into();
    let t = f.validate_new(&ctx()).unwrap();
    assert_eq!(t.price.initiation_fee, Money::new(2500, Currency::EUR));
    let pause = t.spec.policies.pause.unwrap();
    assert_eq!(
        (pause.max_per_year, pause.min_days, pause.max_days),
        (Some(2), 7, Some(60))
    );
    assert_eq!(pause.fee_per_period, Money::new(500, Currency::EUR));
    assert!(pause.extends_commitment && pause.portal_allowed);
    assert_eq!(t.spec.policies.min_commitment_periods, 3);
    assert_eq!(t.spec.policies.notice_days, 14);
    assert_eq!(
        t.spec.policies.cancellation,
        CancellationPolicy {
            timing: CancelTiming::AtPeriodEnd,
            portal_allowed: true
        }
    );
}

#[test]
fn a_prepaid_type_needs_a_term_and_a_price_and_no_interval() {
    let mut f = recurring();
    f.purchase_type = "prepaid".into();
    f.billing_interval = String::new();
    assert!(
        errors_of(&f)
            .message_for("term_kind")
            .unwrap()
            .contains("fixed length or fixed dates")
    );
    f.term_kind = "fixed".into();
    f.fee = String::new();
    assert_eq!(errors_of(&f).message_for("fee"), Some("enter an amount"));
    assert_eq!(
        errors_of(&f).message_for("term_years"),
        Some("a fixed term needs a length in years, months or days")
    );
    f.fee = "120".into();
    f.term_months = "6".into();
    f.punch_card_credits = "10".into();
    let t = f.validate_new(&ctx()).unwrap();
    assert_eq!(
        t.spec.term,
        Term::Fixed {
            length: FixedLength {
                years: 0,
                months: 6,
                days: 0
            }
        }
    );
    assert_eq!(t.spec.term.describe(), "6 months");
    assert_eq!(t.spec.punch_card_credits, Some(10));
    f.billing_interval = "monthly".into();
    assert!(errors_of(&f).message_for("billing_interval").is_some());
}

#[test]
fn only_prepaid_types_are_punch_cards() {
    let mut f = recurring();
    f.punch_card_credits = "10".into();
    assert_eq!(
        errors_of(&f).message_for("punch_card_credits"),
        Some("only a prepaid type can be a punch card")
    );
}

#[test]
fn a_benefit_has_no_fee_and_no_initiation_fee() {
    let mut f = recurring();
    f.purchase_type = "benefit".into();
    f.billing_interval = String::new();
    f.fee = "0".into();
    f.initiation_fee = "10".into();
    assert!(
        errors_of(&f)
            .message_for("initiation_fee")
            .unwrap()
            .contains("no charge")
    );
    f.initiation_fee = String::new();
    assert!(f.validate_new(&ctx()).is_ok());
}

#[test]
fn seasons_must_end_after_they_start_and_must_not_overlap() {
    assert_eq!(
        parse_seasons("2026-09-01 to 2027-05-31\n2027-09-01 to 2028-05-31"),
        Ok(vec![
            DateRange {
                first: date(2026, 9, 1),
                last: date(2027, 5, 31)
            },
            DateRange {
                first: date(2027, 9, 1),
                last: date(2028, 5, 31)
            },
        ])
    );
    assert_eq!(
        parse_seasons("2027-05-31 to 2026-09-01"),
        Err("line 1: the range must end after it starts".into())
    );
    let overlap = parse_seasons("2026-09-01 to 2027-05-31\n2027-05-01 to 2027-08-31").unwrap_err();
    assert!(overlap.contains("overlaps"), "{overlap}");
    assert_eq!(
        parse_seasons("1 Sep to 31 May"),
        Err("line 1: dates are written YYYY-MM-DD".into())
    );
    assert_eq!(
        parse_seasons("  \n"),
        Err("enter at least one date range".into())
    );
}

#[test]
fn a_youth_team_runs_for_a_fixed_season() {
    let mut f = recurring();
    f.name = "Youth Climbing Team".into();
    f.term_kind = "seasons".into();
    f.seasons = "2026-09-01 to 2027-05-31".into();
    f.youth = "on".into();
    f.member_types = vec!["youth".into()];
    let t = f.validate_new(&ctx()).unwrap();
    assert!(t.spec.youth);
    assert_eq!(
        t.spec.member_types,
        vec!["Youth".to_string()],
        "member types take the business's spelling"
    );
    assert_eq!(t.spec.term.describe(), "1 Sep 2026 to 31 May 2027");
}

#[test]
fn a_maximum_family_size_needs_a_group_type() {
    let mut f = recurring();
    f.max_family_members = "4".into();
    assert!(
        errors_of(&f)
            .message_for("max_family_members")
            .unwrap()
            .contains("needs a group type")
    );
    f.group = "on".into();
    f.additional_member_fee = "15".into();
    let group = f.validate_new(&ctx()).unwrap().spec.group.unwrap();
    assert_eq!(
        group,
        GroupPolicy {
            max_family_members: 4,
            additional_member_fee: Money::new(1500, Currency::EUR)
        }
    );
    f.max_family_members = String::new();
    assert!(errors_of(&f).message_for("max_family_members").is_some());
}

#[test]
fn prices_and_fees_are_never_negative() {
    for (field, set) in [
        (
            "fee",
            (|f: &mut MembershipTypeForm| f.fee = "-1".into()) as fn(&mut MembershipTypeForm),
        ),
        ("initiation_fee", |f| f.initiation_fee = "-1".into()),
        ("pause_fee", |f| {
            f.pause_allowed = "on".into();
            f.pause_fee = "-1".into();
        }),
        ("additional_member_fee", |f| {
            f.group = "on".into();
            f.max_family_members = "2".into();
            f.additional_member_fee = "-1".into();
        }),
    ] {
        let mut f = recurring();
        set(&mut f);
        assert!(
            errors_of(&f)
                .message_for(field)
                .unwrap()
                .contains("cannot be negative"),
            "{field}"
        );
    }
}

#[test]
fn percentages_are_between_0_and_100() {
    assert_eq!(parse_percent("10"), Ok(Decimal::from(10)));
    assert_eq!(parse_percent("12,5"), Ok(Decimal::new(125, 1)));
    assert_eq!(parse_percent(""), Ok(Decimal::ZERO));
    assert!(parse_percent("100.01").is_err());
    assert!(parse_percent("-1").is_err());
    assert!(parse_percent("12.345").is_err());
    assert!(parse_percent("ten").is_err());
    let mut f = recurring();
    f.member_discount_percent = "150".into();
    assert_eq!(
        errors_of(&f).message_for("member_discount_percent"),
        Some("a percentage is between 0 and 100")
    );
}

#[test]
fn credits_carry_over_up_to_a_cap_and_services_are_counted_per_period() {
    let mut f = recurring();
    f.name = "Spa".into();
    f.credits_per_period = "1".into();
    f.carry_over_cap = "3".into();
    f.credit_expiry_after = "90".into();
    f.credit_expiry_unit = "days".into();
    f.included_services = "Massage: 1\nSauna: 4".into();
    f.member_discount_percent = "10".into();
    let b = f.validate_new(&ctx()).unwrap().spec.benefits;
    assert_eq!(b.credits_per_period, 1);
    assert_eq!(b.carry_over_cap, Some(3));
    assert_eq!(
        b.credit_expiry,
        Some(CreditExpiry {
            after: 90,
            unit: ExpiryUnit::Days
        })
    );
    assert_eq!(
        b.included_services[0],
        IncludedService {
            name: "Massage".into(),
            per_period: 1
        }
    );
    assert_eq!(b.member_discount_percent, Decimal::from(10));

    f.credits_per_period = String::new();
    assert!(errors_of(&f).message_for("carry_over_cap").is_some());
    assert!(parse_included_services("Massage").is_err());
    assert!(
        parse_included_services("Massage: 1\nmassage: 2")
            .unwrap_err()
            .contains("twice")
    );
}

#[test]
fn pause_lengths_must_make_sense() {
    let mut f = recurring();
    f.pause_allowed = "on".into();
    f.pause_min_days = "30".into();
    f.pause_max_days = "7".into();
    assert!(errors_of(&f).message_for("pause_max_days").is_some());
    f.purchase_type = "benefit".into();
    f.billing_interval = String::new();
    f.fee = "0".into();
    f.pause_max_days = String::new();
    assert!(errors_of(&f).message_for("pause_allowed").is_some());
}

#[test]
fn a_commitment_is_only_for_recurring_types() {
    let mut f = recurring();
    f.purchase_type = "prepaid".into();
    f.billing_interval = String::new();
    f.term_kind = "fixed".into();
    f.term_years = "1".into();
    f.min_commitment_periods = "3".into();
    assert!(
        errors_of(&f)
            .message_for("min_commitment_periods")
            .is_some()
    );
}

#[test]
fn locations_and_member_types_come_from_the_business() {
    let mut f = recurring();
    f.location_scope = "selected".into();
    assert!(
        errors_of(&f)
            .message_for("location_ids")
            .unwrap()
            .contains("at least one location")
    );
    f.location_ids = vec!["2".into(), "2".into()];
    let t = f.validate_new(&ctx()).unwrap();
    assert!(!t.spec.all_locations);
    assert_eq!(t.spec.location_ids, vec![2]);
    f.location_ids = vec!["99".into()];
    assert!(errors_of(&f).message_for("location_ids").is_some());
    f.location_ids = vec!["1".into()];
    f.member_types = vec!["Pensioner".into()];
    assert!(
        errors_of(&f)
            .message_for("member_types")
            .unwrap()
            .contains("Pensioner")
    );
}

#[test]
fn renewal_into_another_type_names_an_existing_type() {
    let mut f = recurring();
    f.term_kind = "fixed".into();
    f.term_years = "1".into();
    f.end_action = "renew_other".into();
    assert!(errors_of(&f).message_for("renew_into").is_some());
    f.renew_into = "7".into();
    let t = f.validate_new(&ctx()).unwrap();
    assert_eq!(
        (t.spec.end_action, t.spec.renew_into),
        (EndAction::RenewOther, Some(7))
    );
    f.term_kind = "ongoing".into();
    assert!(
        errors_of(&f)
            .message_for("end_action")
            .unwrap()
            .contains("no end")
    );
}

#[test]
fn colours_are_hex_and_default_to_the_accent() {
    let mut f = recurring();
    assert_eq!(f.validate_new(&ctx()).unwrap().spec.color, DEFAULT_COLOR);
    f.color = "#AABBCC".into();
    assert_eq!(f.validate_new(&ctx()).unwrap().spec.color, "#aabbcc");
    f.color = "red".into();
    assert!(errors_of(&f).message_for("color").is_some());
}

#[test]
fn an_active_type_retires_but_never_returns_to_draft() {
    assert!(TypeStatus::Draft.check_change(TypeStatus::Active).is_ok());
    assert!(TypeStatus::Active.check_change(TypeStatus::Retired).is_ok());
    assert!(TypeStatus::Retired.check_change(TypeStatus::Active).is_ok());
    assert!(TypeStatus::Active.check_change(TypeStatus::Draft).is_err());
    assert!(TypeStatus::Retired.check_change(TypeStatus::Draft).is_err());
    assert!(TypeStatus::Active.check_change(TypeStatus::Active).is_err());
}

#[test]
fn only_a_draft_without_memberships_can_be_deleted() {
    assert!(crate::catalog::check_delete(TypeStatus::Draft, 0).is_ok());
    assert!(
        crate::catalog::check_delete(TypeStatus::Draft, 2)
            .unwrap_err()
            .contains("retire")
    );
    assert!(
        crate::catalog::check_delete(TypeStatus::Active, 0)
            .unwrap_err()
            .contains("only a draft")
    );
}

#[test]
fn policies_stored_before_one_per_member_existed_still_read() {
    let old = r#"{"pause":null,"min_commitment_periods":3,"notice_days":0,"cancellation":{"timing":"at_period_end","portal_allowed":false},"approval_required":false}"#;
    let p: Policies = serde_json::from_str(old).unwrap();
    assert_eq!((p.min_commitment_periods, p.one_per_member), (3, false));
}

#[test]
fn a_spec_survives_a_json_round_trip() {
    let mut f = recurring();
    f.group = "on".into();
    f.max_family_members = "3".into();
    f.pause_allowed = "on".into();
    f.term_kind = "seasons".into();
    f.seasons = "2026-09-01 to 2027-05-31".into();
    let spec = f.validate_new(&ctx()).unwrap().spec;
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(serde_json::from_str::<TypeSpec>(&json).unwrap(), spec);
}
