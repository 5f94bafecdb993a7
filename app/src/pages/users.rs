//! Owner-only users page: add a user, change a role, remove a user.

use leptos::prelude::*;

use super::error_text;
use crate::Auth;
use crate::api::users::{AddMember, ChangeRole, RemoveMember, list_members};
use crate::model::Role;

#[component]
pub fn UsersPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let add = ServerAction::<AddMember>::new();
    let change = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let members = Resource::new(
        move || {
            (
                add.version().get(),
                change.version().get(),
                remove.version().get(),
            )
        },
        |_| list_members(),
    );
    let add_error = move || add.value().get().and_then(|r| r.err());
    let row_error = move || {
        change
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| remove.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    };
    let me = move || auth.current().map(|u| u.id);

    view! {
        <section class="card">
            <h1>"Users"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    members.get().map(|result| match result {
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table" id="users-table">
                                <thead><tr><th>"Email"</th><th>"Role"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|m| {
                                        let is_me = me() == Some(m.id);
                                        let select_id = format!("role-{}", m.id);
                                        let remove_prompt = format!("Remove {}?", m.email);
                                        view! {
                                            <tr data-email=m.email.clone()>
                                                <td>{m.email.clone()}</td>
                                                <td>
                                                    <label class="sr-only" for=select_id.clone()>{format!("Role of {}", m.email)}</label>
                                                    <select
                                                        id=select_id
                                                        disabled=is_me
                                                        on:change=move |ev| {
                                                            change.dispatch(ChangeRole { user_id: m.id, role: event_target_value(&ev) });
                                                        }
                                                    >
                                                        {Role::ALL.into_iter().map(|r| view! {
                                                            <option value=r.as_str() selected=r == m.role>{r.as_str()}</option>
                                                        }).collect_view()}
                                                    </select>
                                                </td>
                                                <td>
                                                    {(!is_me).then(|| view! {
                                                        <button
                                                            class="button small danger"
                                                            on:click=move |_| {
                                                                if confirm(&remove_prompt) {
                                                                    remove.dispatch(RemoveMember { user_id: m.id });
                                                                }
                                                            }
                                                        >"Remove"</button>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    })
                }}
            </Transition>
            <p class="error" role="alert">{row_error}</p>
        </section>
        <section class="card">
            <h2>"Add a user"</h2>
            <ActionForm action=add attr:class="form inline" attr:id="add-user-form">
                <div class="field">
                    <label for="new-email">"Email" <span class="req">"*"</span></label>
                    <input id="new-email" name="email" type="email" required />
                    <p class="field-error">{move || error_text(add_error(), Some("email"))}</p>
                </div>
                <div class="field">
                    <label for="new-role">"Role" <span class="req">"*"</span></label>
                    <select id="new-role" name="role">
                        <option value="editor">"editor"</option>
                        <option value="viewer">"viewer"</option>
                        <option value="owner">"owner"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="new-password">"Initial password" <span class="req">"*"</span></label>
                    <input id="new-password" name="password" type="password" autocomplete="new-password" required />
                    <p class="field-error">{move || error_text(add_error(), Some("password"))}</p>
                </div>
                <button type="submit" class="button primary">"Add user"</button>
            </ActionForm>
            <p class="error" role="alert">{move || error_text(add_error(), None)}</p>
        </section>
    }
}

/// The browser's confirmation dialog (always yes during server rendering, where no click happens).
pub fn confirm(message: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().confirm_with_message(message).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = message;
        true
    }
}
