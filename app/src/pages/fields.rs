//! Reference pages: the variables of each data source, and the templates.

use engine::{DataSource, edge, presets_for};
use leptos::prelude::*;

use super::error_text;
use super::users::confirm;
use crate::Auth;
use crate::api::templates::{DeleteTemplate, SaveTemplate, list_templates};
use crate::model::TemplateForm;

#[component]
pub fn FieldsPage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Fields"</h1>
            <p class="muted">
                "Variables a template can use, per data source. Events carry them as JSON keys "
                "without the "<code>"$"</code>"; a value an event lacks is sent as "<code>"-"</code>". "
                "The last column says where a real edge's value comes from: nginx's access log for "
                "Edge Applications, ModSecurity's audit entry for WAF Events ("
                <a href="/edge">"Connect your edge"</a>")."
            </p>
            {DataSource::ALL
                .into_iter()
                .map(|source| {
                    view! {
                        <h2 id=format!("fields-{}", source.as_str())>{source.label()}</h2>
                        <table class="table fields">
                            <thead><tr>
                                <th scope="col">"Variable"</th>
                                <th scope="col">"Description"</th>
                                <th scope="col">{match source {
                                    DataSource::EdgeApplications => "From nginx",
                                    DataSource::WafEvents => "From ModSecurity",
                                    DataSource::ActivityHistory => "Written by",
                                }}</th>
                            </tr></thead>
                            <tbody>
                                {source.variables().iter().map(|v| {
                                    let origin = edge::origin(source, v.name).map(|o| o.describe()).unwrap_or_default();
                                    view! {
                                        <tr><td><code>"$"{v.name}</code></td><td>{v.description}</td><td class="origin">{origin}</td></tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                })
                .collect_view()}
        </section>
    }
}

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let save = ServerAction::<SaveTemplate>::new();
    let delete = ServerAction::<DeleteTemplate>::new();
    let templates = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_templates(),
    );
    let can_edit = move || auth.current().is_some_and(|u| u.role.can_edit());
    // The template being written: `None` id for a new one.
    let editing = RwSignal::new(None::<i64>);
    let form = RwSignal::new(TemplateForm {
        data_source: DataSource::EdgeApplications.as_str().into(),
        ..TemplateForm::default()
    });
    let save_error = move |field: &'static str| {
        move || error_text(save.value().get().and_then(|r| r.err()), Some(field))
    };
    // A saved template leaves the form for the next one.
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
            form.set(TemplateForm {
                data_source: DataSource::EdgeApplications.as_str().into(),
                ..TemplateForm::default()
            });
        }
    });
    view! {
        <section class="card">
            <h1>"Templates"</h1>
            <p class="muted">
                "A template selects the variables sent and their format. Presets are read-only; "
                "custom templates are the account's own, and several streams may share one."
            </p>
            <h2>"Presets"</h2>
            {DataSource::ALL.into_iter().flat_map(|source| presets_for(source).map(move |preset| {
                view! {
                    <details class="template" id=format!("preset-{}", preset.id)>
                        <summary>{preset.name}" "<span class="tag">{source.label()}</span></summary>
                        <pre class="code">{preset.template_text()}</pre>
                    </details>
                }
            })).collect_view()}
            <h2>"Custom templates"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || templates.get().map(|result| match result {
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No custom templates yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="list" id="custom-templates">
                            {list.into_iter().map(|t| {
                                let (id, name) = (t.id, t.name.clone());
                                let edited = TemplateForm {
                                    name: t.name.clone(),
                                    data_source: t.data_source.as_str().into(),
                                    data_set: t.data_set.clone(),
                                };
                                let prompt = format!("Delete the template {name}?");
                                let users = t.used_by.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>().join(", ");
                                view! {
                                    <li data-template=name.clone() data-id=id.to_string()>
                                        <span class="name">{name.clone()}" "<span class="tag">{t.data_source.label()}</span></span>
                                        <span class="muted">{if users.is_empty() { "not used".to_string() } else { format!("used by {users}") }}</span>
                                        <Show when=can_edit>
                                            <button class="button small" on:click={
                                                let edited = edited.clone();
                                                move |_| { editing.set(Some(id)); form.set(edited.clone()); }
                                            }>"Edit"</button>
                                            <button class="button small danger" on:click={
                                                let prompt = prompt.clone();
                                                move |_| if confirm(&prompt) { delete.dispatch(DeleteTemplate { id }); }
                                            }>"Delete"</button>
                                        </Show>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
            <p class="error" role="alert" id="template-delete-error">
                {move || delete.value().get().and_then(|r| r.err()).map(|e| e.to_string())}
            </p>
        </section>
        <Show when=can_edit>
            <section class="card">
                <h2>{move || if editing.get().is_some() { "Edit the template" } else { "New custom template" }}</h2>
                <form class="form" id="template-form" on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch(SaveTemplate { id: editing.get_untracked(), template: form.get_untracked() });
                }>
                    <div class="field">
                        <label for="template-name">"Name"<span class="req" aria-hidden="true">" *"</span></label>
                        <input id="template-name" prop:value=move || form.with(|f| f.name.clone())
                            on:input=move |ev| form.update(|f| f.name = event_target_value(&ev)) />
                        <p class="field-error">{save_error("name")}</p>
                    </div>
                    <div class="field">
                        <label for="template-source">"Data Source"<span class="req" aria-hidden="true">" *"</span></label>
                        <select id="template-source" on:change=move |ev| form.update(|f| f.data_source = event_target_value(&ev))>
                            {DataSource::ALL.into_iter().map(|s| view! {
                                <option value=s.as_str() selected=move || form.with(|f| f.data_source == s.as_str())>{s.label()}</option>
                            }).collect_view()}
                        </select>
                        <p class="field-error">{save_error("data_source")}</p>
                    </div>
                    <div class="field">
                        <label for="template-data-set">"Data Set"<span class="req" aria-hidden="true">" *"</span></label>
                        <textarea id="template-data-set" rows="10" spellcheck="false"
                            placeholder="{\"host\": \"$host\", \"status\": \"$status\"}"
                            prop:value=move || form.with(|f| f.data_set.clone())
                            on:input=move |ev| form.update(|f| f.data_set = event_target_value(&ev))></textarea>
                        <p class="field-error">{save_error("data_set")}</p>
                    </div>
                    <p class="error" role="alert">{move || error_text(save.value().get().and_then(|r| r.err()), None)}</p>
                    <button type="submit" class="button primary" id="save-template">"Save template"</button>
                    <Show when=move || editing.get().is_some()>
                        <button type="button" class="button" on:click=move |_| {
                            editing.set(None);
                            form.set(TemplateForm { data_source: DataSource::EdgeApplications.as_str().into(), ..TemplateForm::default() });
                        }>"Cancel"</button>
                    </Show>
                </form>
            </section>
        </Show>
    }
}
