//! Command-line tools in the server binary: the traffic generator and a counting receiver.

pub mod generate;
pub mod receive;
