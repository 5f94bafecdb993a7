//! The stream form (create and edit), in the seed's order: Name, Data Source, Template,
//! Domains, Endpoint, Active; Save and Cancel. The browser checks with the same rules as
//! the server (`validation::stream`) and renders the template preview itself.

use engine::{DataSource, SAMPLE_RECORDS, presets_for};
use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::users::confirm;
use crate::api::dashboard::TestEndpoint;
use crate::api::domains::list_domains;
use crate::api::streams::{SaveStream, get_stream};
use crate::error::AppError;
use crate::model::endpoints::{EndpointForm, EndpointType, FieldKind, FieldSpec, Pair, TYPES};
use crate::model::{CUSTOM_TEMPLATE, Domain, FieldError, StreamForm};
use crate::validation::stream::stream_errors;

#[component]
pub fn StreamFormPage() -> impl IntoView {
    let params = use_params_map();
    let stream_id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let initial = Resource::new(stream_id, |id| async move {
        match id {
            Some(id) => get_stream(id).await,
            None => Ok(StreamForm::default()),
        }
    });
    let domains = Resource::new(|| (), |_| list_domains());
    let templates = Resource::new(|| (), |_| crate::api::templates::list_templates());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (initial.await, domains.await, templates.await) {
                    (Ok(stream), Ok(domains), Ok(templates)) => {
                        view! { <StreamForm initial=stream domains templates /> }.into_any()
                    }
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => view! {
                        <section class="card"><p class="error" role="alert">{e.to_string()}</p></section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

type Form = RwSignal<StreamForm>;

/// The message for one field, if the form has an error there.
fn field_error(errors: Memo<Vec<FieldError>>, field: impl Into<String>) -> Signal<Option<String>> {
    let field = field.into();
    Signal::derive(move || {
        errors.with(|e| {
            e.iter()
                .find(|x| x.field == field)
                .map(|x| x.message.clone())
        })
    })
}

#[component]
fn StreamForm(
    initial: StreamForm,
    domains: Vec<Domain>,
    templates: Vec<crate::model::CustomTemplate>,
) -> impl IntoView {
    let editing = initial.id.is_some();
    let saved_endpoint = initial.endpoint.clone();
    let form: Form = RwSignal::new(initial.clone());
    let saved = StoredValue::new(initial);
    let dirty = Memo::new(move |_| form.with(|f| saved.with_value(|s| f != s)));
    let submitted = RwSignal::new(false);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let general_error = RwSignal::new(None::<String>);
    let errors = Memo::new(move |_| {
        let mut all = if submitted.get() {
            form.with(stream_errors)
        } else {
            Vec::new()
        };
        all.extend(server_errors.get());
        all
    });

    let save = ServerAction::<SaveStream>::new();
    let navigate = use_navigate();
    Effect::new({
        let navigate = navigate.clone();
        move |_| match save.value().get() {
            Some(Ok(_)) => {
                saved.set_value(form.get_untracked());
                navigate("/", Default::default());
            }
            Some(Err(AppError::InvalidFields(list))) => server_errors.set(list),
            Some(Err(e)) => general_error.set(Some(e.to_string())),
            None => {}
        }
    });
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        server_errors.set(Vec::new());
        general_error.set(None);
        if form.with(stream_errors).is_empty() {
            save.dispatch(SaveStream { stream: form.get() });
        }
    };
    let on_cancel = move |_| {
        if !dirty.get_untracked() || confirm("Discard your unsaved changes?") {
            saved.set_value(form.get_untracked());
            navigate("/", Default::default());
        }
    };
    warn_before_leaving(dirty);

    let text =
        |field: &'static str, get: fn(&StreamForm) -> &String, set: fn(&mut StreamForm, String)| {
            (
                Signal::derive(move || form.with(|f| get(f).clone())),
                Callback::new(move |v: String| form.update(|f| set(f, v))),
                field_error(errors, field),
            )
        };
    let (name, set_name, name_error) = text("name", |f| &f.name, |f, v| f.name = v);

    view! {
        <form class="card stream-form" id="stream-form" on:submit=on_save novalidate>
            <h1>{if editing { "Edit data stream" } else { "Add data stream" }}</h1>
            <p class="muted">"Fields marked with an asterisk are mandatory."</p>

            <TextField id="stream-name" label="Name" required=true value=name on_input=set_name error=name_error />

            <DataSourceAndTemplate form errors templates />
            <Show when=move || form.with(|f| f.data_source.parse::<DataSource>().is_ok_and(|s| s.has_hosts()))>
                <DomainsField form domains=domains.clone() errors />
            </Show>
            <EndpointFields form errors saved=saved_endpoint />
            <TestEndpointButton form />

            <div class="field switch-field">
                <label class="switch">
                    <input
                        id="stream-active"
                        type="checkbox"
                        prop:checked=move || form.with(|f| f.active)
                        on:change=move |ev| form.update(|f| f.active = event_target_checked(&ev))
                    />
                    <span class="slider"></span>
                </label>
                <label for="stream-active">"Active"</label>
            </div>

            <p class="error" role="alert" id="form-error">
                {move || general_error.get().or_else(|| {
                    (!errors.with(Vec::is_empty)).then(|| "Some fields need attention: see the messages above.".to_string())
                })}
            </p>
            <div class="actions">
                <button type="button" class="button" on:click=on_cancel>"Cancel"</button>
                <button type="submit" class="button primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
            </div>
            <Show when=move || dirty.get()>
                <p class="muted" id="unsaved">"Unsaved changes: the system does not save automatically."</p>
            </Show>
        </form>
    }
    .into_any()
}

/// Sends the preview's block with the form's current settings and shows the answer.
#[component]
fn TestEndpointButton(form: Form) -> impl IntoView {
    let test = ServerAction::<TestEndpoint>::new();
    // (delivered, text) of the last test.
    let result = move || {
        test.value().get().map(|outcome| match outcome {
            Ok(r) => {
                let verdict = if r.delivered {
                    "Delivered"
                } else {
                    "Not delivered"
                };
                let text = format!(
                    "{verdict}: {} ({} records, {} ms)",
                    r.answer, r.records, r.duration_ms
                );
                (r.delivered, text)
            }
            Err(AppError::InvalidFields(list)) => {
                let text = list
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                (false, format!("Not sent: {text}"))
            }
            Err(e) => (false, format!("Not sent: {e}")),
        })
    };
    view! {
        <div class="field test-endpoint">
            <button
                type="button"
                class="button"
                id="test-endpoint"
                disabled=move || test.pending().get()
                on:click=move |_| { test.dispatch(TestEndpoint { stream: form.get_untracked() }); }
            >
                {move || if test.pending().get() { "Testing…" } else { "Test endpoint" }}
            </button>
            <span class="muted">" Sends the preview's block with these settings (saved or not) once, and shows the answer."</span>
            {move || result().map(|(delivered, text)| view! {
                <p id="test-endpoint-result" class="test-result" class:failing=!delivered>{text}</p>
            })}
        </div>
    }
}

/// A labelled text input with its error message below it.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    #[prop(optional)] required: bool,
    #[prop(into)] value: Signal<String>,
    on_input: Callback<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] input_type: Option<&'static str>,
    #[prop(optional, into)] dynamic_placeholder: Option<Signal<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id>{label}{required.then(|| view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
            <input
                id=id
                type=input_type.unwrap_or("text")
                placeholder=move || dynamic_placeholder.map(|p| p.get()).unwrap_or_else(|| placeholder.to_string())
                aria-required=required.then_some("true")
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=error_id.clone()
                prop:value=value
                on:input=move |ev| on_input.run(event_target_value(&ev))
            />
            <p class="field-error" id=error_id>{move || error.get()}</p>
        </div>
    }
    .into_any()
}

