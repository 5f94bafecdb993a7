//! The destination check (SSRF), secrets and loops: no tenant reaches the host's network
//! through an endpoint, and no stream delivers into a Data Streaming ingest.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::StreamForm;
use app::model::endpoints::{self, EndpointForm, Pair};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{RData, Record, RecordType, rdata::A};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
use rdkafka::consumer::Consumer;
use serde_json::{Value, json};

use crate::delivery::{HOST, event, http_stream, ingest, save_stream, setup_on, wait_for_status};
use crate::endpoints::{create_topic, objects, s3_client, s3_stream};
use crate::helpers::{Storage, required_env, unique};
use crate::receiver::Receiver;

/// A DNS server answering `A` queries for one name with an address the test changes.
struct TestDns {
    addr: SocketAddr,
    answer: Arc<Mutex<Ipv4Addr>>,
}

impl TestDns {
    async fn start(name: &'static str, first: Ipv4Addr) -> TestDns {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let answer = Arc::new(Mutex::new(first));
        let current = answer.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
                let Ok(query) = Message::from_bytes(&buf[..n]) else {
                    continue;
                };
                let mut response = Message::new();
                response
                    .set_id(query.id())
                    .set_message_type(MessageType::Response)
                    .set_op_code(query.op_code())
                    .set_recursion_desired(query.recursion_desired())
                    .set_recursion_available(true)
                    .set_authoritative(true);
                response.add_queries(query.queries().to_vec());
                let mut known = false;
                for q in query.queries() {
                    if q.name().to_ascii().trim_end_matches('.') != name {
                        continue;
                    }
                    known = true;
                    if q.query_type() == RecordType::A {
                        let ip = *current.lock().unwrap();
                        // TTL 0: every lookup asks again.
                        response.add_answer(Record::from_rdata(
                            q.name().clone(),
                            0,
                            RData::A(A(ip)),
                        ));
                    }
                }
                if !known {
                    response.set_response_code(ResponseCode::NXDomain);
                }
                let _ = socket.send_to(&response.to_bytes().unwrap(), peer).await;
            }
        });
        TestDns { addr, answer }
    }

    fn answer(&self, ip: Ipv4Addr) {
        *self.answer.lock().unwrap() = ip;
    }
}

/// The message of the field error on `field` in a 422 answer.
fn field_error(answer: &Value, field: &str) -> String {
    answer["InvalidFields"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == field))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error on {field}: {answer}"))
        .to_string()
}

fn kafka_stream(domain_id: i64, bootstrap: &str, topic: &str) -> StreamForm {
    let mut stream = StreamForm {
        name: "Kafka".into(),
        template: "custom".into(),
        custom_template: r#"{"id": "$request_id"}"#.into(),
        domain_ids: vec![domain_id],
        ..StreamForm::default()
    };
    stream.endpoint = EndpointForm::new(&endpoints::kafka::TYPE);
    stream.endpoint.set("bootstrap_servers", bootstrap);
    stream.endpoint.set("topic", topic);
    stream
}

