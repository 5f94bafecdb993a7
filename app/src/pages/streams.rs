//! The Data Streaming list: every stream of the account, search, Active toggle, delete.

use leptos::prelude::*;

use super::users::confirm;
use crate::Auth;
use crate::api::streams::{DeleteStream, RedeliverFailed, SetStreamActive, list_streams};
use crate::error::AppError;
use crate::model::StreamSummary;

#[component]
pub fn StreamsPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let toggle = ServerAction::<SetStreamActive>::new();
    let delete = ServerAction::<DeleteStream>::new();
    let redeliver = ServerAction::<RedeliverFailed>::new();
    // A stream with records still waiting: the server asks first (409); confirming
    // deletes it with them.
    let asked_to_delete = RwSignal::new(None::<i64>);
    Effect::new(move || {
        if let Some(Err(AppError::Conflict(question))) = delete.value().get()
            && let Some(id) = asked_to_delete.get_untracked()
            && confirm(&question)
        {
            asked_to_delete.set(None);
            delete.dispatch(DeleteStream {
                id,
                discard_waiting: true,
            });
        }
    });
    let streams = Resource::new(
        move || {
            (
                toggle.version().get(),
                delete.version().get(),
                redeliver.version().get(),
            )
        },
        |_| list_streams(),
    );
    let search = RwSignal::new(String::new());
    let can_edit = move || auth.current().is_some_and(|u| u.role.can_edit());
    let action_error = move || {
        toggle
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| delete.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    };
    let matches = move |s: &StreamSummary| {
        let q = search.get().to_lowercase();
        q.is_empty()
            || s.name.to_lowercase().contains(&q)
            || s.data_source.label().to_lowercase().contains(&q)
            || s.endpoint_label.to_lowercase().contains(&q)
    };

    view! {
        <section class="card">
            <div class="heading-row">
                <h1>"Data Streaming"</h1>
                <Show when=can_edit>
                    <a class="button primary" href="/streams/new" id="add-stream">"Add"</a>
                </Show>
            </div>
            <label class="sr-only" for="stream-search">"Search streams"</label>
            <input
                id="stream-search"
                class="search"
                type="search"
                placeholder="Search by name, data source or endpoint"
                prop:value=search
                on:input=move |ev| search.set(event_target_value(&ev))
            />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || streams.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p id="no-streams" class="empty">"No data streams yet. Add one to start streaming your events."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table" id="streams-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Data Source"</th>
                                    <th scope="col">"Template"</th>
                                    <th scope="col">"Endpoint"</th>
                                    <th scope="col">"Active"</th>
                                    <th scope="col">"Last delivery"</th>
                                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().filter(|s| matches(s)).map(|s| {
                                    let id = s.id;
                                    let active = s.active;
                                    let delete_prompt = format!("Delete the stream {}? This cannot be undone.", s.name);
                                    view! {
                                        <tr data-stream=s.name.clone()>
                                            <td><a href=format!("/streams/{id}/edit")>{s.name.clone()}</a></td>
                                            <td>{s.data_source.label()}</td>
                                            <td>{s.template.label()}</td>
                                            <td title=s.endpoint_host.clone()>{s.endpoint_label.clone()}</td>
                                            <td>
                                                <label class="switch">
                                                    <input
                                                        type="checkbox"
                                                        class="active-toggle"
                                                        aria-label=format!("Active: {}", s.name)
                                                        prop:checked=active
                                                        disabled=move || !can_edit()
                                                        on:change=move |ev| {
                                                            toggle.dispatch(SetStreamActive { id, active: event_target_checked(&ev) });
                                                        }
                                                    />
                                                    <span class="slider"></span>
                                                </label>
                                            </td>
                                            <td class="status" class:failing=s.status.is_failing()>
                                                {s.status.summary()}
                                                {(s.status.blocks_failed > 0).then(|| view! {
                                                    <br />
                                                    {format!("{} block(s) set aside", s.status.blocks_failed)}
                                                    " "
                                                    <Show when=can_edit>
                                                        <button
                                                            class="button small redeliver"
                                                            on:click=move |_| { redeliver.dispatch(RedeliverFailed { id }); }
                                                        >"Redeliver"</button>
                                                    </Show>
                                                })}
                                            </td>
                                            <td class="row-actions">
                                                <a class="button small" href=format!("/streams/{id}/dashboard")>"Dashboard"</a>
                                                <Show when=can_edit>
                                                    <button
                                                        class="button small danger"
                                                        on:click={
                                                            let delete_prompt = delete_prompt.clone();
                                                            move |_| {
                                                                if confirm(&delete_prompt) {
                                                                    asked_to_delete.set(Some(id));
                                                                    delete.dispatch(DeleteStream { id, discard_waiting: false });
                                                                }
                                                            }
                                                        }
                                                    >"Delete"</button>
                                                </Show>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
            <p class="error" role="alert">{action_error}</p>
        </section>
    }
}