#[component]
fn DataSourceAndTemplate(
    form: Form,
    errors: Memo<Vec<FieldError>>,
    templates: Vec<crate::model::CustomTemplate>,
) -> impl IntoView {
    let source = Memo::new(move |_| {
        form.with(|f| {
            f.data_source
                .parse::<DataSource>()
                .unwrap_or(DataSource::EdgeApplications)
        })
    });
    let is_custom = Memo::new(move |_| form.with(|f| f.template == CUSTOM_TEMPLATE));
    let editor: NodeRef<html::Textarea> = NodeRef::new();
    // The block "Test endpoint" sends: the same sample events, the same renderer.
    let preview = Memo::new(move |_| {
        form.with(StreamForm::compile_template)
            .and_then(|t| engine::sample_block(&t).map_err(|e| e.to_string()))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    });
    let insert_variable = move |name: &'static str| {
        let token = format!("${name}");
        // The cursor position is in UTF-16 code units; convert it to a byte index.
        let cursor = editor
            .get_untracked()
            .and_then(|el| el.selection_start().ok().flatten());
        form.update(|f| {
            let at = cursor
                .map(|units| utf16_to_byte_index(&f.custom_template, units as usize))
                .unwrap_or(f.custom_template.len());
            f.custom_template.insert_str(at, &token);
        });
    };
    let template_error = field_error(errors, "template");
    let custom_error = field_error(errors, "custom_template");
    // The account's custom templates, offered beside the presets.
    let templates = StoredValue::new(templates);
    let saved_for_source = move || {
        let source = source.get();
        templates.with_value(|all| {
            all.iter()
                .filter(|t| t.data_source == source)
                .cloned()
                .collect::<Vec<_>>()
        })
    };

    view! {
        <div class="field">
            <label for="data-source">"Data Source"<span class="req" aria-hidden="true">" *"</span></label>
            <select
                id="data-source"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    form.update(|f| {
                        f.data_source = value;
                        let source = f.data_source.parse::<DataSource>().unwrap_or(DataSource::EdgeApplications);
                        // A saved template is of one source: a new source starts from its preset.
                        let fits = (f.template == CUSTOM_TEMPLATE && f.custom_template_id.is_none())
                            || engine::Preset::find(&f.template).is_some_and(|p| p.data_source == source);
                        if !fits {
                            f.template = presets_for(source).next().map(|p| p.id.to_string()).unwrap_or_default();
                            f.custom_template_id = None;
                        }
                    });
                }
            >
                {DataSource::ALL.into_iter().map(|s| view! {
                    <option value=s.as_str() selected=move || source.get() == s>{s.label()}</option>
                }).collect_view()}
            </select>
            <p class="field-error">{field_error(errors, "data_source")}</p>
        </div>
        <div class="field">
            <label for="template">"Template"<span class="req" aria-hidden="true">" *"</span></label>
            <select
                id="template"
                aria-describedby="template-error"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    let picked = value
                        .strip_prefix("template:")
                        .and_then(|id| id.parse::<i64>().ok())
                        .and_then(|id| saved_for_source().into_iter().find(|t| t.id == id));
                    form.update(|f| match picked {
                        Some(template) => {
                            f.template = CUSTOM_TEMPLATE.into();
                            f.custom_template_id = Some(template.id);
                            f.custom_template = template.data_set;
                        }
                        None if value == CUSTOM_TEMPLATE => {
                            f.template = value;
                            f.custom_template_id = None;
                        }
                        None => f.template = value,
                    });
                }
            >
                {move || {
                    let current = form.with(|f| f.template.clone());
                    presets_for(source.get()).map(|p| view! {
                        <option value=p.id selected=current == p.id>{p.name}</option>
                    }).collect_view()
                }}
                {move || {
                    let current = form.with(|f| (f.template == CUSTOM_TEMPLATE).then_some(f.custom_template_id).flatten());
                    saved_for_source().into_iter().map(|t| view! {
                        <option value=format!("template:{}", t.id) selected=current == Some(t.id)>{format!("Custom: {}", t.name)}</option>
                    }).collect_view()
                }}
                <option value=CUSTOM_TEMPLATE selected=move || is_custom.get() && form.with(|f| f.custom_template_id.is_none())>"New Custom Template"</option>
            </select>
            <p class="field-error" id="template-error">{template_error}</p>
        </div>
        <Show when=move || is_custom.get()>
            <div class="template-editor">
                <div class="field">
                    <label for="custom-template">"Data Set"<span class="req" aria-hidden="true">" *"</span></label>
                    <textarea
                        id="custom-template"
                        node_ref=editor
                        rows="14"
                        spellcheck="false"
                        aria-describedby="custom-template-error"
                        placeholder="{\"host\": \"$host\", \"status\": \"$status\"}"
                        prop:value=move || form.with(|f| f.custom_template.clone())
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            form.update(|f| f.custom_template = value);
                        }
                    ></textarea>
                    <p class="field-error" id="custom-template-error">{custom_error}</p>
                    <Show when=move || form.with(|f| f.custom_template_id.is_some())>
                        <p class="muted">"A saved template: edits here change it for every stream that uses it (Templates page)."</p>
                    </Show>
                </div>
                <aside class="variables" aria-label="Available variables">
                    <h3>"Variables"</h3>
                    <p class="muted">"Click to insert at the cursor."</p>
                    <ul>
                        {move || source.get().variables().iter().map(|v| {
                            let name = v.name;
                            view! {
                                <li>
                                    <button type="button" class="variable" title=v.description on:click=move |_| insert_variable(name)>
                                        "$"{name}
                                    </button>
                                    <span class="muted">{v.description}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </aside>
            </div>
        </Show>
        <div class="field">
            <span class="label">{format!("Preview: the block the endpoint receives for {SAMPLE_RECORDS} sample events")}</span>
            <pre class="code preview" id="template-preview">
                {move || match preview.get() {
                    Ok(block) => block,
                    Err(e) => format!("(no preview: {e})"),
                }}
            </pre>
        </div>
    }
    .into_any()
}

fn utf16_to_byte_index(text: &str, units: usize) -> usize {
    let mut seen = 0;
    for (byte, ch) in text.char_indices() {
        if seen >= units {
            return byte;
        }
        seen += ch.len_utf16();
    }
    text.len()
}

#[component]
fn DomainsField(form: Form, domains: Vec<Domain>, errors: Memo<Vec<FieldError>>) -> impl IntoView {
    let all = Memo::new(move |_| form.with(|f| f.all_domains));
    let no_domains = domains.is_empty();
    view! {
        <fieldset class="field">
            <legend>"Domains"</legend>
            <label class="check">
                <input
                    id="all-domains"
                    type="checkbox"
                    prop:checked=all
                    on:change=move |ev| {
                        let checked = event_target_checked(&ev);
                        form.update(|f| {
                            f.all_domains = checked;
                            if !checked {
                                f.sampling = "100".into();
                            }
                        });
                    }
                />
                "All Domains (also covers domains added later)"
            </label>
            <Show
                when=move || all.get()
                fallback=move || {
                    let domains = domains.clone();
                    view! {
                        <div class="domain-list" id="domain-list">
                            {no_domains.then(|| view! {
                                <p class="muted">"No domains yet: add one on the "<a href="/domains">"Domains"</a>" page."</p>
                            })}
                            {domains.into_iter().map(|d| {
                                let id = d.id;
                                view! {
                                    <label class="check">
                                        <input
                                            type="checkbox"
                                            value=id
                                            prop:checked=move || form.with(|f| f.domain_ids.contains(&id))
                                            on:change=move |ev| {
                                                let checked = event_target_checked(&ev);
                                                form.update(|f| {
                                                    f.domain_ids.retain(|x| *x != id);
                                                    if checked {
                                                        f.domain_ids.push(id);
                                                        f.domain_ids.sort_unstable();
                                                    }
                                                });
                                            }
                                        />
                                        {d.name}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    }
                }
            >
                <div class="field inline">
                    <label for="sampling">"Sampling (%)"<span class="req" aria-hidden="true">" *"</span></label>
                    <input
                        id="sampling"
                        type="number"
                        min="1"
                        max="100"
                        step="1"
                        aria-describedby="sampling-error"
                        prop:value=move || form.with(|f| f.sampling.clone())
                        on:input=move |ev| {
                            let value = event_target_value(&ev);
                            form.update(|f| f.sampling = value);
                        }
                    />
                </div>
            </Show>
            <p class="field-error" id="domains-error">{field_error(errors, "domains")}</p>
            <p class="field-error" id="sampling-error">{field_error(errors, "sampling")}</p>
        </fieldset>
    }
    .into_any()
}

/// The endpoint type's fields, rendered from its description ([`FieldSpec`]): the form
/// needs no change for a new endpoint type.
#[component]
fn EndpointFields(
    form: Form,
    errors: Memo<Vec<FieldError>>,
    /// The endpoint as it was loaded: switching back to its type restores it (and the
    /// secrets it has stored).
    saved: EndpointForm,
) -> impl IntoView {
    let kind = Memo::new(move |_| form.with(|f| EndpointType::find(&f.endpoint.endpoint_type)));
    let saved = StoredValue::new(saved);
    view! {
        <fieldset class="field">
            <legend>"Endpoint"</legend>
            <div class="field">
                <label for="endpoint-type">"Endpoint Type"<span class="req" aria-hidden="true">" *"</span></label>
                <select
                    id="endpoint-type"
                    on:change=move |ev| {
                        if let Some(kind) = EndpointType::find(&event_target_value(&ev)) {
                            let endpoint = saved.with_value(|saved| {
                                if saved.endpoint_type == kind.id {
                                    saved.clone()
                                } else {
                                    EndpointForm::new(kind)
                                }
                            });
                            form.update(|f| f.endpoint = endpoint);
                        }
                    }
                >
                    {TYPES.into_iter().map(|t| view! {
                        <option value=t.id selected=move || kind.get() == Some(t)>{t.label}</option>
                    }).collect_view()}
                </select>
                <p class="field-error">{field_error(errors, "endpoint.endpoint_type")}</p>
            </div>
            {move || kind.get().map(|kind| kind.fields.iter().map(|spec| view! {
                <EndpointField form errors spec />
            }).collect_view())}
        </fieldset>
    }
    .into_any()
}

/// One field of an endpoint type's form.
#[component]
fn EndpointField(
    form: Form,
    errors: Memo<Vec<FieldError>>,
    spec: &'static FieldSpec,
) -> impl IntoView {
    let key = spec.key;
    let value = Signal::derive(move || {
        form.with(|f| f.endpoint.values.get(key).cloned().unwrap_or_default())
    });
    let on_input = Callback::new(move |v: String| form.update(|f| f.endpoint.set(key, v)));
    let error = field_error(errors, format!("endpoint.{key}"));
    match spec.kind {
        FieldKind::Text => view! {
            <TextField id=spec.id label=spec.label required=spec.required value on_input error placeholder=spec.placeholder />
        }.into_any(),
        FieldKind::Multiline => {
            let error_id = format!("{}-error", spec.id);
            view! {
                <div class="field" class:invalid=move || error.get().is_some()>
                    <label for=spec.id>{spec.label}</label>
                    <textarea
                        id=spec.id
                        rows="4"
                        spellcheck="false"
                        placeholder=spec.placeholder
                        aria-invalid=move || error.get().is_some().then_some("true")
                        aria-describedby=error_id.clone()
                        prop:value=value
                        on:input=move |ev| on_input.run(event_target_value(&ev))
                    ></textarea>
                    <p class="field-error" id=error_id>{move || error.get()}</p>
                </div>
            }.into_any()
        }
        FieldKind::Secret => {
            let stored_placeholder = Signal::derive(move || {
                if form.with(|f| f.endpoint.is_stored(key)) {
                    "•••••••• stored: leave blank to keep".to_string()
                } else {
                    String::new()
                }
            });
            view! {
                <TextField id=spec.id label=spec.label required=spec.required input_type="password" value on_input error dynamic_placeholder=stored_placeholder />
            }.into_any()
        }
        FieldKind::Choice(options) => view! {
            <div class="field">
                <label for=spec.id>{spec.label}{spec.required.then(|| view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
                <select id=spec.id on:change=move |ev| on_input.run(event_target_value(&ev))>
                    {options.iter().map(|option| view! {
                        <option value=*option selected=move || value.get() == *option>{*option}</option>
                    }).collect_view()}
                </select>
                <p class="field-error">{error}</p>
            </div>
        }.into_any(),
        FieldKind::SecretPairs { item } => view! { <SecretPairsField form errors spec item /> }.into_any(),
    }
}

/// Name–value rows whose values are secrets (custom headers).
#[component]
fn SecretPairsField(
    form: Form,
    errors: Memo<Vec<FieldError>>,
    spec: &'static FieldSpec,
    item: &'static str,
) -> impl IntoView {
    let key = spec.key;
    let count = Memo::new(move |_| form.with(|f| f.endpoint.rows(key).len()));
    let prefix = item.to_ascii_lowercase();
    let add_id = format!("add-{prefix}");
    view! {
        <div class="field headers" id=spec.id>
            <span class="label">{spec.label}</span>
            {move || (0..count.get()).map(|i| {
                let prefix = &prefix;
                let name_id = format!("{prefix}-name-{i}");
                let value_id = format!("{prefix}-value-{i}");
                let row = move |f: &StreamForm| f.endpoint.rows(key).get(i).cloned().unwrap_or_default();
                let stored = form.with_untracked(|f| {
                    f.endpoint.is_stored(&format!("{key}.{}", row(f).name.trim().to_ascii_lowercase()))
                });
                view! {
                    <div class="header-row">
                        <div>
                            <label for=name_id.clone()>{format!("{item} {} name", i + 1)}</label>
                            <input
                                id=name_id
                                prop:value=move || form.with(|f| row(f).name)
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    form.update(|f| if let Some(r) = f.endpoint.rows_mut(key).get_mut(i) { r.name = v });
                                }
                            />
                            <p class="field-error">{field_error(errors, format!("endpoint.{key}.{i}.name"))}</p>
                        </div>
                        <div>
                            <label for=value_id.clone()>{format!("{item} {} value", i + 1)}</label>
                            <input
                                id=value_id
                                type="password"
                                autocomplete="off"
                                placeholder=if stored { "•••••••• stored: leave blank to keep" } else { "" }
                                prop:value=move || form.with(|f| row(f).value)
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    form.update(|f| if let Some(r) = f.endpoint.rows_mut(key).get_mut(i) { r.value = v });
                                }
                            />
                            <p class="field-error">{field_error(errors, format!("endpoint.{key}.{i}.value"))}</p>
                        </div>
                        <button
                            type="button"
                            class="button small"
                            aria-label=format!("Remove {} {}", item.to_ascii_lowercase(), i + 1)
                            on:click=move |_| form.update(|f| { f.endpoint.rows_mut(key).remove(i); })
                        >"Remove"</button>
                    </div>
                }
            }).collect_view()}
            <button
                type="button"
                class="button small"
                id=add_id
                on:click=move |_| form.update(|f| f.endpoint.rows_mut(key).push(Pair::default()))
            >{format!("Add {}", item.to_ascii_lowercase())}</button>
        </div>
    }
    .into_any()
}

/// Warns before the page is left with unsaved changes: closing or reloading the tab
/// (`beforeunload`) and following a link inside the console.
fn warn_before_leaving(dirty: Memo<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use send_wrapper::SendWrapper;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        use web_sys::js_sys::Function;
        use web_sys::{Element, MouseEvent};

        let unload = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if dirty.get_untracked() {
                ev.prevent_default();
                ev.set_return_value("unsaved");
            }
        });
        // Capture phase: runs before the router turns the click into a navigation.
        let on_click = Closure::<dyn Fn(MouseEvent)>::new(move |ev: MouseEvent| {
            let on_link = ev
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten())
                .is_some();
            if on_link
                && dirty.get_untracked()
                && !confirm("Leave this page? Your unsaved changes will be lost.")
            {
                ev.prevent_default();
                ev.stop_immediate_propagation();
            }
        });
        let callback: Function = on_click.as_ref().unchecked_ref::<Function>().clone();
        let _ = document().add_event_listener_with_callback_and_bool("click", &callback, true);
        // The browser objects live on the one wasm thread; the wrapper satisfies `Send`.
        let listener = SendWrapper::new((on_click, callback));
        on_cleanup(move || {
            unload.remove();
            let (_on_click, callback) = listener.take();
            let _ =
                document().remove_event_listener_with_callback_and_bool("click", &callback, true);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = dirty;
}
