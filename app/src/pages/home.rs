use leptos::prelude::*;

use crate::Auth;
use crate::api::ServiceStatus;

/// The account summary and a live service check, below the streams list.
#[component]
pub fn ServiceCard() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let check = ServerAction::<ServiceStatus>::new();
    let result = check.value();
    view! {
        <section class="card">
            <h2>"Service"</h2>
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
