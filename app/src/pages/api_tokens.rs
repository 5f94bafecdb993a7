//! API tokens: what scripts use to call `/api/v1` as the user who made them.

use leptos::prelude::*;

use super::error_text;
use super::users::confirm;
use crate::Auth;
use crate::api::tokens::{CreateApiToken, RevokeApiToken, list_api_tokens};
use crate::model::Role;

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let own_role = move || auth.current().map(|u| u.role).unwrap_or(Role::Viewer);
    let create_error = move || create.value().get().and_then(|r| r.err());
    view! {
        <section class="card">
            <h1>"API tokens"</h1>
            <p class="muted">
                "Scripts and automation call the API ("<a href="/api/v1/docs">"reference"</a>", "
                <a href="/api/v1/openapi.json">"OpenAPI document"</a>") with "
                <code>"Authorization: Bearer <token>"</code>". A token acts as you, with its role "
                "or yours if yours is lower; it ends when it expires, is revoked, or you are removed."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || tokens.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No API tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" id="api-tokens">
                            <thead><tr>
                                <th scope="col">"Name"</th><th scope="col">"Token"</th><th scope="col">"User"</th>
                                <th scope="col">"Role"</th><th scope="col">"Expires"</th><th scope="col"></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| {
                                    let id = t.id;
                                    let prompt = format!("Revoke the API token {}? Scripts using it are refused at once.", t.name);
                                    view! {
                                        <tr data-token=t.name.clone()>
                                            <td>{t.name.clone()}</td>
                                            <td><code>{t.prefix.clone()}"…"</code></td>
                                            <td>{t.user_email.clone()}</td>
                                            <td>{t.role.to_string()}</td>
                                            <td>{crate::model::format_utc_millis(t.expires_at)}</td>
                                            <td>
                                                <button class="button small danger" on:click={
                                                    let prompt = prompt.clone();
                                                    move |_| if confirm(&prompt) { revoke.dispatch(RevokeApiToken { id }); }
                                                }>"Revoke"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
            {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
        </section>
        <section class="card">
            <h2>"Create an API token"</h2>
            <ActionForm action=create attr:class="form" attr:id="create-api-token-form">
                <div class="field">
                    <label for="api-token-name">"Name"<span class="req" aria-hidden="true">" *"</span></label>
                    <input id="api-token-name" name="name" placeholder="terraform" required />
                    <p class="field-error">{move || error_text(create_error(), Some("name"))}</p>
                </div>
                <div class="field">
                    <label for="api-token-role">"Role"<span class="req" aria-hidden="true">" *"</span></label>
                    <select id="api-token-role" name="role">
                        {move || Role::ALL.into_iter()
                            .filter(|r| r.capped_by(own_role()) == *r)
                            .map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> })
                            .collect_view()}
                    </select>
                    <p class="field-error">{move || error_text(create_error(), Some("role"))}</p>
                </div>
                <div class="field">
                    <label for="api-token-days">"Expires in (days)"<span class="req" aria-hidden="true">" *"</span></label>
                    <input id="api-token-days" name="expires_in_days" type="number" min="1" max="366" value="90" required />
                    <p class="field-error">{move || error_text(create_error(), Some("expires_in_days"))}</p>
                </div>
                <button type="submit" class="button primary">"Create API token"</button>
                <p class="error" role="alert">{move || error_text(create_error(), None)}</p>
            </ActionForm>
            {move || create.value().get().and_then(|r| r.ok()).map(|created| view! {
                <div class="new-token" role="status">
                    <p>"Copy this token now: it is not shown again."</p>
                    <pre class="code" id="new-api-token">{created.token}</pre>
                </div>
            })}
        </section>
    }
}
