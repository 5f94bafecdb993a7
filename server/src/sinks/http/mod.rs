//! Standard HTTP/HTTPS POST: the block is the request body.

mod config;
mod sink;

pub use config::HttpSinkConfig;
pub use sink::HttpSink;
