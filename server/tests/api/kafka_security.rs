//! Kafka over TLS and with SASL SCRAM, against the test brokers that require them (nisshi:
//! a TLS listener with the test CA's certificate for `localhost`, and one that also
//! requires SCRAM-SHA-256/512 logins). What arrives is read back over the same protocol.

use std::time::Duration;

use app::model::StreamForm;
use app::model::endpoints::{self, EndpointForm};
use rdkafka::ClientConfig;
use rdkafka::Message;
use serde_json::Value;

use crate::delivery::{HOST, Setup, event, ingest, save_stream, setup};
use crate::endpoints::{consumer_from_start_with, create_topic_with};
use crate::helpers::{invalid_fields, required_env, unique};

const SCRAM_USER_256: &str = "ds-test-scram256";
const SCRAM_USER_512: &str = "ds-test-scram512";

/// A test client's settings for a broker of this protocol, trusting the test CA.
fn client(bootstrap: &str, protocol: &str, user: Option<&str>) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("security.protocol", protocol)
        .set("ssl.ca.location", required_env("DS_TEST_KAFKA_CA"));
    if let Some(user) = user {
        let mechanism = if user == SCRAM_USER_256 {
            "SCRAM-SHA-256"
        } else {
            "SCRAM-SHA-512"
        };
        config
            .set("sasl.mechanism", mechanism)
            .set("sasl.username", user)
            .set(
                "sasl.password",
                required_env("DS_TEST_KAFKA_SCRAM_PASSWORD"),
            );
    }
    config
}

/// The `request_id`s of the first `count` messages of `topic`.
async fn read_ids(config: &ClientConfig, topic: &str, count: usize) -> Vec<String> {
    let consumer = consumer_from_start_with(config, topic);
    let mut ids = Vec::new();
    while ids.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("messages arrive")
            .unwrap();
        let value: Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
        ids.push(value["id"].as_str().unwrap().to_string());
    }
    ids
}

fn kafka_stream(s: &Setup, name: &str, bootstrap: &str, topic: &str) -> StreamForm {
    let mut stream = StreamForm {
        name: name.into(),
        template: "custom".into(),
        custom_template: r#"{"id": "$request_id"}"#.into(),
        domain_ids: vec![s.domain_id],
        ..StreamForm::default()
    };
    stream.endpoint = EndpointForm::new(&endpoints::kafka::TYPE);
    stream.endpoint.set("bootstrap_servers", bootstrap);
    stream.endpoint.set("topic", topic);
    stream
}

fn expected_ids(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("req-{i:06}")).collect()
}

#[tokio::test]
async fn kafka_over_tls_trusts_the_ca_given_and_names_an_untrusted_certificate() {
    let bootstrap = required_env("DS_TEST_KAFKA_SSL_BOOTSTRAP");
    let reader = client(&bootstrap, "SSL", None);
    let topic = unique("ds-tls");
    create_topic_with(&reader, &topic).await;

    let s = setup(100, Duration::from_millis(300)).await;
    let ca = std::fs::read_to_string(required_env("DS_TEST_KAFKA_CA")).unwrap();
    let mut stream = kafka_stream(&s, "Kafka TLS", &bootstrap, &topic);
    stream.endpoint.set("security_protocol", "SSL");
    stream.endpoint.set("ssl_ca_pem", &ca);
    // Before saving, the endpoint test reaches the broker over TLS.
    let (status, result) = s.owner.send_stream("test_endpoint", &stream).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["delivered"], true, "{result}");
    save_stream(&s.owner, &stream).await;
    let body: Vec<String> = (0..120).map(|i| event(i, HOST)).collect();
    let (_, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(answer["accepted"], 120);
    let ids = read_ids(&reader, &topic, 120 + engine::SAMPLE_RECORDS).await;
    // The endpoint test's sample block came first.
    assert_eq!(ids[engine::SAMPLE_RECORDS..], expected_ids(120));

    // Without the CA the system's roots do not trust the test CA: the test names TLS.
    let mut untrusted = kafka_stream(&s, "Kafka TLS untrusted", &bootstrap, &topic);
    untrusted.endpoint.set("security_protocol", "SSL");
    let (_, result) = s.owner.send_stream("test_endpoint", &untrusted).await;
    assert_eq!(result["delivered"], false, "{result}");
    let answer = result["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("Kafka: TLS:") && answer.contains("certificate verify failed"),
        "{answer}"
    );
}

