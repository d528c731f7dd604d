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

/// The errors of an action's last result, for a form whose fields show their own messages.
#[derive(Clone, Copy)]
pub struct FormErrors {
    error: Signal<Option<AppError>>,
}

impl FormErrors {
    pub fn of<T, V>(value: V) -> FormErrors
    where
        T: 'static,
        V: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    {
        FormErrors {
            error: Signal::derive(move || {
                value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
            }),
        }
    }

    /// The message for one field.
    pub fn field(self, name: &'static str) -> Signal<Option<String>> {
        let error = self.error;
        Signal::derive(move || error.get().and_then(|e| e.field(name)))
    }

    /// A failure that is not about a field (role, conflict, something went wrong).
    pub fn general(self) -> Signal<Option<String>> {
        let error = self.error;
        Signal::derive(move || {
            error
                .get()
                .filter(|e| !matches!(e, AppError::Invalid { .. }))
                .map(|e| e.to_string())
        })
    }

    /// "Please correct 3 field(s) below." after a refused save.
    pub fn summary(self) -> Signal<Option<String>> {
        let error = self.error;
        Signal::derive(move || match error.get() {
            Some(AppError::Invalid { invalid }) => Some(format!(
                "Please correct {} field(s) below.",
                invalid.errors.len()
            )),
            _ => None,
        })
    }
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

// Controls of forms whose fields post as `form[name]` (a server function taking
// one struct argument named `form`), each with its label, hint and error.

/// The id of the control for `form[name]`: "f-" and the name with dashes.
pub fn input_id(name: &str) -> String {
    format!("f-{}", name.replace('_', "-"))
}

/// A text input named `form[name]` with its label, hint and error.
#[component]
pub fn Text(
    name: &'static str,
    #[prop(into)] label: String,
    value: String,
    error: Signal<Option<String>>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] kind: Option<&'static str>,
) -> impl IntoView {
    let id = input_id(name);
    let described = format!("{id}-hint {id}-error");
    let (input_type, mode) = match kind {
        Some("number") => ("text", "numeric"),
        Some("decimal") => ("text", "decimal"),
        Some("color") => ("text", "text"),
        Some("date") => ("date", "text"),
        _ => ("text", "text"),
    };
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=format!("{id}-hint")>{h}</p> })}
            <input id=id.clone() name=format!("form[{name}]") type=input_type inputmode=mode value=value autocomplete="off"
                aria-describedby=described aria-invalid=move || error.get().is_some().to_string() />
            <p class="field-error" id=format!("{id}-error") role="alert">{move || error.get()}</p>
        </div>
    }
}

#[component]
pub fn Area(
    name: &'static str,
    label: &'static str,
    value: String,
    error: Signal<Option<String>>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let id = input_id(name);
    let described = format!("{id}-hint {id}-error");
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=format!("{id}-hint")>{h}</p> })}
            <textarea id=id.clone() name=format!("form[{name}]") rows="3" aria-describedby=described
                aria-invalid=move || error.get().is_some().to_string()>{crate::components::text::rcdata(value)}</textarea>
            <p class="field-error" id=format!("{id}-error") role="alert">{move || error.get()}</p>
        </div>
    }
}

#[component]
pub fn Choice(
    name: &'static str,
    label: &'static str,
    value: String,
    error: Signal<Option<String>>,
    choices: Vec<(String, String)>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] empty: Option<&'static str>,
    /// Called with the new value when the choice changes (after hydration).
    #[prop(optional)]
    on_change: Option<Callback<String>>,
    /// A disabled select is not posted, so its field takes its default.
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let id = input_id(name);
    let described = format!("{id}-hint {id}-error");
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=format!("{id}-hint")>{h}</p> })}
            <select id=id.clone() name=format!("form[{name}]") aria-describedby=described aria-invalid=move || error.get().is_some().to_string()
                disabled=move || disabled.get()
                on:change=move |ev| if let Some(callback) = on_change { callback.run(event_target_value(&ev)) }>
                {empty.map(|e| view! { <option value="" selected=value.is_empty()>{e}</option> })}
                {choices.into_iter().map(|(v, l)| {
                    let selected = v == value;
                    view! { <option value=v selected=selected>{l}</option> }
                }).collect_view()}
            </select>
            <p class="field-error" id=format!("{id}-error") role="alert">{move || error.get()}</p>
        </div>
    }
}

#[component]
pub fn Check(name: &'static str, label: &'static str, checked: String) -> impl IntoView {
    let id = input_id(name);
    view! {
        <div class="field checkbox">
            <input id=id.clone() type="checkbox" name=format!("form[{name}]") value="on" checked=domain::catalog::checked(&checked) />
            <label for=id>{label}</label>
        </div>
    }
}

/// A group of checkboxes posted as `form[name][i]` (the index keeps each value apart).
#[component]
pub fn Checks(
    name: &'static str,
    legend: &'static str,
    checked: Vec<String>,
    choices: Vec<(String, String)>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = input_id(name);
    view! {
        <fieldset class="checks" aria-describedby=format!("{id}-error")>
            <legend>{legend}</legend>
            {choices.into_iter().enumerate().map(|(i, (v, l))| {
                let box_id = format!("{id}-{i}");
                let is = checked.iter().any(|c| c.eq_ignore_ascii_case(&v));
                view! {
                    <div class="checkbox">
                        <input id=box_id.clone() type="checkbox" name=format!("form[{name}][{i}]") value=v checked=is />
                        <label for=box_id>{l}</label>
                    </div>
                }
            }).collect_view()}
            <p class="field-error" id=format!("{id}-error") role="alert">{move || error.get()}</p>
        </fieldset>
    }
}

/// The count of an action's successful runs: the page reloads after a
/// success, and keeps a refused form open with its messages.
macro_rules! successes {
    ($action:expr) => {{
        let action = $action;
        Memo::new(move |previous: Option<&usize>| {
            let version = action.version().get();
            let ok = action.value().with(|v| matches!(v, Some(Ok(_))));
            if ok {
                version
            } else {
                previous.copied().unwrap_or(0)
            }
        })
    }};
}
pub(crate) use successes;
