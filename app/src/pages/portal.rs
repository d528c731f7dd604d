//! The member portal: phone first, rendered on the server and usable before
//! the WebAssembly arrives. Signing in is by a one-time code sent by email.

use domain::bookings::{BookingStatus, BookingView};
use domain::memberships::{ActionForm, ActionKind};
use domain::paging::Listed;
use domain::portal::{PortalHome, PortalMembership, PortalMembershipPage, PortalSession, Reach};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form, Outlet, Redirect};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::portal::{
    ChooseAccount, ConfirmEmailChange, PortalAct, PortalBook, PortalCancelBooking, PortalKeepCard,
    PortalPayInvoice, PortalRemoveCard, PortalSignOut, RequestCode, RequestEmailChange,
    SavePortalProfile, VerifyCode, get_portal_booking, get_portal_booking_page,
    get_portal_bookings, get_portal_business, get_portal_card, get_portal_home, get_portal_invoice,
    get_portal_invoices, get_portal_membership, get_portal_profile, get_portal_session,
    preview_portal_action, sign_in_path,
};
use crate::components::form::{ErrorNotice, Field, FormError, FormErrors, Text, successes};
use crate::components::pager::Pager;
use crate::error::AppError;
use crate::pages::bookings::{paid, query_param};
use crate::pages::invoices::invoice_badge;
use crate::pages::membership_type::id_param;
use crate::pages::memberships::status_badge;

/// The session of the portal page being shown, for its pages.
pub type PortalSessionResource = Resource<Result<PortalSession, AppError>>;

