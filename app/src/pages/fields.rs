//! Reference pages: the variables of each data source, and the templates.

use engine::{DataSource, edge, presets_for};
use leptos::prelude::*;

use crate::Auth;
use crate::api::streams::list_streams;
use crate::model::TemplateChoice;

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
    let _auth = expect_context::<Auth>();
    let streams = Resource::new(|| (), |_| list_streams());
    view! {
        <section class="card">
            <h1>"Templates"</h1>
            <p class="muted">
                "A template selects the variables sent and their format. Presets are read-only; "
                "a Custom Template is written on a stream's form."
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
                {move || streams.get().map(|result| match result {
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    Ok(list) => {
                        let custom: Vec<_> = list.into_iter().filter(|s| matches!(s.template, TemplateChoice::Custom(_))).collect();
                        if custom.is_empty() {
                            view! { <p class="muted">"No stream uses a Custom Template yet."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="list">
                                    {custom.into_iter().map(|s| view! {
                                        <li><a href=format!("/streams/{}/edit", s.id)>{s.name}</a></li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}
