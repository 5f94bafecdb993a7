//! The running engine: per-account routing built from the saved configuration, a worker
//! per active stream that seals blocks and delivers them, and live reloads.
//!
//! Flow control: ingest renders each request's records per stream and hands them to the
//! stream's worker through a bounded channel; the worker hands sealed blocks to its
//! delivery task through another. When an endpoint cannot keep up, both fill and ingest
//! *waits* (the sender's HTTP request takes longer): records are never dropped and memory
//! per stream stays bounded (see [`RECORD_CHUNKS_PER_STREAM`], [`BLOCKS_PER_STREAM`]).

mod worker;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use app::backend::secrets::SecretBox;
use app::backend::{ConfigListener, Db, DbError};
use app::model::{CUSTOM_TEMPLATE, EndpointType};
use engine::{
    BlockLimits, DataSource, DomainFilter, FieldSet, Preset, RoutingTable, StreamSpec, Template,
};
use tokio::sync::{mpsc, watch};

use crate::sinks::Sink;
use crate::sinks::http::{HttpSink, HttpSinkConfig};
use crate::sinks::kafka::{KafkaSink, KafkaSinkConfig};
use crate::sinks::s3::{S3Sink, S3SinkConfig};
pub use worker::RecordChunk;

/// Rendered-record chunks (one per ingest request) waiting for a stream's worker.
pub const RECORD_CHUNKS_PER_STREAM: usize = 16;
/// Sealed blocks waiting for a stream's delivery.
pub const BLOCKS_PER_STREAM: usize = 2;

/// What ingest needs for one account, swapped whole on every reload.
pub struct AccountRoutes {
    pub table: RoutingTable,
    pub field_set: FieldSet,
    /// The account's domains, lowercase: events for other hosts are dropped and counted.
    pub domains: HashSet<String>,
    pub senders: HashMap<i64, mpsc::Sender<RecordChunk>>,
}

struct StreamWorker {
    sender: mpsc::Sender<RecordChunk>,
    sink: watch::Sender<Arc<dyn Sink>>,
}

struct Inner {
    db: Db,
    secrets: SecretBox,
    limits: BlockLimits,
    http: reqwest::Client,
    accounts: RwLock<HashMap<i64, Arc<AccountRoutes>>>,
    /// SHA-256 of each ingest token → its account.
    tokens: RwLock<HashMap<String, i64>>,
    workers: Mutex<HashMap<i64, StreamWorker>>,
    /// Reloads run one at a time, each reading the latest configuration.
    reloading: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

impl Pipeline {
    /// Loads every account's configuration and starts the workers of its active streams.
    pub async fn start(
        db: Db,
        secrets: SecretBox,
        limits: BlockLimits,
    ) -> Result<Pipeline, DbError> {
        let pipeline = Pipeline {
            inner: Arc::new(Inner {
                db,
                secrets,
                limits,
                http: reqwest::Client::new(),
                accounts: RwLock::default(),
                tokens: RwLock::default(),
                workers: Mutex::default(),
                reloading: tokio::sync::Mutex::new(()),
            }),
        };
        for account_id in pipeline.inner.db.account_ids().await? {
            pipeline.reload(account_id).await?;
        }
        Ok(pipeline)
    }

    /// The account an ingest token belongs to.
    pub fn account_for_token(&self, token: &str) -> Option<i64> {
        let hash = app::backend::tokens::token_hash(token);
        self.inner
            .tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&hash)
            .copied()
    }

