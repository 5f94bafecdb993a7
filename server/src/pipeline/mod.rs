//! The running engine: per-account routing built from the saved configuration, a spool and
//! a worker per active stream, and live reloads.
//!
//! Flow: ingest renders each request's records per stream and appends them to the
//! stream's spool on disk before it answers; the worker seals blocks and delivers them.
//! An endpoint that is down or slow only makes its spool grow, up to the spool size limit;
//! a full spool makes ingest answer 503 (nothing of that request accepted, the sender
//! retries). Memory per stream stays small: records wait on disk, not in memory.

mod spool;
mod worker;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use app::backend::secrets::SecretBox;
use app::backend::{ConfigListener, Db, DbError};
use app::model::{CUSTOM_TEMPLATE, EndpointType};
use engine::{
    BlockLimits, DataSource, DomainFilter, FieldSet, Preset, RoutingTable, StreamSpec, Template,
};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use crate::sinks::Sink;
use crate::sinks::http::{HttpSink, HttpSinkConfig};
use crate::sinks::kafka::{KafkaSink, KafkaSinkConfig};
use crate::sinks::s3::{S3Sink, S3SinkConfig};
pub use spool::Spool;
use worker::StreamWorker;

/// Where and how much the engine spools.
#[derive(Clone, Debug)]
pub struct PipelineSettings {
    pub limits: BlockLimits,
    /// `<data-dir>/spool`: one folder per stream.
    pub spool_dir: PathBuf,
    /// Per stream; past it ingest answers 503 until the endpoint catches up.
    pub spool_max_bytes: u64,
}

/// What ingest needs for one account, swapped whole on every reload.
pub struct AccountRoutes {
    pub table: RoutingTable,
    pub field_set: FieldSet,
    /// The account's domains, lowercase: events for other hosts are dropped and counted.
    pub domains: HashSet<String>,
    /// The spool of each active stream.
    pub spools: HashMap<i64, Arc<Spool>>,
}

struct Inner {
    db: Db,
    secrets: SecretBox,
    settings: PipelineSettings,
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
        settings: PipelineSettings,
    ) -> Result<Pipeline, DbError> {
        let pipeline = Pipeline {
            inner: Arc::new(Inner {
                db,
                secrets,
                settings,
                // A redirect would turn the POST into a GET and carry the custom (secret)
                // headers to another host: 3xx is an error instead.
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default(),
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
                    sampling_percent: stream.input.sampling_percent(),
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

        let spools = {
            let mut workers = inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            // Streams of this account that stopped (or were deleted): their workers drain
            // the spool, then end.
            for (id, worker) in workers.iter().filter(|(_, w)| w.account_id == account_id) {
                worker
                    .stopping
                    .store(!sinks.contains_key(id), Ordering::Relaxed);
            }
            workers.retain(|_, worker| !worker.is_finished());
            let mut spools = HashMap::new();
            for (id, sink) in &sinks {
                if let Some(worker) = workers.get(id) {
                    worker.stopping.store(false, Ordering::Relaxed);
                    worker.sink.send_replace(sink.clone());
                    spools.insert(*id, worker.spool.clone());
                    continue;
                }
                let dir = inner.settings.spool_dir.join(id.to_string());
                let spool = match Spool::open(
                    dir,
                    inner.settings.limits,
                    inner.settings.spool_max_bytes,
                ) {
                    Ok(spool) => Arc::new(spool),
                    Err(e) => {
                        tracing::error!(stream_id = id, error = %e, "stream not started: its spool cannot be opened");
                        continue;
                    }
                };
                let target = worker::Target {
                    db: inner.db.clone(),
                    account_id,
                    stream_id: *id,
                };
                workers.insert(*id, worker::spawn(target, spool.clone(), sink.clone()));
                spools.insert(*id, spool);
            }
            spools
        };
        let table = RoutingTable::new(specs);
        let routes = AccountRoutes {
            field_set: table.field_set(),
            table,
            domains: domains
                .iter()
                .map(|d| d.name.to_ascii_lowercase())
                .collect(),
            spools,
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
    fn redeliver_failed(&self, stream_id: i64) -> usize {
        let workers = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
        match workers.get(&stream_id).map(|w| w.spool.redeliver_failed()) {
            Some(Ok(count)) => count,
            Some(Err(e)) => {
                tracing::error!(stream_id, error = %e, "spool: redelivery failed");
                0
            }
            None => 0,
        }
    }

    fn account_changed(&self, account_id: i64) {
        let pipeline = self.clone();
        tokio::spawn(async move {
            if let Err(e) = pipeline.reload(account_id).await {
                tracing::error!(account_id, error = %e, "applying the configuration failed");
            }
        });
    }
}
