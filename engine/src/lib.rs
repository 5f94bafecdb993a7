//! The in-process streaming engine: events in, templated blocks out.
//!
//! No web or database dependencies: the server feeds it events and stream definitions and
//! spools the rendered records in blocks ([`BlockLimits`]). The hot path per event is
//! [`EventFields::parse`] (one validating scan, borrowed values), [`RoutingTable::route`]
//! and [`Template::render`] (byte copies). It builds for wasm32 too: the console uses it.

pub mod block;
pub mod catalog;
pub mod event;
pub mod generate;
pub mod preview;
pub mod routing;
pub mod sampling;
pub mod template;

pub use block::BlockLimits;
pub use catalog::{
    DataSource, PRESETS, Preset, UnknownDataSource, Variable, VariableId, presets_for, sample_event,
};
pub use event::{EventError, EventFields, FieldSet, JsonStr, RawValue};
pub use generate::EventGenerator;
pub use preview::{SAMPLE_HOST, SAMPLE_RECORDS, sample_block};
pub use routing::{DomainFilter, RoutingTable, StreamSpec};
pub use template::{Template, TemplateError};
