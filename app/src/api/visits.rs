//! Server functions for recurring services and their visits.

use domain::visits::{
    RecurringServiceForm, ScheduleVisitForm, ServiceAddressForm, VisitFilter, VisitsPage,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

#[server(prefix = "/rpc", endpoint = "visits/page")]
pub async fn get_visits(filter: VisitFilter) -> Result<VisitsPage, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::visits::page(&state.services, &actor, &filter).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "visits/services/create")]
pub async fn create_recurring_service(form: RecurringServiceForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::visits::create_service(&state.services, &actor, &form).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "visits/addresses/add")]
pub async fn add_service_address(form: ServiceAddressForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::visits::add_address(&state.services, &actor, &form).await?)
        }
        .await,
    )
}

/// Schedules, completes or cancels a visit.
#[server(prefix = "/rpc", endpoint = "visits/change")]
pub async fn change_visit(id: i64, to: String, form: ScheduleVisitForm) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let to = domain::visits::VisitStatus::parse(to.trim()).ok_or_else(|| {
                backend::Error::from(domain::Invalid::one(
                    "status",
                    "schedule, complete or cancel the visit",
                ))
            })?;
            Ok(backend::visits::change(&state.services, &actor, id, to, &form).await?)
        }
        .await,
    )
}
