//! Server functions for services, the schedule and bookings.

use domain::bookings::{BookingForm, BookingPage, ScheduleView, ServiceForm, ServiceView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn date(field: &str, text: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
    match text.trim() {
        "" => Ok(None),
        t => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                backend::Error::from(domain::Invalid::one(field, "enter a date as YYYY-MM-DD"))
                    .into()
            }),
    }
}

#[server(prefix = "/rpc", endpoint = "services/list")]
pub async fn list_services() -> Result<Vec<ServiceView>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::bookings::services(&state.services, &actor).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "services/create")]
pub async fn create_service(form: ServiceForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::bookings::create_service(&state.services, &actor, &form).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "services/active")]
pub async fn set_service_active(id: i64, active: bool) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::bookings::set_service_active(&state.services, &actor, id, active).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "schedule/get")]
pub async fn get_schedule(day: String, location: String) -> Result<ScheduleView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let day = date("day", &day)?;
            let location = location.trim().parse::<i64>().ok();
            Ok(backend::bookings::schedule(&state.services, &actor, day, location).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "bookings/page")]
pub async fn get_booking_page(
    id: i64,
    service: String,
    day: String,
    #[server(default)] page: String,
) -> Result<BookingPage, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let day = date("day", &day)?;
            let service = service.trim().parse::<i64>().ok();
            let page = ssr::page_number(&page)?;
            Ok(
                backend::bookings::booking_page(&state.services, &actor, id, service, day, page)
                    .await?,
            )
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "bookings/create")]
pub async fn book(form: BookingForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::bookings::book(&state.services, &actor, &form).await?)
        }
        .await,
    )
}

/// Cancels a booking; answers what happened to its credits or money.
#[server(prefix = "/rpc", endpoint = "bookings/cancel")]
pub async fn cancel_booking(id: i64) -> Result<String, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::bookings::cancel(&state.services, &actor, id).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "bookings/mark")]
pub async fn mark_booking(id: i64, status: String) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let status =
                domain::bookings::BookingStatus::parse(status.trim()).ok_or_else(|| {
                    backend::Error::from(domain::Invalid::one("status", "mark attended or no-show"))
                })?;
            Ok(backend::bookings::mark(&state.services, &actor, id, status).await?)
        }
        .await,
    )
}
