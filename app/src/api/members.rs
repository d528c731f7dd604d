//! Server functions for members.

use domain::members::{MemberForm, MemberFormOptions, MemberSummary, MemberView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

/// Finds members by name, email, phone or member number.
#[server(prefix = "/rpc", endpoint = "members/search")]
pub async fn search_members(
    #[server(default)] q: String,
    #[server(default)] include_archived: String,
) -> Result<Vec<MemberSummary>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let archived = domain::catalog::checked(&include_archived);
            Ok(backend::members::search_members(&state.services, &actor, &q, archived).await?)
        }
        .await,
    )
}

/// Every member by name, a page at a time (from 1; empty for the first).
#[server(prefix = "/rpc", endpoint = "members/list")]
pub async fn list_members(
    #[server(default)] include_archived: String,
    #[server(default)] page: String,
) -> Result<domain::paging::Listed<MemberSummary>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let archived = domain::catalog::checked(&include_archived);
            Ok(backend::members::list_members(&state.services, &actor, archived, &page).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "members/get")]
pub async fn get_member(id: i64, #[server(default)] page: String) -> Result<MemberView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let page = ssr::page_number(&page)?;
            Ok(backend::members::member_page(&state.services, &actor, id, page).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "members/form-options")]
pub async fn get_member_form_options() -> Result<MemberFormOptions, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::members::form_options(&state.services, &actor).await?)
        }
        .await,
    )
}

/// Creates a member when `id` is 0, else saves their details; then shows the member.
#[server(prefix = "/rpc", endpoint = "members/save")]
pub async fn save_member(id: i64, form: MemberForm) -> Result<MemberView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let saved = if id == 0 {
                backend::members::create_member(&state.services, &actor, &form).await?
            } else {
                backend::members::update_member(&state.services, &actor, id, &form).await?
            };
            leptos_axum::redirect(&format!("/members/{}", saved.id));
            Ok(saved)
        }
        .await,
    )
}

/// Archives (`archived`) or restores (`active`) a member.
#[server(prefix = "/rpc", endpoint = "members/status")]
pub async fn set_member_status(id: i64, status: String) -> Result<MemberView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let status = domain::members::MemberStatus::parse(status.trim())
                .ok_or_else(|| domain::Invalid::one("status", "choose active or archived"))?;
            Ok(backend::members::set_member_status(&state.services, &actor, id, status).await?)
        }
        .await,
    )
}

/// Merges the duplicate with `duplicate_number` into member `id` (managers).
#[server(prefix = "/rpc", endpoint = "members/merge")]
pub async fn merge_members(id: i64, duplicate_number: String) -> Result<MemberView, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(
                backend::members::merge_members(&state.services, &actor, id, &duplicate_number)
                    .await?,
            )
        }
        .await,
    )
}
