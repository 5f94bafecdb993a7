//! Several instances on one PostgreSQL: what one of them saves, every other one applies;
//! in cluster mode (`--bus`), what any of them accepts, one of them delivers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::automation::{Api, api_token, http_endpoint};
use crate::delivery::event;
use crate::helpers::{Storage, spawn_app, spawn_app_with};
use crate::receiver::Receiver;

const HOST: &str = "cluster.acme.test";

/// An owner's account set up on one instance through the API: the domain [`HOST`] and an
/// ingest token.
struct Account {
    api: Api,
    domain_id: serde_json::Value,
    token: String,
}

async fn set_up_account(app: &crate::helpers::TestApp) -> Account {
    let owner = app.set_up_owner("owner@acme.test").await;
    let api = api_token(app, &owner, "owner").await;
    let (status, domain) = api.post("/domains", &json!({ "name": HOST })).await;
    assert_eq!(status, 201, "{domain}");
    let (_, token) = api.post("/ingest-tokens", &json!({ "name": "edge" })).await;
    Account {
        domain_id: domain["id"].clone(),
        token: token["token"].as_str().unwrap().to_string(),
        api,
    }
}

impl Account {
    /// A stream of the domain's Edge Applications events to the HTTP endpoint `url`.
    async fn stream_to(&self, name: &str, url: &str) -> serde_json::Value {
        let (status, stream) = self
            .api
            .post(
                "/streams",
                &json!({ "name": name, "data_source": "edge_applications",
                         "template": "edge-applications-event-collector",
                         "domain_ids": [self.domain_id], "endpoint": http_endpoint(url) }),
            )
            .await;
        assert_eq!(status, 201, "{stream}");
        stream
    }

    /// Sends events (ids from `first_id`) to the instance at `address` one after another
    /// (each answered before the next) until `receiver` has a record, within 5 s of `saved`.
    /// Returns when each was sent, and which of them was the first delivered: when the
    /// instance started to route to the stream.
    async fn send_until_routed(
        &self,
        address: &str,
        receiver: &Receiver,
        saved: Instant,
        first_id: usize,
    ) -> (Vec<Duration>, usize) {
        let client = reqwest::Client::new();
        let mut sent_at = Vec::new();
        while receiver.records().is_empty() && saved.elapsed() < Duration::from_secs(5) {
            let i = first_id + sent_at.len();
            sent_at.push(saved.elapsed());
            client
                .post(format!("{address}/ingest/edge_applications"))
                .bearer_auth(&self.token)
                .body(event(i, HOST))
                .send()
                .await
                .unwrap();
        }
        let first = receiver
            .records()
            .iter()
            .map(|r| record_id(r) - first_id)
            .min()
            .expect("the other instance delivered the stream");
        assert!(
            sent_at[first] < Duration::from_secs(1),
            "the other instance routed to the stream {:?} after it was saved",
            sent_at[first]
        );
        (sent_at, first)
    }
}

fn record_id(record: &str) -> usize {
    let record: serde_json::Value = serde_json::from_str(record).unwrap();
    let id = record["request_id"].as_str().unwrap();
    id.trim_start_matches("req-").parse().unwrap()
}

/// Instance C runs before the account exists; everything is configured on instance A.
#[tokio::test]
async fn a_stream_saved_on_one_instance_delivers_from_another_within_a_second() {
    let a = spawn_app_with(Storage::Postgres, |s| {
        s.block_max_age = Duration::from_millis(200)
    })
    .await;
    let c = a.another_instance().await;
    let account = set_up_account(&a).await;
    let receiver = Receiver::start().await;
    account.stream_to("From A", &receiver.url).await;
    // C knows the token, the domain and the stream only through A's notifications.
    let (sent_at, first) = account
        .send_until_routed(&c.address, &receiver, Instant::now(), 0)
        .await;
    // From then on C took every event for the stream.
    let expected = sent_at.len() - first;
    let records = receiver
        .wait_for_records(expected, Duration::from_secs(10))
        .await;
    assert_eq!(
        records.len(),
        expected,
        "{first} of {} events before",
        sent_at.len()
    );
}

