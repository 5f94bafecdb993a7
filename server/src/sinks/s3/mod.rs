//! Simple Storage Service (S3) and compatible hosts: one object per block.

mod config;
mod sink;

pub use config::{S3Compression, S3SinkConfig};
pub use sink::{S3Sink, object_key};
