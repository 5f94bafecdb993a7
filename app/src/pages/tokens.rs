//! Ingest tokens: what the edge (or the traffic generator) uses to send events.

use leptos::prelude::*;

use super::error_text;
use super::users::confirm;
use crate::Auth;
use crate::api::tokens::{CreateIngestToken, RevokeIngestToken, list_ingest_tokens};

#[component]
pub fn TokensPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let create = ServerAction::<CreateIngestToken>::new();
    let revoke = ServerAction::<RevokeIngestToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_ingest_tokens(),
    );
    let can_edit = move || auth.current().is_some_and(|u| u.role.can_edit());
    let create_error = move || create.value().get().and_then(|r| r.err());
    view! {
        <section class="card">
            <h1>"Ingest tokens"</h1>
            <p class="muted">
                "Events reach the service as NDJSON: "<code>"POST /ingest/edge_applications"</code>" or "
                <code>"POST /ingest/waf_events"</code>" with "<code>"Authorization: Bearer <token>"</code>"."
            </p>
            <p class="muted">"A real edge (nginx + ModSecurity) sends with a token too: "<a href="/edge">"Connect your edge"</a>"."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || tokens.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="list" id="tokens-list">
                            {list.into_iter().map(|t| {
                                let id = t.id;
                                let prompt = format!("Revoke the token {}? Senders using it are refused at once.", t.name);
                                view! {
                                    <li data-token=t.name.clone()>
                                        <span class="name">{t.name.clone()}" "<code>{t.prefix.clone()}"…"</code></span>
                                        <Show when=can_edit>
                                            <button class="button small danger" on:click={
                                                let prompt = prompt.clone();
                                                move |_| if confirm(&prompt) { revoke.dispatch(RevokeIngestToken { id }); }
                                            }>"Revoke"</button>
                                        </Show>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"From your edge"</h2>
            <crate::pages::edge::EdgeIndicator />
        </section>
        <Show when=can_edit>
            <section class="card">
                <h2>"Create a token"</h2>
                <ActionForm action=create attr:class="form inline" attr:id="create-token-form">
                    <div class="field">
                        <label for="token-name">"Name"<span class="req" aria-hidden="true">" *"</span></label>
                        <input id="token-name" name="name" placeholder="edge-fleet-1" required />
                        <p class="field-error">{move || error_text(create_error(), Some("name"))}</p>
                    </div>
                    <button type="submit" class="button primary">"Create token"</button>
                </ActionForm>
                {move || create.value().get().and_then(|r| r.ok()).map(|created| view! {
                    <div class="new-token" role="status">
                        <p>"Copy this token now: it is not shown again."</p>
                        <pre class="code" id="new-token">{created.token}</pre>
                    </div>
                })}
            </section>
        </Show>
    }
}