/// The sign-in limiter counts across instances: guesses spread over two of them are
/// limited as on one.
#[tokio::test]
async fn sign_in_attempts_are_limited_across_instances() {
    let a = spawn_app(Storage::Postgres).await;
    let b = a.another_instance().await;
    a.set_up_owner("owner@acme.test").await;
    let guess = |app: &crate::helpers::TestApp| {
        let browser = app.browser();
        async move {
            browser
                .call_json(
                    "sign_in",
                    &[
                        ("email", "owner@acme.test"),
                        ("password", "wrong password 1"),
                    ],
                )
                .await
                .0
        }
    };
    let max = app::backend::SignInLimiter::MAX_PER_EMAIL_AND_ADDRESS;
    for i in 0..max {
        let instance = if i % 2 == 0 { &a } else { &b };
        assert_eq!(guess(instance).await, 401, "guess {i}");
    }
    assert_eq!(guess(&a).await, 429);
    assert_eq!(guess(&b).await, 429);
}

/// A nisshi broker of this test's own, its log in a database of the test PostgreSQL, so
/// that it survives the broker's restart (the suite's shared brokers keep theirs in memory).
struct Broker {
    port: u16,
    storage: String,
    log: std::path::PathBuf,
    process: tokio::process::Child,
}

impl Broker {
    async fn start(port: u16, storage: String, log: std::path::PathBuf) -> Broker {
        let listener = format!("tcp://127.0.0.1:{port}");
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let process = tokio::process::Command::new("nisshi")
            .args(["broker", "--listener-url", &listener])
            .args(["--advertised-listener-url", &listener])
            .args(["--storage-engine", &storage])
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .kill_on_drop(true)
            .spawn()
            .expect("nisshi is installed (scripts/setup.sh --test)");
        let ready = crate::helpers::poll(Duration::from_secs(30), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
        })
        .await;
        assert!(
            ready.is_some(),
            "nisshi did not listen on {port}: see {}",
            log.display()
        );
        Broker {
            port,
            storage,
            log,
            process,
        }
    }
}

/// The server binary as a cluster member (its output in `log`).
fn member(
    a: &crate::helpers::TestApp,
    name: &str,
    port: u16,
    data_dir: &std::path::Path,
    log: &std::path::Path,
) -> tokio::process::Child {
    let output = std::fs::File::create(log).unwrap();
    let s = &a.settings;
    tokio::process::Command::new(env!("CARGO_BIN_EXE_data-streaming"))
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", &s.effective_database_url()])
        .arg("--secret-key-file")
        .arg(s.effective_secret_key_file())
        .args(["--bus", &format!("kafka://{}", s.bus.as_deref().unwrap())])
        .args(["--bus-partitions", &s.bus_partitions.to_string()])
        .args(["--bus-lanes", &s.bus_lanes.to_string()])
        .args(["--bus-session-timeout", "6s", "--instance-name", name])
        .args(["--block-max-records", &s.block_max_records.to_string()])
        .args(["--block-max-age", "500ms", "--min-free-disk", "0"])
        .args(["--allow-destinations", "127.0.0.0/8"])
        .env("RUST_LOG", "info")
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Per stream partition, the instance that last delivered from it, and when.
async fn deliveries_by_partition(db: &storage::Db) -> HashMap<i32, (String, i64)> {
    use sqlx::Row;
    sqlx::query(
        "SELECT bus_partition, instance, delivered_at FROM bus_progress WHERE delivered_at > 0",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.get::<i32, _>("bus_partition"),
            (row.get("instance"), row.get("delivered_at")),
        )
    })
    .collect()
}

const EVENTS: usize = 100_000;
const PER_REQUEST: usize = 500;
const BLOCK_RECORDS: u32 = 500;

