//! An endpoint type's part of the stream form, as data: each type lists its fields
//! ([`FieldSpec`]) and the form renders them; the values travel as an [`EndpointForm`],
//! which the type parses.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::field::FieldError;
use crate::secret::Secret;

/// One input of an endpoint type's form.
#[derive(Debug)]
pub struct FieldSpec {
    /// Its key in [`EndpointForm`]; errors name it `endpoint.<key>`.
    pub key: &'static str,
    pub label: &'static str,
    /// The input element's id.
    pub id: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub placeholder: &'static str,
}

impl FieldSpec {
    /// A text input.
    pub const fn text(
        key: &'static str,
        label: &'static str,
        id: &'static str,
        required: bool,
        placeholder: &'static str,
    ) -> FieldSpec {
        FieldSpec {
            key,
            label,
            id,
            kind: FieldKind::Text,
            required,
            placeholder,
        }
    }
}

#[derive(Debug)]
pub enum FieldKind {
    Text,
    /// Text of several lines (a PEM certificate).
    Multiline,
    /// Never sent back to the browser; blank keeps the stored value.
    Secret,
    /// One of these values; the first is the default.
    Choice(&'static [&'static str]),
    /// Name–value rows whose values are secrets (custom headers); `item` names one row.
    SecretPairs {
        item: &'static str,
    },
}

/// One name–value row of a [`FieldKind::SecretPairs`] field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub name: String,
    pub value: String,
}

/// The endpoint part of the stream form, for any endpoint type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointForm {
    /// The chosen type's id.
    pub endpoint_type: String,
    /// Text, secret and choice fields by key.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Row fields (custom headers) by key.
    #[serde(default)]
    pub lists: BTreeMap<String, Vec<Pair>>,
    /// The secrets saved for this stream, by secret key: their fields may stay blank.
    #[serde(default)]
    pub stored: BTreeSet<String>,
}

impl EndpointForm {
    /// A form of this type with its fields' defaults.
    pub fn new(kind: &super::EndpointType) -> EndpointForm {
        let mut form = EndpointForm {
            endpoint_type: kind.id.to_string(),
            ..EndpointForm::default()
        };
        for spec in kind.fields {
            if let FieldKind::Choice(options) = spec.kind {
                form.set(spec.key, options[0]);
            }
        }
        form
    }

    /// The field's text, trimmed ("" when absent).
    pub fn text(&self, key: &str) -> &str {
        self.values.get(key).map_or("", |v| v.trim())
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_string(), value.into());
    }

    pub fn rows(&self, key: &str) -> &[Pair] {
        self.lists.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn rows_mut(&mut self, key: &str) -> &mut Vec<Pair> {
        self.lists.entry(key.to_string()).or_default()
    }

    /// Whether the secret under `secret_key` is saved for this stream.
    pub fn is_stored(&self, secret_key: &str) -> bool {
        self.stored.contains(secret_key)
    }

    /// A required secret: the typed value, else the stored one if there is one.
    pub fn secret(&self, key: &str, label: &str) -> Result<Secret, FieldError> {
        secret_value(
            self.values.get(key).map_or("", String::as_str),
            self.is_stored(key),
        )
        .ok_or_else(|| FieldError::new(format!("endpoint.{key}"), format!("{label} is required")))
    }
}

/// A typed value wins; blank keeps a stored one; blank with nothing stored is `None`.
pub fn secret_value(typed: &str, stored: bool) -> Option<Secret> {
    if !typed.is_empty() {
        Some(Secret::Given(typed.to_string()))
    } else if stored {
        Some(Secret::Stored)
    } else {
        None
    }
}
