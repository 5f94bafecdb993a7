//! The running engine: per-account routing built from the saved configuration, a spool and
//! a worker per active stream, and live reloads.
//!
//! Flow: ingest renders each request's records per stream and appends them to the
//! stream's spool on disk before it answers; the worker seals blocks and delivers them.
//! An endpoint that is down or slow only makes its spool grow, up to the spool size limit;
//! a full spool makes ingest answer 503 (nothing of that request accepted, the sender
//! retries). Memory per stream stays small: records wait on disk, not in memory.

mod consumer;
mod retry;
mod spool;
pub mod stats;
mod worker;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

use engine::{BlockLimits, DomainFilter, FieldSet, RoutingTable, StreamSpec, Template};
use model::endpoints::BlockBudget;
use model::endpoints::sink::{Clients, OutgoingBlock, Sink};
use model::{Domains, EndpointSettings, EndpointTestResult, FieldError, SpoolDepth};
use storage::bus::{BusLag, LagDelta};
use storage::secrets::SecretBox;
use storage::{Db, DbError};

use crate::bus::{Bus, BusError, BusSettings};

pub use spool::{Spool, append_all};
use stats::{Stats, StreamLabels};
use worker::StreamWorker;
/// Where and how much the engine spools.
#[derive(Clone, Debug)]
pub struct PipelineSettings {
    pub limits: BlockLimits,
    /// `<data-dir>/spool`: one folder per stream.
    pub spool_dir: PathBuf,
    /// Per stream; past it ingest answers 503 until the endpoint catches up.
    pub spool_max_bytes: u64,
    /// How long the delivery log keeps an attempt.
    pub delivery_log_retention: std::time::Duration,
    /// What one request or one account may cost.
    pub bounds: model::Bounds,
    /// Cluster mode: the bus instead of the spools.
    pub bus: Option<BusSettings>,
}

/// Why the engine did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("--bus: {0}")]
    Bus(#[from] BusError),
    #[error("--bus: {0}")]
    Consumer(String),
}

/// Cluster mode: what the bus consumer needs of a stream it delivers (active, or
/// inactive with records still on the bus).
#[derive(Clone)]
pub struct BusStream {
    pub account_id: i64,
    /// `None` while the stream's settings cannot make one (its records wait).
    pub sink: Option<Arc<dyn Sink>>,
    pub budget: Option<BlockBudget>,
}

/// The dashboard's "delivered by" names the instances that delivered within this.
const DELIVERED_BY_WITHIN: std::time::Duration = std::time::Duration::from_secs(300);

/// How often an instance adds its bus counts to the shared totals and reads them back.
const BUS_LAG_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// What ingest needs for one account, swapped whole on every reload.
pub struct AccountRoutes {
    pub table: RoutingTable,
    pub field_set: FieldSet,
    /// The account's domains, lowercase: events for other hosts are dropped and counted.
    pub domains: rustc_hash::FxHashSet<String>,
    /// The spool of each active stream.
    pub spools: HashMap<i64, Arc<Spool>>,
    /// Cluster mode: each active stream's destination budget (its records go to the bus).
    pub bus_streams: HashMap<i64, Option<BlockBudget>>,
}

struct Inner {
    db: Db,
    stats: Arc<Stats>,
    secrets: SecretBox,
    settings: PipelineSettings,
    clients: Clients,
    accounts: RwLock<HashMap<i64, Arc<AccountRoutes>>>,
    /// SHA-256 of each ingest token → its account.
    tokens: RwLock<HashMap<String, i64>>,
    workers: Mutex<HashMap<i64, StreamWorker>>,
    /// Reloads run one at a time, each reading the latest configuration.
    reloading: tokio::sync::Mutex<()>,
    /// This process among the instances on one database (configuration notifications).
    instance: String,
    bus: Option<Bus>,
    /// Cluster mode: the streams the bus consumer delivers.
    bus_streams: RwLock<HashMap<i64, BusStream>>,
    /// Cluster mode: this instance's counts not yet added to the totals…
    bus_counts: Mutex<HashMap<i64, LagDelta>>,
    /// …and every stream's lag as last read.
    bus_lags: RwLock<HashMap<i64, BusLag>>,
}

#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

