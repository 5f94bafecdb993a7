//! The Data Streaming server: settings, start-up, HTTP routes.
//!
//! `main.rs` only parses the command line and calls [`startup::Application`]; tests build
//! the same application on port 0.

pub mod demo;
pub mod ingest;
pub mod pipeline;
pub mod routes;
pub mod security;
pub mod settings;
pub mod sinks;
pub mod startup;
pub mod telemetry;
pub mod tools;
