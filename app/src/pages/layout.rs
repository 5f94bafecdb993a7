//! The top bar and the guard around pages that need a session.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::Auth;

#[component]
pub fn TopBar() -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Data Streaming"</a>
            <Transition fallback=|| ()>
                {move || {
                    auth.current()
                        .map(|user| {
                            let is_owner = user.role.can_manage_users();
                            view! {
                                <nav class="nav" aria-label="Main">
                                    <a href="/">"Data Streaming"</a>
                                    <a href="/domains">"Domains"</a>
                                    <a href="/templates">"Templates"</a>
                                    <a href="/fields">"Fields"</a>
                                    <a href="/ingest-tokens">"Ingest"</a>
                                    <a href="/edge">"Edge"</a>
                                    <a href="/api-tokens">"API"</a>
                                    <Show when=move || is_owner>
                                        <a href="/activity">"Activity"</a>
                                        <a href="/users">"Users"</a>
                                    </Show>
                                </nav>
                                <div class="who">
                                    <a href="/account" id="current-user">
                                        {user.email.clone()}
                                        " · "
                                        {user.role.to_string()}
                                    </a>
                                    <ActionForm action=auth.sign_out>
                                        <button type="submit" class="button small" id="sign-out">
                                            "Sign out"
                                        </button>
                                    </ActionForm>
                                </div>
                            }
                        })
                }}
            </Transition>
        </header>
    }
}

/// Renders its children only for a signed-in user; otherwise goes to the sign-in page.
/// The server also refuses every server function without a session.
#[component]
pub fn Protected(children: ChildrenFn) -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                auth.user
                    .get()
                    .map(|user| match user {
                        Ok(Some(_)) => children().into_any(),
                        _ => view! { <Redirect path="/sign-in" /> }.into_any(),
                    })
            }}
        </Transition>
    }
}