impl Pipeline {
    /// Loads every account's configuration and starts the workers of its active streams.
    /// `clients`: what the sinks connect with (the destination check).
    pub async fn start(
        db: Db,
        secrets: SecretBox,
        mut settings: PipelineSettings,
        clients: Clients,
    ) -> Result<Pipeline, StartError> {
        // The free-disk floor is measured here, before any stream has a spool.
        if let Err(e) = std::fs::create_dir_all(&settings.spool_dir) {
            tracing::error!(error = %e, dir = %settings.spool_dir.display(), "spool folder cannot be created");
        }
        let bus = match &settings.bus {
            Some(bus) => Some(Bus::connect(bus.clone()).await?),
            None => None,
        };
        if bus.is_some() {
            // A record must fit in one message on the bus.
            let bound = &mut settings.bounds.record_bytes;
            *bound = (*bound).min(crate::bus::MAX_MESSAGE_BYTES);
        }
        let stats = Arc::new(Stats::default());
        stats::spawn_writer(stats.clone(), db.clone(), settings.delivery_log_retention);
        let pipeline = Pipeline {
            inner: Arc::new(Inner {
                stats,
                db,
                secrets,
                settings,
                clients,
                accounts: RwLock::default(),
                tokens: RwLock::default(),
                workers: Mutex::default(),
                reloading: tokio::sync::Mutex::new(()),
                instance: uuid::Uuid::new_v4().simple().to_string(),
                bus,
                bus_streams: RwLock::default(),
                bus_counts: Mutex::default(),
                bus_lags: RwLock::default(),
            }),
        };
        // Listening before the first load: a change made meanwhile is not missed.
        let changes = pipeline
            .inner
            .db
            .configuration_changes(&pipeline.inner.instance)
            .await?;
        pipeline.reload_all().await?;
        if let Some(changes) = changes {
            tokio::spawn(pipeline.clone().follow(changes));
        }
        if let Some(bus) = pipeline.bus_settings() {
            pipeline.inner.stats.share_edge_counts();
            consumer::start(pipeline.clone(), bus).map_err(StartError::Consumer)?;
            tokio::spawn(pipeline.clone().share_bus_counts());
        }
        Ok(pipeline)
    }

    /// The account's edge inputs: this instance's since it started, or in cluster mode every
    /// instance's (as of their last flush).
    pub async fn edge_status(&self, account_id: i64) -> model::EdgeStatus {
        if self.inner.bus.is_none() {
            return self.inner.stats.edge_status(account_id);
        }
        match self.inner.db.edge_counts(account_id).await {
            Ok(rows) => stats::edge_status_of(&rows),
            Err(e) => {
                tracing::warn!(account_id, error = %e, "edge counts not read: this instance's shown");
                self.inner.stats.edge_status(account_id)
            }
        }
    }

    /// Cluster mode's settings.
    pub fn bus_settings(&self) -> Option<&BusSettings> {
        self.inner.bus.as_ref().map(|bus| &bus.settings)
    }

    pub fn bus(&self) -> Option<&Bus> {
        self.inner.bus.as_ref()
    }

