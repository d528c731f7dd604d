//! Selling memberships and their lifecycle on SQLite and (with
//! TEST_POSTGRES_URL) PostgreSQL.

mod support;

use backend::Actor;
use backend::auth;
use backend::business::{self, NewBusiness};
use backend::memberships::{self, HolderRef};
use backend::testing::each_db;
use backend::{Clock, Db, Error, Services, catalog, members, query};
use chrono::{NaiveDate, TimeZone, Utc};
use domain::catalog::MembershipTypeForm;
use domain::lifecycle::Status;
use domain::lifecycle::sale::SellForm;
use domain::members::MemberForm;
use domain::memberships::{ActionForm, MembershipFilter};
use domain::staff::Role;

struct Club {
    s: Services,
    owner: Actor,
    desk: Actor,
    harbour: i64,
    riverside: i64,
    adult: i64,
    member: i64,
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

async fn staff(s: &Services, business_id: i64, email: &str, name: &str, role: Role) -> Actor {
    let mut tx = s.db.begin_write().await.unwrap();
    let id = auth::insert_staff_user(
        &mut tx,
        business_id,
        email,
        name,
        role,
        "a long enough password",
        s.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Actor::staff(business_id, id, role)
}

fn adult_monthly() -> MembershipTypeForm {
    MembershipTypeForm {
        name: "Adult Monthly".into(),
        purchase_type: "recurring".into(),
        billing_interval: "monthly".into(),
        fee: "49.00".into(),
        initiation_fee: "25.00".into(),
        status: "active".into(),
        pause_allowed: "on".into(),
        pause_max_per_year: "2".into(),
        pause_min_days: "7".into(),
        pause_max_days: "60".into(),
        min_commitment_periods: "3".into(),
        cancel_timing: "at_period_end".into(),
        one_per_member: "on".into(),
        ..Default::default()
    }
}

async fn club(db: Db, name: &str) -> Club {
    let s = Services::new(
        db,
        Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()),
    );
    let (business_id, staff_user_id) = business::create_owner(
        &s,
        &NewBusiness {
            name,
            time_zone: "Europe/Berlin",
            currency: "EUR",
        },
        &format!("owner@{name}.example"),
        "Olivia Owner",
        "a long enough password",
    )
    .await
    .unwrap();
    let owner = Actor::staff(business_id, staff_user_id, Role::Owner);
    let desk = staff(
        &s,
        business_id,
        &format!("desk@{name}.example"),
        "Dana Desk",
        Role::FrontDesk,
    )
    .await;
    let now = s.clock.now();
    let mut tx = s.db.begin_write().await.unwrap();
    let harbour = business::insert_location(&mut tx, business_id, "Harbour Street", "", now)
        .await
        .unwrap();
    let riverside = business::insert_location(&mut tx, business_id, "Riverside", "", now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // These tests are about the lifecycle: the club gives 90 days to pay and 90 more before past due,
    // so unpaid invoices do not make memberships past due here.
    business::update_billing_settings(
        &s,
        &owner,
        &domain::business::BillingSettingsForm {
            terms_days: "90".into(),
            retry_days: "1, 3, 7".into(),
            past_due_after: "90".into(),
            suspend_after: "120".into(),
            credit_unused_on_cancel: "on".into(),
            credit_adjust_limit: "5".into(),
            overpayment_limit: "500".into(),
        },
    )
    .await
    .unwrap();
    let adult = catalog::create_membership_type(&s, &owner, &adult_monthly())
        .await
        .unwrap()
        .id;
    let member = members::create_member(
        &s,
        &owner,
        &MemberForm {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            member_type: "Adult".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    Club {
        s,
        owner,
        desk,
        harbour,
        riverside,
        adult,
        member,
    }
}

fn sale(type_id: i64, start: &str) -> SellForm {
    SellForm {
        type_id: type_id.to_string(),
        start: start.into(),
        ..Default::default()
    }
}

fn action(kind: &str) -> ActionForm {
    ActionForm {
        action: kind.into(),
        reason: "asked at the desk".into(),
        ..Default::default()
    }
}

fn conflict(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Conflict(message) | Error::Refused(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_sale_is_previewed_then_recorded_with_its_event_and_audit() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let form = SellForm {
            discount_kind: "percent".into(),
            discount_value: "10".into(),
            discount_periods: "3".into(),
            location_ids: vec![c.riverside.to_string()],
            ..sale(c.adult, "2026-12-01")
        };
        let holder = HolderRef::Member(c.member);
        let preview = support::preview_sale_form(&c.s, &c.desk, holder, &form)
            .await
            .unwrap();
        let amounts: Vec<i64> = preview.preview.lines.iter().map(|l| l.amount.minor).collect();
        // As the invoice shows them: the initiation fee first.
        assert_eq!(amounts, [2500, 4900, -490]);
        assert_eq!(preview.preview.total.minor, 6910);
        assert_eq!(preview.preview.commitment_last_day, Some(NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()));

        let id = support::sell_form(&c.s, &c.desk, holder, &form).await.unwrap();
        let page = memberships::membership(&c.s, &c.desk, id).await.unwrap();
        assert_eq!(page.status.status, Status::Pending);
        assert_eq!(page.status.explanation, "starts 2026-12-01");
        assert_eq!(page.locations, ["Riverside"]);
        assert_eq!(page.discount.as_deref(), Some("10% for 3 periods"));
        assert_eq!(page.timeline.len(), 1);
        assert_eq!(page.timeline[0].what, "Sold, starting 2026-12-01");
        assert_eq!(page.timeline[0].by, "Dana Desk (front desk)");
        assert_eq!(page.timeline[0].recorded_at, "2026-11-22 10:00");
        // The first three coming invoices, from the same charges the preview used.
        let upcoming: Vec<(NaiveDate, i64)> =
            page.upcoming.iter().map(|u| (u.date, u.total.minor)).collect();
        assert_eq!(
            upcoming,
            [
                (d(12, 1), 6910),
                (NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), 4410),
                (NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(), 4410)
            ]
        );
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (audits,) = query!(&mut tx, fetch_one as (i64,),
            "SELECT COUNT(*) FROM audit_events WHERE action = 'membership.sold' AND subject_id = $1 AND actor_id = $2",
            id, c.desk.staff_user_id()).unwrap();
        tx.commit().await.unwrap();
        assert_eq!(audits, 1);

        // One active membership of this type per member.
        let again = support::sell_form(&c.s, &c.desk, holder, &sale(c.adult, "2026-12-05")).await;
        match again {
            Err(Error::Invalid(invalid)) => assert_eq!(
                invalid.message_for("type_id"),
                Some("this holder already has an active Adult Monthly membership, and the type allows one at a time")
            ),
            other => panic!("expected the one-per-member refusal, got {other:?}"),
        }
        let _ = c.harbour;
    })
    .await;
}

#[tokio::test]
async fn each_action_records_its_event_and_refusals_say_what_is_allowed() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let id = support::sell_form(&c.s, &c.desk, HolderRef::Member(c.member), &sale(c.adult, "2026-11-22"))
            .await
            .unwrap();

        let too_long = ActionForm {
            from: "2026-11-25".into(),
            until: "2027-02-01".into(),
            ..action("pause")
        };
        assert_eq!(
            conflict(support::act_form(&c.s, &c.desk, id, &too_long).await),
            "Pauses of Adult Monthly last at most 60 days: the latest resume date is 2027-01-24."
        );
        let pause = ActionForm {
            from: "2026-11-25".into(),
            until: "2026-12-20".into(),
            reason: "injury".into(),
            ..action("pause")
        };
        let preview = support::preview_form(&c.s, &c.desk, id, &pause).await.unwrap();
        assert_eq!(preview.effect, "Paused from 2026-11-25; resumes by itself on 2026-12-20 (25 days).");
        let page = support::act_form(&c.s, &c.desk, id, &pause).await.unwrap();
        assert_eq!(page.timeline[0].what, "Paused from 2026-11-25 until 2026-12-20");
        assert_eq!(page.timeline[0].reason, "injury");

        // The simulated clock moves: paused, then resumed by itself.
        backend::jobs::set_simulated_date(&c.s, &c.owner, Some(d(12, 1))).await.unwrap();
        let page = memberships::membership(&c.s, &c.desk, id).await.unwrap();
        assert_eq!(
            page.status.explanation,
            "paused 2026-11-25 until 2026-12-20 by Dana Desk (front desk): injury"
        );
        backend::jobs::set_simulated_date(&c.s, &c.owner, Some(d(12, 20))).await.unwrap();
        let page = memberships::membership(&c.s, &c.desk, id).await.unwrap();
        assert_eq!(page.status.status, Status::Active);

        // Cancelling inside the commitment is refused with the earliest end;
        // a manager overrides it with a reason, and the event says so.
        let cancel = action("cancel");
        assert_eq!(
            conflict(support::act_form(&c.s, &c.desk, id, &cancel).await),
            "Adult Monthly has a minimum commitment of 3 periods: the earliest allowed last day is 2027-02-21."
        );
        let forced = ActionForm {
            force: "on".into(),
            ..cancel.clone()
        };
        assert_eq!(
            conflict(support::act_form(&c.s, &c.desk, id, &forced).await),
            "Only managers and owners can override the policy."
        );
        let page = support::act_form(&c.s, &c.owner, id, &forced).await.unwrap();
        assert_eq!(page.status.status, Status::Cancelling);
        assert_eq!(page.last_day, Some(d(12, 21)));
        assert!(page.timeline[0].forced);
        assert_eq!(page.timeline[0].by, "Olivia Owner (owner)");

        // Reactivating before the end undoes the cancellation.
        let page = support::act_form(&c.s, &c.desk, id, &action("reactivate")).await.unwrap();
        assert_eq!(page.status.status, Status::Active);
        assert_eq!(page.last_day, None);

        // Locked: every change is refused until a manager unlocks it.
        assert_eq!(
            conflict(support::act_form(&c.s, &c.desk, id, &action("lock")).await),
            "Only managers and owners lock or unlock memberships."
        );
        support::act_form(&c.s, &c.owner, id, &action("lock")).await.unwrap();
        assert_eq!(
            conflict(support::act_form(&c.s, &c.desk, id, &action("cancel")).await),
            "This membership is locked: a manager must unlock it before it can change."
        );

        let mut tx = c.s.db.begin_read().await.unwrap();
        let kinds = query!(&mut tx, fetch_all as (String, bool, String),
            "SELECT kind, forced, actor_label FROM membership_events WHERE membership_id = $1 ORDER BY id", id).unwrap();
        tx.commit().await.unwrap();
        let kinds: Vec<(&str, bool)> = kinds.iter().map(|(k, f, _)| (k.as_str(), *f)).collect();
        assert_eq!(
            kinds,
            [
                ("sold", false),
                ("paused", false),
                ("cancel_scheduled", true),
                ("cancel_undone", false),
                ("locked", false)
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_changes_from_the_same_page_let_one_win_and_refuse_the_other() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let id = support::sell_form(&c.s, &c.desk, HolderRef::Member(c.member), &sale(c.adult, "2026-11-22"))
            .await
            .unwrap();
        let version = memberships::membership(&c.s, &c.desk, id).await.unwrap().version;
        let pause = ActionForm {
            from: "2026-11-25".into(),
            until: "2026-12-20".into(),
            version: version.to_string(),
            ..action("pause")
        };
        let cancel = ActionForm {
            force: "on".into(),
            version: version.to_string(),
            ..action("cancel")
        };
        let (s1, s2) = (c.s.clone(), c.s.clone());
        let (desk, owner) = (c.desk, c.owner);
        let paused = tokio::spawn(async move { support::act_form(&s1, &desk, id, &pause).await });
        let cancelled = tokio::spawn(async move { support::act_form(&s2, &owner, id, &cancel).await });
        let results = [paused.await.unwrap().map(|_| ()), cancelled.await.unwrap().map(|_| ())];
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{results:?}");
        let loser = results.into_iter().find(|r| r.is_err()).unwrap();
        assert!(conflict(loser).starts_with("This membership was changed by someone else"));
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (events, version_after) = query!(&mut tx, fetch_one as (i64, i64),
            "SELECT (SELECT COUNT(*) FROM membership_events WHERE membership_id = $1), version FROM memberships WHERE id = $1", id).unwrap();
        tx.commit().await.unwrap();
        assert_eq!((events, version_after), (2, version + 1));
    })
    .await;
}

#[tokio::test]
async fn another_business_sees_none_of_it_and_filters_find_by_status_dates_and_location() {
    each_db(|db| async move {
        let c = club(db.clone(), "club").await;
        let other = club(db, "other").await;
        let holder = HolderRef::Member(c.member);
        let id = support::sell_form(
            &c.s,
            &c.desk,
            holder,
            &SellForm {
                location_ids: vec![c.harbour.to_string()],
                ..sale(c.adult, "2026-11-22")
            },
        )
        .await
        .unwrap();
        assert!(matches!(
            memberships::membership(&other.s, &other.owner, id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            support::act_form(&other.s, &other.owner, id, &action("lock")).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            support::sell_form(&other.s, &other.owner, holder, &sale(other.adult, "")).await,
            Err(Error::NotFound)
        ));

        support::act_form(
            &c.s,
            &c.desk,
            id,
            &ActionForm {
                from: "2026-11-22".into(),
                until: "2026-12-10".into(),
                ..action("pause")
            },
        )
        .await
        .unwrap();
        let list = |f: MembershipFilter| {
            let (s, a) = (c.s.clone(), c.desk);
            async move {
                memberships::list_memberships(&s, &a, &f)
                    .await
                    .unwrap()
                    .rows
                    .iter()
                    .map(|m| m.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            list(MembershipFilter {
                status: "paused".into(),
                ..Default::default()
            })
            .await,
            [id]
        );
        assert!(
            list(MembershipFilter {
                status: "active".into(),
                ..Default::default()
            })
            .await
            .is_empty()
        );
        assert_eq!(
            list(MembershipFilter {
                location_id: c.harbour.to_string(),
                ..Default::default()
            })
            .await,
            [id]
        );
        assert!(
            list(MembershipFilter {
                location_id: c.riverside.to_string(),
                ..Default::default()
            })
            .await
            .is_empty()
        );
        assert!(
            list(MembershipFilter {
                active_from: "2026-01-01".into(),
                active_to: "2026-11-21".into(),
                ..Default::default()
            })
            .await
            .is_empty()
        );
        assert_eq!(
            list(MembershipFilter {
                active_from: "2026-11-01".into(),
                active_to: "2026-11-30".into(),
                ..Default::default()
            })
            .await,
            [id]
        );
        assert!(
            list(MembershipFilter {
                ending_within: "60".into(),
                ..Default::default()
            })
            .await
            .is_empty()
        );
        assert!(
            list(MembershipFilter {
                type_id: c.adult.to_string(),
                ..Default::default()
            })
            .await
            .contains(&id)
        );
        assert!(
            memberships::list_memberships(&other.s, &other.owner, &MembershipFilter::default())
                .await
                .unwrap()
                .rows
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_type_needing_approval_waits_for_a_manager() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let company = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                name: "Company Coworking".into(),
                approval_required: "on".into(),
                ..adult_monthly()
            },
        )
        .await
        .unwrap()
        .id;
        let id = support::sell_form(
            &c.s,
            &c.desk,
            HolderRef::Member(c.member),
            &sale(company, "2026-12-01"),
        )
        .await
        .unwrap();
        let page = memberships::membership(&c.s, &c.desk, id).await.unwrap();
        assert_eq!(page.status.status, Status::NotApproved);
        assert_eq!(
            conflict(support::act_form(&c.s, &c.desk, id, &action("approve")).await),
            "Only managers and owners approve or reject memberships."
        );
        let page = support::act_form(&c.s, &c.owner, id, &action("approve"))
            .await
            .unwrap();
        assert_eq!(
            page.status.explanation,
            "starts 2026-12-01 (approved 2026-11-22)"
        );
    })
    .await;
}

async fn member(c: &Club, first: &str) -> (i64, i64) {
    let view = members::create_member(
        &c.s,
        &c.owner,
        &MemberForm {
            first_name: first.into(),
            last_name: "Carter".into(),
            member_type: "Adult".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (view.id, view.member_number)
}

#[tokio::test]
async fn households_take_family_members_up_to_the_maximum_and_keep_who_left() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let family_type = catalog::create_membership_type(&c.s, &c.owner, &MembershipTypeForm {
            name: "Family Quarterly".into(),
            billing_interval: "quarterly".into(),
            fee: "299".into(),
            group: "on".into(),
            max_family_members: "2".into(),
            additional_member_fee: "15".into(),
            ..adult_monthly()
        }).await.unwrap().id;
        let id = support::sell_form(&c.s, &c.desk, HolderRef::Member(c.member), &sale(family_type, "2026-11-22"))
            .await
            .unwrap();
        let (ben, ben_no) = member(&c, "Ben").await;
        let (_, cleo_no) = member(&c, "Cleo").await;
        let (dan, dan_no) = member(&c, "Dan").await;
        let add = |no: i64| {
            let (s, a) = (c.s.clone(), c.desk);
            async move { memberships::add_family_member(&s, &a, id, &no.to_string(), None).await }
        };
        add(ben_no).await.unwrap();
        let page = add(cleo_no).await.unwrap();
        assert_eq!(page.family.len(), 2);
        // The next quarters: 299 + 2 × 15 each.
        assert_eq!(page.upcoming[0].date, NaiveDate::from_ymd_opt(2027, 2, 22).unwrap());
        assert_eq!(page.upcoming[0].total.minor, 29900 + 3000);
        assert_eq!(
            conflict(add(dan_no).await),
            "Family Quarterly allows 2 family members besides the holder, and this membership has 2: remove one first."
        );
        assert_eq!(
            conflict(add(ben_no).await),
            "Ben Carter is already a family member of this membership."
        );
        let page = memberships::remove_family_member(&c.s, &c.desk, id, ben, None).await.unwrap();
        assert_eq!(page.family.len(), 1);
        assert_eq!(page.timeline[0].what, "Ben Carter left as a family member on 2026-11-22");

        // Dan holds his own family membership: he cannot join another of the type.
        support::sell_form(&c.s, &c.desk, HolderRef::Member(dan), &sale(family_type, "2026-11-22")).await.unwrap();
        assert_eq!(
            conflict(add(dan_no).await),
            "Dan Carter already has an active Family Quarterly membership."
        );
        let mut tx = c.s.db.begin_read().await.unwrap();
        let (rows, ended) = query!(&mut tx, fetch_one as (i64, i64),
            "SELECT COUNT(*), COUNT(removed_at) FROM membership_members WHERE membership_id = $1", id).unwrap();
        tx.commit().await.unwrap();
        assert_eq!((rows, ended), (2, 1), "the one who left keeps their row");
        // Cleo sees the membership on her own page.
        let cleo = members::search_members(&c.s, &c.desk, &cleo_no.to_string(), false).await.unwrap()[0].id;
        let cleo = members::member(&c.s, &c.desk, cleo).await.unwrap();
        assert_eq!(cleo.memberships.rows.iter().map(|m| m.id).collect::<Vec<_>>(), [id]);
    })
    .await;
}

#[tokio::test]
async fn an_organization_with_a_running_membership_is_not_deleted() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let org = backend::organizations::save_organization(&c.s, &c.owner, 0, &domain::organizations::OrganizationForm {
            name: "Northwind".into(),
            ..Default::default()
        }).await.unwrap();
        let id = support::sell_form(&c.s, &c.desk, HolderRef::Organization(org.id), &sale(c.adult, "2026-11-22"))
            .await
            .unwrap();
        let view = backend::organizations::organization(&c.s, &c.owner, org.id).await.unwrap();
        assert_eq!(view.memberships.rows.iter().map(|m| m.id).collect::<Vec<_>>(), [id]);
        assert!(matches!(
            backend::organizations::delete_organization(&c.s, &c.desk, org.id).await,
            Err(Error::Forbidden)
        ));
        assert_eq!(
            conflict(backend::organizations::delete_organization(&c.s, &c.owner, org.id).await),
            "Northwind still has a running membership (Adult Monthly): cancel it before deleting the organization."
        );
        support::act_form(&c.s, &c.owner, id, &ActionForm {
            when: "immediately".into(),
            force: "on".into(),
            ..action("cancel")
        }).await.unwrap();
        backend::organizations::delete_organization(&c.s, &c.owner, org.id).await.unwrap();
        assert!(matches!(
            backend::organizations::organization(&c.s, &c.owner, org.id).await,
            Err(Error::NotFound)
        ));
        // The membership's history still names its holder.
        let page = memberships::membership(&c.s, &c.owner, id).await.unwrap();
        assert_eq!(page.holder.name, "Northwind");
        assert_eq!(page.status.status, Status::Cancelled);
    })
    .await;
}

