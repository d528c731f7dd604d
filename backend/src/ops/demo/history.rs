//! Replaying the club's past: each sale, action, payment and booking runs
//! on a clock set to its own day, as the staff who did it.

use crate::engine::ledger::Account;
use crate::engine::lifecycle::Showing;
use crate::memberships::{self};
use crate::payments::{self};
use crate::platform::actor::Actor;
use crate::platform::error::Error;
use crate::store::memberships::HolderRef;
use crate::{Services, bookings};
use chrono::{Datelike, NaiveDate};
use domain::bookings::{BookingForm, ServiceForm};
use domain::lifecycle::sale::SellForm;
use domain::memberships::ActionForm;

/// Replays the demo's history: each step on a clock set to its own day.
pub(crate) struct History {
    pub(crate) db: crate::Db,
    pub(crate) business_id: i64,
    pub(crate) desk: Actor,
    pub(crate) manager: Actor,
    pub(crate) types: std::collections::HashMap<String, i64>,
    pub(crate) today: NaiveDate,
}

pub(crate) fn services_on(db: &crate::Db, day: NaiveDate) -> Services {
    let at = day.and_hms_opt(8, 30, 0).expect("a time of day").and_utc();
    Services::new(db.clone(), crate::Clock::fixed(at))
}

impl History {
    pub(crate) async fn services(&self) -> Result<(), Error> {
        let services = services_on(&self.db, self.today);
        let form = |name: &str, kind: &str, timetable: &str, capacity: &str| ServiceForm {
            name: name.into(),
            kind: kind.into(),
            timetable: timetable.into(),
            capacity: capacity.into(),
            duration_minutes: "60".into(),
            cancel_window_hours: "12".into(),
            requires_membership: "on".into(),
            ..ServiceForm::default()
        };
        for service in [
            ServiceForm {
                price: "15".into(),
                price_credits: "1".into(),
                late_fee: "5".into(),
                ..form("Yoga", "class", "Mon 18:00, Wed 18:00, Sat 10:00", "12")
            },
            ServiceForm {
                price: "20".into(),
                ..form("Climbing Intro", "class", "Tue 19:00, Thu 19:00", "8")
            },
            ServiceForm {
                price: "45".into(),
                price_credits: "1".into(),
                duration_minutes: "50".into(),
                cancel_window_hours: "24".into(),
                late_fee: "20".into(),
                ..form(
                    "Massage",
                    "appointment",
                    "Mon 10:00, Mon 14:00, Tue 10:00, Tue 14:00, Thu 10:00, Thu 14:00",
                    "1",
                )
            },
            ServiceForm {
                price: "8".into(),
                duration_minutes: "90".into(),
                ..form(
                    "Sauna",
                    "resource",
                    "Mon 17:00, Tue 17:00, Wed 17:00, Thu 17:00, Fri 17:00, Sat 11:00, Sun 11:00",
                    "8",
                )
            },
        ] {
            bookings::create_service(&services, &self.manager, &service).await?;
        }
        Ok(())
    }

    /// Books `service` at `day` `time` for a membership, as the desk on `on`.
    pub(crate) async fn book(
        &self,
        membership: i64,
        service: &str,
        day: NaiveDate,
        time: &str,
        on: NaiveDate,
        pay_with: &str,
    ) -> Result<i64, Error> {
        let services = services_on(&self.db, on);
        let id = bookings::services(&services, &self.desk)
            .await?
            .into_iter()
            .find(|s| s.spec.name == service)
            .map(|s| s.id)
            .ok_or_else(|| Error::internal(format!("demo service {service}")))?;
        bookings::book(
            &services,
            &self.desk,
            &BookingForm {
                service_id: id.to_string(),
                membership_id: membership.to_string(),
                day: day.to_string(),
                time: time.into(),
                pay_with: pay_with.into(),
                member_id: String::new(),
                key: format!("demo:{membership}:{service}:{day}"),
            },
        )
        .await
    }

    pub(crate) async fn sell(
        &self,
        holder: HolderRef,
        type_name: &str,
        start: NaiveDate,
        discount: Option<(&str, &str, &str)>,
    ) -> Result<i64, Error> {
        let mut form = SellForm {
            type_id: self.types[type_name].to_string(),
            start: start.to_string(),
            ..SellForm::default()
        };
        if let Some((kind, value, periods)) = discount {
            form.discount_kind = kind.into();
            form.discount_value = value.into();
            form.discount_periods = periods.into();
        }
        // Sold on its start day, or today for a start still to come.
        let day = start.min(self.today);
        let services = services_on(&self.db, day);
        memberships::sell_as(&services, &self.desk, holder, &form.command()?).await
    }

