//! Domains: the hostnames the account serves. Viewers read; owners and editors change.

use leptos::prelude::*;

use super::error_text;
use super::users::confirm;
use crate::Auth;
use crate::api::domains::{AddDomain, RemoveDomain, RenameDomain, list_domains};

#[component]
pub fn DomainsPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let add = ServerAction::<AddDomain>::new();
    let rename = ServerAction::<RenameDomain>::new();
    let remove = ServerAction::<RemoveDomain>::new();
    let domains = Resource::new(
        move || {
            (
                add.version().get(),
                rename.version().get(),
                remove.version().get(),
            )
        },
        |_| list_domains(),
    );
    let can_edit = move || auth.current().is_some_and(|u| u.role.can_edit());
    let add_error = move || add.value().get().and_then(|r| r.err());
    let row_error = move || {
        rename
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| remove.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    };

    view! {
        <section class="card">
            <h1>"Domains"</h1>
            <p class="muted">"Events are matched to streams by their host."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    domains.get().map(|result| match result {
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p id="no-domains">"No domains yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="list" id="domains-list">
                                {list.into_iter().map(|d| {
                                    let name = d.name.clone();
                                    view! {
                                        <li data-domain=d.name.clone()>
                                            <span class="name">{d.name.clone()}</span>
                                            <Show when=can_edit>
                                                <button class="button small" on:click={
                                                    let name = name.clone();
                                                    move |_| {
                                                        if let Some(new_name) = prompt("Rename domain", &name) {
                                                            rename.dispatch(RenameDomain { id: d.id, name: new_name });
                                                        }
                                                    }
                                                }>"Rename"</button>
                                                <button class="button small danger" on:click={
                                                    let name = name.clone();
                                                    move |_| {
                                                        if confirm(&format!("Remove {name}?")) {
                                                            remove.dispatch(RemoveDomain { id: d.id });
                                                        }
                                                    }
                                                }>"Remove"</button>
                                            </Show>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    })
                }}
            </Transition>
            <p class="error" role="alert">{row_error}</p>
        </section>
        <Show when=can_edit>
            <section class="card">
                <h2>"Add a domain"</h2>
                <ActionForm action=add attr:class="form inline" attr:id="add-domain-form">
                    <div class="field">
                        <label for="domain-name">"Domain" <span class="req">"*"</span></label>
                        <input id="domain-name" name="name" placeholder="shop.example.com" required />
                        <p class="field-error">{move || error_text(add_error(), Some("name"))}</p>
                    </div>
                    <button type="submit" class="button primary">"Add domain"</button>
                </ActionForm>
                <p class="error" role="alert">{move || error_text(add_error(), None)}</p>
            </section>
        </Show>
    }
}

/// The browser's prompt dialog; `None` when cancelled.
fn prompt(message: &str, default: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        window()
            .prompt_with_message_and_default(message, default)
            .ok()
            .flatten()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (message, default);
        None
    }
}
