use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::SignIn;
use crate::components::form::{FormError, form_error};

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let error = form_error(sign_in.value());
    view! {
        <Title text="Sign in" />
        <main id="main" class="narrow sign-in">
            <h1>"Tessera"</h1>
            <p class="lead">"Sign in to your club's back office."</p>
            <ActionForm action=sign_in>
                <FormError message=error />
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required />
                </div>
                <button type="submit" class="primary" disabled=move || sign_in.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="hint">"Members: use the " <a href="/portal">"member portal"</a> "."</p>
        </main>
    }
}
