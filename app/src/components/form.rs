//! Form pieces that carry their label, their error and the ARIA wiring between them.

use leptos::prelude::*;

use crate::error::AppError;

/// The error message for `field` from the last result of an action, if any.
pub fn field_error<T, V>(value: V, field: &'static str) -> Signal<Option<String>>
where
    T: 'static,
    V: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .and_then(|e| e.field(field))
        })
    })
}

/// The message of a failed action that is not about one field.
pub fn form_error<T, V>(value: V) -> Signal<Option<String>>
where
    T: 'static,
    V: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| match v {
            Some(Err(error)) => Some(error.to_string()),
            _ => None,
        })
    })
}

/// A labelled form row: the control comes as children and must use `id` and `error_id`.
#[component]
pub fn Field(
    /// The control's id (and the `for` of its label).
    id: &'static str,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(into)] error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=format!("{id}-hint")>{h}</p> })}
            {children()}
            <p class="field-error" id=format!("{id}-error") role="alert" aria-live="polite">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A banner for an error that belongs to the whole form.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <div class="form-error" role="alert">{move || message.get()}</div>
        </Show>
    }
}

/// What to show when a resource failed to load.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! { <div class="form-error" role="alert">{error.to_string()}</div> }
}
