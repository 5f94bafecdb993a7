//! A real edge as the source: nginx + ModSecurity + the OWASP CRS (Debian's packages) in
//! front of a local origin, configured with the console's own snippets, sending to the
//! syslog and ModSecurity inputs; and the syslog TCP input's framing and bounds.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use serde_json::Value;
use server::tools::edge::{self, EdgeConfig, RunningEdge};

use crate::delivery::{HOST, Setup, http_stream, save_stream, setup_on};
use crate::helpers::{Storage, poll, scrape};
use crate::receiver::Receiver;

const METRICS_TOKEN: &str = "edge-scrape-0123456789";

const EDGE_TEMPLATE: &str = r#"{"request_id":"$request_id","status":"$status","request_uri":"$request_uri","request_time":"$request_time","upstream_addr":"$upstream_addr","upstream_status":"$upstream_status","upstream_response_time":"$upstream_response_time","upstream_connect_time":"$upstream_connect_time","upstream_header_time":"$upstream_header_time","upstream_bytes_received":"$upstream_bytes_received","upstream_bytes_sent":"$upstream_bytes_sent","waf_block":"$waf_block","waf_attack_family":"$waf_attack_family","client":"$client"}"#;
const WAF_TEMPLATE: &str = r#"{"blocked":"$blocked","family":"$waf_attack_family","uri":"$waf_uri","score":"$waf_score","host":"$host"}"#;

/// The upstream values the product's record and nginx's own file log must agree on.
const COMPARED: [&str; 10] = [
    "status",
    "request_uri",
    "request_time",
    "upstream_addr",
    "upstream_status",
    "upstream_response_time",
    "upstream_connect_time",
    "upstream_header_time",
    "upstream_bytes_received",
    "upstream_bytes_sent",
];

async fn edge_app() -> (Setup, i64) {
    let setup = setup_on(Storage::Sqlite, |s| {
        s.syslog_udp = Some("127.0.0.1:0".parse().unwrap());
        s.syslog_tcp = Some("127.0.0.1:0".parse().unwrap());
        s.syslog_max_message_bytes = 4096;
        s.block_max_age = Duration::from_secs(1);
        s.metrics_token = Some(METRICS_TOKEN.into());
    })
    .await;
    let account_id = setup.app.db.account_ids().await.unwrap()[0];
    (setup, account_id)
}

fn parse(record: &str) -> Value {
    serde_json::from_str(record).unwrap_or_else(|e| panic!("{e}: {record}"))
}

/// The attacks sent through the edge: (path and query, the family the WAF must name).
fn attacks() -> Vec<(String, &'static str)> {
    let mut attacks = Vec::new();
    for i in 0..20 {
        let sqli = match i % 4 {
            0 => format!("/products?id={i}'%20OR%20'1'='1"),
            1 => format!("/products?id={i}%20UNION%20SELECT%20username,password%20FROM%20users--"),
            2 => format!("/login?user=admin'--&n={i}"),
            _ => format!("/products?id={i};DROP%20TABLE%20users--"),
        };
        attacks.push((sqli, "SQL"));
        let xss = match i % 2 {
            0 => format!("/search?q=<script>alert({i})</script>"),
            _ => format!("/search?q=<img%20src=x%20onerror=alert({i})>"),
        };
        attacks.push((xss, "XSS"));
    }
    for i in 0..10 {
        let traversal = match i % 2 {
            0 => format!("/download?file=../../../../etc/passwd&n={i}"),
            _ => format!("/download?file=....//....//etc/hosts&n={i}"),
        };
        attacks.push((traversal, "TRAVERSAL"));
    }
    attacks
}

