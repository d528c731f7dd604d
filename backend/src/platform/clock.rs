//! The one place that reads the wall clock.
//!
//! Timestamps (when something was recorded) always come from `now()`. Business
//! dates (billing, starts, ends) come from `today()`: the calendar date in the
//! business's time zone, or the business's simulated date when an owner has
//! set one, so that demos and tests can move billing time forward.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use chrono_tz::Tz;

#[derive(Clone, Debug)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock that always reads `now` (tests).
    pub fn fixed(now: DateTime<Utc>) -> Clock {
        Clock { fixed: Some(now) }
    }

    /// The current instant, truncated to microseconds so it round-trips through PostgreSQL.
    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now).trunc_subsecs(6)
    }

    /// The business's date: its simulated date if set, else today in its time zone.
    pub fn today(&self, time_zone: Tz, simulated: Option<NaiveDate>) -> NaiveDate {
        simulated.unwrap_or_else(|| self.now().with_timezone(&time_zone).date_naive())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn today_is_the_date_in_the_business_time_zone() {
        let clock = Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap());
        assert_eq!(
            clock.today(chrono_tz::Europe::Berlin, None),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        assert_eq!(
            clock.today(chrono_tz::America::New_York, None),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
    }

    #[test]
    fn a_simulated_date_wins_over_the_real_one() {
        let clock = Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap());
        let simulated = NaiveDate::from_ymd_opt(2027, 2, 28).unwrap();
        assert_eq!(clock.today(chrono_tz::UTC, Some(simulated)), simulated);
    }
}
