//! The in-process streaming engine: events in, templated blocks out.
//!
//! No web or database dependencies: the server feeds it events and stream definitions and
//! spools the rendered records in blocks ([`BlockLimits`]). The hot path per event is
//! [`EventFields::parse`] (one validating scan, borrowed values), [`RoutingTable::route`]
//! and [`Template::render`] (byte copies). It builds for wasm32 too: the console uses it.
//!
//! The modules, in the order data flows through them:
//!
//! - [`catalog`]: the data sources, their variables and the preset templates.
//! - [`event`]: an event line, scanned for the values wanted ([`EventFields`], [`FieldSet`]).
//! - [`template`]: a data set compiled once, rendered per event into a record ([`Template`]).
//! - [`routing`]: the streams each event goes to ([`RoutingTable`]), and the sampling of
//!   All Domains streams.
//! - [`block`]: when the records of a stream are sealed into a block ([`BlockLimits`]).
//! - [`preview`]: the sample block of a template, as the console shows and "Test endpoint"
//!   sends it ([`sample_block`]).
//! - [`edge`]: a real edge (nginx + ModSecurity) as the source: where each variable comes
//!   from, and the configuration lines that send them.
//! - `generate`: the traffic generator (`EventGenerator`), behind the `generator` feature.

pub mod block;
pub mod catalog;
pub mod edge;
pub mod event;
#[cfg(feature = "generator")]
pub mod generate;
pub mod preview;
pub mod routing;
pub mod template;

pub use block::BlockLimits;
pub use catalog::{
    DataSource, PRESETS, Preset, UnknownDataSource, Variable, VariableId, presets_for, sample_event,
};
pub use event::{EventError, EventFields, FieldSet, JsonStr, RawValue};
#[cfg(feature = "generator")]
pub use generate::EventGenerator;
pub use preview::{SAMPLE_HOST, SAMPLE_RECORDS, sample_block};
pub use routing::{DomainFilter, RoutingTable, StreamSpec};
pub use template::{RecordTooLarge, Template, TemplateError};
