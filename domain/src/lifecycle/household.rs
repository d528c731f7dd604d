//! Households: the family members on a group membership, up to the type's
//! maximum. Joining and leaving are events on the membership's timeline.

use chrono::NaiveDate;

use super::policy::Refusal;
use super::{Event, Membership, Status};

/// Someone staff want to add to a group membership.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    pub member_id: i64,
    pub name: &'a str,
    /// They hold the membership themselves.
    pub is_holder: bool,
    /// They are a current family member of it already.
    pub on_it: bool,
    /// They hold, or are a family member of, another active membership of this type.
    pub holds_same_type: bool,
}

fn refuse(message: String) -> Refusal {
    Refusal {
        message,
        overridable: false,
        policy: false,
        field: None,
    }
}

fn open_for_changes(m: &Membership, today: NaiveDate) -> Result<(), Refusal> {
    if m.locked() {
        return Err(refuse(
            "This membership is locked: a manager must unlock it before it can change.".into(),
        ));
    }
    let status = m.status(today).status;
    if matches!(
        status,
        Status::Cancelled | Status::Expired | Status::Rejected
    ) {
        return Err(refuse(format!(
            "This membership has ended ({}): its family members can no longer change.",
            status.label().to_lowercase()
        )));
    }
    Ok(())
}

/// Adds a family member: a group type, room below its maximum, not already on
/// it, and not holding another active membership of the same type.
pub fn add(
    m: &Membership,
    family_now: u32,
    who: &Candidate,
    today: NaiveDate,
) -> Result<Event, Refusal> {
    let name = &m.spec.name;
    let Some(group) = &m.spec.group else {
        return Err(refuse(format!(
            "{name} is not a group type: it has no family members."
        )));
    };
    open_for_changes(m, today)?;
    if who.is_holder {
        return Err(refuse(format!(
            "{} holds this membership already.",
            who.name
        )));
    }
    if who.on_it {
        return Err(refuse(format!(
            "{} is already a family member of this membership.",
            who.name
        )));
    }
    if family_now >= group.max_family_members {
        return Err(refuse(format!(
            "{name} allows {} family member{} besides the holder, and this membership has {family_now}: remove one first.",
            group.max_family_members,
            if group.max_family_members == 1 {
                ""
            } else {
                "s"
            }
        )));
    }
    if who.holds_same_type {
        return Err(refuse(format!(
            "{} already has an active {name} membership.",
            who.name
        )));
    }
    Ok(Event::FamilyMemberAdded {
        on: today,
        member_id: who.member_id,
        name: who.name.to_string(),
    })
}

/// Removes a current family member; their history stays.
pub fn remove(m: &Membership, who: &Candidate, today: NaiveDate) -> Result<Event, Refusal> {
    open_for_changes(m, today)?;
    if !who.on_it {
        return Err(refuse(format!(
            "{} is not a family member of this membership.",
            who.name
        )));
    }
    Ok(Event::FamilyMemberRemoved {
        on: today,
        member_id: who.member_id,
        name: who.name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::spec::{GroupPolicy, TypeSpec};
    use crate::lifecycle::Recorded;
    use crate::money::{Currency, Money};

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn family() -> TypeSpec {
        TypeSpec {
            name: "Family Quarterly".into(),
            group: Some(GroupPolicy {
                max_family_members: 2,
                additional_member_fee: Money::zero(Currency::EUR),
            }),
            ..TypeSpec::default()
        }
    }

    fn sold() -> Vec<Recorded> {
        vec![Recorded {
            event: Event::Sold {
                start: d(1, 1),
                approval_required: false,
            },
            by: String::new(),
            reason: String::new(),
            forced: false,
        }]
    }

    fn ben<'a>() -> Candidate<'a> {
        Candidate {
            member_id: 7,
            name: "Ben Carter",
            is_holder: false,
            on_it: false,
            holds_same_type: false,
        }
    }

    #[test]
    fn family_members_join_up_to_the_maximum_and_not_twice() {
        let spec = family();
        let events = sold();
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        let today = d(11, 22);
        let cases: Vec<(&str, u32, Candidate, Result<(), &str>)> = vec![
            ("room left", 1, ben(), Ok(())),
            (
                "full",
                2,
                ben(),
                Err(
                    "Family Quarterly allows 2 family members besides the holder, and this membership has 2: remove one first.",
                ),
            ),
            (
                "holds the same type",
                0,
                Candidate {
                    holds_same_type: true,
                    ..ben()
                },
                Err("Ben Carter already has an active Family Quarterly membership."),
            ),
            (
                "already on it",
                0,
                Candidate {
                    on_it: true,
                    ..ben()
                },
                Err("Ben Carter is already a family member of this membership."),
            ),
            (
                "the holder",
                0,
                Candidate {
                    is_holder: true,
                    ..ben()
                },
                Err("Ben Carter holds this membership already."),
            ),
        ];
        for (name, family_now, who, expected) in cases {
            let got = add(&m, family_now, &who, today)
                .map(|_| ())
                .map_err(|r| r.message);
            assert_eq!(got, expected.map_err(str::to_string), "{name}");
        }
        let single = TypeSpec {
            name: "Adult Monthly".into(),
            ..TypeSpec::default()
        };
        let m = Membership { spec: &single, ..m };
        assert_eq!(
            add(&m, 0, &ben(), today).unwrap_err().message,
            "Adult Monthly is not a group type: it has no family members."
        );
    }

    #[test]
    fn leaving_is_an_event_and_needs_them_on_it() {
        let spec = family();
        let events = sold();
        let m = Membership {
            spec: &spec,
            events: &events,
            overdue: Default::default(),
        };
        assert_eq!(
            remove(
                &m,
                &Candidate {
                    on_it: true,
                    ..ben()
                },
                d(11, 22)
            ),
            Ok(Event::FamilyMemberRemoved {
                on: d(11, 22),
                member_id: 7,
                name: "Ben Carter".into()
            })
        );
        assert!(remove(&m, &ben(), d(11, 22)).is_err());
    }
}
