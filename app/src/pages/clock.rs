use domain::staff::Role;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::SetSimulatedDate;
use crate::components::form::{Field, FormError, field_error, form_error};
use crate::components::layout::use_staff;

/// Owners move the business's date forward (or back) to watch billing and
/// statuses change without waiting, and return to the real date.
#[component]
pub fn ClockPage() -> impl IntoView {
    let staff = use_staff();
    let set = ServerAction::<SetSimulatedDate>::new();
    let date_error = field_error(set.value(), "date");
    let other_error = Signal::derive(move || {
        form_error(set.value())
            .get()
            .filter(|_| date_error.get().is_none())
    });
    // A saved change reloads the frame so the banner and the dates follow.
    Effect::new(move |_| {
        if let Some(Ok(())) = set.value().get() {
            staff.refetch();
        }
    });
    view! {
        <Title text="Clock" />
        <h1>"Clock"</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let Ok(s) = staff.await else { return ().into_any() };
                if !s.role.allows(Role::Owner) {
                    return view! { <p>"Only an owner can change the business's clock."</p> }.into_any();
                }
                let status = if s.simulated {
                    format!("This business runs on a simulated date: {}.", s.today)
                } else {
                    format!("This business runs on the real date: {} ({}).", s.today, s.time_zone)
                };
                view! {
                    <p data-testid="clock-status">{status}</p>
                    <ActionForm action=set>
                        <FormError message=other_error />
                        <Field id="date" label="Simulated date" hint="Leave empty to use the real date." error=date_error>
                            <input id="date" name="date" type="date" value=s.simulated.then(|| s.today.to_string())
                                aria-describedby="date-hint date-error" aria-invalid=move || date_error.get().is_some().to_string() />
                        </Field>
                        <button type="submit" class="primary">"Save"</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}
