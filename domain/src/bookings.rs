//! Services, their timetables, and the rules of booking them: who may book,
//! how a booking is paid (an included allowance, credits, or money with the
//! member's discount), and what cancelling costs inside and outside the
//! cancellation window.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::billing::prorate;
use crate::catalog::text_enum;
use crate::lifecycle::{Status, StatusReport};
use crate::money::{Currency, Money};
use crate::validation::Invalid;

text_enum! {
    pub enum ServiceKind {
        Class = ("class", "Class"),
        Appointment = ("appointment", "Appointment"),
        Resource = ("resource", "Room, court or desk"),
    }
}

text_enum! {
    pub enum BookingStatus {
        Booked = ("booked", "Booked"),
        Cancelled = ("cancelled", "Cancelled"),
        Attended = ("attended", "Attended"),
        NoShow = ("no_show", "No-show"),
    }
}

text_enum! {
    /// How a booking is paid.
    pub enum PaidBy {
        Allowance = ("allowance", "Included in the membership"),
        Credits = ("credits", "Credits"),
        Money = ("money", "Money"),
        Free = ("free", "Free"),
    }
}

/// A service as typed on the services page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceForm {
    pub name: String,
    pub kind: String,
    /// A location's id, or empty for every location.
    pub location_id: String,
    pub duration_minutes: String,
    pub capacity: String,
    /// Money per booking ("12.50"), empty when not sold for money.
    pub price: String,
    /// Credits per booking, empty when not bookable with credits.
    pub price_credits: String,
    pub cancel_window_hours: String,
    pub late_fee: String,
    /// "on": only members with an active membership may book.
    pub requires_membership: String,
    /// "Mon 18:00, Wed 18:00, Sat 10:00".
    pub timetable: String,
}

/// A checked service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    pub kind: ServiceKind,
    pub location_id: Option<i64>,
    pub duration_minutes: u32,
    pub capacity: u32,
    pub price: Option<Money>,
    pub price_credits: Option<u32>,
    pub cancel_window_hours: u32,
    pub late_fee: Money,
    pub requires_membership: bool,
    pub timetable: Vec<(Weekday, NaiveTime)>,
}

fn weekday(text: &str) -> Option<Weekday> {
    let t = text.to_ascii_lowercase();
    [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ]
    .into_iter()
    .find(|(p, _)| t.starts_with(p))
    .map(|(_, d)| d)
}

/// "Mon 18:00, Wed 18:00" → the weekly start times, in week order.
pub fn parse_timetable(text: &str) -> Result<Vec<(Weekday, NaiveTime)>, String> {
    let mut out = Vec::new();
    for part in text
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let mut words = part.split_whitespace();
        let (Some(day), Some(time), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!(
                "write each time as a day and a time, like \"Mon 18:00\" (not \"{part}\")"
            ));
        };
        let day = weekday(day).ok_or_else(|| format!("\"{day}\" is not a day of the week"))?;
        let time = NaiveTime::parse_from_str(time, "%H:%M")
            .map_err(|_| format!("\"{time}\" is not a time like 18:00"))?;
        if !out.contains(&(day, time)) {
            out.push((day, time));
        }
    }
    if out.is_empty() {
        return Err("give at least one time, like \"Mon 18:00\"".into());
    }
    out.sort_by_key(|(d, t)| (d.num_days_from_monday(), *t));
    Ok(out)
}

