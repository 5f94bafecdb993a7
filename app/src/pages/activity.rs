//! The activity history (owners): every configuration change, who made it, through what.

use leptos::prelude::*;

use crate::api::activity::list_activity;

#[component]
pub fn ActivityPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| list_activity(None, Some(200)));
    view! {
        <section class="card">
            <h1>"Activity history"</h1>
            <p class="muted">
                "Every configuration change of the account, newest first (secrets masked). A stream "
                "of the Activity History data source sends them to your SIEM."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || entries.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No changes yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" id="activity">
                            <thead><tr>
                                <th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Through"</th>
                                <th scope="col">"What"</th><th scope="col">"On"</th><th scope="col">"Changes"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| {
                                    let action = e.action.clone();
                                    view! {
                                    <tr data-action=action data-via=e.via.as_str()>
                                        <td>{crate::model::format_utc_millis(e.at)}</td>
                                        <td>{e.actor}</td>
                                        <td>{e.via.as_str()}</td>
                                        <td><code>{e.action}</code></td>
                                        <td><code>{e.target}</code></td>
                                        <td><code class="changes">{e.changes}</code></td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}
