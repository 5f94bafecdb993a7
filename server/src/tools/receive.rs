//! `data-streaming receive`: a local HTTP endpoint that accepts blocks on any path and
//! counts their records, printing a line a second (and, for the demo, a sample record).
//! On a path ending in `/_bulk` it answers as Elasticsearch (two lines a record); on
//! `/api/v2/logs` as a Datadog logs intake (a JSON array, one log a record); on
//! `/dataCollectionRules/…` as Azure Monitor's Logs Ingestion API (a JSON array, one object
//! a record); on `…/insertAll` as BigQuery (one row a record); and on a path ending in
//! `/token` as an OAuth token endpoint (any client is given a token). A gzip or zstd body
//! (`Content-Encoding`) is unpacked first; bytes count what was unpacked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::serve::ListenerExt;

#[derive(Clone, Debug, clap::Args)]
pub struct ReceiveArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3999")]
    pub bind: SocketAddr,
    /// Print a sample record with each report.
    #[arg(long)]
    pub show_sample: bool,
    /// Exit once this many records arrived (0: never).
    #[arg(long, default_value_t = 0)]
    pub expect: u64,
}

#[derive(Default)]
struct Totals {
    records: AtomicU64,
    blocks: AtomicU64,
    bytes: AtomicU64,
    sample: std::sync::Mutex<String>,
    /// `--expect`: woken when that many records arrived.
    expected: u64,
    all_arrived: tokio::sync::Notify,
}

async fn take(
    State(totals): State<Arc<Totals>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let encoding = headers.get(axum::http::header::CONTENT_ENCODING);
    let unpacked = match encoding.map(|e| e.as_bytes()) {
        None => Some(body),
        Some(b"gzip") => gunzip(&body).map(Bytes::from),
        Some(b"zstd") => zstd::decode_all(&body[..]).ok().map(Bytes::from),
        Some(_) => {
            return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unknown encoding").into_response();
        }
    };
    let Some(body) = unpacked else {
        return (StatusCode::BAD_REQUEST, "body does not unpack").into_response();
    };
    let path = uri.path();
    if path.ends_with("/token") {
        return (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"receive"}"#,
        )
            .into_response();
    }
    let bulk = path.ends_with("/_bulk");
    let datadog = path.ends_with("/api/v2/logs");
    let azure_monitor = path.contains("/dataCollectionRules/");
    let bigquery = path.ends_with("/insertAll");
    let records = if datadog {
        memchr::memmem::find_iter(&body, br#"{"ddsource""#).count() as u64
    } else if bigquery {
        memchr::memmem::find_iter(&body, br#"{"insertId""#).count() as u64
    } else if azure_monitor {
        array_items(&body)
    } else {
        // Lines, the last one with or without its newline.
        let lines = count_newlines(&body) + u64::from(!body.is_empty() && !body.ends_with(b"\n"));
        if bulk { lines / 2 } else { lines }
    };
    let total = totals.records.fetch_add(records, Ordering::Relaxed) + records;
    if totals.expected > 0 && total >= totals.expected {
        totals.all_arrived.notify_one();
    }
    totals.blocks.fetch_add(1, Ordering::Relaxed);
    totals.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    if let Ok(mut sample) = totals.sample.try_lock() {
        let first = body.split(|b| *b == b'\n').next().unwrap_or_default();
        *sample = String::from_utf8_lossy(first).into_owned();
    }
    if bulk {
        return (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"took":1,"errors":false,"items":[]}"#,
        )
            .into_response();
    }
    if datadog {
        return (StatusCode::ACCEPTED, "{}").into_response();
    }
    if azure_monitor {
        return StatusCode::NO_CONTENT.into_response();
    }
    if bigquery {
        return (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"kind":"bigquery#tableDataInsertAllResponse"}"#,
        )
            .into_response();
    }
    StatusCode::OK.into_response()
}

fn gunzip(body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut plain = Vec::with_capacity(body.len() * 8);
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut plain)
        .ok()?;
    Some(plain)
}

/// The items of a JSON array of objects: the objects that open at its top level.
fn array_items(body: &[u8]) -> u64 {
    let (mut depth, mut in_string, mut escaped, mut items) = (0u32, false, false, 0);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                items += u64::from(b == b'{' && depth == 2);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    items
}

fn count_newlines(body: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', body).count() as u64
}

pub async fn run(args: ReceiveArgs) -> Result<(), String> {
    let totals = Arc::new(Totals {
        expected: args.expect,
        ..Totals::default()
    });
    // Blocks are megabytes: no body limit.
    let app = Router::new()
        .fallback(take)
        .layer(DefaultBodyLimit::disable())
        .with_state(totals.clone());
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("--bind {}: {e}", args.bind))?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    println!("receiving on http://{}/", args.bind);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    let mut last = 0;
    loop {
        tokio::select! {
            _ = every_second.tick() => {}
            () = totals.all_arrived.notified() => {}
        }
        let records = totals.records.load(Ordering::Relaxed);
        if records != last {
            println!(
                "received {records} records in {} blocks ({} MB), +{}/s",
                totals.blocks.load(Ordering::Relaxed),
                totals.bytes.load(Ordering::Relaxed) / 1_000_000,
                records - last
            );
            if args.show_sample {
                println!(
                    "  sample: {}",
                    totals.sample.lock().map(|s| s.clone()).unwrap_or_default()
                );
            }
            last = records;
        }
        if args.expect > 0 && records >= args.expect {
            println!("all {records} expected records received");
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn array_items_counts_the_top_level_objects_only() {
        assert_eq!(
            super::array_items(br#"[{"a":"}{","b":{"c":[{}]}},{"d":"\"{"}]"#),
            2
        );
        assert_eq!(super::array_items(b"[]"), 0);
    }
}