    pub(crate) async fn act(
        &self,
        id: i64,
        day: NaiveDate,
        action: &str,
        fill: impl FnOnce(&mut ActionForm),
    ) -> Result<(), Error> {
        self.act_by(&self.desk, id, day, action, fill).await
    }

    pub(crate) async fn act_as_manager(
        &self,
        id: i64,
        day: NaiveDate,
        action: &str,
        fill: impl FnOnce(&mut ActionForm),
    ) -> Result<(), Error> {
        self.act_by(&self.manager, id, day, action, fill).await
    }

    pub(crate) async fn act_by(
        &self,
        by: &Actor,
        id: i64,
        day: NaiveDate,
        action: &str,
        fill: impl FnOnce(&mut ActionForm),
    ) -> Result<(), Error> {
        let mut form = ActionForm {
            action: action.into(),
            ..ActionForm::default()
        };
        fill(&mut form);
        let services = services_on(&self.db, day);
        crate::engine::lifecycle::act_as(&services, by, id, &form.command()?, Showing::Effect)
            .await?;
        Ok(())
    }
}

impl History {
    /// The front desk books one transfer for all that is due, ten euros over
    /// (kept as credit); a manager refunds the ten euros and credits five
    /// for a closed sauna.
    pub(crate) async fn pay_everything_by_transfer(&self, account: Account) -> Result<(), Error> {
        let services = services_on(&self.db, self.today);
        let billing = payments::account_billing(&services, &self.desk, account).await?;
        let Some(first) = billing.unpaid.first() else {
            return Ok(());
        };
        let due: i64 = billing.unpaid.iter().map(|s| s.amount_due().minor).sum();
        let currency = first.total.currency;
        let paid = domain::Money::new(due + 1000, currency);
        let payment = payments::record_payment(
            &services,
            &self.desk,
            first.id,
            &domain::payments::PaymentForm {
                amount: paid.to_plain(),
                method: "bank_transfer".into(),
                reference: "SEPA 2026-DEMO-0001".into(),
                key: "demo-transfer".into(),
                amount_due: false,
            },
        )
        .await?;
        payments::refund(
            &services,
            &self.manager,
            payment,
            &domain::payments::RefundForm {
                amount: "10".into(),
                reason: "paid ten euros too much".into(),
                key: "demo-refund".into(),
            },
        )
        .await?;
        payments::credit_note(
            &services,
            &self.manager,
            first.id,
            &domain::invoices::CreditNoteForm {
                amount: "5".into(),
                reason: "the sauna was closed for a week".into(),
                key: "demo-credit".into(),
            },
        )
        .await?;
        Ok(())
    }
}

impl History {
    /// A manager refunds the account's latest card charge in full.
    pub(crate) async fn refund_last_card_charge(
        &self,
        account: Account,
        reason: &str,
    ) -> Result<(), Error> {
        let services = services_on(&self.db, self.today);
        let (member_id, organization_id) = account.columns();
        let mut tx = services.db.begin_read().await?;
        let last = crate::query!(
            &mut tx,
            fetch_optional as (i64, i64, String),
            "SELECT id, amount_minor, currency FROM payments
              WHERE business_id = $1 AND (member_id = $2 OR organization_id = $3)
                AND succeeded AND method = 'card_on_file'
              ORDER BY id DESC LIMIT 1",
            self.business_id,
            member_id,
            organization_id
        )?;
        tx.commit().await?;
        let Some((payment, minor, currency)) = last else {
            return Ok(());
        };
        let currency = domain::Currency::from_code(&currency)
            .map_err(|_| Error::internal("the currency of a payment"))?;
        payments::refund(
            &services,
            &self.manager,
            payment,
            &domain::payments::RefundForm {
                amount: domain::Money::new(minor, currency).to_plain(),
                reason: reason.into(),
                key: "demo-card-refund".into(),
            },
        )
        .await?;
        Ok(())
    }
}

pub(crate) fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("day 1 exists")
}

pub(crate) fn ascii_lower(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'é' => 'e',
            'í' => 'i',
            c => c,
        })
        .filter(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_lowercase()
}
