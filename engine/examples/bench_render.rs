//! Micro-benchmark of the hot path on one thread: scanning ~1.5 KB Edge Applications events
//! and rendering them through the "Edge Applications Event Collector" preset.
//!
//! Run: `cargo run -p engine --release --example bench_render`

use std::hint::black_box;
use std::time::{Duration, Instant};

use engine::{DataSource, EventFields, FieldSet, Preset, Template, sample_event};

/// Distinct events, so branch predictors and caches see some variety.
const EVENT_VARIANTS: usize = 1_000;
const PHASE_TIME: Duration = Duration::from_secs(3);

fn events() -> Vec<String> {
    let sample = sample_event(DataSource::EdgeApplications);
    (0..EVENT_VARIANTS)
        .map(|n| {
            sample
                .replace("6f1d3b9c2a7e4f0a8b5c1d2e3f4a5b6c", &format!("{n:032x}"))
                .replace("203.0.113.47", &format!("203.0.{}.{}", n / 256, n % 256))
                .replace("\"51324\"", &format!("\"{}\"", 1024 + n))
                .replace(
                    "12:34:56Z",
                    &format!("12:{:02}:{:02}Z", n / 60 % 60, n % 60),
                )
        })
        .collect()
}

/// Runs `pass` (one pass over every event, returning bytes processed) for about
/// [`PHASE_TIME`] and prints its throughput.
fn measure(label: &str, mut pass: impl FnMut() -> usize) {
    pass(); // warm up
    let start = Instant::now();
    let (mut records, mut bytes) = (0usize, 0usize);
    while start.elapsed() < PHASE_TIME {
        bytes += pass();
        records += EVENT_VARIANTS;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{label:<14} {:>12.0} records/s per core  {:>8.1} MB/s  {:>6.0} ns/record  ({records} records in {seconds:.2} s)",
        records as f64 / seconds,
        bytes as f64 / seconds / 1e6,
        seconds * 1e9 / records as f64,
    );
}

fn main() {
    let preset = Preset::find("edge-applications-event-collector").expect("preset");
    let template = Template::compile(&preset.template_text(), preset.data_source).expect("valid");
    let mut wanted = FieldSet::routing();
    wanted.add_template(&template);
    let events = events();
    let parsed: Vec<EventFields<'_>> = events
        .iter()
        .map(|line| EventFields::parse(line.as_bytes(), &wanted).expect("valid event"))
        .collect();
    let mut record = Vec::with_capacity(4096);
    template.render(&parsed[0], &mut record);
    let average_event = events.iter().map(String::len).sum::<usize>() / events.len();
    println!(
        "preset {:?}: {} variables; event ~{average_event} bytes, record {} bytes",
        preset.name,
        template.fields().len(),
        record.len()
    );
    println!(
        "MB/s: of events in for serde_json and parse, of records out for render and parse+render"
    );

    // The reference point of the performance notes (~250,000 events/s per core there).
    measure("serde_json", || {
        let mut bytes = 0;
        for line in &events {
            let value: serde_json::Value = serde_json::from_str(black_box(line)).expect("valid");
            black_box(&value);
            bytes += line.len();
        }
        bytes
    });
    measure("parse", || {
        let mut bytes = 0;
        for line in &events {
            let event = EventFields::parse(black_box(line.as_bytes()), &wanted).expect("valid");
            black_box(&event);
            bytes += line.len();
        }
        bytes
    });
    measure("render", || {
        let mut bytes = 0;
        for event in &parsed {
            record.clear();
            template.render(black_box(event), &mut record);
            bytes += black_box(&record).len();
        }
        bytes
    });
    measure("parse+render", || {
        let mut bytes = 0;
        for line in &events {
            let event = EventFields::parse(black_box(line.as_bytes()), &wanted).expect("valid");
            record.clear();
            template.render(&event, &mut record);
            bytes += black_box(&record).len();
        }
        bytes
    });
}
