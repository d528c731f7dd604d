//! Public signup: details, the first invoice's preview, the card, and the
//! signup's status page. Phone first; works before the WebAssembly arrives
//! (the preview is a GET form, the confirmation a plain form post).

use domain::signup::{SignupForm, SignupOptions, SignupState, SignupView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::signup::{
    RetrySignup, SaveSignupDetails, StartSignup, get_signup_draft, get_signup_options,
    get_signup_status, preview_signup,
};
use crate::components::form::{ErrorNotice, FormError, FormErrors};
use crate::error::AppError;

/// The draft of the details typed so far: its token is in the page's address
/// (`?draft=` for the preview, `?edit=` to change them), the details on the server.
fn draft_from_query() -> Memo<Option<(String, bool)>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            q.get("draft")
                .map(|t| (t, false))
                .or_else(|| q.get("edit").map(|t| (t, true)))
                .filter(|(t, _)| !t.is_empty())
        })
    })
}

#[component]
fn Frame(title: String, business: String, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="portal">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="portal-header">
                <span class="logo" aria-hidden="true">"▦"</span>
                <span>{business}</span>
            </header>
            <main id="main" class="portal-main" tabindex="-1">{children()}</main>
        </div>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let params = use_params_map();
    let location = move || params.with(|p| p.get("location").unwrap_or_default());
    let type_id = move || {
        params.with(|p| {
            p.get("type")
                .and_then(|t| t.parse::<i64>().ok())
                .unwrap_or(-1)
        })
    };
    let options = Resource::new(
        move || (location(), type_id()),
        |(l, t)| get_signup_options(l, t),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(o) => view! { <Signup o /> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <Frame title="Not found".into() business="Tessera".into()>
                            <h1>"This membership is not on offer here"</h1>
                            <p>"Please check the link you were given."</p>
                        </Frame>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Signup(o: SignupOptions) -> impl IntoView {
    let draft = draft_from_query();
    let details = Resource::new(
        move || draft.get(),
        |draft| async move {
            match draft {
                Some((token, edit)) => get_signup_draft(token.clone())
                    .await
                    .map(|form| Some((token, form, edit))),
                None => Ok(None),
            }
        },
    );
    let title = format!("Join with {}", o.offer.name);
    let back = format!("/join/{}", o.location_slug);
    view! {
        <Frame title=title.clone() business=o.business_name.clone()>
            <p class="breadcrumb"><a href=back>{o.location_name.clone()}</a> " › Join"</p>
            <h1>{title.clone()}</h1>
            <p class="offer-price">{o.offer.price.clone()}</p>
            {o.offer.initiation_fee.clone().map(|f| view! { <p>"One-time joining fee: " {f}</p> })}
            <p>"Term: " {o.offer.term.clone()}</p>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {
                    let o = o.clone();
                    move || {
                        let o = o.clone();
                        Suspend::new(async move {
                            match details.await {
                                Ok(Some((token, form, false))) => view! { <PreviewAndPay o form token /> }.into_any(),
                                Ok(Some((_, form, true))) => view! { <DetailsForm o form /> }.into_any(),
                                Ok(None) => view! { <DetailsForm o form=SignupForm::default() /> }.into_any(),
                                Err(AppError::NotFound) => view! {
                                    <p class="form-error" role="alert">"These details are no longer kept (after a day they are removed); please enter them again."</p>
                                    <DetailsForm o form=SignupForm::default() />
                                }.into_any(),
                                Err(error) => view! { <ErrorNotice error /> }.into_any(),
                            }
                        })
                    }
                }
            </Suspense>
        </Frame>
    }
}

/// Step one: who joins and from when. Posted (personal details never go into
/// an address); the server keeps them as a draft and the next step previews it.
#[component]
fn DetailsForm(o: SignupOptions, form: SignupForm) -> impl IntoView {
    let save = ServerAction::<SaveSignupDetails>::new();
    let errors = FormErrors::of(save.value());
    let start = if form.start.is_empty() {
        o.today.to_string()
    } else {
        form.start.clone()
    };
    view! {
        <ActionForm action=save attr:aria-label="Your details">
            <h2>"Your details"</h2>
            <input type="hidden" name="location" value=o.location_slug.clone() />
            <input type="hidden" name="type_id" value=o.type_id.to_string() />
            <div class="field">
                <label for="s-first-name">"First name"</label>
                <input id="s-first-name" name="form[first_name]" autocomplete="given-name" required value=form.first_name.clone() />
            </div>
            <div class="field">
                <label for="s-last-name">"Last name"</label>
                <input id="s-last-name" name="form[last_name]" autocomplete="family-name" required value=form.last_name.clone() />
            </div>
            <div class="field">
                <label for="s-email">"Email"</label>
                <input id="s-email" name="form[email]" type="email" autocomplete="email" inputmode="email" required value=form.email.clone() />
            </div>
            <div class="field">
                <label for="s-phone">"Phone (optional)"</label>
                <input id="s-phone" name="form[phone]" type="tel" autocomplete="tel" value=form.phone.clone() />
            </div>
            <div class="field">
                <label for="s-dob">"Date of birth (optional)"</label>
                <input id="s-dob" name="form[date_of_birth]" type="date" autocomplete="bday" value=form.date_of_birth.clone() />
            </div>
            {(!o.member_types.is_empty()).then(|| {
                let chosen = form.member_type.clone();
                let only = o.member_types.len() == 1;
                view! {
                    <div class="field">
                        <label for="s-member-type">"Joining as"</label>
                        <select id="s-member-type" name="form[member_type]" required aria-describedby="s-member-type-hint">
                            {(!only).then(|| view! { <option value="">"Choose…"</option> })}
                            {o.member_types.iter().map(|t| {
                                let selected = only || chosen.eq_ignore_ascii_case(t);
                                view! { <option value=t.clone() selected=selected>{t.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <p class="hint" id="s-member-type-hint">{format!(
                            "This membership is for {} members; the front desk may ask to see proof.",
                            o.member_types.join(" or ")
                        )}</p>
                    </div>
                }
            })}
            <div class="field">
                <label for="s-start">"Start on"</label>
                <input id="s-start" name="form[start]" type="date" required value=start min=o.today.to_string() />
            </div>
            <FormError message=errors.general() />
            <button type="submit" class="primary wide" disabled=move || save.pending().get()>"See the first invoice"</button>
        </ActionForm>
    }
}

/// Step two: the first invoice's preview, the card, and the confirmation.
#[component]
fn PreviewAndPay(o: SignupOptions, form: SignupForm, token: String) -> impl IntoView {
    let edit = format!("?edit={token}");
    let start = ServerAction::<StartSignup>::new();
    let errors = FormErrors::of(start.value());
    let location = o.location_slug.clone();
    let asked = SignupForm {
        type_id: o.type_id.to_string(),
        ..form.clone()
    };
    let preview = Resource::new(
        {
            let location = location.clone();
            let asked = asked.clone();
            move || (location.clone(), asked.clone())
        },
        |(location, form)| preview_signup(location, form),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Working out your first invoice…"</p> }>
            {
                let asked = asked.clone();
                let o = o.clone();
                let location = location.clone();
                move || {
                    let asked = asked.clone();
                    let o = o.clone();
                    let location = location.clone();
                    let edit = edit.clone();
                    Suspend::new(async move {
                        match preview.await {
                            Ok(p) => view! {
                                <section aria-labelledby="preview-heading" class="portal-card" data-testid="signup-preview">
                                    <h2 id="preview-heading">"Your first invoice"</h2>
                                    <ul class="portal-list">
                                        {p.preview.lines.iter().map(|l| view! {
                                            <li><span class="grow">{l.description.clone()}</span> <strong>{l.amount.to_string()}</strong></li>
                                        }).collect_view()}
                                    </ul>
                                    <p><strong data-testid="signup-total">{format!("Total today: {}", p.preview.total)}</strong></p>
                                    {p.preview.next_billing.map(|d| view! { <p>{format!("Then billed on {}.", d.format("%-d %B %Y"))}</p> })}
                                    <p class="muted">{p.preview.explanation.clone()}</p>
                                </section>
                                <ActionForm action=start attr:aria-label="Pay and join">
                                    <h2>"Pay by card"</h2>
                                    <input type="hidden" name="location" value=location.clone() />
                                    <input type="hidden" name="form[type_id]" value=asked.type_id.clone() />
                                    <input type="hidden" name="form[first_name]" value=asked.first_name.clone() />
                                    <input type="hidden" name="form[last_name]" value=asked.last_name.clone() />
                                    <input type="hidden" name="form[email]" value=asked.email.clone() />
                                    <input type="hidden" name="form[phone]" value=asked.phone.clone() />
                                    <input type="hidden" name="form[date_of_birth]" value=asked.date_of_birth.clone() />
                                    <input type="hidden" name="form[start]" value=asked.start.clone() />
                                    <input type="hidden" name="form[member_type]" value=asked.member_type.clone() />
                                    <input type="hidden" name="form[key]" value=o.key.clone() />
                                    <CardFields errors />
                                    <p class="hint">"Sandbox test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined."</p>
                                    <FormError message=errors.general() />
                                    <FormError message=errors.field("email") />
                                    <button type="submit" class="primary wide" disabled=move || start.pending().get()>"Pay and join"</button>
                                </ActionForm>
                                <p><a href=edit.clone()>"Change my details"</a></p>
                            }.into_any(),
                            Err(error) => {
                                view! {
                                    <div class="form-error" role="alert" data-testid="signup-refusal">
                                        {match &error {
                                            AppError::Invalid { invalid } => invalid.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "),
                                            other => other.to_string(),
                                        }}
                                    </div>
                                    <DetailsForm o=o.clone() form=asked.clone() />
                                }.into_any()
                            }
                        }
                    })
                }
            }
        </Suspense>
    }
}

/// `/join/status/{token}`: active, waiting for approval, or payment failed with a retry.
#[component]
pub fn SignupStatusPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let retry = ServerAction::<RetrySignup>::new();
    let status = Resource::new(
        move || (token(), retry.version().get()),
        |(token, _)| get_signup_status(token),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(v) => view! { <Status v retry /> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <Frame title="Signup not found".into() business="Tessera".into()>
                            <h1>"Signup not found"</h1>
                            <p>"Please check the link you were given."</p>
                        </Frame>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Status(v: SignupView, retry: ServerAction<RetrySignup>) -> impl IntoView {
    let errors = FormErrors::of(retry.value());
    let heading = match v.state {
        SignupState::Active => "You are in",
        SignupState::PendingApproval => "Waiting for approval",
        SignupState::PaymentFailed { .. } => "Payment failed",
    };
    let failed = matches!(v.state, SignupState::PaymentFailed { .. });
    view! {
        <Frame title=heading.to_string() business=v.business_name.clone()>
            <h1>{heading}</h1>
            <p role="status" data-testid="signup-status">{v.message()}</p>
            <dl class="facts">
                <div><dt>"Membership"</dt><dd>{v.type_name.clone()}</dd></div>
                <div><dt>"Starts"</dt><dd>{v.start.format("%-d %B %Y").to_string()}</dd></div>
                {v.first_invoice_total.map(|t| view! { <div><dt>"First invoice"</dt><dd>{t.to_string()}</dd></div> })}
                {v.amount_due.filter(|d| d.minor > 0).map(|d| view! { <div><dt>"Still to pay"</dt><dd>{d.to_string()}</dd></div> })}
            </dl>
            {failed.then(|| view! {
                <ActionForm action=retry attr:aria-label="Try another card">
                    <h2>"Try another card"</h2>
                    <input type="hidden" name="token" value=v.token.clone() />
                    <input type="hidden" name="form[key]" value=v.retry_key.clone() />
                    <CardFields errors />
                    <FormError message=errors.general() />
                    <button type="submit" class="primary wide" disabled=move || retry.pending().get()>"Pay and join"</button>
                </ActionForm>
            })}
            {(!failed).then(|| view! {
                <p><a class="button" href="/portal/sign-in">"Sign in to the member portal"</a></p>
            })}
        </Frame>
    }
}

/// The card number and expiry, posted as `form[number]` and `form[expiry]`,
/// each with its error.
#[component]
fn CardFields(errors: FormErrors) -> impl IntoView {
    view! {
        <div class="field">
            <label for="card-number">"Card number"</label>
            <input id="card-number" name="form[number]" inputmode="numeric" autocomplete="cc-number" required aria-describedby="card-number-error" />
            <p id="card-number-error" class="field-error" role="alert">{move || errors.field("number").get()}</p>
        </div>
        <div class="field">
            <label for="card-expiry">"Expiry (MM/YY)"</label>
            <input id="card-expiry" name="form[expiry]" autocomplete="cc-exp" required aria-describedby="card-expiry-error" />
            <p id="card-expiry-error" class="field-error" role="alert">{move || errors.field("expiry").get()}</p>
        </div>
    }
}
