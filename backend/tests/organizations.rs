//! Organizations on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

use backend::Actor;
use backend::business::{self, NewBusiness};
use backend::testing::each_db;
use backend::{Clock, Error, Services, members, organizations};
use chrono::{TimeZone, Utc};
use domain::members::MemberForm;
use domain::organizations::OrganizationForm;
use domain::staff::Role;

#[tokio::test]
async fn an_organization_authorizes_members_up_to_its_maximum_and_keeps_history() {
    each_db(|db| async move {
        let s = Services::new(db, Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()));
        let (business_id, staff_user_id) =
            business::create_owner(&s, &NewBusiness { name: "Club", time_zone: "UTC", currency: "EUR" }, "o@c.example", "O", "a long enough password")
                .await
                .unwrap();
        let owner = Actor::staff(business_id, staff_user_id, Role::Owner);
        for (first, last) in [("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper")] {
            members::create_member(&s, &owner, &MemberForm { first_name: first.into(), last_name: last.into(), ..Default::default() }).await.unwrap();
        }
        let form = OrganizationForm { name: "Acme".into(), max_members: "2".into(), ..Default::default() };
        let acme = organizations::save_organization(&s, &owner, 0, &form).await.unwrap();
        let dup = organizations::save_organization(&s, &owner, 0, &form).await.unwrap_err();
        assert!(matches!(dup, Error::Invalid(_)));

        organizations::authorize_member(&s, &owner, acme.id, "1001").await.unwrap();
        let acme = organizations::authorize_member(&s, &owner, acme.id, "#1002").await.unwrap();
        assert_eq!(acme.authorized.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["Ada Lovelace", "Alan Turing"]);
        let full = organizations::authorize_member(&s, &owner, acme.id, "1003").await.unwrap_err();
        let Error::Invalid(invalid) = full else { panic!() };
        assert!(invalid.message_for("member_number").unwrap().contains("at most 2"));
        let twice = organizations::authorize_member(&s, &owner, acme.id, "1001").await.unwrap_err();
        assert!(matches!(twice, Error::Invalid(_)));
        let unknown = organizations::authorize_member(&s, &owner, acme.id, "9999").await.unwrap_err();
        assert!(matches!(unknown, Error::Invalid(ref i) if i.message_for("member_number").unwrap().contains("no member")));

        let lower = OrganizationForm { max_members: "1".into(), ..form.clone() };
        assert!(matches!(organizations::save_organization(&s, &owner, acme.id, &lower).await, Err(Error::Invalid(_))));

        let ada = acme.authorized[0].member_id;
        let page = members::member(&s, &owner, ada).await.unwrap();
        assert_eq!(page.organizations, [(acme.id, "Acme".to_string())]);
        let acme = organizations::remove_member(&s, &owner, acme.id, ada).await.unwrap();
        assert_eq!(acme.authorized.len(), 1);
        assert!(matches!(organizations::remove_member(&s, &owner, acme.id, ada).await, Err(Error::Conflict(_))));
        // Room again, and Ada can come back: the old authorization stays as history.
        organizations::authorize_member(&s, &owner, acme.id, "1001").await.unwrap();
        let list = organizations::list_organizations(&s, &owner, "").await.unwrap();
        assert_eq!((list.rows[0].authorized, list.rows[0].max_members), (2, Some(2)));
        assert_eq!((list.total, list.page), (1, 1));
        assert!(matches!(organizations::list_organizations(&s, &owner, "x").await, Err(Error::Invalid(_))));

        let mut tx = s.db.begin_read().await.unwrap();
        let (rows,): (i64,) = backend::query!(&mut tx, fetch_one as (i64,), "SELECT COUNT(*) FROM organization_members WHERE organization_id = $1", acme.id).unwrap();
        assert_eq!(rows, 3, "two current authorizations and one ended");

        let viewer = owner.with_role(Role::Viewer);
        assert!(matches!(organizations::authorize_member(&s, &viewer, acme.id, "1003").await, Err(Error::Forbidden)));
        let (other_business, other_user) =
            business::create_owner(&s, &NewBusiness { name: "Other", time_zone: "UTC", currency: "EUR" }, "x@o.example", "X", "a long enough password")
                .await
                .unwrap();
        let stranger = Actor::staff(other_business, other_user, Role::Owner);
        assert!(matches!(organizations::organization(&s, &stranger, acme.id).await, Err(Error::NotFound)));
        assert_eq!(organizations::list_organizations(&s, &stranger, "").await.unwrap().total, 0);
    })
    .await;
}
