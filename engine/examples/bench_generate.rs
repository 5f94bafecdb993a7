//! Micro-benchmark of the traffic generator on one thread: NDJSON bodies of each data
//! source, in batches like the ingest API's.
//!
//! Run: `cargo run -p engine --release --features generator --example bench_generate`

use std::hint::black_box;
use std::time::{Duration, Instant};

use engine::{DataSource, EventGenerator};

/// Events per NDJSON body, as the built-in traffic generator would post them.
const BATCH: usize = 1_000;
const PHASE_TIME: Duration = Duration::from_secs(3);
const HOSTS: usize = 100;

fn main() {
    let hosts: Vec<String> = (0..HOSTS)
        .map(|n| format!("shop-{n}.example.com"))
        .collect();
    for source in DataSource::ALL {
        let mut generator = EventGenerator::new(source, hosts.clone(), 1);
        let mut body = Vec::with_capacity(BATCH * 2_048);
        generator.write_batch(BATCH, &mut body); // warm up
        let start = Instant::now();
        let (mut events, mut bytes) = (0usize, 0usize);
        while start.elapsed() < PHASE_TIME {
            body.clear();
            generator.write_batch(BATCH, &mut body);
            bytes += black_box(&body).len();
            events += BATCH;
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{:<18} {:>12.0} events/s per core  {:>8.1} MB/s  {:>5.0} ns/event  ~{} bytes/event  ({events} events in {seconds:.2} s)",
            source.label(),
            events as f64 / seconds,
            bytes as f64 / seconds / 1e6,
            seconds * 1e9 / events as f64,
            bytes / events,
        );
    }
}
