//! The Data Streaming server: the console (`app`) and the data plane (`dataplane`) in one
//! binary, with its settings, start-up and operations routes.
//!
//! `main.rs` only parses the command line and calls [`startup::Application`]; tests build
//! the same application on port 0. [`engine_control`] is the one join of the two: the
//! console's handle on the running pipeline. [`api`] is the automation API (`/api/v1`),
//! on the console's operations.

pub mod api;
pub mod demo;
pub mod engine_control;
pub mod routes;
pub mod security;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod tools;
