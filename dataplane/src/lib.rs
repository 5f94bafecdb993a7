//! The data plane: events in, blocks delivered. It depends on neither the console nor
//! leptos (the test command checks it with `cargo tree`).
//!
//! Layout, in data-flow order:
//! - [`ingest`]: the ingest API (NDJSON per data source, bearer ingest tokens): each
//!   event is routed, rendered per stream and appended to the streams' spools.
//! - [`pipeline`]: the running engine: per-account routing rebuilt from storage on every
//!   configuration change; each stream's disk spool and worker (seal by size or age,
//!   deliver in order through the endpoint type's sink with retries, set refused blocks
//!   aside); stats for `/metrics` and the dashboard.
//! - [`bus`]: cluster mode instead of the spools: ingest produces each stream's records
//!   to a Kafka topic, and the pipeline's bus consumer (one group over every instance)
//!   builds and delivers the blocks of the partitions it owns.
//!
//! The endpoint types' sinks live with their settings in `model::endpoints` (feature
//! `sink`); storage is the `storage` crate.

pub mod bus;
pub mod edge;
pub mod ingest;
pub mod pipeline;