#[tokio::test]
async fn the_host_network_is_refused_on_save_and_test_for_every_endpoint_type() {
    // The operator allowed nothing.
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.allow_destinations.clear()
    })
    .await;
    for (url, expected) in [
        (
            "https://10.0.0.5/in",
            "Endpoint URL: 10.0.0.5 is a private address; the operator can allow it with --allow-destinations",
        ),
        (
            "http://169.254.169.254/latest/meta-data/",
            "the cloud metadata address",
        ),
        ("http://[::1]:9000/in", "::1 is a loopback address"),
        (
            "http://localhost:9000/in",
            "127.0.0.1 is a loopback address",
        ),
        ("http://100.64.1.1/in", "a shared (CGNAT) address"),
    ] {
        let stream = http_stream("Private", url, s.domain_id, r#"{"id": "$request_id"}"#);
        let (status, answer) = s.owner.send_stream("save_stream", &stream).await;
        assert_eq!(status, 422, "{url}: {answer}");
        let message = field_error(&answer, "endpoint.url");
        assert!(message.contains(expected), "{url}: {message}");
        let (status, answer) = s.owner.send_stream("test_endpoint", &stream).await;
        assert_eq!(status, 422, "Test endpoint {url}: {answer}");
        assert!(field_error(&answer, "endpoint.url").contains(expected));
    }

    let s3 = s3_stream(s.domain_id, "bucket", "plain/text", "secret");
    let (status, answer) = s.owner.send_stream("save_stream", &s3).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        field_error(&answer, "endpoint.host_url")
            .starts_with("Host URL: 127.0.0.1 is a loopback address"),
        "{answer}"
    );
    let kafka = kafka_stream(s.domain_id, "192.168.7.7:9092", "logs");
    let (status, answer) = s.owner.send_stream("save_stream", &kafka).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        field_error(&answer, "endpoint.bootstrap_servers")
            .starts_with("Bootstrap Servers: 192.168.7.7 is a private address"),
        "{answer}"
    );
    let (_, list) = s.owner.call_json("list_streams", &[]).await;
    assert_eq!(list, json!([]), "nothing refused was saved");
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_after_the_save_gets_nothing() {
    let dns = TestDns::start("rebind.acme.test", Ipv4Addr::new(93, 184, 216, 34)).await;
    let dns_addr = dns.addr;
    let s = setup_on(Storage::Sqlite, move |settings| {
        settings.allow_destinations.clear();
        settings.destination_dns = Some(dns_addr);
        settings.block_max_age = Duration::from_millis(200);
    })
    .await;
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit_once(':').unwrap().1; // "<port>/logs"
    let url = format!("http://rebind.acme.test:{port}");
    // Public when saved.
    let stream = http_stream("Rebound", &url, s.domain_id, r#"{"id": "$request_id"}"#);
    let (status, answer) = s.owner.send_stream("save_stream", &stream).await;
    assert_eq!(status, 200, "{answer}");

    // Loopback at delivery: the loopback receiver behind the name gets nothing.
    dns.answer(Ipv4Addr::LOCALHOST);
    let body: Vec<String> = (0..20).map(|i| event(i, HOST)).collect();
    let (code, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!((code, answer["accepted"].as_i64()), (200, Some(20)));
    let status = wait_for_status(&s, |status| status["blocks_failed"] == 1).await;
    assert_eq!(status["blocks_failed"], 1, "{status}");
    assert_eq!(
        status["last_error"],
        "127.0.0.1 is a loopback address; the operator can allow it with --allow-destinations",
        "{status}"
    );
    assert!(receiver.accepted().is_empty(), "the receiver got nothing");
}

#[tokio::test]
async fn an_s3_host_name_that_turns_to_loopback_stores_nothing() {
    let dns = TestDns::start("s3.acme.test", Ipv4Addr::new(93, 184, 216, 34)).await;
    let dns_addr = dns.addr;
    let s = setup_on(Storage::Sqlite, move |settings| {
        settings.allow_destinations.clear();
        settings.destination_dns = Some(dns_addr);
        settings.block_max_age = Duration::from_millis(200);
    })
    .await;
    let bucket = unique("ds-rebind");
    let client = s3_client();
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let mut stream = s3_stream(
        s.domain_id,
        &bucket,
        "plain/text",
        &required_env("DS_TEST_S3_SECRET_KEY"),
    );
    let port = required_env("DS_TEST_S3_ENDPOINT")
        .rsplit_once(':')
        .unwrap()
        .1
        .to_string();
    stream
        .endpoint
        .set("host_url", format!("http://s3.acme.test:{port}"));
    let (status, answer) = s.owner.send_stream("save_stream", &stream).await;
    assert_eq!(status, 200, "{answer}");
    dns.answer(Ipv4Addr::LOCALHOST);
    let body: Vec<String> = (0..10).map(|i| event(i, HOST)).collect();
    ingest(&s, "edge_applications", body.join("\n")).await;
    let status = wait_for_status(&s, |status| status["blocks_failed"] == 1).await;
    assert_eq!(status["blocks_failed"], 1, "{status}");
    assert!(
        status["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1 is a loopback address"),
        "{status}"
    );
    assert!(objects(&client, &bucket).await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn kafka_brokers_the_cluster_advertises_are_checked_too() {
    let bootstrap = required_env("DS_TEST_KAFKA_BOOTSTRAP");
    let port = bootstrap.rsplit_once(':').unwrap().1.to_string();
    let topic = unique("ds-advertised");
    create_topic(&bootstrap, &topic).await;
    // The operator allowed the name `localhost` only; the broker advertises 127.0.0.1.
    let s = setup_on(Storage::Sqlite, |settings| {
        settings.allow_destinations = vec!["localhost".parse().unwrap()];
        settings.block_max_age = Duration::from_millis(200);
    })
    .await;
    let stream = kafka_stream(s.domain_id, &format!("localhost:{port}"), &topic);
    save_stream(&s.owner, &stream).await;
    let body: Vec<String> = (0..10).map(|i| event(i, HOST)).collect();
    ingest(&s, "edge_applications", body.join("\n")).await;
    let status = wait_for_status(&s, |status| status["blocks_failed"] == 1).await;
    assert_eq!(status["blocks_failed"], 1, "{status}");
    assert_eq!(
        status["last_error"],
        "a broker the cluster advertises: 127.0.0.1 is a loopback address; \
         the operator can allow it with --allow-destinations",
        "{status}"
    );
    let consumer = crate::endpoints::consumer_from_start(&bootstrap, &topic);
    let watermarks = consumer
        .fetch_watermarks(&topic, 0, Duration::from_secs(10))
        .unwrap();
    assert_eq!(watermarks, (0, 0), "no message was produced");
}

#[tokio::test]
async fn no_stream_delivers_into_a_data_streaming_ingest() {
    // Loopback is allowed (the test services), this server's own address is not.
    let a = setup_on(Storage::Sqlite, |s| {
        s.block_max_age = Duration::from_millis(200);
    })
    .await;
    let own = format!("{}/ingest/edge_applications", a.app.address);
    let stream = http_stream("Loop", &own, a.domain_id, r#"{"id": "$request_id"}"#);
    let (status, answer) = a.owner.send_stream("save_stream", &stream).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        field_error(&answer, "endpoint.url").contains("this server's own address"),
        "{answer}"
    );

    // Another Data Streaming server refuses what a stream sends it: two servers' streams
    // cannot feed each other.
    let b = setup_on(Storage::Sqlite, |_| {}).await;
    let mut into_b = http_stream(
        "Into B",
        &format!("{}/ingest/edge_applications", b.app.address),
        a.domain_id,
        r#"{"host": "$host", "request_id": "$request_id"}"#,
    );
    into_b.endpoint.rows_mut("headers")[0] = Pair {
        name: "Authorization".into(),
        value: format!("Bearer {}", b.token),
    };
    save_stream(&a.owner, &into_b).await;
    let body: Vec<String> = (0..5).map(|i| event(i, HOST)).collect();
    ingest(&a, "edge_applications", body.join("\n")).await;
    let status = wait_for_status(&a, |status| status["blocks_failed"] == 1).await;
    assert_eq!(
        status["blocks_failed"], 1,
        "refused for good, kept: {status}"
    );
    assert!(
        status["last_error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("HTTP 508 Loop Detected"),
        "{status}"
    );
    let hop = reqwest::Client::new()
        .post(format!("{}/ingest/edge_applications", b.app.address))
        .bearer_auth(&b.token)
        .header("X-Data-Streaming-Hop", "1")
        .body(event(1, HOST))
        .send()
        .await
        .unwrap();
    assert_eq!(hop.status(), 508, "the hop header alone is refused");
}
