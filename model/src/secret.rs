//! A secret field's value (an S3 secret key, a header value). Each endpoint type names its
//! secret fields ([`crate::endpoints::Endpoint::secrets_mut`]); storage seals their values
//! apart from the settings, the browser only learns that one is stored, and a blank field
//! keeps the stored value — for any endpoint type.

/// `Debug` never shows the value; settings serialise without it (`#[serde(skip)]`).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Secret {
    /// The value saved for this stream: storage fills it in (a blank form field, or
    /// settings read back before their sealed secrets are opened).
    #[default]
    Stored,
    Given(String),
}

impl Secret {
    /// The value, once given or filled in from storage.
    pub fn value(&self) -> Option<&str> {
        match self {
            Secret::Given(value) => Some(value),
            Secret::Stored => None,
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Secret::Stored => "Secret(stored)",
            Secret::Given(_) => "Secret(<redacted>)",
        })
    }
}

/// One secret field of an endpoint's settings.
pub struct SecretField<'a> {
    /// Its key among the stream's sealed secrets, e.g. `secret_key`, `headers.x-api-key`.
    pub key: String,
    /// The form field it is entered in, for errors, e.g. `endpoint.headers.0.value`.
    pub field: String,
    pub label: String,
    pub secret: &'a mut Secret,
}
