//! Smoke tests proving the Kafka-protocol broker and the S3-protocol server are real and used.

use std::time::Duration;

use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::helpers::{required_env, unique};

#[tokio::test]
async fn kafka_produce_then_consume_round_trip() {
    let bootstrap = required_env("DS_TEST_KAFKA_BOOTSTRAP");
    let topic = unique("smoke");

    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let created = admin
        .create_topics(
            &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(created.iter().all(|r| r.is_ok()), "{created:?}");

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .create()
        .unwrap();
    let sent: Vec<String> = (0..100).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
    for payload in &sent {
        producer
            .send(
                FutureRecord::<(), _>::to(&topic).payload(payload),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .expect("broker acknowledges");
    }

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", unique("smoke-group"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&topic]).unwrap();
    let mut received = Vec::new();
    while received.len() < sent.len() {
        let msg = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("messages arrive within 30 s")
            .unwrap();
        received.push(String::from_utf8(msg.payload().unwrap().to_vec()).unwrap());
    }
    assert_eq!(received, sent);
}

fn s3_client(secret_key: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(required_env("DS_TEST_S3_ENDPOINT"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            required_env("DS_TEST_S3_ACCESS_KEY"),
            secret_key,
            None,
            None,
            "test",
        ))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test]
async fn s3_put_then_get_round_trip() {
    let client = s3_client(&required_env("DS_TEST_S3_SECRET_KEY"));
    let bucket = unique("smoke");
    client.create_bucket().bucket(&bucket).send().await.unwrap();

    let body = "{\"a\":1}\n{\"a\":2}";
    client
        .put_object()
        .bucket(&bucket)
        .key("logs_1_abc")
        .content_type("plain/text")
        .body(ByteStream::from_static(body.as_bytes()))
        .send()
        .await
        .unwrap();
    let got = client
        .get_object()
        .bucket(&bucket)
        .key("logs_1_abc")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("plain/text"));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], body.as_bytes());

    let wrong = s3_client("not-the-secret");
    let err = wrong
        .put_object()
        .bucket(&bucket)
        .key("denied")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("a wrong secret key is rejected");
    let text = format!("{:?}", err);
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
}