pub fn format_timetable(times: &[(Weekday, NaiveTime)]) -> String {
    times
        .iter()
        .map(|(d, t)| format!("{d} {}", t.format("%H:%M")))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ServiceForm {
    pub fn validate(&self, currency: Currency, locations: &[i64]) -> Result<ServiceSpec, Invalid> {
        let mut invalid = Invalid::default();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            invalid.push("name", "enter the service's name");
        } else if name.chars().count() > 80 {
            invalid.push("name", "use at most 80 characters");
        }
        let kind = ServiceKind::parse(self.kind.trim());
        if kind.is_none() {
            invalid.push("kind", "choose a kind from the list");
        }
        let location_id = match self.location_id.trim() {
            "" => None,
            text => match text.parse::<i64>() {
                Ok(id) if locations.contains(&id) => Some(id),
                _ => {
                    invalid.push("location_id", "choose one of the business's locations");
                    None
                }
            },
        };
        let mut count = |field: &str, text: &str, min: u32, max: u32, what: &str| match text
            .trim()
            .parse::<u32>(
        ) {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                invalid.push(field, format!("enter {what} from {min} to {max}"));
                None
            }
        };
        let duration = count(
            "duration_minutes",
            &self.duration_minutes,
            5,
            24 * 60,
            "minutes",
        );
        let capacity = count("capacity", &self.capacity, 1, 1000, "a number of places");
        let window = if self.cancel_window_hours.trim().is_empty() {
            Some(0)
        } else {
            count(
                "cancel_window_hours",
                &self.cancel_window_hours,
                0,
                24 * 14,
                "hours",
            )
        };
        let price_credits = match self.price_credits.trim() {
            "" => Some(None),
            _ => count("price_credits", &self.price_credits, 1, 1000, "credits").map(Some),
        };
        let money = |invalid: &mut Invalid, field: &str, text: &str| match text.trim() {
            "" => Some(None),
            t => match Money::parse(t, currency) {
                Ok(m) if m.minor >= 0 => Some(Some(m)),
                _ => {
                    invalid.push(field, "enter an amount like 12.50");
                    None
                }
            },
        };
        let price = money(&mut invalid, "price", &self.price);
        let late_fee = money(&mut invalid, "late_fee", &self.late_fee);
        let timetable = invalid.check("timetable", parse_timetable(&self.timetable));
        match (
            kind,
            duration,
            capacity,
            window,
            price_credits,
            price,
            late_fee,
            timetable,
        ) {
            (
                Some(kind),
                Some(duration_minutes),
                Some(capacity),
                Some(cancel_window_hours),
                Some(price_credits),
                Some(price),
                Some(late_fee),
                Some(timetable),
            ) if invalid.is_empty() => Ok(ServiceSpec {
                name,
                kind,
                location_id,
                duration_minutes,
                capacity,
                price,
                price_credits,
                cancel_window_hours,
                late_fee: late_fee.unwrap_or(Money::zero(currency)),
                requires_membership: self.requires_membership == "on",
                timetable,
            }),
            _ => Err(invalid),
        }
    }
}

impl ServiceSpec {
    /// The start times on `day`.
    pub fn slots_on(&self, day: NaiveDate) -> Vec<NaiveTime> {
        self.timetable
            .iter()
            .filter(|(d, _)| *d == day.weekday())
            .map(|(_, t)| *t)
            .collect()
    }

    /// "12 places · 60 min · 1 credit or €15.00".
    pub fn describe(&self) -> String {
        let mut pay = Vec::new();
        if let Some(c) = self.price_credits {
            pay.push(format!("{c} credit{}", if c == 1 { "" } else { "s" }));
        }
        if let Some(p) = self.price {
            pay.push(p.to_string());
        }
        let pay = if pay.is_empty() {
            "free".to_string()
        } else {
            pay.join(" or ")
        };
        format!(
            "{} place{} · {} min · {pay}",
            self.capacity,
            if self.capacity == 1 { "" } else { "s" },
            self.duration_minutes
        )
    }
}

/// Whether a membership in this state may book: only active memberships
/// (also while a cancellation is pending); a paused, past-due, suspended or
/// ended one is refused with the reason.
pub fn may_book(status: &StatusReport) -> Result<(), String> {
    match status.status {
        Status::Active | Status::Cancelling => Ok(()),
        other => Err(format!(
            "A {} membership cannot book: {}",
            other.label().to_lowercase(),
            status.explanation
        )),
    }
}

/// The price of a booking for money after the member's discount, rounded once.
pub fn member_price(price: Money, discount_percent: Decimal) -> Money {
    if discount_percent.is_zero() {
        return price;
    }
    let off = prorate(price, discount_percent / Decimal::ONE_HUNDRED);
    Money::new(price.minor - off.minor, price.currency)
}

/// What the member has to pay with, in the order billing prefers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Means {
    /// Uses of an included service left in the current period.
    pub allowance_left: u32,
    pub credit_balance: i64,
    pub has_membership: bool,
}

