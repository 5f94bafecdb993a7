//! The signed-in user's own settings: change password.

use leptos::prelude::*;

use super::error_text;
use crate::api::auth::ChangePassword;

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = move || change.value().get().and_then(|r| r.err());
    let done = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <section class="card narrow">
            <h1>"Your password"</h1>
            <ActionForm action=change attr:class="form" attr:id="password-form">
                <label for="current_password">"Current password" <span class="req">"*"</span></label>
                <input id="current_password" name="current_password" type="password" autocomplete="current-password" required />
                <p class="field-error">{move || error_text(error(), Some("current_password"))}</p>
                <label for="new_password">"New password" <span class="req">"*"</span></label>
                <input id="new_password" name="new_password" type="password" autocomplete="new-password" required />
                <p class="field-error">{move || error_text(error(), Some("new_password"))}</p>
                <p class="error" role="alert">{move || error_text(error(), None)}</p>
                <Show when=done>
                    <p class="ok" role="status">"Password changed."</p>
                </Show>
                <button type="submit" class="button primary">"Change password"</button>
            </ActionForm>
        </section>
    }
}
