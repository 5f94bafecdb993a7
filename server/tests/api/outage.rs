//! An HTTP endpoint down for two minutes while 1,000 events/s arrive: nothing is lost and
//! the server's memory stays bounded (records wait in the spool on disk).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::delivery::event;
use crate::durability::{demo_token, free_port, ingest_to, start_server, wait_healthy};
use crate::receiver::Receiver;

fn resident_mib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

#[tokio::test]
async fn http_endpoint_down_for_two_minutes_at_1000_events_per_second_loses_nothing() {
    let data_dir = tempfile::tempdir().unwrap();
    let (port, receiver_port) = (free_port(), free_port());
    let receiver_url = format!("http://127.0.0.1:{receiver_port}/logs");
    let mut server = start_server(data_dir.path(), port, &receiver_url);
    let pid = server.id().unwrap();
    wait_healthy(port).await;
    let token = demo_token(data_dir.path());

    let client = reqwest::Client::new();
    let started = Instant::now();
    let (mut sent, mut peak_mib) = (0usize, 0u64);
    while started.elapsed() < Duration::from_secs(120) {
        // 100 events every 100 ms: 1,000 events/s.
        let body: Vec<String> = (sent..sent + 100)
            .map(|i| event(i, "shop.example.com"))
            .collect();
        let answer = ingest_to(&client, port, &token, body.join("\n")).await;
        assert_eq!(answer["accepted"], 100);
        sent += 100;
        peak_mib = peak_mib.max(resident_mib(pid));
        let due = Duration::from_millis(100 * (sent as u64 / 100));
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }

    let receiver = Receiver::start_on(receiver_port).await;
    let until = Instant::now() + Duration::from_secs(90);
    let mut ids = HashSet::new();
    while ids.len() < sent && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak_mib = peak_mib.max(resident_mib(pid));
        ids = receiver
            .records()
            .iter()
            .map(|r| {
                serde_json::from_str::<Value>(r).unwrap()["request_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
    }
    eprintln!(
        "endpoint down 120 s: sent {sent}, delivered {} distinct, server peak RSS {peak_mib} MiB",
        ids.len()
    );
    assert_eq!(
        ids.len(),
        sent,
        "every accepted record arrives once the endpoint is back"
    );
    assert!(peak_mib < 256, "memory stays bounded: peak {peak_mib} MiB");
    server.start_kill().unwrap();
}
