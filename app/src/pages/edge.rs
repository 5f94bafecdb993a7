//! "Connect your edge": the nginx and ModSecurity lines for this account and this server,
//! ready to copy, and a live indicator of the last event the edge sent.

use engine::edge;
use leptos::prelude::*;

use super::error_text;
use crate::Auth;
use crate::api::edge::{EdgeAddresses, get_edge_addresses, get_edge_status};
use crate::api::tokens::CreateIngestToken;
use crate::model::{EdgeOutcome, EdgeStatus, format_utc_millis};

/// Where the snippet puts the ModSecurity rules file.
const RULES_FILE: &str = "/etc/nginx/modsec/datastream.conf";
/// Shown in the snippets until a token is chosen.
const TOKEN_PLACEHOLDER: &str = "PASTE_YOUR_INGEST_TOKEN";
/// The live indicator's refresh interval.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

#[component]
pub fn EdgePage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let connection = Resource::new(|| (), |_| get_edge_addresses());
    let token = RwSignal::new(String::new());
    let create = ServerAction::<CreateIngestToken>::new();
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            token.set(created.token);
        }
    });
    let can_edit = move || auth.current().is_some_and(|u| u.role.can_edit());
    let create_error = move || create.value().get().and_then(|r| r.err());
    view! {
        <section class="card">
            <h1>"Connect your edge"</h1>
            <p class="muted">
                "nginx with ModSecurity and the OWASP Core Rule Set sends both data sources itself: "
                "its access log (Edge Applications) over syslog, and ModSecurity's audit log (WAF Events) "
                "over HTTP. On Debian: "<code>"apt-get install nginx libnginx-mod-http-modsecurity modsecurity-crs"</code>". "
                "The "<a href="/fields">"Fields"</a>" page says where each variable comes from."
            </p>
            <h2>"1. Ingest token"</h2>
            <div class="field">
                <label for="edge-token">"Ingest token"</label>
                <input
                    id="edge-token"
                    autocomplete="off"
                    placeholder="dsi_… (paste a token: it stays in this browser)"
                    prop:value=move || token.get()
                    on:input=move |ev| token.set(event_target_value(&ev).trim().to_string())
                />
            </div>
            <Show when=can_edit>
                <ActionForm action=create attr:class="form inline" attr:id="edge-create-token">
                    <div class="field">
                        <label for="edge-token-name">"Or create one named"</label>
                        <input id="edge-token-name" name="name" value="nginx edge" required />
                        <p class="field-error">{move || error_text(create_error(), Some("name"))}</p>
                    </div>
                    <button type="submit" class="button">"Create a token"</button>
                </ActionForm>
                {move || create.value().get().and_then(|r| r.ok()).map(|_| view! {
                    <p class="muted" role="status">"Token created and filled in below. It is not shown again: keep this page's lines."</p>
                })}
            </Show>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || connection.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(c) => view! { <Snippets connection=c token /> }.into_any(),
                })}
            </Transition>
            <h2>"4. Check"</h2>
            <p class="muted">"Reload nginx ("<code>"nginx -t && nginx -s reload"</code>") and send it a request."</p>
            <EdgeIndicator />
        </section>
    }
}

#[component]
fn Snippets(connection: EdgeAddresses, token: RwSignal<String>) -> impl IntoView {
    let chosen = move || {
        let token = token.get();
        if token.is_empty() {
            TOKEN_PLACEHOLDER.to_string()
        } else {
            token
        }
    };
    let account_id = connection.account_id;
    let syslog = connection
        .syslog_udp
        .clone()
        .unwrap_or_else(|| "SERVER:5514".to_string());
    let server_url = connection.server_url.clone();
    let http_block = move || edge::nginx_log_format(&chosen(), account_id);
    let server_block = edge::nginx_server_lines(&syslog, RULES_FILE);
    let rules = move || {
        edge::modsecurity_rules(&format!(
            "{server_url}{}",
            edge::modsecurity_path(&chosen())
        ))
    };
    view! {
        {connection.syslog_udp.is_none().then(|| view! {
            <p class="error" role="alert">
                "This server's syslog input is off: its operator starts it with --syslog-udp (e.g. 0.0.0.0:5514)."
            </p>
        })}
        <h2>"2. nginx"</h2>
        <p>"In the "<code>"http"</code>" block:"</p>
        <pre class="code" id="snippet-http">{http_block}</pre>
        <p>"In each "<code>"server"</code>" block to stream (the "<code>"load_module"</code>" lines for ModSecurity come with Debian's package):"</p>
        <pre class="code" id="snippet-server">{server_block}</pre>
        {connection.syslog_tcp.map(|tcp| view! {
            <p class="muted">"Through an rsyslog or syslog-ng relay, forward over TCP to "<code>{tcp}</code>" (octet counting or one message per line)."</p>
        })}
        <h2>"3. ModSecurity"</h2>
        <p>"In "<code>{RULES_FILE}</code>":"</p>
        <pre class="code" id="snippet-modsecurity">{rules}</pre>
    }
}

/// "Last event received from your edge", per input, refreshed every few seconds.
#[component]
pub fn EdgeIndicator() -> impl IntoView {
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(handle) =
            set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH_EVERY)
        {
            on_cleanup(move || handle.clear());
        }
    });
    let status = Resource::new(move || tick.get(), |_| get_edge_status());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || status.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Ok(status) => view! { <EdgeStatusView status /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn EdgeStatusView(status: EdgeStatus) -> impl IntoView {
    let connected = status.inputs.iter().any(|i| i.last_event_at.is_some());
    let class = if connected {
        "indicator ok"
    } else {
        "indicator waiting"
    };
    let summary = status
        .inputs
        .iter()
        .map(|i| {
            let when = i
                .last_event_at
                .map_or_else(|| "none yet".to_string(), format_utc_millis);
            format!("{}: {when}", i.input.label())
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let count = |i: &crate::model::EdgeInputStatus, outcome: EdgeOutcome| {
        i.counts
            .iter()
            .find(|(o, _)| *o == outcome)
            .map_or(0, |(_, n)| *n)
    };
    view! {
        <p id="edge-indicator" class=class role="status" data-connected=connected.to_string()>
            <span class="dot" aria-hidden="true"></span>
            "Last event received from your edge: "{summary}
        </p>
        <table class="table" id="edge-counts">
            <thead><tr>
                <th scope="col">"Input"</th><th scope="col">"Accepted"</th><th scope="col">"Malformed"</th>
                <th scope="col">"Oversize"</th><th scope="col">"Unknown host"</th><th scope="col">"Refused"</th>
            </tr></thead>
            <tbody>
                {status.inputs.iter().map(|i| view! {
                    <tr data-input=i.input.as_str()>
                        <td>{i.input.label()}</td>
                        <td>{count(i, EdgeOutcome::Accepted)}</td>
                        <td>{count(i, EdgeOutcome::Malformed)}</td>
                        <td>{count(i, EdgeOutcome::Oversize)}</td>
                        <td>{count(i, EdgeOutcome::UnknownHost)}</td>
                        <td>{count(i, EdgeOutcome::Refused)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <p class="muted">"Since the server started. Messages without a valid token name no account: they are counted on the server's /metrics only."</p>
    }
}
