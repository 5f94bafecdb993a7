//! Pages of the console.

use leptos::prelude::*;

use crate::api::ServiceStatus;

#[component]
pub fn Home() -> impl IntoView {
    let check = ServerAction::<ServiceStatus>::new();
    let result = check.value();
    view! {
        <section class="card">
            <h1>"Data Streaming"</h1>
            <p>
                "Stream your edge request logs and WAF events, in real time, to your own SIEM, "
                "big-data or stream-processing platform."
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
                    Some(Ok(s)) => format!("Service OK · version {} · database {}", s.version, s.database),
                    Some(Err(e)) => format!("Service check failed: {e}"),
                }}
            </p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <a href="/">"Back to the console"</a>
        </section>
    }
}