    /// A stream the bus consumer delivers, `None` when this instance does not know it.
    pub fn bus_stream(&self, stream_id: i64) -> Option<BusStream> {
        self.inner
            .bus_streams
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&stream_id)
            .cloned()
    }

    /// Cluster mode: the stream's lag and the instances that delivered it in the last
    /// [`DELIVERED_BY_WITHIN`]; `None` on a single instance.
    pub async fn bus_delivery(
        &self,
        account_id: i64,
        stream_id: i64,
    ) -> Option<model::BusDelivery> {
        self.inner.bus.as_ref()?;
        let lag = self.bus_lag(stream_id);
        let since = storage::db::now_millis() - DELIVERED_BY_WITHIN.as_millis() as i64;
        let delivered_by = self
            .inner
            .db
            .bus_delivering_instances(account_id, stream_id, since)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(stream_id, error = %e, "bus: delivering instances not read");
                Vec::new()
            });
        Some(model::BusDelivery {
            lag_records: lag.records,
            lag_bytes: lag.bytes,
            delivered_by,
        })
    }

    /// The stream's lag on the bus: every instance's as last read, with this instance's
    /// counts not yet shared.
    pub fn bus_lag(&self, stream_id: i64) -> BusLag {
        let mut lag = {
            let lags = self
                .inner
                .bus_lags
                .read()
                .unwrap_or_else(|p| p.into_inner());
            lags.get(&stream_id).copied().unwrap_or_default()
        };
        let counts = self
            .inner
            .bus_counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(own) = counts.get(&stream_id) {
            lag.account_id = own.account_id;
            lag.records = lag.records.saturating_add(own.accepted_records as u64);
            lag.bytes = lag.bytes.saturating_add(own.accepted_bytes as u64);
        }
        lag
    }

    /// The bytes on the bus over all of an account's streams (as last read).
    pub fn bus_account_lag_bytes(&self, account_id: i64) -> u64 {
        let lags = self
            .inner
            .bus_lags
            .read()
            .unwrap_or_else(|p| p.into_inner());
        lags.values()
            .filter(|lag| lag.account_id == account_id)
            .map(|lag| lag.bytes)
            .sum()
    }

    /// Ingest put these records on the bus.
    pub fn count_bus_accepted(&self, labels: StreamLabels, records: usize, bytes: usize) {
        let mut counts = self
            .inner
            .bus_counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let delta = counts.entry(labels.stream_id).or_default();
        delta.account_id = labels.account_id;
        delta.accepted_records += records as i64;
        delta.accepted_bytes += bytes as i64;
    }

    /// Adds this instance's bus counts to the shared totals and reads every stream's lag
    /// back, every [`BUS_LAG_EVERY`]; counts a failed write keeps for the next.
    async fn share_bus_counts(self) {
        let mut every = tokio::time::interval(BUS_LAG_EVERY);
        loop {
            every.tick().await;
            let counts = std::mem::take(
                &mut *self
                    .inner
                    .bus_counts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            );
            if let Err(e) = self.inner.db.add_bus_lag(&counts).await {
                tracing::warn!(error = %e, "bus: lag counts not written, kept for the next try");
                let mut pending = self
                    .inner
                    .bus_counts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                for (stream_id, delta) in counts {
                    let kept = pending.entry(stream_id).or_default();
                    kept.account_id = delta.account_id;
                    kept.accepted_records += delta.accepted_records;
                    kept.accepted_bytes += delta.accepted_bytes;
                }
                continue;
            }
            match self.inner.db.bus_lags().await {
                Ok(lags) => {
                    *self
                        .inner
                        .bus_lags
                        .write()
                        .unwrap_or_else(|p| p.into_inner()) = lags
                }
                Err(e) => tracing::warn!(error = %e, "bus: lag not read"),
            }
        }
    }

    async fn reload_all(&self) -> Result<(), DbError> {
        for account_id in self.inner.db.account_ids().await? {
            self.reload(account_id).await?;
        }
        Ok(())
    }

    /// Applies the changes other instances on the database made (Postgres), within the
    /// time a notification takes.
    async fn follow(self, mut changes: storage::notify::ConfigurationChanges) {
        loop {
            let reloaded = match changes.next().await {
                Ok(storage::notify::Change::Account(account_id)) => self.reload(account_id).await,
                Ok(storage::notify::Change::Everything) => self.reload_all().await,
                Err(e) => {
                    tracing::warn!(error = %e, "configuration notifications: retrying in 1 s");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = reloaded {
                tracing::error!(error = %e, "a change from another instance not applied");
            }
        }
    }

    /// Applies a change made here: reloads the account, then tells the other instances.
    pub async fn apply(&self, account_id: i64) -> Result<(), DbError> {
        self.reload(account_id).await?;
        self.inner
            .db
            .notify_configuration(&self.inner.instance, account_id)
            .await
    }

    /// The account an ingest token belongs to.
    pub fn account_for_token(&self, token: &str) -> Option<i64> {
        let hash = storage::tokens::token_hash(token);
        self.inner
            .tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&hash)
            .copied()
    }

    /// Readiness: a file can be created in the spool folder.
    pub async fn check_spool_writable(&self) -> std::io::Result<()> {
        let dir = self.inner.settings.spool_dir.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            // Own name per probe: probes may run at once.
            let probe = dir.join(format!(".ready-probe-{}", uuid::Uuid::new_v4()));
            std::fs::write(&probe, b"")?;
            std::fs::remove_file(&probe)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    pub fn settings(&self) -> &PipelineSettings {
        &self.inner.settings
    }

    pub fn bounds(&self) -> &model::Bounds {
        &self.inner.settings.bounds
    }

    /// The free bytes under the spool when they are below the floor (`--min-free-disk`):
    /// spools must never fill the disk the database lives on.
    pub fn free_disk_below_floor(&self) -> Option<u64> {
        let stat = rustix::fs::statvfs(&self.inner.settings.spool_dir).ok()?;
        let free = stat.f_bavail.saturating_mul(stat.f_frsize);
        (free < self.inner.settings.bounds.min_free_disk_bytes).then_some(free)
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Writes the stats gathered since the last periodic flush (at shutdown).
    pub async fn flush_stats(&self) {
        self.inner.stats.flush(&self.inner.db).await;
    }

    /// The Prometheus text exposition of the engine. Blocking (lists spool folders).
    pub fn metrics_text(&self) -> String {
        let spools: Vec<_> = {
            let workers = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            workers
                .iter()
                .map(|(id, worker)| {
                    let labels = StreamLabels {
                        account_id: worker.account_id,
                        stream_id: *id,
                    };
                    (labels, worker.spool.clone())
                })
                .collect()
        };
        // Outside the lock: reading a spool lists its folder.
        let depths: Vec<_> = spools
            .into_iter()
            .map(|(labels, spool)| (labels, spool.depth()))
            .collect();
        let bus_lags: Vec<_> = if self.inner.bus.is_some() {
            let lags = self
                .inner
                .bus_lags
                .read()
                .unwrap_or_else(|p| p.into_inner());
            lags.iter()
                .map(|(stream_id, lag)| {
                    let labels = StreamLabels {
                        account_id: lag.account_id,
                        stream_id: *stream_id,
                    };
                    (labels, *lag)
                })
                .collect()
        } else {
            Vec::new()
        };
        let active = if self.inner.bus.is_some() {
            let streams = self
                .inner
                .bus_streams
                .read()
                .unwrap_or_else(|p| p.into_inner());
            streams.values().filter(|s| s.sink.is_some()).count()
        } else {
            depths.len()
        };
        self.inner.stats.encode(active, &depths, &bus_lags)
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
    /// has its worker drain, seal and deliver what it holds, then end — also after a
    /// restart (an inactive stream with blocks waiting gets a draining worker). A deleted
    /// stream's worker ends at once and its spool is removed (the console asked first).
    pub async fn reload(&self, account_id: i64) -> Result<(), DbError> {
        let inner = &self.inner;
        let _one_at_a_time = inner.reloading.lock().await;
        let mut streams = Vec::new();
        // Why a stream could not start, shown on the list and the dashboard.
        let mut not_started: HashMap<i64, String> = HashMap::new();
        for stream in inner.db.streams(account_id, &inner.secrets).await? {
            match stream {
                Ok(stream) => streams.push(stream),
                Err((id, e)) => {
                    tracing::error!(stream_id = id, error = %e, "stream not started: unreadable settings");
                    not_started.insert(id, format!("Stored settings: {e}"));
                }
            }
        }
        let domains = inner.db.domains(account_id).await?;
        let names_by_id: HashMap<i64, String> =
            domains.iter().map(|d| (d.id, d.name.clone())).collect();

        let mut specs = Vec::new();
        let mut sinks: HashMap<i64, Arc<dyn Sink>> = HashMap::new();
        let mut budgets = HashMap::new();
        for stream in streams.iter().filter(|s| s.config.active) {
            let built = stream
                .template()
                .map_err(|e| format!("Template: {e}"))
                .and_then(|t| Ok((t, stream.config.endpoint.endpoint().sink(&inner.clients)?)));
            let (template, sink) = match built {
                Ok(built) => built,
                Err(e) => {
                    tracing::error!(stream_id = stream.id, error = %e, "stream not started");
                    not_started.insert(stream.id, e);
                    continue;
                }
            };
            let domains = match &stream.config.domains {
                Some(Domains::All { sampling }) => DomainFilter::All {
                    sampling_percent: sampling.get(),
                },
                Some(Domains::List(ids)) => DomainFilter::List(
                    ids.iter()
                        .filter_map(|d| names_by_id.get(d).cloned())
                        .collect(),
                ),
                None => DomainFilter::All {
                    sampling_percent: 100,
                },
            };
            specs.push(StreamSpec {
                id: stream.id,
                account_id,
                data_source: stream.config.data_source,
                domains,
                template: Arc::new(template),
                active: true,
            });
            sinks.insert(stream.id, sink);
            budgets.insert(stream.id, stream.config.endpoint.endpoint().block_budget());
        }

        // Streams that exist (also those whose settings cannot be read): the others were
        // deleted.
        let existing: std::collections::HashSet<i64> = streams
            .iter()
            .map(|s| s.id)
            .chain(not_started.keys().copied())
            .collect();
        let mut discarded = Vec::new();
        let spools = if inner.bus.is_some() {
            self.set_bus_streams(account_id, &streams, &sinks, &budgets, &not_started);
            HashMap::new()
        } else {
            let mut workers = inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            // Workers of deleted streams end now (their spool goes with them); workers that
            // drained and ended leave too. Either way their series leave the metrics.
            let leaving: Vec<(i64, bool)> = workers
                .iter()
                .filter_map(|(id, worker)| {
                    let deleted = worker.account_id == account_id && !existing.contains(id);
                    (deleted || worker.is_finished()).then_some((*id, deleted))
                })
                .collect();
            for (stream_id, deleted) in leaving {
                if let Some(worker) = workers.remove(&stream_id) {
                    worker.abort();
                    inner.stats.forget(&StreamLabels {
                        account_id: worker.account_id,
                        stream_id,
                    });
                    if deleted {
                        discarded.push(inner.settings.spool_dir.join(stream_id.to_string()));
                    }
                }
            }
            // Streams of this account that stopped: their workers drain the spool, then end.
            for (id, worker) in workers.iter().filter(|(_, w)| w.account_id == account_id) {
                worker
                    .stopping
                    .store(!sinks.contains_key(id), Ordering::Relaxed);
            }
            let mut spools = HashMap::new();
            for (id, sink) in &sinks {
                let budget = budgets.get(id).copied().flatten();
                if let Some(worker) = workers.get(id) {
                    worker.stopping.store(false, Ordering::Relaxed);
                    worker.sink.send_replace(sink.clone());
                    if let Err(e) = worker.spool.set_budget(budget) {
                        tracing::error!(stream_id = id, error = %e, "spool: the open block cannot be sealed for its new size limit");
                    }
                    spools.insert(*id, worker.spool.clone());
                    continue;
                }
                let dir = inner.settings.spool_dir.join(id.to_string());
                let opened =
                    Spool::open(dir, inner.settings.limits, inner.settings.spool_max_bytes)
                        .and_then(|spool| spool.set_budget(budget).map(|()| spool));
                let spool = match opened {
                    Ok(spool) => Arc::new(spool),
                    Err(e) => {
                        tracing::error!(stream_id = id, error = %e, "stream not started: its spool cannot be opened");
                        not_started.insert(*id, format!("Spool: {e}"));
                        continue;
                    }
                };
                let target = worker::Target {
                    db: inner.db.clone(),
                    account_id,
                    stream_id: *id,
                    stats: inner.stats.clone(),
                };
                workers.insert(*id, worker::spawn(target, spool.clone(), sink.clone()));
                spools.insert(*id, spool);
            }
            // Inactive streams with blocks waiting and no worker (after a restart): a worker
            // that drains them, then ends.
            let draining: Vec<_> = streams
                .iter()
                .filter(|s| !sinks.contains_key(&s.id) && !workers.contains_key(&s.id))
                .map(|s| (s, inner.settings.spool_dir.join(s.id.to_string())))
                .filter(|(_, dir)| Spool::has_waiting(dir))
                .collect();
            for (stream, dir) in draining {
                let started = stream
                    .config
                    .endpoint
                    .endpoint()
                    .sink(&inner.clients)
                    .and_then(|sink| {
                        let spool =
                            Spool::open(dir, inner.settings.limits, inner.settings.spool_max_bytes)
                                .map_err(|e| format!("Spool: {e}"))?;
                        Ok((sink, Arc::new(spool)))
                    });
                match started {
                    Ok((sink, spool)) => {
                        let target = worker::Target {
                            db: inner.db.clone(),
                            account_id,
                            stream_id: stream.id,
                            stats: inner.stats.clone(),
                        };
                        let worker = worker::spawn(target, spool, sink);
                        worker.stopping.store(true, Ordering::Relaxed);
                        workers.insert(stream.id, worker);
                    }
                    Err(e) => {
                        tracing::error!(stream_id = stream.id, error = %e, "inactive stream's waiting blocks cannot be delivered");
                        not_started.insert(stream.id, e);
                    }
                }
            }
            spools
        };
        for dir in discarded {
            if let Err(e) = tokio::fs::remove_dir_all(&dir).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::error!(dir = %dir.display(), error = %e, "a deleted stream's spool cannot be removed");
            }
        }
        // Streams taking records: with a spool each, or (cluster mode) to the bus.
        let running = spools.len()
            + if inner.bus.is_some() {
                budgets.len()
            } else {
                0
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
            bus_streams: if inner.bus.is_some() {
                budgets
            } else {
                HashMap::new()
            },
        };
        inner
            .accounts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account_id, Arc::new(routes));

        let tokens = inner.db.all_ingest_token_hashes().await?;
        *inner.tokens.write().unwrap_or_else(|p| p.into_inner()) = tokens.into_iter().collect();
        inner.db.set_engine_errors(account_id, &not_started).await?;
        tracing::info!(account_id, streams = running, "configuration applied");
        Ok(())
    }

    /// Cluster mode: the account's streams the bus consumer delivers, each with the
    /// endpoint in force — active ones, inactive ones (records may still be on the bus), and
    /// those that cannot start (held until their settings are fixed, never dropped).
    fn set_bus_streams(
        &self,
        account_id: i64,
        streams: &[storage::streams::StreamRecord],
        sinks: &HashMap<i64, Arc<dyn Sink>>,
        budgets: &HashMap<i64, Option<BlockBudget>>,
        not_started: &HashMap<i64, String>,
    ) {
        let mut delivered: HashMap<i64, BusStream> = streams
            .iter()
            .map(|stream| {
                let endpoint = stream.config.endpoint.endpoint();
                let sink = match sinks.get(&stream.id) {
                    Some(sink) => Some(sink.clone()),
                    None => endpoint.sink(&self.inner.clients).ok(),
                };
                let budget = budgets
                    .get(&stream.id)
                    .copied()
                    .unwrap_or_else(|| endpoint.block_budget());
                let delivered = BusStream {
                    account_id,
                    sink,
                    budget,
                };
                (stream.id, delivered)
            })
            .collect();
        for id in not_started.keys() {
            delivered.entry(*id).or_insert(BusStream {
                account_id,
                sink: None,
                budget: None,
            });
        }
        let mut known = self
            .inner
            .bus_streams
            .write()
            .unwrap_or_else(|p| p.into_inner());
        known.retain(|_, stream| stream.account_id != account_id);
        known.extend(delivered);
    }

    /// What waits in the stream's spool (nothing when the stream has no worker). In
    /// cluster mode: the stream's bus lag in bytes.
    pub async fn spool_depth(&self, stream_id: i64) -> SpoolDepth {
        if self.inner.bus.is_some() {
            return SpoolDepth {
                bytes: self.bus_lag(stream_id).bytes,
                ..SpoolDepth::default()
            };
        }
        let spool = {
            let workers = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            workers.get(&stream_id).map(|w| w.spool.clone())
        };
        let Some(spool) = spool else {
            return SpoolDepth::default();
        };
        // Reading a spool lists its folders: off the async workers.
        tokio::task::spawn_blocking(move || spool.depth())
            .await
            .unwrap_or_default()
    }

    /// The destination check on the endpoint's hosts (at save and test time): a field
    /// error for each field naming a refused destination. Names that do not resolve yet
    /// pass; every connection is checked again.
    pub async fn check_destination(&self, endpoint: &EndpointSettings) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = Vec::new();
        for address in endpoint.endpoint().addresses() {
            if errors.iter().any(|e| e.field == address.field) {
                continue;
            }
            if let Err(refusal) = self
                .inner
                .clients
                .destinations
                .check_destination(&address.host, address.port)
                .await
            {
                errors.push(FieldError::new(
                    address.field,
                    format!("{}: {refusal}", address.label),
                ));
            }
        }
        errors
    }

    /// Sends one sample block ([`engine::sample_block`]) rendered with `template` to the
    /// endpoint, once and without retries; reports what the endpoint answered.
    pub async fn test_endpoint(
        &self,
        template: &Template,
        endpoint: &EndpointSettings,
    ) -> EndpointTestResult {
        let failed = |answer: String| EndpointTestResult {
            delivered: false,
            answer,
            records: 0,
            duration_ms: 0,
        };
        let body = match engine::sample_block(template) {
            Ok(body) => body,
            Err(e) => return failed(format!("Template: {e}")),
        };
        let sink = match endpoint.endpoint().sink(&self.inner.clients) {
            Ok(sink) => sink,
            Err(e) => return failed(e),
        };
        let block = OutgoingBlock {
            id: uuid::Uuid::new_v4(),
            records: engine::SAMPLE_RECORDS,
            body: body.into(),
            sealed_at: std::time::SystemTime::now(),
        };
        let started = std::time::Instant::now();
        let outcome = sink.deliver(&block).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let (delivered, answer) = match outcome {
            Ok(acknowledged) => (true, acknowledged.answer),
            Err(error) => (false, error.to_string()),
        };
        EndpointTestResult {
            delivered,
            answer,
            records: block.records,
            duration_ms,
        }
    }

    /// Queues the stream's set-aside blocks again; returns how many.
    pub fn redeliver_failed(&self, stream_id: i64) -> usize {
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
}