#[tokio::test]
async fn kafka_sasl_scram_over_tls_delivers_for_both_mechanisms_and_names_a_wrong_password() {
    let bootstrap = required_env("DS_TEST_KAFKA_SASL_SSL_BOOTSTRAP");
    let password = required_env("DS_TEST_KAFKA_SCRAM_PASSWORD");
    let ca = std::fs::read_to_string(required_env("DS_TEST_KAFKA_CA")).unwrap();
    let s = setup(100, Duration::from_millis(300)).await;
    let mut topics = Vec::new();
    for (user, mechanism) in [
        (SCRAM_USER_256, "SCRAM-SHA-256"),
        (SCRAM_USER_512, "SCRAM-SHA-512"),
    ] {
        let topic = unique("ds-scram");
        create_topic_with(&client(&bootstrap, "SASL_SSL", Some(user)), &topic).await;
        let mut stream = kafka_stream(&s, mechanism, &bootstrap, &topic);
        stream.endpoint.set("security_protocol", "SASL_SSL");
        stream.endpoint.set("ssl_ca_pem", &ca);
        stream.endpoint.set("sasl_mechanism", mechanism);
        stream.endpoint.set("sasl_username", user);
        stream.endpoint.set("sasl_password", &password);
        let id = save_stream(&s.owner, &stream).await;
        topics.push((user, topic, id));
    }
    let body: Vec<String> = (0..80).map(|i| event(i, HOST)).collect();
    let (_, answer) = ingest(&s, "edge_applications", body.join("\n")).await;
    assert_eq!(answer["accepted"], 80);
    for (user, topic, _) in &topics {
        let reader = client(&bootstrap, "SASL_SSL", Some(user));
        assert_eq!(
            read_ids(&reader, topic, 80).await,
            expected_ids(80),
            "{user}"
        );
    }

    // The password is sealed: the form comes back with it blank and marked stored.
    let (_, form) = s
        .owner
        .call_json("get_stream", &[("id", &topics[0].2.to_string())])
        .await;
    assert_eq!(form["endpoint"]["values"]["sasl_password"], "");
    assert!(
        form["endpoint"]["stored"]
            .as_array()
            .unwrap()
            .contains(&Value::from("sasl_password")),
        "{form}"
    );
    assert!(!form.to_string().contains(&password));

    // A wrong password: the broker refuses the login, and the endpoint test says so.
    let mut wrong = kafka_stream(&s, "Wrong password", &bootstrap, &topics[1].1);
    wrong.endpoint.set("security_protocol", "SASL_SSL");
    wrong.endpoint.set("ssl_ca_pem", &ca);
    wrong.endpoint.set("sasl_mechanism", "SCRAM-SHA-512");
    wrong.endpoint.set("sasl_username", SCRAM_USER_512);
    wrong.endpoint.set("sasl_password", "not-the-password");
    let (_, result) = s.owner.send_stream("test_endpoint", &wrong).await;
    assert_eq!(result["delivered"], false, "{result}");
    let answer = result["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("Kafka: SASL authentication failed"),
        "{answer}"
    );
}

#[tokio::test]
async fn kafka_security_settings_are_checked_field_by_field() {
    let s = setup(100, Duration::from_secs(60)).await;
    let mut stream = kafka_stream(&s, "Bad", "localhost:9093", "events");
    stream.endpoint.set("security_protocol", "SASL_PLAINTEXT");
    stream.endpoint.set("ssl_ca_pem", "not a certificate");
    let (status, body) = s.owner.send_stream("save_stream", &stream).await;
    assert_eq!(status, 422, "{body}");
    let errors = invalid_fields(&body);
    let errors: Vec<(&str, &str)> = errors
        .iter()
        .map(|(f, m)| (f.as_str(), m.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                "endpoint.ssl_ca_pem",
                "CA Certificate is only used with SSL or SASL_SSL"
            ),
            (
                "endpoint.sasl_username",
                "SASL Username is required with SASL_PLAINTEXT and SASL_SSL"
            ),
            ("endpoint.sasl_password", "SASL Password is required"),
        ]
    );
    stream.endpoint.set("security_protocol", "SSL");
    let (_, body) = s.owner.send_stream("save_stream", &stream).await;
    assert_eq!(
        body["InvalidFields"][0]["message"],
        "CA Certificate must be PEM: -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----"
    );
}