/// How a booking of `spec` is paid: as asked (`asked`), or the first that
/// works of allowance, credits, money. Refused with what is missing.
pub fn choose_payment(
    spec: &ServiceSpec,
    means: Means,
    asked: Option<PaidBy>,
) -> Result<PaidBy, String> {
    let can = |p: PaidBy| -> Result<(), String> {
        match p {
            PaidBy::Allowance if means.allowance_left > 0 => Ok(()),
            PaidBy::Allowance => Err(format!(
                "{} is not included in this membership, or its uses this period are taken.",
                spec.name
            )),
            PaidBy::Credits => match spec.price_credits {
                None => Err(format!("{} cannot be paid with credits.", spec.name)),
                Some(c) if i64::from(c) > means.credit_balance => Err(format!(
                    "{} costs {c} credit{}; only {} left.",
                    spec.name,
                    if c == 1 { "" } else { "s" },
                    means.credit_balance
                )),
                Some(_) => Ok(()),
            },
            PaidBy::Money if spec.price.is_some() => Ok(()),
            PaidBy::Money => Err(format!("{} is not sold for money.", spec.name)),
            PaidBy::Free if spec.price.is_none() && spec.price_credits.is_none() => Ok(()),
            PaidBy::Free => Err(format!("{} is not free.", spec.name)),
        }
    };
    if let Some(p) = asked {
        return can(p).map(|_| p);
    }
    for p in [
        PaidBy::Allowance,
        PaidBy::Credits,
        PaidBy::Money,
        PaidBy::Free,
    ] {
        if can(p).is_ok() {
            return Ok(p);
        }
    }
    Err(match (spec.price_credits, spec.price) {
        (Some(c), None) => format!(
            "{} costs {c} credit{}; only {} left.",
            spec.name,
            if c == 1 { "" } else { "s" },
            means.credit_balance
        ),
        _ => format!("{} cannot be paid for this member.", spec.name),
    })
}

/// Cancelling at `now` a booking that starts at `starts` (both the
/// business's local time): inside the window the credits come back; later,
/// they are kept and the late fee is charged.
pub fn cancelled_in_window(starts: NaiveDateTime, now: NaiveDateTime, window_hours: u32) -> bool {
    now + chrono::Duration::hours(i64::from(window_hours)) <= starts
}

/// A booking as asked for on the booking form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BookingForm {
    pub service_id: String,
    pub membership_id: String,
    /// "2026-12-03"
    pub day: String,
    /// "18:00"
    pub time: String,
    /// Empty: the first that works of allowance, credits, money.
    pub pay_with: String,
    /// Who the booking is for: empty for the membership's holder; a family
    /// member's, or for an organization's membership one of its authorized
    /// members'.
    pub member_id: String,
    pub key: String,
}

/// A booking form checked for its shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingAsk {
    pub service_id: i64,
    pub membership_id: i64,
    pub starts: NaiveDateTime,
    pub pay_with: Option<PaidBy>,
    pub member_id: Option<i64>,
}

impl BookingForm {
    pub fn parse(&self) -> Result<BookingAsk, Invalid> {
        let mut invalid = Invalid::default();
        let id = |invalid: &mut Invalid, field: &str, text: &str| {
            let id = text.trim().parse::<i64>().ok();
            if id.is_none() {
                invalid.push(field, "choose from the list");
            }
            id
        };
        let service_id = id(&mut invalid, "service_id", &self.service_id);
        let membership_id = id(&mut invalid, "membership_id", &self.membership_id);
        let day = invalid.check(
            "day",
            NaiveDate::parse_from_str(self.day.trim(), "%Y-%m-%d")
                .map_err(|_| "enter a date as YYYY-MM-DD"),
        );
        let time = invalid.check(
            "time",
            NaiveTime::parse_from_str(self.time.trim(), "%H:%M")
                .map_err(|_| "choose a time from the timetable"),
        );
        let pay_with = match self.pay_with.trim() {
            "" => Some(None),
            t => match PaidBy::parse(t) {
                Some(p) => Some(Some(p)),
                None => {
                    invalid.push("pay_with", "choose how to pay from the list");
                    None
                }
            },
        };
        if self.key.trim().is_empty() {
            invalid.push("key", "reload the page and try again");
        }
        let member_id = match self.member_id.trim() {
            "" => Some(None),
            t => match t.parse::<i64>() {
                Ok(id) => Some(Some(id)),
                Err(_) => {
                    invalid.push("member_id", "choose who the booking is for");
                    None
                }
            },
        };
        match (service_id, membership_id, day, time, pay_with, member_id) {
            (
                Some(service_id),
                Some(membership_id),
                Some(day),
                Some(time),
                Some(pay_with),
                Some(member_id),
            ) if invalid.is_empty() => Ok(BookingAsk {
                service_id,
                membership_id,
                starts: day.and_time(time),
                pay_with,
                member_id,
            }),
            _ => Err(invalid),
        }
    }
}

