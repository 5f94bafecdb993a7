//! The stream dashboard: counts and charts of the last hour or day, the spool, the last
//! success and error, and the delivery log. Refreshes itself every few seconds.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::dashboard::{delivery_log, get_stream_dashboard};
use crate::model::{AttemptOutcome, MetricPoint, StreamDashboard, format_utc_millis};

const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// One count of a [`MetricPoint`].
type MetricField = fn(&MetricPoint) -> i64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Range {
    Hour,
    Day,
}

#[component]
pub fn StreamDashboardPage() -> impl IntoView {
    let params = use_params_map();
    let stream_id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let tick = RwSignal::new(0u64);
    // Effects run in the browser only: the page refreshes itself once hydrated.
    Effect::new(move |_| {
        if let Ok(handle) =
            set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH_EVERY)
        {
            on_cleanup(move || handle.clear());
        }
    });
    let range = RwSignal::new(Range::Hour);
    let outcome = RwSignal::new(String::new());
    let dashboard = Resource::new(
        move || (stream_id(), tick.get()),
        |(id, _)| get_stream_dashboard(id),
    );
    let log = Resource::new(
        move || (stream_id(), outcome.get(), tick.get()),
        |(id, outcome, _)| delivery_log(id, outcome),
    );

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || dashboard.get().map(|result| match result {
                Err(e) => view! { <section class="card"><p class="error" role="alert">{e.to_string()}</p></section> }.into_any(),
                Ok(d) => view! { <Overview dashboard=d range /> }.into_any(),
            })}
        </Transition>
        <section class="card" id="delivery-log-card">
            <div class="heading-row">
                <h2>"Delivery log"</h2>
                <label>
                    "Outcome "
                    <select id="log-outcome" on:change=move |ev| outcome.set(event_target_value(&ev))>
                        <option value="" selected=move || outcome.get().is_empty()>"All"</option>
                        {AttemptOutcome::ALL.into_iter().map(|o| view! {
                            <option value=o.as_str() selected=move || outcome.get() == o.as_str()>{o.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || log.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(attempts) if attempts.is_empty() => view! {
                        <p class="empty" id="delivery-log-empty">"No delivery attempts yet."</p>
                    }.into_any(),
                    Ok(attempts) => view! {
                        <table class="table" id="delivery-log">
                            <thead>
                                <tr>
                                    <th scope="col">"Time"</th>
                                    <th scope="col">"Block"</th>
                                    <th scope="col">"Records"</th>
                                    <th scope="col">"Outcome"</th>
                                    <th scope="col">"Endpoint answer"</th>
                                    <th scope="col">"Duration"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {attempts.into_iter().map(|a| view! {
                                    <tr data-outcome=a.outcome.as_str() class:failing=a.outcome != AttemptOutcome::Delivered>
                                        <td>{format_utc_millis(a.at)}</td>
                                        <td class="mono">{a.block_id}</td>
                                        <td>{a.records}</td>
                                        <td>{a.outcome.label()}</td>
                                        <td class="answer">{a.answer}</td>
                                        <td>{format!("{} ms", a.duration_ms)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Overview(dashboard: StreamDashboard, range: RwSignal<Range>) -> impl IntoView {
    let StreamDashboard {
        name,
        active,
        status,
        spool,
        bus,
        last_hour,
        last_day,
    } = dashboard;
    let points = Memo::new(move |_| match range.get() {
        Range::Hour => last_hour.clone(),
        Range::Day => last_day.clone(),
    });
    let total = move |field: MetricField| points.with(|p| p.iter().map(field).sum::<i64>());
    // Weighted by blocks: a busy minute counts for more than a quiet one.
    let mean_latency = move || {
        let (sum, blocks) = points.with(|p| {
            p.iter().fold((0, 0), |(sum, blocks), p| {
                (
                    sum + p.latency_ms.unwrap_or(0) * p.latency_count,
                    blocks + p.latency_count,
                )
            })
        });
        (blocks > 0).then(|| sum / blocks)
    };
    let series = move |field: MetricField| {
        Signal::derive(move || points.with(|p| p.iter().map(|p| (p.at, field(p))).collect()))
    };
    let tab = move |which: Range, label: &'static str, id: &'static str| {
        view! {
            <button
                type="button"
                id=id
                class="button small"
                class:primary=move || range.get() == which
                aria-pressed=move || (range.get() == which).to_string()
                on:click=move |_| range.set(which)
            >{label}</button>
        }
    };
    let counters: [(&str, &str, MetricField); 4] = [
        ("received", "Events received", |p| p.received),
        ("sampled-out", "Sampled out", |p| p.sampled_out),
        ("delivered", "Records delivered", |p| p.delivered),
        ("failed", "Failed attempts", |p| p.failed),
    ];
    let last_success = status
        .last_success_at
        .map_or("never".to_string(), format_utc_millis);
    let last_error = match (&status.last_error, status.last_error_at) {
        (Some(reason), Some(at)) => format!("{reason} ({})", format_utc_millis(at)),
        _ => "none".to_string(),
    };
    let failing = status.is_failing();
    view! {
        <section class="card">
            <div class="heading-row">
                <h1 id="dashboard-title">{name}</h1>
                <span class="muted">{if active { "Active" } else { "Inactive" }}</span>
            </div>
            {status.engine_error.clone().map(|error| view! {
                <p class="error" role="alert" id="engine-error">{format!("Not running: {error}")}</p>
            })}
            <div class="range-tabs" role="group" aria-label="Range">
                {tab(Range::Hour, "Last hour", "range-hour")}
                {tab(Range::Day, "Last day", "range-day")}
            </div>
            <div class="stat-grid">
                {counters.into_iter().map(|(id, label, field)| view! {
                    <div class="stat">
                        <span class="stat-label">{label}</span>
                        <span class="stat-value" id=format!("total-{id}")>{move || total(field).to_string()}</span>
                    </div>
                }).collect_view()}
                <div class="stat">
                    <span class="stat-label">"Bytes delivered"</span>
                    <span class="stat-value" id="total-bytes">{move || human_bytes(total(|p| p.bytes))}</span>
                </div>
                <div class="stat">
                    <span class="stat-label">"Mean delivery latency"</span>
                    <span class="stat-value" id="mean-latency">{move || mean_latency().map_or("—".to_string(), |ms| format!("{ms} ms"))}</span>
                </div>
            </div>
            <dl class="facts">
                {match bus {
                    Some(bus) => view! {
                        <dt>"On the bus"</dt>
                        <dd id="bus-lag">{format!(
                            "{} record(s) waiting, {}",
                            bus.lag_records, human_bytes(bus.lag_bytes as i64)
                        )}</dd>
                        <dt>"Delivered by"</dt>
                        <dd id="delivered-by">{if bus.delivered_by.is_empty() {
                            "no instance in the last 5 minutes".to_string()
                        } else {
                            bus.delivered_by.join(", ")
                        }}</dd>
                    }.into_any(),
                    None => view! {
                        <dt>"Spool"</dt>
                        <dd id="spool-depth">{format!(
                            "{} block(s) waiting, {} on disk, {} set aside",
                            spool.blocks, human_bytes(spool.bytes as i64), spool.failed_blocks
                        )}</dd>
                    }.into_any(),
                }}
                <dt>"Last success"</dt>
                <dd id="last-success">{last_success}</dd>
                <dt>"Last error"</dt>
                <dd id="last-error" class:failing=failing>{last_error}</dd>
            </dl>
            <div class="charts">
                <Chart title="Events received" series=series(|p| p.received) />
                <Chart title="Sampled out" series=series(|p| p.sampled_out) />
                <Chart title="Records delivered" series=series(|p| p.delivered) />
                <Chart title="Failed attempts" series=series(|p| p.failed) />
                <Chart title="Bytes delivered" series=series(|p| p.bytes) />
                <Chart title="Delivery latency (ms)" series=series(|p| p.latency_ms.unwrap_or(0)) />
            </div>
        </section>
    }
}

const CHART_WIDTH: f64 = 360.0;
const CHART_HEIGHT: f64 = 90.0;

/// A bar chart drawn in SVG, one bar per interval; each bar's tooltip gives its value.
#[component]
fn Chart(title: &'static str, series: Signal<Vec<(i64, i64)>>) -> impl IntoView {
    let bars = move || {
        let points = series.get();
        let max = points.iter().map(|&(_, v)| v).max().unwrap_or(0).max(1) as f64;
        let width = CHART_WIDTH / points.len().max(1) as f64;
        points
            .into_iter()
            .enumerate()
            .map(|(i, (at, value))| {
                let height =
                    (value as f64 / max * CHART_HEIGHT).max(if value > 0 { 1.0 } else { 0.0 });
                view! {
                    <rect
                        x=format!("{:.1}", i as f64 * width)
                        y=format!("{:.1}", CHART_HEIGHT - height)
                        width=format!("{:.1}", (width - 1.0).max(0.5))
                        height=format!("{height:.1}")
                    >
                        <title>{format!("{}: {value}", format_utc_millis(at))}</title>
                    </rect>
                }
            })
            .collect_view()
    };
    let peak = move || series.with(|s| s.iter().map(|&(_, v)| v).max().unwrap_or(0));
    // The first and last intervals' start, as HH:MM UTC.
    let clock = |at: Option<i64>| {
        at.map(|at| format_utc_millis(at)[11..16].to_string())
            .unwrap_or_default()
    };
    let first = move || clock(series.with(|s| s.first().map(|p| p.0)));
    let last = move || clock(series.with(|s| s.last().map(|p| p.0)));
    view! {
        <figure class="chart">
            <figcaption>{title}<span class="muted">{move || format!(" · peak {}", peak())}</span></figcaption>
            <svg
                viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label=title
            >
                {bars}
            </svg>
            <div class="chart-axis muted"><span>{first}</span><span>{last}" UTC"</span></div>
        </figure>
    }
}

fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