/// Three instances on one PostgreSQL and one Kafka-protocol broker: 100,000 events sent
/// round-robin, one instance SIGKILLed and the broker restarted along the way; every
/// record answered 2xx is delivered, a re-sent block keeps its id, the dead instance's
/// partitions deliver from the others within 20 s, and a stream saved on A delivers
/// through C within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_a_bus_lose_nothing_when_one_is_killed_and_the_broker_restarts() {
    let work = tempfile::tempdir().unwrap();
    let broker_port = crate::durability::free_port();
    let mut broker = Broker::start(
        broker_port,
        crate::helpers::fresh_postgres_database().await,
        work.path().join("nisshi.log"),
    )
    .await;
    let a = spawn_app_with(Storage::Postgres, |s| {
        s.bus = Some(format!("127.0.0.1:{broker_port}"));
        s.bus_partitions = 6;
        s.bus_lanes = 6;
        s.bus_session_timeout = Duration::from_secs(6);
        s.instance_name = Some("a".into());
        s.block_max_records = BLOCK_RECORDS;
        s.block_max_age = Duration::from_millis(500);
    })
    .await;
    let account = set_up_account(&a).await;
    let receiver = Receiver::start().await;
    let busy = account.stream_to("Busy", &receiver.url).await;
    let token = account.token.clone();

    let logs = |name: &str| work.path().join(format!("{name}.log"));
    let (b_port, c_port) = (
        crate::durability::free_port(),
        crate::durability::free_port(),
    );
    let (b_dir, c_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut b = member(&a, "b", b_port, b_dir.path(), &logs("b"));
    let mut c = member(&a, "c", c_port, c_dir.path(), &logs("c"));
    crate::durability::wait_healthy(b_port).await;
    crate::durability::wait_healthy(c_port).await;
    let targets = [
        a.address.clone(),
        format!("http://127.0.0.1:{b_port}"),
        format!("http://127.0.0.1:{c_port}"),
    ];
    let targets_c = targets[2].clone();

    // The sender: requests round-robin, each retried on the next instance until one
    // answers 2xx. It stops twice at a gate: once for the kill, once for the broker.
    let sent = Arc::new(tokio::sync::watch::channel(0usize).0);
    let gates = Arc::new(tokio::sync::Semaphore::new(0));
    let sender = tokio::spawn({
        let (sent, gates, token) = (sent.clone(), gates.clone(), token.clone());
        async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap();
            // Requests answered something else before their 2xx: the records of each may
            // be on the bus twice (a retry after a partly produced request).
            let mut retried = 0usize;
            let requests = EVENTS / PER_REQUEST;
            for request in 0..requests {
                if request == requests / 3 || request == 2 * requests / 3 {
                    gates.acquire().await.unwrap().forget();
                }
                let body: Vec<String> = (request * PER_REQUEST..(request + 1) * PER_REQUEST)
                    .map(|i| event(i, HOST))
                    .collect();
                let body = body.join("\n");
                let mut attempt = 0;
                loop {
                    let target = &targets[(request + attempt) % targets.len()];
                    let answer = client
                        .post(format!("{target}/ingest/edge_applications"))
                        .bearer_auth(&token)
                        .body(body.clone())
                        .send()
                        .await;
                    match answer {
                        Ok(r) if r.status().is_success() => {
                            let answer: serde_json::Value = r.json().await.unwrap();
                            assert_eq!(answer["accepted"], PER_REQUEST, "{answer}");
                            break;
                        }
                        // A 5xx may follow a partial produce; a refused connection took nothing.
                        Ok(_) => retried += 1,
                        Err(e) if e.is_timeout() => retried += 1,
                        Err(_) => {}
                    }
                    attempt += 1;
                    assert!(attempt < 600, "request {request} was never answered 2xx");
                }
                sent.send_replace(request + 1);
            }
            retried
        }
    });

    // First third sent: every instance delivers (the group has all three).
    let db = &a.db;
    let all_deliver = crate::helpers::poll(Duration::from_secs(60), || async {
        let by_partition = deliveries_by_partition(db).await;
        let instances: HashSet<_> = by_partition.values().map(|(i, _)| i.clone()).collect();
        (instances.len() == 3 && *sent.borrow() >= EVENTS / PER_REQUEST / 3).then_some(by_partition)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "not all three instances delivered: logs in {}",
            work.path().display()
        )
    });
    let b_partitions: Vec<i32> = all_deliver
        .iter()
        .filter(|(_, (instance, _))| instance == "b")
        .map(|(p, _)| *p)
        .collect();

    // B is killed while the sender goes on.
    b.start_kill().unwrap();
    let killed = Instant::now();
    let killed_ms = storage::db::now_millis();
    gates.add_permits(1);
    let failover = crate::helpers::poll(Duration::from_secs(30), || async {
        let by_partition = deliveries_by_partition(db).await;
        b_partitions
            .iter()
            .all(|p| {
                by_partition
                    .get(p)
                    .is_some_and(|(instance, at)| instance != "b" && *at > killed_ms)
            })
            .then(|| killed.elapsed())
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "B's partitions {b_partitions:?} did not move: logs in {}",
            work.path().display()
        )
    });
    b.wait().await.unwrap();
    eprintln!(
        "B owned partitions {b_partitions:?}; delivered from another instance {failover:?} after the kill"
    );
    assert!(
        failover <= Duration::from_secs(20),
        "failover took {failover:?}"
    );

    // Two thirds sent: the broker is killed and started again while the sender goes on.
    crate::helpers::poll(Duration::from_secs(120), || async {
        (*sent.borrow() >= 2 * EVENTS / PER_REQUEST / 3).then_some(())
    })
    .await
    .expect("the sender reached its second gate");
    broker.process.start_kill().unwrap();
    broker.process.wait().await.unwrap();
    gates.add_permits(1);
    let ready = || async {
        let r = reqwest::get(format!("{}/readyz", a.address)).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (status, text) = ready().await;
    assert_eq!(
        (status, text.as_str()),
        (503, "not ready: the bus (Kafka) does not answer\n")
    );
    broker = Broker::start(broker.port, broker.storage.clone(), broker.log.clone()).await;
    crate::helpers::poll(Duration::from_secs(30), || async {
        (ready().await.0 == 200).then_some(())
    })
    .await
    .expect("ready again once the broker is back");

    let retried = sender.await.unwrap();
    let seen = distinct_records(&receiver, EVENTS, Duration::from_secs(120)).await;
    let records = receiver.records();
    if seen.len() < EVENTS {
        let mut missing: Vec<_> = (0..EVENTS).filter(|i| !seen.contains_key(i)).collect();
        missing.truncate(10);
        eprintln!("missing, first 10: {missing:?}");
    }
    let duplicates = records.len() - seen.len();
    // Blocks received more than once: each time with the same records.
    let mut blocks: HashMap<String, Vec<String>> = HashMap::new();
    for block in receiver.accepted() {
        let id = block.headers["x-block-id"].to_str().unwrap().to_string();
        blocks.entry(id).or_default().push(block.body);
    }
    let resent: Vec<_> = blocks.values().filter(|bodies| bodies.len() > 1).collect();
    let resent_records: usize = resent
        .iter()
        .map(|bodies| (bodies.len() - 1) * bodies[0].split('\n').count())
        .sum();
    eprintln!(
        "{} records received, {} distinct, {duplicates} duplicates ({} blocks re-sent with \
         their id, {resent_records} records; {retried} requests retried after a non-2xx answer)",
        records.len(),
        seen.len(),
        resent.len()
    );
    assert_eq!(
        seen.len(),
        EVENTS,
        "every record answered 2xx is delivered: logs in {}",
        work.path().display()
    );
    for bodies in &resent {
        assert!(
            bodies.iter().all(|b| b == &bodies[0]),
            "a re-sent block kept its id but not its records"
        );
    }
    // Each duplicate came in a block re-sent with its id (the next owner re-formed the
    // block the lost one was sending), unless the sender's retries produced it twice.
    if retried == 0 {
        assert_eq!(
            duplicates, resent_records,
            "duplicates outside re-sent blocks"
        );
    }
    // At most B's in-flight blocks (one per partition it owned), besides requests that
    // may have been produced twice by the sender's retries.
    let bound = b_partitions.len() * BLOCK_RECORDS as usize + retried * PER_REQUEST;
    assert!(
        duplicates <= bound,
        "{duplicates} duplicates, more than {bound}"
    );

    // A stream saved on A delivers through C within a second.
    let late = Receiver::start().await;
    let stream = account.stream_to("Saved on A", &late.url).await;
    account
        .send_until_routed(&targets_c, &late, Instant::now(), EVENTS)
        .await;
    // Everything delivered: no lag left on either stream (B's last counts, lost with it,
    // cannot make it stay above 0).
    for stream in [&busy, &stream] {
        let drained = crate::helpers::poll(Duration::from_secs(10), || async {
            let path = format!("/streams/{}/status", stream["id"]);
            let (_, status) = account.api.get(&path).await;
            (status["bus"]["lag_records"] == 0).then_some(())
        })
        .await;
        assert!(drained.is_some(), "stream {} still has a lag", stream["id"]);
    }
    c.start_kill().unwrap();
    drop(broker);
}

