use super::*;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

#[test]
fn filters_read_ranges_and_ending_within_days() {
    let q = MembershipFilter {
        status: "paused".into(),
        active_from: "2026-11-01".into(),
        active_to: "2026-11-30".into(),
        ending_within: "30".into(),
        ..Default::default()
    }
    .parse(d(11, 22))
    .unwrap();
    assert_eq!(q.status, Some(Status::Paused));
    assert_eq!(q.active, Some((d(11, 1), d(11, 30))));
    assert_eq!(q.ending, Some((d(11, 22), d(12, 22))));
    let bad = MembershipFilter {
        status: "happy".into(),
        ending_from: "2026-12-01".into(),
        ending_to: "2026-11-01".into(),
        ..Default::default()
    }
    .parse(d(11, 22))
    .unwrap_err();
    assert_eq!(
        bad.message_for("status"),
        Some("choose a status from the list")
    );
    assert_eq!(
        bad.message_for("ending_to"),
        Some("the end of the range comes before its start")
    );
}

#[test]
fn action_forms_default_to_today_and_the_next_period() {
    let form = |action: &str| ActionForm {
        action: action.into(),
        ..Default::default()
    };
    assert_eq!(
        form("resume").command().and_then(|c| c.asked(d(11, 22))),
        Ok(Asked::Ready(Action::Resume { on: d(11, 22) }))
    );
    assert_eq!(
        ActionForm {
            type_id: "4".into(),
            ..form("change_type")
        }
        .command()
        .and_then(|c| c.asked(d(11, 22))),
        Ok(Asked::ChangeType {
            type_id: 4,
            when: ChangeWhen::NextPeriod
        })
    );
    assert_eq!(
        ActionForm {
            until: "soon".into(),
            ..form("pause")
        }
        .command()
        .and_then(|c| c.asked(d(11, 22)))
        .unwrap_err()
        .message_for("until"),
        Some("enter a date as YYYY-MM-DD")
    );
    assert!(form("explode").command().is_err());
    let free = |periods: &str| {
        ActionForm {
            periods: periods.into(),
            ..form("free_periods")
        }
        .command()
        .and_then(|c| c.asked(d(11, 22)))
    };
    assert_eq!(
        free("2"),
        Ok(Asked::Ready(Action::AddFreePeriods { periods: 2 }))
    );
    for wrong in ["13", "0", "two"] {
        assert_eq!(
            free(wrong).unwrap_err().message_for("periods"),
            Some("enter a number of periods from 1 to 12"),
            "{wrong}"
        );
    }
}
