//! Recurring services: visits a membership includes at a service address
//! ("two maintenance visits a year"), generated a year ahead, scheduled by
//! staff, then completed or cancelled.

use chrono::{Days, Months, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::catalog::text_enum;
use crate::validation::Invalid;

text_enum! {
    pub enum VisitStatus {
        NotScheduled = ("not_scheduled", "Not scheduled"),
        Scheduled = ("scheduled", "Scheduled"),
        Completed = ("completed", "Completed"),
        Cancelled = ("cancelled", "Cancelled"),
    }
}

/// A recurring service type as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecurringServiceForm {
    pub name: String,
    pub visits_per_year: String,
    pub duration_minutes: String,
    /// The membership type that includes it.
    pub type_id: String,
}

/// A checked recurring service type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurringServiceSpec {
    pub name: String,
    pub visits_per_year: u32,
    pub duration_minutes: u32,
    /// The membership types that include it.
    pub type_ids: Vec<i64>,
}

impl RecurringServiceForm {
    pub fn validate(&self, types: &[i64]) -> Result<RecurringServiceSpec, Invalid> {
        let mut invalid = Invalid::default();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            invalid.push("name", "enter the service's name");
        } else if name.chars().count() > 80 {
            invalid.push("name", "use at most 80 characters");
        }
        let visits = match self.visits_per_year.trim().parse::<u32>() {
            Ok(n) if (1..=52).contains(&n) => Some(n),
            _ => {
                invalid.push("visits_per_year", "enter 1 to 52 visits a year");
                None
            }
        };
        let duration = match self.duration_minutes.trim() {
            "" => Some(60),
            t => match t.parse::<u32>() {
                Ok(n) if (5..=24 * 60).contains(&n) => Some(n),
                _ => {
                    invalid.push("duration_minutes", "enter minutes from 5 to 1440");
                    None
                }
            },
        };
        let type_ids = match self.type_id.trim().parse::<i64>() {
            Ok(id) if types.contains(&id) => vec![id],
            _ => {
                invalid.push("type_id", "choose the membership type that includes it");
                Vec::new()
            }
        };
        match (visits, duration) {
            (Some(visits_per_year), Some(duration_minutes)) if invalid.is_empty() => {
                Ok(RecurringServiceSpec {
                    name,
                    visits_per_year,
                    duration_minutes,
                    type_ids,
                })
            }
            _ => Err(invalid),
        }
    }
}

/// The due date of visit `k` counted from `first`: evenly spread over the
/// year, by whole months when the visits divide the year into months (so a
/// visit due on the 31st stays at the month's end), else by days.
pub fn due_date(first: NaiveDate, per_year: u32, k: u32) -> NaiveDate {
    let per_year = per_year.max(1);
    if 12 % per_year == 0 {
        first + Months::new(12 / per_year * k)
    } else {
        first + Days::new(u64::from(k) * 365 / u64::from(per_year))
    }
}

/// The visits due from `first` up to (not including) `until`.
pub fn due_dates(first: NaiveDate, per_year: u32, until: NaiveDate) -> Vec<NaiveDate> {
    (0u32..)
        .map(|k| due_date(first, per_year, k))
        .take_while(|d| *d < until)
        .collect()
}

/// A service address of a membership, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceAddressForm {
    pub membership_id: String,
    pub recurring_service_id: String,
    pub address: String,
    pub first_due: String,
}

/// Scheduling a visit, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleVisitForm {
    pub day: String,
    pub time: String,
}

impl ScheduleVisitForm {
    pub fn parse(&self, today: NaiveDate) -> Result<NaiveDateTime, Invalid> {
        let mut invalid = Invalid::default();
        let day = invalid.check(
            "day",
            NaiveDate::parse_from_str(self.day.trim(), "%Y-%m-%d")
                .map_err(|_| "enter a date as YYYY-MM-DD"),
        );
        let time = invalid.check(
            "time",
            chrono::NaiveTime::parse_from_str(self.time.trim(), "%H:%M")
                .map_err(|_| "enter a time like 09:30"),
        );
        if let Some(d) = day
            && d < today
        {
            invalid.push("day", format!("a visit is scheduled on {today} or later"));
        }
        match (day, time) {
            (Some(d), Some(t)) if invalid.is_empty() => Ok(d.and_time(t)),
            _ => Err(invalid),
        }
    }
}

/// The visit list's filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VisitFilter {
    pub status: String,
    pub from: String,
    pub to: String,
    /// The list's page (from 1; empty for the first).
    pub page: String,
}

/// A visit as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitView {
    pub id: i64,
    pub service: String,
    pub address: String,
    pub membership_id: i64,
    pub holder: String,
    pub due_on: NaiveDate,
    pub status: VisitStatus,
    pub scheduled_at: Option<NaiveDateTime>,
}

/// The visits page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitsPage {
    /// (id, name, visits a year, names of the types that include it)
    pub services: Vec<(i64, String, u32, String)>,
    /// Active recurring membership types: (id, name).
    pub types: Vec<(i64, String)>,
    /// A page of the visits by due date.
    pub visits: crate::paging::Listed<VisitView>,
    pub can_change: bool,
    pub can_manage: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn visits_spread_evenly_over_the_year_from_the_first() {
        assert_eq!(
            due_dates(d(2026, 8, 31), 2, d(2027, 8, 31)),
            [d(2026, 8, 31), d(2027, 2, 28)]
        );
        assert_eq!(due_dates(d(2026, 1, 15), 4, d(2027, 1, 15)).len(), 4);
        assert_eq!(due_date(d(2026, 1, 15), 4, 3), d(2026, 10, 15));
        // Five a year do not divide the months: every 73 days.
        assert_eq!(due_date(d(2026, 1, 1), 5, 1), d(2026, 3, 15));
        assert_eq!(due_date(d(2026, 1, 1), 5, 2), d(2026, 5, 27));
    }

    #[test]
    fn a_recurring_service_needs_a_name_a_frequency_and_types() {
        let ok = RecurringServiceForm {
            name: "Fitness assessment".into(),
            visits_per_year: "2".into(),
            type_id: "3".into(),
            ..Default::default()
        }
        .validate(&[3, 4])
        .unwrap();
        assert_eq!(
            (ok.visits_per_year, ok.duration_minutes, ok.type_ids),
            (2, 60, vec![3])
        );
        let err = RecurringServiceForm {
            visits_per_year: "0".into(),
            type_id: "9".into(),
            ..Default::default()
        }
        .validate(&[3])
        .unwrap_err();
        assert_eq!(err.message_for("name"), Some("enter the service's name"));
        assert_eq!(
            err.message_for("visits_per_year"),
            Some("enter 1 to 52 visits a year")
        );
        assert_eq!(
            err.message_for("type_id"),
            Some("choose the membership type that includes it")
        );
    }

    #[test]
    fn a_visit_is_scheduled_today_or_later() {
        let today = d(2026, 12, 1);
        let at = ScheduleVisitForm {
            day: "2026-12-03".into(),
            time: "09:30".into(),
        }
        .parse(today)
        .unwrap();
        assert_eq!(at.to_string(), "2026-12-03 09:30:00");
        let err = ScheduleVisitForm {
            day: "2026-11-30".into(),
            time: "9h".into(),
        }
        .parse(today)
        .unwrap_err();
        assert_eq!(
            err.message_for("day"),
            Some("a visit is scheduled on 2026-12-01 or later")
        );
        assert!(err.message_for("time").is_some());
    }
}