/// A stream whose endpoint is down fills the bus up to its limit (`--spool-max-bytes`):
/// ingest then answers 503, the lag shows on the stream's status and `/metrics`, and once
/// the endpoint is up everything accepted is delivered and ingest takes events again.
#[tokio::test]
async fn a_stream_past_its_bus_lag_limit_is_refused_until_its_endpoint_catches_up() {
    const METRICS_TOKEN: &str = "bus-metrics-token-0123456789";
    let a = spawn_app_with(Storage::Postgres, |s| {
        s.bus = Some(crate::helpers::required_env("DS_TEST_KAFKA_BOOTSTRAP"));
        s.bus_topic = crate::helpers::unique("lag");
        s.bus_group = crate::helpers::unique("lag-group");
        s.bus_partitions = 2;
        s.spool_max_bytes = 20_000;
        s.block_max_records = 50;
        s.block_max_age = Duration::from_millis(200);
        s.metrics_token = Some(METRICS_TOKEN.into());
        s.instance_name = Some("a-lag".into());
    })
    .await;
    let account = set_up_account(&a).await;
    let (api, token) = (&account.api, &account.token);
    let endpoint_port = crate::durability::free_port();
    let stream = account
        .stream_to("Down", &format!("http://127.0.0.1:{endpoint_port}/logs"))
        .await;

    let client = reqwest::Client::new();
    let send = |batch: usize| {
        let body: Vec<String> = (batch * 50..(batch + 1) * 50)
            .map(|i| event(i, HOST))
            .collect();
        client
            .post(format!("{}/ingest/edge_applications", a.address))
            .bearer_auth(token)
            .body(body.join("\n"))
            .send()
    };
    let (mut accepted, mut batch) = (0u64, 0);
    // Sends until refused: the lag is read back every 0.5 s, so a few batches pass it.
    let mut refused = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while refused.is_none() && Instant::now() < deadline {
        let r = send(batch).await.unwrap();
        batch += 1;
        match r.status().as_u16() {
            200 => accepted += 50,
            503 => refused = Some(r.json::<serde_json::Value>().await.unwrap()),
            other => panic!("unexpected {other}"),
        }
    }
    let refused = refused.expect("ingest refused the stream past its bus lag limit");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("--spool-max-bytes"),
        "{refused}"
    );
    let status = crate::helpers::poll(Duration::from_secs(5), || async {
        let (_, status) = api.get(&format!("/streams/{}/status", stream["id"])).await;
        (status["bus"]["lag_records"] == accepted).then_some(status)
    })
    .await
    .unwrap_or_else(|| panic!("the stream's lag is not its {accepted} accepted records"));
    assert!(
        status["bus"]["lag_bytes"].as_u64().unwrap() >= 20_000,
        "{status}"
    );
    // `/metrics` shows the shared totals, read back every 0.5 s.
    let stream_label = format!("stream_id=\"{}\"", stream["id"]);
    let series = crate::helpers::poll(Duration::from_secs(5), || async {
        let metrics = crate::helpers::scrape(&a.address, METRICS_TOKEN).await;
        metrics
            .lines()
            .find(|line| line.starts_with("ds_bus_lag_records{") && line.contains(&stream_label))
            .map(str::to_string)
    })
    .await
    .expect("the stream's bus lag is on /metrics");
    assert!(series.ends_with(&format!(" {accepted}")), "{series}");

    // The endpoint comes up: every accepted record arrives, the lag drains, ingest takes
    // events again.
    let receiver = Receiver::start_on(endpoint_port).await;
    let records = receiver
        .wait_for_records(accepted as usize, Duration::from_secs(60))
        .await;
    assert_eq!(records.len(), accepted as usize);
    let drained = crate::helpers::poll(Duration::from_secs(10), || async {
        let (_, status) = api.get(&format!("/streams/{}/status", stream["id"])).await;
        (status["bus"]["lag_records"] == 0).then_some(status)
    })
    .await
    .expect("the lag drained");
    assert_eq!(
        drained["bus"]["delivered_by"],
        json!(["a-lag"]),
        "{drained}"
    );
    assert_eq!(send(batch).await.unwrap().status(), 200);
}

