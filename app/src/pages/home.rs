//! The home page's account overview (beside the streams list): who you are, the edge
//! connection, and what waits in the spools; and the service check (on the Account page).

use leptos::prelude::*;

use crate::Auth;
use crate::api::ServiceStatus;
use crate::api::edge::waiting_in_spools;
use crate::pages::edge::EdgeIndicator;

#[component]
pub fn AccountOverview() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let waiting = Resource::new(|| (), |_| waiting_in_spools());
    view! {
        <section class="card" id="account-overview">
            <h2>"Account"</h2>
            <p id="role-summary" class="muted">
                {move || {
                    auth.current()
                        .map(|u| {
                            let can = if u.role.can_manage_users() {
                                "you manage users, domains, templates and streams"
                            } else if u.role.can_edit() {
                                "you manage domains, templates and streams"
                            } else {
                                "you can view everything but change nothing"
                            };
                            format!("Account {} · signed in as {} ({}): {}.", u.account_name, u.email, u.role, can)
                        })
                }}
            </p>
            <h3>"Edge connection"</h3>
            <EdgeIndicator />
            <p><a href="/edge">"Connect your edge"</a></p>
            <h3>"Waiting in spools"</h3>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || waiting.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted" id="spools-empty">"Nothing: every stream's endpoint has taken all it was sent."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="list" id="spools-waiting">
                            {list.into_iter().map(|(id, name, depth)| view! {
                                <li>
                                    <a href=format!("/streams/{id}/dashboard")>{name}</a>
                                    {format!(": {} blocks, {} bytes waiting, {} set aside", depth.blocks, depth.bytes, depth.failed_blocks)}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// A live service check: proves the page is hydrated (the button calls a server function).
#[component]
pub fn ServiceCard() -> impl IntoView {
    let check = ServerAction::<ServiceStatus>::new();
    let result = check.value();
    view! {
        <section class="card narrow">
            <h2>"Service"</h2>
            <button
                id="check-service"
                class="button primary"
                on:click=move |_| {
                    check.dispatch(ServiceStatus {});
                }
            >
                "Check service"
            </button>
            <p id="service-result" class="result" aria-live="polite">
                {move || match result.get() {
                    None if check.pending().get() => "Checking…".to_string(),
                    None => String::new(),
                    Some(Ok(s)) => {
                        format!("Service OK · version {} · database {}", s.version, s.database)
                    }
                    Some(Err(e)) => format!("Service check failed: {e}"),
                }}
            </p>
        </section>
    }
}