/// An organization's page lists its memberships 50 at a time, newest
/// first, each once, with the total (a company with hundreds of employees'
/// memberships is not cut off).
#[tokio::test]
async fn an_organization_s_memberships_page_through_every_one() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let org = backend::organizations::save_organization(
            &c.s,
            &c.owner,
            0,
            &domain::organizations::OrganizationForm {
                name: "Northwind".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // A type a company buys many of (one per employee).
        let corporate = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                name: "Corporate Monthly".into(),
                one_per_member: String::new(),
                ..adult_monthly()
            },
        )
        .await
        .unwrap()
        .id;
        let mut sold = Vec::new();
        for _ in 0..53 {
            sold.push(
                support::sell_form(
                    &c.s,
                    &c.desk,
                    HolderRef::Organization(org.id),
                    &sale(corporate, "2026-11-22"),
                )
                .await
                .unwrap(),
            );
        }
        let first = backend::organizations::organization_page(&c.s, &c.owner, org.id, 1)
            .await
            .unwrap();
        let second = backend::organizations::organization_page(&c.s, &c.owner, org.id, 2)
            .await
            .unwrap();
        assert_eq!(
            (
                first.memberships.total,
                first.memberships.rows.len(),
                second.memberships.rows.len()
            ),
            (53, 50, 3)
        );
        let mut listed: Vec<i64> = first
            .memberships
            .rows
            .iter()
            .chain(&second.memberships.rows)
            .map(|m| m.id)
            .collect();
        assert_eq!(listed[0], *sold.last().unwrap(), "newest first");
        listed.sort();
        assert_eq!(listed, sold, "each membership once");
        assert_eq!(
            backend::organizations::organization(&c.s, &c.owner, org.id)
                .await
                .unwrap()
                .memberships,
            first.memberships
        );
    })
    .await;
}