    pub fn routes(&self, account_id: i64) -> Option<Arc<AccountRoutes>> {
        self.inner
            .accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&account_id)
            .cloned()
    }

    /// Applies the account's saved configuration to the running engine. Records already
    /// accepted stay with their stream's worker: a stream that stays active keeps its
    /// worker (new template and endpoint apply to what comes next); a stream that stops
    /// has its worker drain, seal and deliver what it holds, then end.
    pub async fn reload(&self, account_id: i64) -> Result<(), DbError> {
        let inner = &self.inner;
        let _one_at_a_time = inner.reloading.lock().await;
        let streams = inner.db.streams(account_id, &inner.secrets).await?;
        let domains = inner.db.domains(account_id).await?;
        let names_by_id: HashMap<i64, String> =
            domains.iter().map(|d| (d.id, d.name.clone())).collect();

        let mut specs = Vec::new();
        let mut sinks: HashMap<i64, Arc<dyn Sink>> = HashMap::new();
        for stream in streams.iter().filter(|s| s.input.active) {
            let Some(id) = stream.input.id else { continue };
            let sink: Arc<dyn Sink> = match stream.input.endpoint.endpoint_type {
                EndpointType::Http => {
                    match HttpSinkConfig::from_stream(&stream.input.endpoint, &stream.secrets) {
                        Ok(config) => Arc::new(HttpSink::new(inner.http.clone(), config)),
                        Err(e) => {
                            tracing::error!(stream_id = id, error = %e, "stream not started: bad endpoint settings");
                            continue;
                        }
                    }
                }
                EndpointType::S3 => Arc::new(S3Sink::new(S3SinkConfig::from_stream(
                    &stream.input.endpoint,
                    &stream.secrets,
                ))),
                EndpointType::Kafka => {
                    match KafkaSink::new(KafkaSinkConfig::from_stream(&stream.input.endpoint)) {
                        Ok(sink) => Arc::new(sink),
                        Err(e) => {
                            tracing::error!(stream_id = id, error = %e, "stream not started: bad endpoint settings");
                            continue;
                        }
                    }
                }
            };
            let Ok(source) = stream.input.data_source.parse::<DataSource>() else {
                continue;
            };
            let text = if stream.input.template == CUSTOM_TEMPLATE {
                stream.input.custom_template.clone()
            } else {
                match Preset::find(&stream.input.template) {
                    Some(preset) => preset.template_text(),
                    None => continue,
                }
            };
            let template = match Template::compile(&text, source) {
                Ok(t) => Arc::new(t),
                Err(e) => {
                    tracing::error!(stream_id = id, error = %e, "stream not started: template does not compile");
                    continue;
                }
            };
            let domains = if stream.input.all_domains {
                DomainFilter::All {
                    sampling_percent: stream.input.sampling.trim().parse().unwrap_or(100),
                }
            } else {
                DomainFilter::List(
                    stream
                        .input
                        .domain_ids
                        .iter()
                        .filter_map(|d| names_by_id.get(d).cloned())
                        .collect(),
                )
            };
            specs.push(StreamSpec {
                id,
                account_id,
                data_source: source,
                domains,
                template,
                active: true,
            });
            sinks.insert(id, sink);
        }

        let senders = {
            let mut workers = inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            let account_stream_ids: HashSet<i64> =
                streams.iter().filter_map(|s| s.input.id).collect();
            // Streams of this account that stopped: forget their workers (they drain and end).
            workers.retain(|id, _| !account_stream_ids.contains(id) || sinks.contains_key(id));
            for (id, sink) in &sinks {
                match workers.get(id) {
                    Some(worker) => {
                        worker.sink.send_replace(sink.clone());
                    }
                    None => {
                        let target = worker::Target {
                            db: inner.db.clone(),
                            account_id,
                            stream_id: *id,
                        };
                        workers.insert(*id, worker::spawn(target, sink.clone(), inner.limits));
                    }
                }
            }
            sinks
                .keys()
                .map(|id| (*id, workers[id].sender.clone()))
                .collect()
        };
        let table = RoutingTable::new(specs);
        let routes = AccountRoutes {
            field_set: table.field_set(),
            table,
            domains: domains
                .iter()
                .map(|d| d.name.to_ascii_lowercase())
                .collect(),
            senders,
        };
        inner
            .accounts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account_id, Arc::new(routes));

        let tokens = inner.db.all_ingest_token_hashes().await?;
        *inner.tokens.write().unwrap_or_else(|p| p.into_inner()) = tokens.into_iter().collect();
        tracing::info!(account_id, streams = sinks.len(), "configuration applied");
        Ok(())
    }
}

impl ConfigListener for Pipeline {
    fn account_changed(&self, account_id: i64) {
        let pipeline = self.clone();
        tokio::spawn(async move {
            if let Err(e) = pipeline.reload(account_id).await {
                tracing::error!(account_id, error = %e, "applying the configuration failed");
            }
        });
    }
}
