//! Sign-in and the one-time set-up of the first account and owner.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::error_text;
use crate::Auth;
use crate::api::auth::setup_needed;

#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let needs_setup = Resource::new(|| (), |_| setup_needed());
    let error = move || auth.sign_in.value().get().and_then(|r| r.err());
    view! {
        <Transition fallback=|| ()>
            {move || {
                needs_setup.get().map(|n| match n {
                    Ok(true) => view! { <Redirect path="/setup" /> }.into_any(),
                    _ => view! { <LeaveWhenSignedIn /> }.into_any(),
                })
            }}
        </Transition>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=auth.sign_in attr:class="form" attr:id="sign-in-form">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <p class="error" role="alert" id="form-error">
                    {move || error_text(error(), None)}
                </p>
                <button type="submit" class="button primary">
                    "Sign in"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let needs_setup = Resource::new(|| (), |_| setup_needed());
    let error = move || auth.set_up.value().get().and_then(|r| r.err());
    view! {
        <LeaveWhenSignedIn />
        <section class="card narrow">
            <h1>"Set up Data Streaming"</h1>
            <Transition fallback=|| ()>
                {move || {
                    needs_setup.get().map(|n| match n {
                        Ok(false) => view! {
                            <p>"This console is already set up. "<a href="/sign-in">"Sign in"</a></p>
                        }.into_any(),
                        _ => view! {
                            <p class="muted">
                                "Create your account and its owner. This page is offered once, while no user exists."
                            </p>
                            <ActionForm action=auth.set_up attr:class="form" attr:id="setup-form">
                                <label for="account_name">"Account name" <span class="req">"*"</span></label>
                                <input id="account_name" name="account_name" required />
                                <p class="field-error">{move || error_text(error(), Some("account_name"))}</p>
                                <label for="email">"Owner email" <span class="req">"*"</span></label>
                                <input id="email" name="email" type="email" autocomplete="username" required />
                                <p class="field-error">{move || error_text(error(), Some("email"))}</p>
                                <label for="password">"Password" <span class="req">"*"</span></label>
                                <input id="password" name="password" type="password" autocomplete="new-password" required />
                                <p class="field-error">{move || error_text(error(), Some("password"))}</p>
                                <p class="error" role="alert" id="form-error">{move || error_text(error(), None)}</p>
                                <button type="submit" class="button primary">"Create account"</button>
                            </ActionForm>
                        }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}

/// Once a session exists (just signed in, or arriving signed in), go to the console.
#[component]
fn LeaveWhenSignedIn() -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <Transition fallback=|| ()>
            {move || auth.current().map(|_| view! { <Redirect path="/" /> })}
        </Transition>
    }
}