#[tokio::test]
async fn merging_a_duplicate_moves_its_memberships_and_keeps_its_record() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let dup = members::create_member(
            &c.s,
            &c.owner,
            &MemberForm {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                phone: "+44 20 7946 0958".into(),
                member_type: "Adult".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let id = support::sell_form(
            &c.s,
            &c.desk,
            HolderRef::Member(dup.id),
            &sale(c.adult, "2026-11-22"),
        )
        .await
        .unwrap();
        let number = dup.member_number.to_string();
        assert!(matches!(
            members::merge_members(&c.s, &c.desk, c.member, &number).await,
            Err(Error::Forbidden)
        ));
        match members::merge_members(
            &c.s,
            &c.owner,
            c.member,
            &members::member(&c.s, &c.owner, c.member)
                .await
                .unwrap()
                .member_number
                .to_string(),
        )
        .await
        {
            Err(Error::Invalid(i)) => assert!(
                i.message_for("duplicate_number")
                    .unwrap()
                    .contains("themselves")
            ),
            other => panic!("{other:?}"),
        }
        let kept = members::merge_members(&c.s, &c.owner, c.member, &number)
            .await
            .unwrap();
        assert_eq!(
            kept.memberships
                .rows
                .iter()
                .map(|m| m.id)
                .collect::<Vec<_>>(),
            [id]
        );
        assert_eq!(
            kept.details.phone, "+44 20 7946 0958",
            "a blank field takes the duplicate's value"
        );
        assert_eq!(
            kept.details.email, "ada@example.com",
            "a filled field keeps its value"
        );
        let old = members::member(&c.s, &c.owner, dup.id).await.unwrap();
        assert_eq!(old.status, domain::members::MemberStatus::Archived);
        assert_eq!(old.merged_into, Some((c.member, kept.member_number)));
        assert!(old.memberships.rows.is_empty());
        // The membership's history came along.
        let page = memberships::membership(&c.s, &c.owner, id).await.unwrap();
        assert_eq!(page.holder.name, "Ada Lovelace");
        assert_eq!(page.timeline.len(), 1);
        match members::merge_members(&c.s, &c.owner, c.member, &number).await {
            Err(Error::Invalid(i)) => assert_eq!(
                i.message_for("duplicate_number"),
                Some("that member was already merged into another member")
            ),
            other => panic!("{other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_term_that_renews_into_another_type_does_so_by_itself_when_the_day_comes() {
    each_db(|db| async move {
        let c = club(db, "club").await;
        let intro = catalog::create_membership_type(
            &c.s,
            &c.owner,
            &MembershipTypeForm {
                name: "Intro Quarter".into(),
                term_kind: "fixed".into(),
                term_months: "3".into(),
                end_action: "renew_other".into(),
                renew_into: c.adult.to_string(),
                min_commitment_periods: "0".into(),
                one_per_member: String::new(),
                ..adult_monthly()
            },
        )
        .await
        .unwrap()
        .id;
        let id = support::sell_form(
            &c.s,
            &c.desk,
            HolderRef::Member(c.member),
            &sale(intro, "2026-11-22"),
        )
        .await
        .unwrap();
        assert_eq!(
            backend::jobs::renew_due(&c.s, c.owner.business_id)
                .await
                .unwrap(),
            0
        );
        let page = memberships::membership(&c.s, &c.desk, id).await.unwrap();
        assert_eq!(
            page.term_last_day,
            Some(NaiveDate::from_ymd_opt(2027, 2, 21).unwrap())
        );

        // The simulated clock reaches the term's end: the day's work renews it.
        backend::jobs::set_simulated_date(&c.s, &c.owner, NaiveDate::from_ymd_opt(2027, 2, 23))
            .await
            .unwrap();
        let page = memberships::membership(&c.s, &c.desk, id).await.unwrap();
        assert_eq!(page.type_name, "Adult Monthly");
        assert_eq!(page.status.status, Status::Active);
        assert_eq!(page.term_last_day, None);
        assert_eq!(
            page.timeline[0].what,
            "Renewed into Adult Monthly from 2027-02-22"
        );
        assert_eq!(page.timeline[0].by, "the system");
        assert_eq!(
            backend::jobs::renew_due(&c.s, c.owner.business_id)
                .await
                .unwrap(),
            0,
            "nothing twice"
        );
    })
    .await;
}