/// The frame around the portal's pages: the business, the member, the
/// navigation at the bottom of the screen. Without a session it sends the
/// visitor to sign in; with an email of several accounts, to pick one.
#[component]
pub fn PortalLayout() -> impl IntoView {
    let session: PortalSessionResource = Resource::new(|| (), |_| get_portal_session());
    provide_context(session);
    view! {
        <div class="portal">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match session.await {
                        Ok(PortalSession { account: Some(account), .. }) => view! {
                            <header class="portal-header">
                                <span class="logo" aria-hidden="true">"▦"</span>
                                <span class="grow">{account.business_name.clone()}</span>
                                <PortalSignOutButton />
                            </header>
                            <main id="main" class="portal-main" tabindex="-1">
                                <Outlet />
                            </main>
                            <nav class="portal-nav" aria-label="Portal">
                                <ul>
                                    <li><A href="/portal" exact=true>"Home"</A></li>
                                    <li><A href="/portal/bookings">"Bookings"</A></li>
                                    <li><A href="/portal/invoices">"Invoices"</A></li>
                                    <li><A href="/portal/profile">"Profile"</A></li>
                                </ul>
                            </nav>
                        }.into_any(),
                        Ok(_) => view! { <Redirect path="/portal/choose" /> }.into_any(),
                        Err(AppError::Unauthenticated) => view! { <Redirect path="/portal/sign-in" /> }.into_any(),
                        Err(error) => view! { <main id="main" class="portal-main"><ErrorNotice error /></main> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn PortalSignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<PortalSignOut>::new();
    view! {
        <ActionForm action=sign_out attr:class="inline">
            <button type="submit" class="link-button on-dark">"Sign out"</button>
        </ActionForm>
    }
}

/// The frame of the pages before a member is signed in.
#[component]
fn Plain(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="portal">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="portal-header">
                <span class="logo" aria-hidden="true">"▦"</span>
                <span>"Member portal"</span>
            </header>
            <main id="main" class="portal-main" tabindex="-1">
                {children()}
            </main>
        </div>
    }
}

/// Signing in: first the email, then the six-digit code from the email.
///
/// At /portal/sign-in/{business} it is that business's own portal: its name
/// heads the page and the member lands on their account there.
#[component]
pub fn PortalSignInPage() -> impl IntoView {
    let query = use_query_map();
    let params = use_params_map();
    let business = move || params.with(|p| p.get("business").unwrap_or_default());
    let email = move || query.with(|q| q.get("email").unwrap_or_default());
    let request = ServerAction::<RequestCode>::new();
    let verify = ServerAction::<VerifyCode>::new();
    let request_errors = FormErrors::of(request.value());
    let verify_errors = FormErrors::of(verify.value());
    let named = Resource::new(business, |slug| async move {
        if slug.is_empty() {
            Ok(None)
        } else {
            get_portal_business(slug).await.map(Some)
        }
    });
    view! {
        <Plain title="Sign in">
            <Suspense fallback=|| view! { <h1>"Sign in"</h1> }>
                {move || Suspend::new(async move {
                    match named.await {
                        Ok(None) => view! { <h1>"Sign in"</h1> }.into_any(),
                        Ok(Some(b)) => view! {
                            <h1>"Sign in"</h1>
                            <p class="lead">{format!("Member portal of {}", b.name)}</p>
                        }.into_any(),
                        Err(AppError::NotFound) => view! {
                            <h1>"Sign in"</h1>
                            <p class="form-error" role="alert">"There is no member portal at this address. Please check the link you were given."</p>
                        }.into_any(),
                        Err(error) => view! { <h1>"Sign in"</h1><ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
            <Show
                when=move || !email().is_empty()
                fallback=move || view! {
                    <p>"Enter the email address your club has for you. We will send you a six-digit code."</p>
                    <ActionForm action=request>
                        <FormError message=request_errors.general() />
                        <Field id="portal-email" label="Email" error=request_errors.field("email")>
                            <input id="portal-email" name="email" type="email" autocomplete="email" inputmode="email" required
                                aria-describedby="portal-email-error" />
                        </Field>
                        <input type="hidden" name="business" value=business />
                        <button type="submit" class="primary wide" disabled=move || request.pending().get()>"Send me a code"</button>
                    </ActionForm>
                }
            >
                {move || query.with(|q| q.get("joining").is_some()).then(|| view! {
                    <p class="lead" data-testid="joining-note">"You are already a member here, so nothing was charged: sign in to see your memberships."</p>
                })}
                <p role="status">
                    "If " <strong>{email}</strong> " belongs to a member, a code is on its way. It works for 10 minutes."
                </p>
                <ActionForm action=verify>
                    <FormError message=verify_errors.general() />
                    <FormError message=verify_errors.field("email") />
                    <input type="hidden" name="form[email]" value=email />
                    <input type="hidden" name="form[business]" value=business />
                    <Field id="portal-code" label="Code from the email" error=verify_errors.field("code")>
                        <input id="portal-code" name="form[code]" type="text" inputmode="numeric" autocomplete="one-time-code"
                            maxlength="9" required aria-describedby="portal-code-error" />
                    </Field>
                    <button type="submit" class="primary wide" disabled=move || verify.pending().get()>"Sign in"</button>
                </ActionForm>
                <ActionForm action=request attr:class="inline">
                    <input type="hidden" name="email" value=email />
                    <input type="hidden" name="business" value=business />
                    <FormError message=request_errors.general() />
                    <button type="submit" class="link-button">"Send a new code"</button>
                </ActionForm>
                <p><a href=move || sign_in_path(&business())>"Use another email"</a></p>
            </Show>
        </Plain>
    }
}

/// An email with accounts at several businesses (or several members) picks one.
#[component]
pub fn PortalChoosePage() -> impl IntoView {
    let session = Resource::new(|| (), |_| get_portal_session());
    let choose = ServerAction::<ChooseAccount>::new();
    let errors = FormErrors::of(choose.value());
    view! {
        <Plain title="Choose your account">
            <h1>"Choose your account"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match session.await {
                        Ok(s) if s.accounts.is_empty() => view! {
                            <p>"No membership account uses " <strong>{s.email}</strong> " any more. Please ask at the front desk."</p>
                        }.into_any(),
                        Ok(s) => view! {
                            <p>{format!("{} has accounts at these places:", s.email)}</p>
                            <FormError message=errors.general() />
                            <ul class="account-list">
                                {s.accounts.into_iter().map(|a| view! {
                                    <li>
                                        <ActionForm action=choose>
                                            <input type="hidden" name="member_id" value=a.member_id.to_string() />
                                            <button type="submit" class="account">
                                                <strong>{a.business_name}</strong>
                                                <span>{format!("{} · member {}", a.member_name, a.member_number)}</span>
                                            </button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(AppError::Unauthenticated) => view! { <Redirect path="/portal/sign-in" /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </Plain>
    }
}

/// Home: memberships with their status and why, next charge, credits, bookings.
#[component]
pub fn PortalHomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| get_portal_home());
    view! {
        <Title text="Member portal" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => view! { <HomeView home /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn HomeView(home: PortalHome) -> impl IntoView {
    let first_name = home
        .member_name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    view! {
        <h1>{format!("Hello, {first_name}")}</h1>
        {(home.other_accounts > 0).then(|| view! {
            <p><a href="/portal/choose">"Switch to another account"</a></p>
        })}
        <section aria-labelledby="memberships-heading">
            <h2 id="memberships-heading">"Your memberships"</h2>
            {home.memberships.is_empty().then(|| view! {
                <p>"You have no membership yet. Ask at the front desk, or join online."</p>
            })}
            <ul class="portal-cards">
                {home.memberships.into_iter().map(|m| view! { <MembershipCard m /> }).collect_view()}
            </ul>
        </section>
        <section aria-labelledby="upcoming-heading">
            <h2 id="upcoming-heading">"Coming up"</h2>
            {if home.upcoming.is_empty() {
                view! { <p>"No bookings coming up."</p> }.into_any()
            } else {
                view! {
                    <ul class="portal-list">
                        {home.upcoming.into_iter().map(|b| view! {
                            <li>
                                <strong>{b.service}</strong>
                                <span>{b.starts.format("%a %-d %b, %H:%M").to_string()}</span>
                                {(!b.location.is_empty()).then(|| view! { <span class="muted">{b.location}</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn MembershipCard(m: PortalMembership) -> impl IntoView {
    let heading_id = format!("membership-{}", m.id);
    let labelled_by = heading_id.clone();
    view! {
        <li class="portal-card" aria-labelledby=labelled_by data-testid="portal-membership">
            <h3 id=heading_id><a href=format!("/portal/memberships/{}", m.id)>{m.type_name}</a></h3>
            {(m.reach != Reach::Holder).then(|| view! {
                <p class="muted">{match m.reach {
                    Reach::Family => format!("Family membership of {}", m.held_by),
                    _ => format!("Held by {}", m.held_by),
                }}</p>
            })}
            <p>{status_badge(m.status.status)} " " <span data-testid="portal-status-why">{m.status.explanation}</span></p>
            <dl class="facts">
                {m.next_billing.map(|d| view! {
                    <div>
                        <dt>"Next billing date"</dt>
                        <dd>{d.format("%-d %B %Y").to_string()}</dd>
                    </div>
                })}
                {m.next_amount.map(|a| view! {
                    <div>
                        <dt>"Next charge"</dt>
                        <dd>{a.to_string()}</dd>
                    </div>
                })}
                <div>
                    <dt>"Credits"</dt>
                    <dd data-testid="portal-credits">{m.credits}</dd>
                </div>
            </dl>
        </li>
    }
}

// ---------------------------------------------------------------------------
// A membership: credits, bookings, and pause / resume / cancel with a preview

/// The action asked for in the page's address (a GET form), previewed
/// before it is confirmed.
fn asked_action() -> Memo<Option<ActionForm>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            let action = q.get("action").unwrap_or_default();
            (!action.is_empty()).then(|| ActionForm {
                action,
                from: q.get("from").unwrap_or_default(),
                until: q.get("until").unwrap_or_default(),
                on: q.get("on").unwrap_or_default(),
                reason: q.get("reason").unwrap_or_default(),
                ..Default::default()
            })
        })
    })
}

#[component]
pub fn PortalMembershipPage() -> impl IntoView {
    let id = id_param();
    let cancel = ServerAction::<PortalCancelBooking>::new();
    let act = ServerAction::<PortalAct>::new();
    let cancelled = successes!(cancel);
    let acted = successes!(act);
    let bookings_page = query_param("page");
    let page = Resource::new(
        move || (id.get(), bookings_page.get(), cancelled.get(), acted.get()),
        |(id, bookings_page, ..)| get_portal_membership(id, bookings_page),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <MembershipView p cancel act /> }.into_any(),
                    Err(error) => view! { <h1>"Membership"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MembershipView(
    p: PortalMembershipPage,
    cancel: ServerAction<PortalCancelBooking>,
    act: ServerAction<PortalAct>,
) -> impl IntoView {
    let m = p.membership.clone();
    let id = m.id;
    let asked = asked_action();
    view! {
        <Title text=m.type_name.clone() />
        <p class="breadcrumb"><a href="/portal">"Home"</a> " › " {m.type_name.clone()}</p>
        <h1>{m.type_name.clone()}</h1>
        <p>{status_badge(m.status.status)} " " <span data-testid="portal-status-why">{m.status.explanation.clone()}</span></p>
        <dl class="facts">
            {m.next_billing.map(|d| view! { <div><dt>"Next billing date"</dt><dd>{d.format("%-d %B %Y").to_string()}</dd></div> })}
            {m.next_amount.map(|a| view! { <div><dt>"Next charge"</dt><dd>{a.to_string()}</dd></div> })}
            <div><dt>"Credits"</dt><dd data-testid="portal-credits">{m.credits}</dd></div>
            {p.next_expiry.map(|(d, n)| view! { <div><dt>"Expiring next"</dt><dd>{format!("{n} on {}", d.format("%-d %b %Y"))}</dd></div> })}
        </dl>
        {(m.reach != Reach::Holder).then(|| view! {
            <p class="muted">{match m.reach { Reach::Family => format!("Family membership of {}", m.held_by), _ => format!("Held by {}", m.held_by) }}</p>
        })}
        {(!p.family.is_empty()).then(|| view! {
            <p>"Family members: " {p.family.join(", ")}</p>
        })}
        <p><a class="button" href=format!("/portal/memberships/{id}/book")>"Book a class or service"</a></p>

        <section aria-labelledby="changes-heading">
            <h2 id="changes-heading">"Pause or cancel"</h2>
            <ul class="rules">{p.rules.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
            {move || match asked.get() {
                Some(form) => view! { <ActionPreviewView id version=p.version form act /> }.into_any(),
                None => view! {
                    <ActionChoices id actions=p.actions.clone() today=p.today />
                    <Unavailable actions=p.unavailable.clone() />
                }.into_any(),
            }}
        </section>

        <section aria-labelledby="credits-heading">
            <h2 id="credits-heading">"Credits"</h2>
            {if p.credits.is_empty() {
                view! { <p>"No credits yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="portal-list" data-testid="portal-credit-history">
                        {p.credits.iter().map(|e| view! {
                            <li>
                                <strong>{format!("{:+}", e.amount)}</strong>
                                <span>{e.kind.label()}</span>
                                <span class="muted">{e.on.format("%-d %b %Y").to_string()}</span>
                                {(!e.reason.is_empty()).then(|| view! { <span>{e.reason.clone()}</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>

        <section aria-labelledby="bookings-heading">
            <h2 id="bookings-heading">"Your bookings"</h2>
            <BookingOutcome cancel />
            <BookingList bookings=p.bookings.clone() cancel />
        </section>
    }
}

/// Actions the type does not allow here, shown disabled with the reason.
#[component]
fn Unavailable(actions: Vec<(ActionKind, String)>) -> impl IntoView {
    actions
        .into_iter()
        .map(|(kind, why)| {
            let id = format!("unavailable-{}", kind.as_str());
            let (testid, described) = (id.clone(), id.clone());
            view! {
                <div class="portal-card unavailable" data-testid=testid>
                    <button type="button" class="wide" disabled aria-describedby=described>{kind.label()}</button>
                    <p class="muted" id=id>{why}</p>
                </div>
            }
        })
        .collect_view()
}

/// The actions the member may start, each a small GET form that asks for a preview.
#[component]
fn ActionChoices(id: i64, actions: Vec<ActionKind>, today: chrono::NaiveDate) -> impl IntoView {
    if actions.is_empty() {
        return view! { <p>"Nothing to change here right now."</p> }.into_any();
    }
    let path = format!("/portal/memberships/{id}");
    view! {
        <div class="portal-actions">
            {actions.into_iter().map(|kind| {
                let path = path.clone();
                match kind {
                    ActionKind::Pause => view! {
                        <details class="portal-card">
                            <summary>"Pause"</summary>
                            <Form method="GET" action=path>
                                <input type="hidden" name="action" value="pause" />
                                <div class="field">
                                    <label for="pause-from">"From"</label>
                                    <input id="pause-from" name="from" type="date" value=today.to_string() required />
                                </div>
                                <div class="field">
                                    <label for="pause-until">"Back on"</label>
                                    <input id="pause-until" name="until" type="date" required />
                                </div>
                                <div class="field">
                                    <label for="pause-reason">"Reason (optional)"</label>
                                    <input id="pause-reason" name="reason" type="text" />
                                </div>
                                <button type="submit" class="primary wide">"Preview the pause"</button>
                            </Form>
                        </details>
                    }.into_any(),
                    ActionKind::Resume => view! {
                        <Form method="GET" action=path>
                            <input type="hidden" name="action" value="resume" />
                            <input type="hidden" name="on" value=today.to_string() />
                            <button type="submit" class="primary wide">"Resume today"</button>
                        </Form>
                    }.into_any(),
                    _ => view! {
                        <details class="portal-card">
                            <summary>"Cancel at the end of the period"</summary>
                            <Form method="GET" action=path>
                                <input type="hidden" name="action" value="cancel" />
                                <div class="field">
                                    <label for="cancel-reason">"Why are you leaving? (optional)"</label>
                                    <input id="cancel-reason" name="reason" type="text" />
                                </div>
                                <button type="submit" class="wide">"Preview the cancellation"</button>
                            </Form>
                        </details>
                    }.into_any(),
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

/// The preview of an asked action (or why it is refused) and its confirm button.
#[component]
fn ActionPreviewView(
    id: i64,
    version: i64,
    form: ActionForm,
    act: ServerAction<PortalAct>,
) -> impl IntoView {
    let errors = FormErrors::of(act.value());
    let preview = Resource::new(
        {
            let form = form.clone();
            move || form.clone()
        },
        move |form| preview_portal_action(id, form),
    );
    let back = format!("/portal/memberships/{id}");
    view! {
        <div class="portal-card" data-testid="portal-preview">
            <Suspense fallback=|| view! { <p class="loading">"Working it out…"</p> }>
                {
                    let form = form.clone();
                    let back = back.clone();
                    move || {
                        let form = form.clone();
                        let back = back.clone();
                        Suspend::new(async move {
                            match preview.await {
                                Ok(p) => view! {
                                    <h3>"Before you confirm"</h3>
                                    <p data-testid="portal-effect">{p.effect.clone()}</p>
                                    <p>"Afterwards: " {status_badge(p.status_after.status)} " " {p.status_after.explanation.clone()}</p>
                                    {(!p.billing.is_empty()).then(|| view! {
                                        <ul class="portal-list">
                                            {p.billing.iter().map(|l| view! { <li>{format!("{} — {}", l.description, l.amount)}</li> }).collect_view()}
                                        </ul>
                                    })}
                                    <ActionForm action=act>
                                        <input type="hidden" name="id" value=id />
                                        <input type="hidden" name="form[action]" value=form.action.clone() />
                                        <input type="hidden" name="form[from]" value=form.from.clone() />
                                        <input type="hidden" name="form[until]" value=form.until.clone() />
                                        <input type="hidden" name="form[on]" value=form.on.clone() />
                                        <input type="hidden" name="form[reason]" value=form.reason.clone() />
                                        <input type="hidden" name="form[version]" value=version />
                                        <FormError message=errors.general() />
                                        <button type="submit" class="primary wide" disabled=move || act.pending().get()>"Confirm"</button>
                                    </ActionForm>
                                    <p><a href=back>"Not now"</a></p>
                                }.into_any(),
                                Err(error) => view! {
                                    <div class="form-error" role="alert" data-testid="portal-refusal">{error.to_string()}
                                        {error.field("until").or(error.field("from")).map(|m| view! { " " {m} })}</div>
                                    <p><a href=back>"Back"</a></p>
                                }.into_any(),
                            }
                        })
                    }
                }
            </Suspense>
        </div>
    }
}

/// What the last cancellation answered.
#[component]
fn BookingOutcome(cancel: ServerAction<PortalCancelBooking>) -> impl IntoView {
    view! {
        <p role="status" data-testid="portal-booking-outcome">
            {move || cancel.value().get().map(|r| match r {
                Ok(text) => text,
                Err(e) => e.to_string(),
            })}
        </p>
    }
}

#[component]
fn BookingList(
    bookings: Listed<BookingView>,
    cancel: ServerAction<PortalCancelBooking>,
) -> impl IntoView {
    if bookings.rows.is_empty() && bookings.page == 1 {
        return view! { <p>"No bookings."</p> }.into_any();
    }
    let (page, pages, range) = (bookings.page, bookings.pages(), bookings.range_text());
    view! {
        <ul class="portal-list" data-testid="portal-bookings">
            {bookings.rows.into_iter().map(|b| view! {
                <li>
                    <a href=format!("/portal/bookings/{}", b.id)><strong>{b.service.clone()}</strong></a>
                    <span>{b.starts.format("%a %-d %b, %H:%M").to_string()}</span>
                    <span class="muted">{paid(&b)}</span>
                    <span>{b.status.label()}{b.late.then_some(" (late)")}</span>
                    {(b.status == BookingStatus::Booked).then(|| view! {
                        <span class="muted" data-testid="portal-cancel-terms">{b.cancel_terms.clone()}</span>
                        <ActionForm action=cancel attr:class="inline">
                            <input type="hidden" name="id" value=b.id />
                            <button type="submit">{format!("Cancel {}", b.service)}</button>
                        </ActionForm>
                    })}
                </li>
            }).collect_view()}
        </ul>
        {(pages > 1).then(|| view! { <Pager of="bookings" page pages range_text=range param="page" /> })}
    }
    .into_any()
}

// ---------------------------------------------------------------------------
// Booking

#[component]
pub fn PortalBookPage() -> impl IntoView {
    let id = id_param();
    let service = query_param("service");
    let day = query_param("day");
    let book = ServerAction::<PortalBook>::new();
    let booked = successes!(book);
    let data = Resource::new(
        move || (id.get(), service.get(), day.get(), booked.get()),
        |(id, service, day, _)| get_portal_booking_page(id, service, day),
    );
    let errors = FormErrors::of(book.value());
    view! {
        <Title text="Book" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => {
                        let chosen = p.service_id;
                        let day = p.day;
                        view! {
                            <p class="breadcrumb"><a href="/portal">"Home"</a> " › "
                                <a href=format!("/portal/memberships/{}", p.membership_id)>{p.type_name.clone()}</a> " › Book"</p>
                            <h1>"Book"</h1>
                            <p>{status_badge(p.status.status)} " "
                                <span data-testid="portal-book-balance">{format!("{} credits", p.credit_balance)}</span></p>
                            {p.closed.clone().map(|why| view! {
                                <section class="card refused" role="status" data-testid="portal-book-closed">
                                    <h2>"Booking is closed for now"</h2>
                                    <p>{why}</p>
                                    <p><a href=format!("/portal/memberships/{}", p.membership_id)>"Back to your membership"</a></p>
                                </section>
                            })}
                            {p.closed.is_none().then(|| view! {
                            <Form method="GET" action="" attr:role="search" attr:aria-label="Choose a service and a day">
                                <div class="field">
                                    <label for="book-service">"Service"</label>
                                    <select id="book-service" name="service">
                                        <option value="" selected=chosen.is_none()>"Choose a service"</option>
                                        {p.services.iter().map(|(sid, name, what)| view! {
                                            <option value=sid.to_string() selected=chosen == Some(*sid)>{format!("{name} ({what})")}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="book-day">"Day"</label>
                                    <input id="book-day" name="day" type="date" value=day.to_string() />
                                </div>
                                <button type="submit" class="wide">"Show times"</button>
                            </Form>
                            <FormError message=errors.general() />
                            {move || errors.field("time").get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                            {move || book.value().get().and_then(|r| r.ok()).map(|_| view! {
                                <p role="status" data-testid="portal-booked">"Booked. It is on your home page."</p>
                            })}
                            {p.cost.clone().map(|cost| view! { <p data-testid="portal-book-cost">{cost}</p> })}
                            {chosen.map(|sid| if p.slots.is_empty() {
                                view! { <p>"No times that day; try another day."</p> }.into_any()
                            } else {
                                let price = p.price;
                                view! {
                                    <ul class="portal-list" data-testid="portal-times">
                                        {p.slots.iter().map(|(time, left)| {
                                            let time_text = time.format("%H:%M").to_string();
                                            let key = format!("{}:{}", p.form_key, time_text);
                                            view! {
                                                <li>
                                                    <strong>{time_text.clone()}</strong>
                                                    <span>{format!("{left} place{} left", if *left == 1 { "" } else { "s" })}</span>
                                                    {(*left > 0).then(|| view! {
                                                        <ActionForm action=book attr:class="inline">
                                                            <input type="hidden" name="form[service_id]" value=sid />
                                                            <input type="hidden" name="form[membership_id]" value=p.membership_id />
                                                            <input type="hidden" name="form[day]" value=day.to_string() />
                                                            <input type="hidden" name="form[time]" value=time_text.clone() />
                                                            <input type="hidden" name="form[key]" value=key />
                                                            <button type="submit" class="primary">{match price {
                                                                Some(price) => format!("Book {time_text} and pay {price}"),
                                                                None => format!("Book {time_text}"),
                                                            }}</button>
                                                        </ActionForm>
                                                    })}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            })}
                            })}
                        }.into_any()
                    }
                    Err(error) => view! { <h1>"Book"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn PortalBookingsPage() -> impl IntoView {
    let status = query_param("status");
    let page = query_param("page");
    let cancel = ServerAction::<PortalCancelBooking>::new();
    let cancelled = successes!(cancel);
    let list = Resource::new(
        move || (status.get(), page.get(), cancelled.get()),
        |(status, page, _)| get_portal_bookings(status, page),
    );
    view! {
        <Title text="Your bookings" />
        <h1>"Your bookings"</h1>
        <Form method="GET" action="" attr:role="search" attr:aria-label="Filter bookings">
            <div class="field">
                <label for="booking-status">"Status"</label>
                <select id="booking-status" name="status">
                    <option value="" selected=move || status.get().is_empty()>"All"</option>
                    {BookingStatus::ALL.iter().map(|s| view! {
                        <option value=s.as_str() selected=move || status.get() == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" class="wide">"Show"</button>
        </Form>
        <BookingOutcome cancel />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(bookings) => view! { <BookingList bookings cancel /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn PortalBookingPage() -> impl IntoView {
    let id = id_param();
    let cancel = ServerAction::<PortalCancelBooking>::new();
    let cancelled = successes!(cancel);
    let booking = Resource::new(
        move || (id.get(), cancelled.get()),
        |(id, _)| get_portal_booking(id),
    );
    view! {
        <Title text="Booking" />
        <p class="breadcrumb"><a href="/portal/bookings">"Your bookings"</a> " › Booking"</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match booking.await {
                    Ok(b) => view! {
                        <h1>{b.service.clone()}</h1>
                        <dl class="facts">
                            <div><dt>"When"</dt><dd>{format!("{} to {}", b.starts.format("%a %-d %b %Y, %H:%M"), b.ends.format("%H:%M"))}</dd></div>
                            {(!b.location.is_empty()).then(|| view! { <div><dt>"Where"</dt><dd>{b.location.clone()}</dd></div> })}
                            <div><dt>"Paid with"</dt><dd>{paid(&b)}</dd></div>
                            <div><dt>"Status"</dt><dd data-testid="portal-booking-status">{b.status.label()}{b.late.then_some(" (late)")}</dd></div>
                        </dl>
                        <BookingOutcome cancel />
                        {(b.status == BookingStatus::Booked).then(|| view! {
                            <p data-testid="portal-cancel-terms">{b.cancel_terms.clone()}</p>
                            <ActionForm action=cancel>
                                <input type="hidden" name="id" value=b.id />
                                <button type="submit" class="wide">"Cancel this booking"</button>
                            </ActionForm>
                        })}
                    }.into_any(),
                    Err(error) => view! { <h1>"Booking"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

// ---------------------------------------------------------------------------
// Invoices

#[component]
pub fn PortalInvoicesPage() -> impl IntoView {
    let page = query_param("page");
    let list = Resource::new(move || page.get(), get_portal_invoices);
    view! {
        <Title text="Invoices" />
        <h1>"Invoices"</h1>
        <CardOnFile />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.rows.is_empty() && list.page == 1 => view! { <p>"No invoices yet."</p> }.into_any(),
                    Ok(list) => {
                        let (page, pages, range) = (list.page, list.pages(), list.range_text());
                        view! {
                        <ul class="portal-list" data-testid="portal-invoices">
                            {list.rows.into_iter().map(|i| view! {
                                <li>
                                    <a href=format!("/portal/invoices/{}", i.id)><strong>{if i.total.minor < 0 { format!("Credit note #{}", i.number) } else { format!("Invoice #{}", i.number) }}</strong></a>
                                    <span>{i.billing_date.format("%-d %b %Y").to_string()}</span>
                                    <span>{i.total.to_string()}</span>
                                    {invoice_badge(i.state())}
                                    {(i.amount_due().minor > 0).then(|| view! { <span>{format!("{} due", i.amount_due())}</span> })}
                                </li>
                            }).collect_view()}
                        </ul>
                        {(pages > 1).then(|| view! { <Pager of="invoices" page pages range_text=range param="page" /> })}
                    }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// An invoice or receipt, laid out to print.
#[component]
pub fn PortalInvoicePage() -> impl IntoView {
    let id = id_param();
    let pay = ServerAction::<PortalPayInvoice>::new();
    let paid_now = successes!(pay);
    let invoice = Resource::new(
        move || (id.get(), paid_now.get()),
        |(id, _)| get_portal_invoice(id),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match invoice.await {
                    Ok(i) => {
                        let s = i.summary.clone();
                        let title = if i.credit_note_for.is_some() { format!("Credit note #{}", s.number) } else { format!("Invoice #{}", s.number) };
                        view! {
                            <Title text=title.clone() />
                            <p class="breadcrumb no-print"><a href="/portal/invoices">"Invoices"</a> " › " {title.clone()}</p>
                            <article class="invoice" aria-labelledby="invoice-heading">
                                <h1 id="invoice-heading">{title}</h1>
                                <p>{invoice_badge(s.state())}</p>
                                <dl class="facts">
                                    <div><dt>"From"</dt><dd>{i.business_name.clone()}</dd></div>
                                    <div><dt>"To"</dt><dd>{i.account_name.clone()}</dd></div>
                                    <div><dt>"Date"</dt><dd>{s.billing_date.to_string()}</dd></div>
                                    <div><dt>"Due"</dt><dd>{s.due_date.to_string()}</dd></div>
                                </dl>
                                <table class="data-table lines" data-testid="portal-invoice-lines">
                                    <caption class="visually-hidden">"Lines"</caption>
                                    <thead><tr><th scope="col">"Line"</th><th scope="col" class="num">"Amount"</th></tr></thead>
                                    <tbody>
                                        {i.lines.iter().map(|l| view! {
                                            <tr>
                                                <th scope="row" data-label="Line">{l.description.clone()}
                                                    {l.period.map(|(a, b)| view! { <br /><span class="muted">{domain::billing::days_text(a, b)}</span> })}</th>
                                                <td data-label="Amount" class="num">{l.amount.to_string()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                    <tfoot>
                                        <tr><th scope="row">"Total"</th><td class="num">{s.total.to_string()}</td></tr>
                                        <tr><th scope="row">"Paid"</th><td class="num">{s.amount_paid.to_string()}</td></tr>
                                        <tr><th scope="row">"Amount due"</th><td class="num" data-testid="portal-invoice-due">{i.amount_due().to_string()}</td></tr>
                                    </tfoot>
                                </table>
                                {(!i.payments.is_empty()).then(|| view! {
                                    <h2>"Payments"</h2>
                                    <ul class="portal-list">
                                        {i.payments.iter().map(|p| view! { <li>{format!("{} · {} · {}{}", p.paid_on, p.method.label(), p.applied_here, if p.succeeded { "" } else { " (failed)" })}</li> }).collect_view()}
                                    </ul>
                                })}
                            </article>
                            <div class="no-print">
                                <p role="status" data-testid="portal-pay-outcome">
                                    {move || pay.value().get().map(|r| match r { Ok(text) => text, Err(e) => e.to_string() })}
                                </p>
                                {(i.amount_due().minor > 0).then(|| match i.card.clone() {
                                    Some(card) => view! {
                                        <ActionForm action=pay>
                                            <input type="hidden" name="id" value=s.id />
                                            <input type="hidden" name="key" value=i.keys.charge.clone() />
                                            <button type="submit" class="primary wide" disabled=move || pay.pending().get()>
                                                {format!("Pay {} with {card}", i.amount_due())}
                                            </button>
                                        </ActionForm>
                                    }.into_any(),
                                    None => view! {
                                        <p>"To pay online, " <a href="/portal/invoices">"add a card"</a> " first, or pay at the front desk."</p>
                                    }.into_any(),
                                })}
                                <p><button type="button" onclick="window.print()">"Print"</button></p>
                            </div>
                        }.into_any()
                    }
                    Err(error) => view! { <h1>"Invoice"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The member's card on file: shown, replaced, removed. Only the gateway's
/// token and the last four digits are kept.
#[component]
fn CardOnFile() -> impl IntoView {
    let keep = ServerAction::<PortalKeepCard>::new();
    let remove = ServerAction::<PortalRemoveCard>::new();
    let kept = successes!(keep);
    let removed = successes!(remove);
    let card = Resource::new(move || (kept.get(), removed.get()), |_| get_portal_card());
    let errors = FormErrors::of(keep.value());
    let remove_errors = FormErrors::of(remove.value());
    view! {
        <section class="portal-card" aria-labelledby="card-heading">
            <h2 id="card-heading">"Card on file"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match card.await {
                        Ok(c) => view! {
                            <p data-testid="portal-card">{c.clone().unwrap_or_else(|| "No card on file.".into())}</p>
                            {c.is_some().then(|| view! {
                                <ActionForm action=remove attr:class="inline">
                                    <button type="submit">"Remove the card"</button>
                                </ActionForm>
                            })}
                            <details>
                                <summary>{if c.is_some() { "Replace the card" } else { "Add a card" }}</summary>
                                <ActionForm action=keep>
                                    <Text name="number" label="Card number" value=String::new() error=errors.field("number") kind="number" />
                                    <Text name="expiry" label="Expiry (MM/YY)" value=String::new() error=errors.field("expiry") />
                                    <FormError message=errors.general() />
                                    <button type="submit" class="primary wide">"Keep this card on file"</button>
                                </ActionForm>
                            </details>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
            <FormError message=remove_errors.general() />
        </section>
    }
}

/// Profile: name, phone and marketing consent; a new email is confirmed by a
/// code sent to it before it replaces the old one.
#[component]
pub fn PortalProfilePage() -> impl IntoView {
    let save = ServerAction::<SavePortalProfile>::new();
    let change = ServerAction::<RequestEmailChange>::new();
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    let saved = successes!(save);
    let asked = successes!(change);
    let confirmed = successes!(confirm);
    let profile = Resource::new(
        move || (saved.get(), asked.get(), confirmed.get()),
        |_| get_portal_profile(),
    );
    let errors = FormErrors::of(save.value());
    let change_errors = FormErrors::of(change.value());
    let confirm_errors = FormErrors::of(confirm.value());
    view! {
        <Title text="Your profile" />
        <h1>"Your profile"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => {
                        let f = p.form();
                        view! {
                            <p class="muted">{format!("Member number {}", p.member_number)}</p>
                            <p role="status" class="notice">
                                {move || (saved.get() > 0).then_some("Your details are saved.")}
                                {move || (confirmed.get() > 0).then_some("Your email address is changed.")}
                            </p>
                            <ActionForm action=save attr:aria-label="Your details">
                                <FormError message=errors.general() />
                                <Field id="profile-first-name" label="First name" error=errors.field("first_name")>
                                    <input id="profile-first-name" name="form[first_name]" autocomplete="given-name" required
                                        value=f.first_name aria-describedby="profile-first-name-error" />
                                </Field>
                                <Field id="profile-last-name" label="Last name" error=errors.field("last_name")>
                                    <input id="profile-last-name" name="form[last_name]" autocomplete="family-name" required
                                        value=f.last_name aria-describedby="profile-last-name-error" />
                                </Field>
                                <Field id="profile-phone" label="Phone (optional)" error=errors.field("phone")>
                                    <input id="profile-phone" name="form[phone]" type="tel" autocomplete="tel"
                                        value=f.phone aria-describedby="profile-phone-error" />
                                </Field>
                                <div class="field checkbox">
                                    <input id="profile-marketing" type="checkbox" name="form[marketing_consent]" value="on"
                                        checked=p.marketing_consent />
                                    <label for="profile-marketing">"Send me news and offers by email"</label>
                                </div>
                                <button type="submit" class="primary wide" disabled=move || save.pending().get()>"Save my details"</button>
                            </ActionForm>
                            <section class="portal-card" aria-labelledby="email-heading">
                                <h2 id="email-heading">"Email address"</h2>
                                <p>"We send sign-in codes and invoices to " <strong data-testid="profile-email">{p.email.clone()}</strong> "."</p>
                                {match p.pending_email.clone() {
                                    Some(new_email) => view! {
                                        <p role="status">"We sent a code to " <strong>{new_email}</strong> ". Enter it to use that address."</p>
                                        <ActionForm action=confirm attr:aria-label="Confirm the new email">
                                            <FormError message=confirm_errors.general() />
                                            <Field id="email-code" label="Code from the email" error=confirm_errors.field("code")>
                                                <input id="email-code" name="form[code]" type="text" inputmode="numeric" autocomplete="one-time-code"
                                                    maxlength="9" required aria-describedby="email-code-error" />
                                            </Field>
                                            <button type="submit" class="primary wide" disabled=move || confirm.pending().get()>"Confirm the new email"</button>
                                        </ActionForm>
                                    }.into_any(),
                                    None => view! {
                                        <FormError message=confirm_errors.field("code") />
                                    }.into_any(),
                                }}
                                <ActionForm action=change attr:aria-label="Change my email">
                                    <FormError message=change_errors.general() />
                                    <Field id="new-email" label="New email" error=change_errors.field("email")>
                                        <input id="new-email" name="form[email]" type="email" autocomplete="email" inputmode="email" required
                                            aria-describedby="new-email-error" />
                                    </Field>
                                    <button type="submit" class="wide" disabled=move || change.pending().get()>"Send a code to the new address"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
