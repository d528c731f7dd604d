//! Server functions of the membership catalog.

use domain::catalog::{
    FormOptions, MembershipTypeDetail, MembershipTypeForm, MembershipTypeSummary, PublicOffer,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::AppError;

/// Lists types by the catalog page's filters (each may be empty).
#[server(prefix = "/rpc", endpoint = "membership-types/list")]
pub async fn get_membership_types(
    #[server(default)] status: String,
    #[server(default)] purchase_type: String,
    #[server(default)] location: String,
    #[server(default)] search: String,
    #[server(default)] include_retired: String,
) -> Result<Vec<MembershipTypeSummary>, AppError> {
    use domain::catalog::{PurchaseType, TypeFilter, TypeStatus};
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let filter = TypeFilter {
                status: TypeStatus::parse(status.trim()),
                purchase_type: PurchaseType::parse(purchase_type.trim()),
                location_id: location.trim().parse().ok(),
                search,
                include_retired: domain::catalog::checked(&include_retired),
            };
            Ok(backend::catalog::list_membership_types(&state.services, &actor, &filter).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "membership-types/get")]
pub async fn get_membership_type(id: i64) -> Result<MembershipTypeDetail, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::catalog::membership_type(&state.services, &actor, id).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "membership-types/form-options")]
pub async fn get_type_form_options() -> Result<FormOptions, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::catalog::form_options(&state.services, &actor).await?)
        }
        .await,
    )
}

/// Creates a type from the quick form or the full editor (fields `form[...]`).
#[server(prefix = "/rpc", endpoint = "membership-types/create")]
pub async fn create_membership_type(
    form: MembershipTypeForm,
) -> Result<MembershipTypeDetail, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::catalog::create_membership_type(&state.services, &actor, &form).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "membership-types/update")]
pub async fn update_membership_type(
    id: i64,
    form: MembershipTypeForm,
) -> Result<MembershipTypeDetail, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(
                backend::catalog::update_membership_type(&state.services, &actor, id, &form)
                    .await?,
            )
        }
        .await,
    )
}

/// Moves a type to `draft`, `active` or `retired`.
#[server(prefix = "/rpc", endpoint = "membership-types/status")]
pub async fn change_type_status(id: i64, status: String) -> Result<MembershipTypeDetail, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let to = domain::catalog::TypeStatus::parse(status.trim())
                .ok_or_else(|| domain::Invalid::one("status", "choose draft, active or retired"))?;
            Ok(backend::catalog::change_type_status(&state.services, &actor, id, to).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "membership-types/delete")]
pub async fn delete_membership_type(id: i64) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            backend::catalog::delete_membership_type(&state.services, &actor, id).await?;
            leptos_axum::redirect("/membership-types");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "membership-types/duplicate")]
pub async fn duplicate_membership_type(id: i64) -> Result<MembershipTypeDetail, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let copy =
                backend::catalog::duplicate_membership_type(&state.services, &actor, id).await?;
            leptos_axum::redirect(&format!("/membership-types/{}", copy.id));
            Ok(copy)
        }
        .await,
    )
}

/// Moves a type one place `up` or `down` within its status group.
#[server(prefix = "/rpc", endpoint = "membership-types/move")]
pub async fn move_membership_type(id: i64, direction: String) -> Result<(), AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let up = match direction.as_str() {
                "up" => true,
                "down" => false,
                _ => return Err(domain::Invalid::one("direction", "move up or down").into()),
            };
            Ok(backend::catalog::move_membership_type(&state.services, &actor, id, up).await?)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "membership-types/add-price")]
pub async fn add_price_version(
    id: i64,
    fee: String,
    #[server(default)] initiation_fee: String,
    effective_from: String,
) -> Result<MembershipTypeDetail, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            Ok(backend::catalog::add_price_version(
                &state.services,
                &actor,
                id,
                &fee,
                &initiation_fee,
                &effective_from,
            )
            .await?)
        }
        .await,
    )
}

/// The public offer of a location (no sign-in).
#[server(prefix = "/rpc", endpoint = "public/offer")]
pub async fn get_public_offer(location: String) -> Result<PublicOffer, AppError> {
    ssr::reply(
        async move {
            let state = ssr::state()?;
            Ok(backend::catalog::public_offer(&state.services, &location).await?)
        }
        .await,
    )
}

/// The full editor's save: creates a type when `id` is 0, else updates it; then
/// goes to the type's page (also without JavaScript).
#[server(prefix = "/rpc", endpoint = "membership-types/save")]
pub async fn save_membership_type(
    id: i64,
    form: MembershipTypeForm,
) -> Result<MembershipTypeDetail, AppError> {
    ssr::reply(
        async move {
            let (state, actor) = ssr::staff().await?;
            let saved = if id == 0 {
                backend::catalog::create_membership_type(&state.services, &actor, &form).await?
            } else {
                backend::catalog::update_membership_type(&state.services, &actor, id, &form).await?
            };
            leptos_axum::redirect(&format!("/membership-types/{}", saved.id));
            Ok(saved)
        }
        .await,
    )
}
