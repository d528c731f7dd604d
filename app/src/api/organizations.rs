//! Server functions for organizations.

use domain::organizations::{OrganizationForm, OrganizationSummary, OrganizationView};
use domain::paging::Listed;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

/// A page (from 1; empty for the first) of the organizations by name.
#[server(prefix = "/rpc", endpoint = "organizations/list")]
pub async fn get_organizations(
    #[server(default)] page: String,
) -> Result<Listed<OrganizationSummary>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::organizations::list_organizations(&state.services, &actor, &page).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "organizations/get")]
pub async fn get_organization(
    id: i64,
    #[server(default)] page: String,
) -> Result<OrganizationView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let page = ssr::page_number(&page)?;
            Ok(
                backend::organizations::organization_page(&state.services, &actor, id, page)
                    .await?,
            )
        }
        .await,
    )
}

/// Creates (`id` 0, then goes to its page) or updates an organization.
#[server(prefix = "/rpc", endpoint = "organizations/save")]
pub async fn save_organization(
    id: i64,
    form: OrganizationForm,
) -> Result<OrganizationView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let saved =
                backend::organizations::save_organization(&state.services, &actor, id, &form)
                    .await?;
            if id == 0 {
                leptos_axum::redirect(&format!("/organizations/{}", saved.id));
            }
            Ok(saved)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "organizations/authorize")]
pub async fn authorize_member(
    id: i64,
    member_number: String,
) -> Result<OrganizationView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::organizations::authorize_member(
                &state.services,
                &actor,
                id,
                &member_number,
            )
            .await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "organizations/remove-member")]
pub async fn remove_authorized_member(
    id: i64,
    member_id: i64,
) -> Result<OrganizationView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(
                backend::organizations::remove_member(&state.services, &actor, id, member_id)
                    .await?,
            )
        }
        .await,
    )
}

/// Deletes an organization with no running membership, then lists the rest.
#[server(prefix = "/rpc", endpoint = "organizations/delete")]
pub async fn delete_organization(id: i64) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            backend::organizations::delete_organization(&state.services, &actor, id).await?;
            leptos_axum::redirect("/organizations");
            Ok(())
        }
        .await,
    )
}