/// Two streams share the bus's only partition; one's endpoint is down. Past its lane's
/// memory bound (1 MiB here) its records stay in the partition while the other stream's
/// are delivered — also past the partition's bound (4 MiB), where a partition holding them
/// all would pause; once its endpoint is up, a catch-up reader fetches them: nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_stream_does_not_hold_back_another_in_its_partition() {
    const SENT: usize = 12_000;
    let a = spawn_app_with(Storage::Postgres, |s| {
        s.bus = Some(crate::helpers::required_env("DS_TEST_KAFKA_BOOTSTRAP"));
        s.bus_topic = crate::helpers::unique("fair");
        s.bus_group = crate::helpers::unique("fair-group");
        s.bus_partitions = 1;
        s.bus_stream_memory = 1 << 20;
        s.bus_partition_memory = 4 << 20;
        s.block_max_records = 500;
        s.block_max_age = Duration::from_millis(200);
    })
    .await;
    let account = set_up_account(&a).await;
    // The fine receiver first: the stuck one's port, free until the end, is another.
    let fine = Receiver::start().await;
    let stuck_port = crate::durability::free_port();
    let stuck = account
        .stream_to("Stuck", &format!("http://127.0.0.1:{stuck_port}/logs"))
        .await;
    account.stream_to("Fine", &fine.url).await;

    let client = reqwest::Client::new();
    for batch in 0..SENT / 1000 {
        let body: Vec<String> = (batch * 1000..(batch + 1) * 1000)
            .map(|i| event(i, HOST))
            .collect();
        let r = client
            .post(format!("{}/ingest/edge_applications", a.address))
            .bearer_auth(&account.token)
            .body(body.join("\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let records = fine.wait_for_records(SENT, Duration::from_secs(60)).await;
    assert_eq!(records.len(), SENT, "the stream beside the stuck one");
    let (_, status) = account
        .api
        .get(&format!("/streams/{}/status", stuck["id"]))
        .await;
    let waiting = status["bus"]["lag_bytes"].as_u64().unwrap();
    assert!(
        waiting > 4 << 20,
        "the stuck stream holds {waiting} bytes, not past the partition's bound: {status}"
    );

    let receiver = Receiver::start_on(stuck_port).await;
    let ids = distinct_records(&receiver, SENT, Duration::from_secs(90)).await;
    assert_eq!(ids.len(), SENT, "the stuck stream's records");
}

/// Waits until `receiver` has `count` distinct records (duplicates do not count), or
/// `timeout` passed; each record's number of arrivals. Counting every record is costly:
/// the records are parsed only once there are enough of them.
async fn distinct_records(
    receiver: &Receiver,
    count: usize,
    timeout: Duration,
) -> HashMap<usize, usize> {
    let seen = || {
        let mut seen: HashMap<usize, usize> = HashMap::new();
        for record in receiver.records() {
            *seen.entry(record_id(&record)).or_default() += 1;
        }
        seen
    };
    let until = Instant::now() + timeout;
    let mut enough = count;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let arrived = receiver.wait_for_records(enough, left).await.len();
        let distinct = seen();
        if arrived < enough || distinct.len() >= count || Instant::now() >= until {
            return distinct;
        }
        // Duplicates among them: at least one more record is needed.
        enough = arrived + 1;
    }
}

/// In cluster mode the Edge page counts what every instance's edge inputs took: a syslog
/// message sent to B shows on A.
#[tokio::test]
async fn the_edge_status_counts_the_messages_of_every_instance() {
    let a = spawn_app_with(Storage::Postgres, |s| {
        s.bus = Some(crate::helpers::required_env("DS_TEST_KAFKA_BOOTSTRAP"));
        s.bus_topic = crate::helpers::unique("edge");
        s.bus_group = crate::helpers::unique("edge-group");
        s.bus_partitions = 1;
        s.syslog_udp = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let b = a.another_instance().await;
    let owner = a.set_up_owner("owner@acme.test").await;
    let api = api_token(&a, &owner, "owner").await;
    api.post("/domains", &json!({ "name": HOST })).await;
    let (_, token) = api.post("/ingest-tokens", &json!({ "name": "edge" })).await;
    let token = token["token"].as_str().unwrap().to_string();

    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let datagram = format!(
        r#"<190>Dec  4 00:36:16 datastream: {{"ds_token":"{token}","host":"{HOST}","request_id":"req-000001","status":"200"}}"#
    );
    let nginx_on_a = crate::helpers::poll(Duration::from_secs(15), || async {
        // UDP: sent again until it shows (B learns the token through A's notification).
        udp.send_to(datagram.as_bytes(), b.edge.syslog_udp.unwrap())
            .unwrap();
        let (status, edge) = owner.call_json("get_edge_status", &[]).await;
        assert_eq!(status, 200, "{edge}");
        let nginx = edge["inputs"][0].clone();
        nginx["last_event_at"].is_i64().then_some(nginx)
    })
    .await
    .expect("A's Edge status shows the message B took");
    assert_eq!(nginx_on_a["input"], "Nginx", "{nginx_on_a}");
    let accepted = &nginx_on_a["counts"][0];
    assert_eq!(accepted[0], "Accepted", "{nginx_on_a}");
    assert!(accepted[1].as_u64().unwrap() >= 1, "{nginx_on_a}");
}
