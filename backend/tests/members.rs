//! Members on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

use backend::Actor;
use backend::business::{self, NewBusiness};
use backend::members::MemberListFilter;
use backend::platform::db::Seek;
use backend::platform::db::{Db, Tx};
use backend::testing::each_db;
use backend::{Clock, Error, Services, members};
use chrono::{TimeZone, Utc};
use domain::members::{MemberForm, MemberStatus};
use domain::staff::Role;

async fn owner(s: &Services, name: &str, email: &str) -> Actor {
    let (business_id, staff_user_id) = business::create_owner(
        s,
        &NewBusiness {
            name,
            time_zone: "Europe/Berlin",
            currency: "EUR",
        },
        email,
        "Owner",
        "a long enough password",
    )
    .await
    .unwrap();
    Actor::staff(business_id, staff_user_id, Role::Owner)
}

fn services(db: Db) -> Services {
    Services::new(
        db,
        Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()),
    )
}

fn person(first: &str, last: &str, email: &str, phone: &str) -> MemberForm {
    MemberForm {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        phone: phone.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn members_get_numbers_and_are_found_by_name_email_phone_and_number() {
    each_db(|db| async move {
        let s = services(db);
        let o = owner(&s, "Club", "o@club.example").await;
        let ada = members::create_member(
            &s,
            &o,
            &person("Ada", "Lovelace", "Ada@Example.com", "+44 20 7946 0958"),
        )
        .await
        .unwrap();
        let alan = members::create_member(
            &s,
            &o,
            &person("Alan", "Turing", "alan@example.com", "+44 161 555 0100"),
        )
        .await
        .unwrap();
        let grace =
            members::create_member(&s, &o, &person("Grace", "Hopper", "grace@navy.example", ""))
                .await
                .unwrap();
        assert_eq!(
            (ada.member_number, alan.member_number, grace.member_number),
            (1001, 1002, 1003)
        );
        assert_eq!(ada.details.email, "ada@example.com");

        let names = |text: &'static str| {
            let s = s.clone();
            async move {
                members::search_members(&s, &o, text, false)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.name)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(names("a").await, ["Ada Lovelace", "Alan Turing"]);
        assert_eq!(names("LOVE").await, ["Ada Lovelace"]);
        assert_eq!(names("al tur").await, ["Alan Turing"]);
        assert_eq!(names("al love").await, Vec::<String>::new());
        assert_eq!(names("grace@").await, ["Grace Hopper"]);
        assert_eq!(names("+44 161").await, ["Alan Turing"]);
        assert_eq!(names("#1003").await, ["Grace Hopper"]);
        assert_eq!(names("").await.len(), 3);
        assert_eq!(names("zz").await, Vec::<String>::new());
        // The end of a phone number, its leading zero kept.
        assert_eq!(names("0100").await, ["Alan Turing"]);
        assert_eq!(names("5550100").await, ["Alan Turing"]);
        assert_eq!(names("9999").await, Vec::<String>::new());

        // Nothing searched for: everyone by name, a page at a time.
        let all = members::list_members(&s, &o, false, "").await.unwrap();
        assert_eq!((all.total, all.page, all.rows.len()), (3, 1, 3));
        let names: Vec<&str> = all.rows.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Grace Hopper", "Ada Lovelace", "Alan Turing"]);
        let beyond = members::list_members(&s, &o, false, "2").await.unwrap();
        assert!(beyond.rows.is_empty());
        assert!(matches!(
            members::list_members(&s, &o, false, "0").await,
            Err(Error::Invalid(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn editing_archiving_and_restoring_keep_the_member_and_audit_each_change() {
    each_db(|db| async move {
        let s = services(db);
        let o = owner(&s, "Club", "o@club.example").await;
        let ada = members::create_member(&s, &o, &person("Ada", "Lovelace", "", ""))
            .await
            .unwrap();
        let form = MemberForm {
            last_name: "King".into(),
            member_type: "adult".into(),
            date_of_birth: "1815-12-10".into(),
            ..ada.details.to_form()
        };
        let err = members::update_member(&s, &o, ada.id, &form)
            .await
            .unwrap_err();
        let Error::Invalid(invalid) = err else {
            panic!("expected validation errors")
        };
        assert!(invalid.message_for("date_of_birth").is_some());
        let form = MemberForm {
            date_of_birth: "1990-12-10".into(),
            ..form
        };
        let updated = members::update_member(&s, &o, ada.id, &form).await.unwrap();
        assert_eq!(updated.details.last_name, "King");
        assert_eq!(updated.details.member_type.as_deref(), Some("Adult"));
        assert_eq!(
            members::search_members(&s, &o, "king", false)
                .await
                .unwrap()
                .len(),
            1,
            "search follows the new name"
        );

        members::set_member_status(&s, &o, ada.id, MemberStatus::Archived)
            .await
            .unwrap();
        assert!(
            members::search_members(&s, &o, "king", false)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            members::search_members(&s, &o, "king", true).await.unwrap()[0].status,
            MemberStatus::Archived
        );
        let again = members::set_member_status(&s, &o, ada.id, MemberStatus::Archived)
            .await
            .unwrap_err();
        assert!(matches!(again, Error::Conflict(_)));
        // The lists' totals (kept counts by status) follow the archiving.
        members::create_member(&s, &o, &person("Alan", "Turing", "alan@example.com", ""))
            .await
            .unwrap();
        let total = |include_archived| {
            let s = s.clone();
            async move {
                members::list_members(&s, &o, include_archived, "")
                    .await
                    .unwrap()
                    .total
            }
        };
        assert_eq!((total(false).await, total(true).await), (1, 2));
        let counted = |filter: MemberListFilter| {
            let s = s.clone();
            async move {
                let (rows, count) = members::page_of_members(&s, &o, &filter, Seek::Offset(0), 10)
                    .await
                    .unwrap();
                (rows.len() as i64, count)
            }
        };
        let archived = MemberListFilter {
            status: Some(MemberStatus::Archived),
            ..Default::default()
        };
        assert_eq!(counted(archived.clone()).await, (1, 1));
        assert_eq!(counted(MemberListFilter::default()).await, (2, 2));
        let searched = MemberListFilter {
            status: Some(MemberStatus::Active),
            search: Some("tur".into()),
            ..Default::default()
        };
        assert_eq!(counted(searched).await, (1, 1));
        let by_email = MemberListFilter {
            email: Some("ALAN@example.com".into()),
            ..Default::default()
        };
        assert_eq!(counted(by_email).await, (1, 1));
        members::set_member_status(&s, &o, ada.id, MemberStatus::Active)
            .await
            .unwrap();
        assert_eq!((total(false).await, total(true).await), (2, 2));
        assert_eq!(counted(archived).await, (0, 0));
        let report = backend::ops::check::check(&s).await.unwrap();
        assert!(
            !report
                .violations
                .iter()
                .any(|v| v.message.contains("kept count")),
            "{:?}",
            report.violations
        );

        let mut tx = s.db.begin_read().await.unwrap();
        let actions: Vec<(String,)> = backend::query!(
            &mut tx,
            fetch_all as (String,),
            "SELECT action FROM audit_events WHERE business_id = $1 AND subject = $2 ORDER BY id",
            o.business_id,
            "member"
        )
        .unwrap();
        let actions: Vec<_> = actions.into_iter().map(|(a,)| a).collect();
        assert_eq!(
            actions,
            [
                "member.created",
                "member.updated",
                "member.archived",
                "member.created",
                "member.restored"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn viewers_only_read_and_other_businesses_see_nothing() {
    each_db(|db| async move {
        let s = services(db);
        let a = owner(&s, "Club A", "a@a.example").await;
        let b = owner(&s, "Club B", "b@b.example").await;
        let ada = members::create_member(&s, &a, &person("Ada", "Lovelace", "", ""))
            .await
            .unwrap();
        let other = members::create_member(&s, &b, &person("Ada", "Other", "", ""))
            .await
            .unwrap();
        assert_eq!(other.member_number, 1001, "numbers count per business");
        assert!(matches!(
            members::member(&s, &b, ada.id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            members::update_member(&s, &b, ada.id, &ada.details.to_form()).await,
            Err(Error::NotFound)
        ));
        assert_eq!(
            members::search_members(&s, &b, "ada", false)
                .await
                .unwrap()
                .len(),
            1
        );

        let viewer = a.with_role(Role::Viewer);
        assert!(members::member(&s, &viewer, ada.id).await.is_ok());
        assert!(matches!(
            members::create_member(&s, &viewer, &person("X", "Y", "", "")).await,
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            members::set_member_status(&s, &viewer, ada.id, MemberStatus::Archived).await,
            Err(Error::Forbidden)
        ));
        let desk = a.with_role(Role::FrontDesk);
        assert!(
            members::create_member(&s, &desk, &person("Desk", "Made", "", ""))
                .await
                .is_ok()
        );
    })
    .await;
}

/// The plan of a name search. PostgreSQL plans by statistics, so it first gets
/// 20,000 members and an ANALYZE; SQLite plans by the indexes alone.
async fn plan_of_name_search(db: &Db) -> String {
    if let Db::Postgres(pool) = db {
        sqlx::query("INSERT INTO businesses (name, time_zone, currency, created_at) VALUES ('Big', 'UTC', 'EUR', now())").execute(pool).await.unwrap();
        sqlx::query(
            "INSERT INTO members (business_id, member_number, first_name, last_name, first_name_lc, last_name_lc, created_at)
             SELECT 1, g, 'n' || g, 'm' || g, 'n' || g, 'm' || g, now() FROM generate_series(1, 20000) g",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query("ANALYZE members").execute(pool).await.unwrap();
    }
    let sql = members::name_search_sql(false);
    let end = "ad\u{10FFFF}";
    let mut tx = db.begin_read().await.unwrap();
    let lines: Vec<String> = match &mut tx {
        Tx::Sqlite(conn) => sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(
            format!("EXPLAIN QUERY PLAN {sql}"),
        ))
        .bind(1i64)
        .bind("ad")
        .bind(end)
        .bind(50i64)
        .bind("")
        .fetch_all(&mut **conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.3)
        .collect(),
        Tx::Postgres(conn) => {
            sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
                .bind(1i64)
                .bind("ad")
                .bind(end)
                .bind(50i64)
                .bind("")
                .fetch_all(&mut **conn)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.0)
                .collect()
        }
    };
    lines.join("\n")
}

#[tokio::test]
async fn name_search_uses_the_name_indexes_not_a_scan() {
    each_db(|db| async move {
        let plan = plan_of_name_search(&db).await;
        assert!(
            plan.contains("members_first_name") && plan.contains("members_last_name"),
            "{plan}"
        );
        assert!(
            !plan.contains("Seq Scan")
                && !plan.contains("SCAN members\n")
                && !plan.ends_with("SCAN members"),
            "{plan}"
        );
    })
    .await;
}
