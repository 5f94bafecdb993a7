//! The typed configuration and the values the console and the data plane share.
//!
//! Layout, in the order a configuration flows:
//! - [`stream`]: the stream form as the browser edits it ([`StreamForm`], strings), parsed
//!   once into a [`StreamConfig`] (typed: data source, template choice, domains with
//!   sampling, endpoint settings) with field-named errors ([`field`]).
//! - [`endpoints`]: one folder per endpoint type (settings, validation, secret and
//!   destination fields, form fields as data, and behind the `sink` feature its I/O); the
//!   registry (`endpoints/mod.rs`) is the only place that lists the types.
//! - [`secret`]: a secret field's value, generic over endpoint types (sealed by storage,
//!   never sent to the browser).
//! - [`template`]: custom templates, rows of their own that streams share.
//! - [`account`]: users, roles, domains, ingest and API tokens as the console shows them.
//! - [`activity`]: the history of configuration changes.
//! - [`bounds`]: the operator's bounds on what a request or an account may cost.
//! - [`delivery`]: what the data plane reports back: status, attempts, counts, spool depth.

/// The serde shape of a newtype over a parsed string (`#[serde(try_from = "String", into =
/// "String")]`): `TryFrom<String>` through the type's `parse`, so a stored or sent value
/// is parsed again when read, and `From<Type> for String`.
macro_rules! string_serde {
    ($($name:ident),* $(,)?) => {$(
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(text: String) -> Result<Self, String> {
                $name::parse(&text)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0.into()
            }
        }
    )*};
}

pub mod account;
pub mod activity;
pub mod bounds;
pub mod delivery;
pub mod endpoints;
pub mod field;
pub mod secret;
pub mod stream;
pub mod template;

pub use account::{
    ApiToken, CreatedApiToken, CreatedToken, CurrentUser, Domain, IngestToken, Member, Role,
};
pub use activity::{ActivityEntry, Via};
pub use bounds::Bounds;
pub use delivery::{
    AttemptOutcome, BusDelivery, DeliveryAttempt, DeliveryStatus, EdgeInput, EdgeInputStatus,
    EdgeOutcome, EdgeStatus, EndpointTestResult, MetricPoint, SpoolDepth, StreamDashboard,
    StreamSummary, format_utc_millis, rfc3339_utc, utc_fields,
};
pub use endpoints::{EndpointForm, EndpointSettings, EndpointType};
pub use field::{FieldError, FieldErrors};
pub use secret::Secret;
pub use stream::{
    CUSTOM_TEMPLATE, Domains, SamplingPercent, StreamConfig, StreamForm, StreamName, TemplateChoice,
};
pub use template::{CustomTemplate, ParsedTemplate, TemplateForm, TemplateName};
