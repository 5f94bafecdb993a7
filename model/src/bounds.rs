//! The operator's bounds on what one request or one account may cost. Each is a server
//! setting (named in every refusal, so a user knows what to ask the operator for).

/// Per request and per account; see SECURITY.md for the defaults and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// A custom template's data set, in bytes (`--max-template-bytes`).
    pub template_bytes: usize,
    /// One rendered record (`--max-record-bytes`): an event whose record would be larger
    /// is a rejected line.
    pub record_bytes: usize,
    /// All records one ingest request renders, over all streams (`--max-rendered-bytes`).
    pub rendered_bytes: usize,
    /// Streams per account (`--max-streams`).
    pub streams: usize,
    /// Domains per account (`--max-domains`).
    pub domains: usize,
    /// Ingest tokens per account (`--max-ingest-tokens`).
    pub ingest_tokens: usize,
    /// Custom templates per account (`--max-templates`).
    pub templates: usize,
    /// API tokens per account (`--max-api-tokens`).
    pub api_tokens: usize,
    /// Custom headers per stream (`--max-headers`).
    pub headers: usize,
    /// Spool bytes over all of an account's streams (`--account-spool-max-bytes`).
    pub account_spool_bytes: u64,
    /// Free disk under the data directory below which ingest answers 503
    /// (`--min-free-disk`).
    pub min_free_disk_bytes: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            template_bytes: 64 * 1024,
            record_bytes: 1024 * 1024,
            rendered_bytes: 256 * 1024 * 1024,
            streams: 100,
            domains: 1000,
            ingest_tokens: 100,
            templates: 100,
            api_tokens: 100,
            headers: 32,
            account_spool_bytes: 4 << 30,
            min_free_disk_bytes: 1 << 30,
        }
    }
}

/// The message for a count an account reached, e.g. "This account has 100 streams, the
/// most the server allows (--max-streams)".
pub fn count_reached(count: usize, what: &str, setting: &str) -> String {
    format!("This account has {count} {what}, the most the server allows ({setting})")
}

impl Bounds {
    /// A custom template's data set within [`Bounds::template_bytes`].
    pub fn check_template(&self, data_set: &str) -> Result<(), crate::FieldError> {
        self.check_data_set("custom_template", data_set)
    }

    /// A data set within `--max-template-bytes`, the error naming `field`.
    pub fn check_data_set(&self, field: &str, data_set: &str) -> Result<(), crate::FieldError> {
        if data_set.len() > self.template_bytes {
            return Err(crate::FieldError::new(
                field,
                format!(
                    "Data Set: {} bytes is more than the {} bytes the server allows (--max-template-bytes)",
                    data_set.len(),
                    self.template_bytes
                ),
            ));
        }
        Ok(())
    }

    /// The stream form's size within bounds before it is parsed: the data set, and the
    /// rows of every list field (custom headers).
    pub fn check_stream_form(
        &self,
        form: &crate::StreamForm,
    ) -> Result<(), Vec<crate::FieldError>> {
        let mut errors = Vec::new();
        if form.template == crate::CUSTOM_TEMPLATE
            && let Err(e) = self.check_template(&form.custom_template)
        {
            errors.push(e);
        }
        let kind = crate::EndpointType::find(&form.endpoint.endpoint_type);
        for (key, rows) in &form.endpoint.lists {
            if rows.len() > self.headers {
                let label = kind
                    .and_then(|k| k.fields.iter().find(|f| f.key == key))
                    .map_or(key.as_str(), |f| f.label);
                errors.push(crate::FieldError::new(
                    format!("endpoint.{key}"),
                    format!(
                        "{label}: {} is more than the {} the server allows (--max-headers)",
                        rows.len(),
                        self.headers
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
