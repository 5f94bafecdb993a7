//! Command-line tools in the server binary: the traffic generator and a counting receiver,
//! and a private nginx + ModSecurity edge for the demo and the tests.

pub mod edge;
pub mod generate;
pub mod receive;
