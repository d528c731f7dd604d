//! Server functions for memberships: selling, the page, its actions, the list.

use domain::lifecycle::sale::SellForm;
use domain::memberships::{
    ActionForm, ActionPreview, MembershipFilter, MembershipPage, MembershipSummary, SaleSummary,
    SellOptions,
};
use domain::paging::Listed;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn holder_ref(holder: &str, id: i64) -> Result<backend::memberships::HolderRef, AppError> {
    use backend::memberships::HolderRef;
    match holder {
        "member" => Ok(HolderRef::Member(id)),
        "organization" => Ok(HolderRef::Organization(id)),
        _ => Err(AppError::NotFound),
    }
}

/// What can be sold to a member (`holder` "member") or an organization.
#[server(prefix = "/rpc", endpoint = "memberships/sell-options")]
pub async fn get_sell_options(holder: String, id: i64) -> Result<SellOptions, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let holder = holder_ref(&holder, id)?;
            Ok(backend::memberships::sell_options(&state.services, &actor, holder).await?)
        }
        .await,
    )
}

/// The first invoice and dates a sale would produce; nothing is saved.
#[server(prefix = "/rpc", endpoint = "memberships/preview-sale")]
pub async fn preview_sale(
    holder: String,
    id: i64,
    form: SellForm,
) -> Result<SaleSummary, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let holder = holder_ref(&holder, id)?;
            let sale = form.command()?;
            Ok(backend::memberships::preview_sale(&state.services, &actor, holder, &sale).await?)
        }
        .await,
    )
}

/// Sells the previewed membership, then goes to its page.
#[server(prefix = "/rpc", endpoint = "memberships/sell")]
pub async fn sell_membership(holder: String, id: i64, form: SellForm) -> Result<i64, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let holder = holder_ref(&holder, id)?;
            let sale = form.command()?;
            let sold = backend::memberships::sell(&state.services, &actor, holder, &sale).await?;
            leptos_axum::redirect(&format!("/memberships/{sold}"));
            Ok(sold)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "memberships/get")]
pub async fn get_membership(id: i64) -> Result<MembershipPage, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::memberships::membership(&state.services, &actor, id).await?)
        }
        .await,
    )
}

/// What an action would do, or why it is refused; nothing is saved.
#[server(prefix = "/rpc", endpoint = "memberships/preview-action")]
pub async fn preview_membership_action(
    id: i64,
    form: ActionForm,
) -> Result<ActionPreview, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let command = form.command()?;
            Ok(backend::memberships::preview_action(&state.services, &actor, id, &command).await?)
        }
        .await,
    )
}

/// Applies a previewed action, then shows the membership again.
#[server(prefix = "/rpc", endpoint = "memberships/act")]
pub async fn act_on_membership(id: i64, form: ActionForm) -> Result<MembershipPage, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let command = form.command()?;
            let showing = backend::memberships::Showing::Effect;
            let (_, page) =
                backend::memberships::act(&state.services, &actor, id, &command, showing).await?;
            leptos_axum::redirect(&format!("/memberships/{id}"));
            Ok(page)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "memberships/list")]
pub async fn list_memberships(
    #[server(default)] filter: MembershipFilter,
) -> Result<Listed<MembershipSummary>, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::memberships::list_memberships(&state.services, &actor, &filter).await?)
        }
        .await,
    )
}

/// The choices of the membership list's filters: every type (retired too) and location.
#[server(prefix = "/rpc", endpoint = "memberships/filter-choices")]
pub async fn get_filter_choices() -> Result<
    (
        Vec<domain::memberships::Choice>,
        Vec<domain::memberships::Choice>,
    ),
    AppError,
> {
    use domain::memberships::Choice;
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let filter = domain::catalog::TypeFilter {
                include_retired: true,
                ..Default::default()
            };
            let types = backend::catalog::list_membership_types(&state.services, &actor, &filter)
                .await?
                .into_iter()
                .map(|t| Choice {
                    value: t.id.to_string(),
                    label: t.name,
                })
                .collect();
            let locations = backend::members::form_options(&state.services, &actor)
                .await?
                .locations
                .into_iter()
                .map(|(id, name)| Choice {
                    value: id.to_string(),
                    label: name,
                })
                .collect();
            Ok((types, locations))
        }
        .await,
    )
}

/// Adds a family member (by member number) to a group membership.
#[server(prefix = "/rpc", endpoint = "memberships/family/add")]
pub async fn add_family_member(
    id: i64,
    member_number: String,
    #[server(default)] version: String,
) -> Result<MembershipPage, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let version = version.trim().parse().ok();
            let page = backend::memberships::add_family_member(
                &state.services,
                &actor,
                id,
                &member_number,
                version,
            )
            .await?;
            leptos_axum::redirect(&format!("/memberships/{id}"));
            Ok(page)
        }
        .await,
    )
}

/// Removes a family member; their history stays.
#[server(prefix = "/rpc", endpoint = "memberships/family/remove")]
pub async fn remove_family_member(
    id: i64,
    member_id: i64,
    #[server(default)] version: String,
) -> Result<MembershipPage, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let version = version.trim().parse().ok();
            let page = backend::memberships::remove_family_member(
                &state.services,
                &actor,
                id,
                member_id,
                version,
            )
            .await?;
            leptos_axum::redirect(&format!("/memberships/{id}"));
            Ok(page)
        }
        .await,
    )
}