/// Sends one request through the edge as a browser would; returns the status.
async fn browse(client: &reqwest::Client, edge: &str, path: &str) -> u16 {
    client
        .get(format!("{edge}{path}"))
        .header("Host", HOST)
        .header(
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        )
        .header(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        )
        .header("Accept-Language", "en-US,en;q=0.9")
        .header("Accept-Encoding", "gzip, deflate")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn nginx_and_modsecurity_events_reach_their_streams() {
    assert!(
        edge::installed(),
        "nginx, libnginx-mod-http-modsecurity and modsecurity-crs are needed: \
         scripts/setup.sh --test installs them"
    );
    let (setup, account_id) = edge_app().await;
    let edge_receiver = Receiver::start().await;
    let waf_receiver = Receiver::start().await;
    save_stream(
        &setup.owner,
        &http_stream("edge", &edge_receiver.url, setup.domain_id, EDGE_TEMPLATE),
    )
    .await;
    let mut waf = http_stream("waf", &waf_receiver.url, setup.domain_id, WAF_TEMPLATE);
    waf.data_source = "waf_events".into();
    save_stream(&setup.owner, &waf).await;

    let scratch = tempfile::tempdir().unwrap();
    let origin = edge::serve_origin("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let file_log = scratch.path().join("access.json");
    let listen: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _nginx = RunningEdge::start(
        &scratch.path().join("edge"),
        &EdgeConfig {
            listen,
            server_name: HOST.into(),
            origin,
            syslog: setup.app.edge.syslog_udp.unwrap(),
            product_url: setup.app.address.clone(),
            token: setup.token.clone(),
            account_id,
            file_log: Some(file_log.clone()),
        },
    )
    .unwrap();
    let edge_url = format!("http://{listen}");

    let client = reqwest::Client::new();
    let mut families: HashMap<String, &str> = HashMap::new();
    let mut ordinary = Vec::new();
    for i in 0..200 {
        let path = match i % 4 {
            0 => format!("/products?id={i}"),
            1 => format!("/search?q=shoes+size+{i}"),
            2 => format!("/static/app-{i}.css"),
            _ => format!("/cart/items/{i}"),
        };
        assert_eq!(browse(&client, &edge_url, &path).await, 200, "{path}");
        ordinary.push(path);
    }
    for (path, family) in attacks() {
        assert_eq!(
            browse(&client, &edge_url, &path).await,
            403,
            "{path} is blocked"
        );
        families.insert(path, family);
    }

    // Edge Applications: one record per request, equal to nginx's own file log.
    let records = edge_receiver
        .wait_for_records(250, Duration::from_secs(30))
        .await;
    assert_eq!(records.len(), 250, "one record per request");
    let logged: HashMap<String, Value> = std::fs::read_to_string(&file_log)
        .unwrap()
        .lines()
        .map(|line| {
            let entry = parse(line);
            (entry["request_id"].as_str().unwrap().to_string(), entry)
        })
        .collect();
    assert_eq!(logged.len(), 250);
    let mut blocked_edge_records = 0;
    for record in &records {
        let record = parse(record);
        let id = record["request_id"].as_str().unwrap();
        let logged = logged
            .get(id)
            .unwrap_or_else(|| panic!("{id} is in nginx's log"));
        for key in COMPARED {
            assert_eq!(record[key], logged[key], "{key} of {id}");
        }
        assert_eq!(record["client"], account_id.to_string());
        let uri = record["request_uri"].as_str().unwrap();
        match families.iter().find(|(path, _)| uri_matches(uri, path)) {
            Some((_, family)) => {
                assert_eq!(record["status"], "403", "{uri}");
                assert_eq!(
                    record["waf_block"], "1",
                    "{uri}: joined with its ModSecurity entry"
                );
                assert_eq!(record["waf_attack_family"], *family, "{uri}");
                blocked_edge_records += 1;
            }
            None => {
                assert_eq!(record["status"], "200", "{uri}");
                assert_ne!(record["waf_block"], "1", "{uri}");
            }
        }
    }
    assert_eq!(blocked_edge_records, 50);

    // WAF Events: a blocked record per attack, with its family; none for the others.
    let blocked = poll(Duration::from_secs(30), || async {
        let blocked: Vec<Value> = waf_receiver
            .records()
            .iter()
            .map(|r| parse(r))
            .filter(|r| r["blocked"] == "1")
            .collect();
        (blocked.len() >= 50).then_some(blocked)
    })
    .await
    .expect("50 blocked WAF records");
    assert_eq!(blocked.len(), 50);
    let mut per_family: HashMap<String, usize> = HashMap::new();
    for record in &blocked {
        let uri = record["uri"].as_str().unwrap();
        let (_, family) = families
            .iter()
            .find(|(path, _)| uri_matches(uri, path))
            .unwrap_or_else(|| panic!("{uri} is one of the attacks"));
        assert_eq!(record["family"], *family, "{uri}");
        assert_eq!(record["host"], HOST);
        assert!(record["score"].as_str().unwrap().parse::<u32>().unwrap() >= 5);
        *per_family
            .entry(record["family"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_family["SQL"], 20);
    assert_eq!(per_family["XSS"], 20);
    assert_eq!(per_family["TRAVERSAL"], 10);

    // A datagram with a wrong token is counted and delivers nothing; a valid one after it
    // arrives (so the wrong one had its turn).
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let syslog = setup.app.edge.syslog_udp.unwrap();
    let datagram = |token: &str, id: &str| {
        format!(
            r#"<190>Dec  2 00:36:16 datastream: {{"ds_token":"{token}","host":"{HOST}","request_id":"{id}","status":"200"}}"#
        )
    };
    udp.send_to(datagram("dsi_wrong", "wrong-token").as_bytes(), syslog)
        .unwrap();
    udp.send_to(datagram(&setup.token, "valid-after").as_bytes(), syslog)
        .unwrap();
    let after = poll(Duration::from_secs(10), || async {
        let records = edge_receiver.records();
        records
            .iter()
            .any(|r| r.contains("valid-after"))
            .then_some(records)
    })
    .await
    .expect("the valid datagram is delivered");
    assert!(!after.iter().any(|r| r.contains("wrong-token")));
    let metrics = scrape(&setup.app.address, METRICS_TOKEN).await;
    assert!(
        metrics.contains("ds_edge_messages_total{input=\"nginx\",outcome=\"no_token\"} 1\n"),
        "{metrics}"
    );
    let audit_entries_taken: u64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(r#"ds_edge_messages_total{input="modsecurity",outcome="accepted"} "#)
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(audit_entries_taken >= 50, "{metrics}");
}

/// Whether the URI nginx or ModSecurity reports is the attack `path` (as reqwest sent it,
/// percent-encoded where a URL must be).
fn uri_matches(uri: &str, path: &str) -> bool {
    let sent = reqwest::Url::parse(&format!("http://x{path}")).unwrap();
    let sent = match sent.query() {
        Some(query) => format!("{}?{query}", sent.path()),
        None => sent.path().to_string(),
    };
    uri == sent
}

#[tokio::test]
async fn syslog_over_tcp_takes_both_framings_and_counts_what_it_drops() {
    let (setup, _) = edge_app().await;
    let receiver = Receiver::start().await;
    save_stream(
        &setup.owner,
        &http_stream(
            "edge",
            &receiver.url,
            setup.domain_id,
            r#"{"id":"$request_id","status":"$status"}"#,
        ),
    )
    .await;
    let message = |id: &str| {
        format!(
            r#"<190>1 2026-12-02T00:36:16.000Z edge1 datastream - - - {{"ds_token":"{}","host":"{HOST}","request_id":"{id}","status":"200"}}"#,
            setup.token
        )
    };
    let counted = message("counted");
    let oversize = message(&"x".repeat(5000));
    let mut tcp = std::net::TcpStream::connect(setup.app.edge.syslog_tcp.unwrap()).unwrap();
    write!(tcp, "{} {counted}", counted.len()).unwrap();
    writeln!(tcp, "{}", message("newline")).unwrap();
    write!(tcp, "{} {oversize}", oversize.len()).unwrap();
    writeln!(
        tcp,
        r#"<190>Dec  2 00:36:16 datastream: {{"ds_token":"{}","host" "not json"}}"#,
        setup.token
    )
    .unwrap();
    writeln!(tcp, "{}", message("last")).unwrap();
    tcp.flush().unwrap();

    let records = poll(Duration::from_secs(10), || async {
        let records = receiver.records();
        records
            .iter()
            .any(|r| r.contains("\"last\""))
            .then_some(records)
    })
    .await
    .expect("the last message is delivered");
    let ids: Vec<String> = records
        .iter()
        .map(|r| parse(r)["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["counted", "newline", "last"]);
    let metrics = scrape(&setup.app.address, METRICS_TOKEN).await;
    for (outcome, count) in [("accepted", 3), ("oversize", 1), ("malformed", 1)] {
        assert!(
            metrics.contains(&format!(
                "ds_edge_messages_total{{input=\"nginx\",outcome=\"{outcome}\"}} {count}\n"
            )),
            "{outcome}: {metrics}"
        );
    }
}

#[tokio::test]
async fn syslog_tcp_slots_go_only_to_senders_with_a_token() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (setup, _) = edge_app().await;
    let address = setup.app.edge.syslog_tcp.unwrap();
    // A sender that never names a valid token is closed (within 10 s of connecting).
    let mut silent = tokio::net::TcpStream::connect(address).await.unwrap();
    silent
        .write_all(b"<190>Dec  2 00:36:16 datastream: {\"ds_token\":\"dsi_wrong\"}\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(20), silent.read(&mut byte)).await;
    assert!(matches!(closed, Ok(Ok(0))), "{closed:?}");
    // One address holds at most 16 connections: the 17th is closed at once.
    let mut open = Vec::new();
    for _ in 0..16 {
        open.push(tokio::net::TcpStream::connect(address).await.unwrap());
    }
    let mut extra = tokio::net::TcpStream::connect(address).await.unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(5), extra.read(&mut byte)).await;
    assert!(matches!(refused, Ok(Ok(0)) | Ok(Err(_))), "{refused:?}");
}