/// A booking as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingView {
    pub id: i64,
    pub service_id: i64,
    pub service: String,
    pub location: String,
    pub starts: NaiveDateTime,
    pub ends: NaiveDateTime,
    pub member_id: i64,
    pub member: String,
    pub membership_id: Option<i64>,
    pub status: BookingStatus,
    pub paid_by: PaidBy,
    pub credits: i64,
    pub price: Option<Money>,
    /// Cancelled after the window: credits kept, late fee charged.
    pub late: bool,
    pub invoice_id: Option<i64>,
    pub booked_by: String,
    /// What cancelling means, said next to the button: "Cancel by Mon 7 Dec,
    /// 16:00 and your credit comes back; later, it is kept and a €5.00 late
    /// fee is charged."
    pub cancel_terms: String,
}

/// What cancelling a booking means: back in full until the window closes,
/// kept (and a late fee) after.
pub fn cancel_terms(
    starts: NaiveDateTime,
    window_hours: u32,
    paid_by: PaidBy,
    credits: i64,
    price: Option<Money>,
    late_fee: Money,
) -> String {
    let by = starts - chrono::Duration::hours(i64::from(window_hours));
    let (back, kept) = match paid_by {
        PaidBy::Credits => (
            format!(
                "your {credits} credit{} come{} back",
                if credits == 1 { "" } else { "s" },
                if credits == 1 { "s" } else { "" }
            ),
            format!(
                "the credit{} {} kept",
                if credits == 1 { "" } else { "s" },
                if credits == 1 { "is" } else { "are" }
            ),
        ),
        PaidBy::Money => match price {
            Some(p) => (
                format!("the {p} is taken off your bill"),
                format!("the {p} is kept"),
            ),
            None => (
                "nothing is charged".to_string(),
                "nothing is given back".to_string(),
            ),
        },
        PaidBy::Allowance => (
            "the included use comes back".to_string(),
            "the included use is spent".to_string(),
        ),
        PaidBy::Free => (
            "it costs nothing".to_string(),
            "it costs nothing".to_string(),
        ),
    };
    let fee = if late_fee.minor > 0 {
        format!(" and a {late_fee} late fee is charged")
    } else {
        String::new()
    };
    format!(
        "Cancel by {} and {back}; later, {kept}{fee}.",
        by.format("%a %-d %b, %H:%M")
    )
}

/// A service as the services page and the schedule show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    pub id: i64,
    pub spec: ServiceSpec,
    pub location: String,
    pub active: bool,
}

/// One slot of the schedule: a service at a time, its bookings and places.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotView {
    pub service_id: i64,
    pub service: String,
    pub location: String,
    pub starts: NaiveDateTime,
    pub capacity: u32,
    pub booked: u32,
    pub bookings: Vec<BookingView>,
}

/// The schedule of a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub day: NaiveDate,
    pub location_id: Option<i64>,
    pub locations: Vec<(i64, String)>,
    pub slots: Vec<SlotView>,
    /// Service visits scheduled that day.
    pub visits: Vec<crate::visits::VisitView>,
    pub can_change: bool,
}

/// The booking page of a membership: its services, the chosen day's slots
/// with places left, and the membership's bookings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingPage {
    pub membership_id: i64,
    pub holder: String,
    pub type_name: String,
    pub status: StatusReport,
    /// Why the membership cannot book now (paused, past due, ...), said
    /// before anyone picks a service.
    pub closed: Option<String>,
    pub credit_balance: i64,
    /// What a booking of the chosen service would take, in words: "Paid with
    /// 1 credit (you have 3).", "Costs €13.50: it is added to your next invoice."
    pub cost: Option<String>,
    /// The money a booking of the chosen service would cost, if any: the
    /// booking button says so and asks to confirm it.
    pub price: Option<Money>,
    /// Active services: (id, name, what it costs).
    pub services: Vec<(i64, String, String)>,
    pub service_id: Option<i64>,
    pub day: NaiveDate,
    /// The chosen service's slots that day: (start, places left).
    pub slots: Vec<(NaiveTime, u32)>,
    /// A page of the membership's bookings, newest first.
    pub bookings: crate::paging::Listed<BookingView>,
    pub form_key: String,
    pub can_book: bool,
    /// Who may book with it: the holder and family members, or an
    /// organization's authorized members.
    pub users: Vec<(i64, String)>,
}

#[cfg(test)]
mod tests;
