//! A data stream: the form the browser edits ([`StreamForm`], strings as typed) and the
//! configuration it is parsed into once ([`StreamConfig`], typed). Past
//! [`StreamForm::parse`] nothing holds a data source, template choice, endpoint type or
//! sampling percent as a string.

use engine::{DataSource, Preset, Template};
use serde::{Deserialize, Serialize};

use crate::endpoints::{EndpointForm, EndpointSettings};
use crate::field::{FieldError, FieldErrors};

/// The template select's value for "Custom Template" (the others are preset ids).
pub const CUSTOM_TEMPLATE: &str = "custom";

/// A stream's configuration. Every value in it is valid: it is built by parsing the form
/// or a stored row. (`TemplateChoice::Custom(0)` is a custom template not saved yet.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamConfig {
    pub name: StreamName,
    pub data_source: DataSource,
    pub template: TemplateChoice,
    /// `None` for a data source without domains.
    pub domains: Option<Domains>,
    pub endpoint: EndpointSettings,
    pub active: bool,
}

/// 1 to 100 characters, trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamName(String);

impl StreamName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(text: &str) -> Result<StreamName, String> {
        let name = text.trim();
        if name.is_empty() {
            return Err("Name is required".into());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "Name is longer than {} characters",
                Self::MAX_CHARS
            ));
        }
        Ok(StreamName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A preset, or one of the account's custom templates (a row of its own, which several
/// streams may share).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateChoice {
    Preset(#[serde(with = "preset_id")] &'static Preset),
    Custom(i64),
}

impl TemplateChoice {
    /// The list's and the dashboard's name for it.
    pub fn label(&self) -> &'static str {
        match self {
            TemplateChoice::Preset(preset) => preset.name,
            TemplateChoice::Custom(_) => "Custom Template",
        }
    }
}

/// A preset is stored and sent as its id.
mod preset_id {
    use engine::Preset;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(preset: &&'static Preset, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(preset.id)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'static Preset, D::Error> {
        let id = String::deserialize(d)?;
        Preset::find(&id).ok_or_else(|| serde::de::Error::custom(format!("no preset {id:?}")))
    }
}

/// Which events of the account a stream takes, by host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domains {
    /// These domains (ids of the account's domains), every event.
    List(Vec<i64>),
    /// Every domain, also those added later, sampled.
    All { sampling: SamplingPercent },
}

/// A whole percent from 1 to 100. Only All Domains has one: a list takes every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct SamplingPercent(u8);

impl SamplingPercent {
    pub const ALL: SamplingPercent = SamplingPercent(100);

    pub fn parse(text: &str) -> Result<SamplingPercent, String> {
        text.trim()
            .parse::<u8>()
            .map_err(|_| ())
            .and_then(|n| SamplingPercent::try_from(n).map_err(|_| ()))
            .map_err(|()| "Sampling must be a whole number from 1 to 100".to_string())
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for SamplingPercent {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        if (1..=100).contains(&n) {
            Ok(SamplingPercent(n))
        } else {
            Err(format!("sampling {n} is not from 1 to 100"))
        }
    }
}

impl From<SamplingPercent> for u8 {
    fn from(p: SamplingPercent) -> u8 {
        p.0
    }
}

/// The stream form, as edited in the browser: what the user typed, parsed on Save (in
/// the browser as they type, and again on the server).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamForm {
    /// `None` when creating.
    pub id: Option<i64>,
    pub name: String,
    /// `edge_applications` or `waf_events`.
    pub data_source: String,
    /// A preset id, or [`CUSTOM_TEMPLATE`] for the data set in `custom_template`.
    pub template: String,
    /// The custom template being edited (`None`: a new one is created on save).
    #[serde(default)]
    pub custom_template_id: Option<i64>,
    pub custom_template: String,
    pub all_domains: bool,
    pub domain_ids: Vec<i64>,
    /// Percent, 1–100; only with All Domains. Text so a non-number is reported, not lost.
    pub sampling: String,
    pub endpoint: EndpointForm,
    pub active: bool,
}

impl Default for StreamForm {
    fn default() -> Self {
        StreamForm {
            id: None,
            name: String::new(),
            data_source: DataSource::EdgeApplications.as_str().into(),
            template: "edge-applications-event-collector".into(),
            custom_template_id: None,
            custom_template: String::new(),
            all_domains: false,
            domain_ids: Vec::new(),
            sampling: "100".into(),
            endpoint: EndpointForm::new(crate::endpoints::TYPES[0]),
            active: true,
        }
    }
}

/// A parsed form: the configuration, and the data set of a custom template (stored as
/// the template's own row).
#[derive(Clone, Debug)]
pub struct ParsedStream {
    pub config: StreamConfig,
    pub custom_data_set: Option<String>,
}

impl StreamForm {
    /// Every problem of the form at once, each naming its field. (Name uniqueness, domain
    /// ownership and stored secrets need the database: storage checks them.)
    pub fn parse(&self) -> Result<ParsedStream, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name =
            errors.check(StreamName::parse(&self.name).map_err(|m| FieldError::new("name", m)));
        let data_source = errors.check(self.data_source());
        let template = data_source.and_then(|source| errors.check(self.template_choice(source)));
        // A source without hosts (Activity History) has no domains to choose.
        let domains = match data_source {
            Some(source) if !source.has_hosts() => Some(None),
            _ => self.domains(&mut errors).map(Some),
        };
        let endpoint = match EndpointSettings::parse(&self.endpoint) {
            Ok(endpoint) => Some(endpoint),
            Err(list) => {
                errors.0.extend(list);
                None
            }
        };
        match (name, data_source, template, domains, endpoint) {
            (Some(name), Some(data_source), Some((choice, _)), Some(domains), Some(endpoint))
                if errors.is_empty() =>
            {
                Ok(ParsedStream {
                    config: StreamConfig {
                        name,
                        data_source,
                        template: choice,
                        domains,
                        endpoint,
                        active: self.active,
                    },
                    custom_data_set: matches!(choice, TemplateChoice::Custom(_))
                        .then(|| self.custom_template.clone()),
                })
            }
            _ => Err(errors.0),
        }
    }

    /// The template in force: the custom data set, or the chosen preset of the data source.
    /// The preview and the endpoint test compile it here.
    pub fn compile_template(&self) -> Result<Template, String> {
        let source = self.data_source().map_err(|e| e.message)?;
        let (_, template) = self.template_choice(source).map_err(|e| e.message)?;
        Ok(template)
    }

    fn data_source(&self) -> Result<DataSource, FieldError> {
        self.data_source.parse::<DataSource>().map_err(|_| {
            FieldError::new(
                "data_source",
                "Choose Edge Applications, WAF Events or Activity History",
            )
        })
    }

    /// The choice and its compiled template (a new custom template has id 0 until saved).
    fn template_choice(
        &self,
        source: DataSource,
    ) -> Result<(TemplateChoice, Template), FieldError> {
        if self.template == CUSTOM_TEMPLATE {
            if self.custom_template.trim().is_empty() {
                return Err(FieldError::new(
                    "custom_template",
                    "The Data Set is required for a Custom Template",
                ));
            }
            let template = Template::compile(&self.custom_template, source)
                .map_err(|e| FieldError::new("custom_template", format!("Data Set: {e}")))?;
            return Ok((
                TemplateChoice::Custom(self.custom_template_id.unwrap_or(0)),
                template,
            ));
        }
        match Preset::find(&self.template) {
            Some(preset) if preset.data_source == source => {
                let template = Template::compile(&preset.template_text(), source)
                    .map_err(|e| FieldError::new("template", e.to_string()))?;
                Ok((TemplateChoice::Preset(preset), template))
            }
            Some(_) => Err(FieldError::new(
                "template",
                format!("This template is not for {}", source.label()),
            )),
            None => Err(FieldError::new("template", "Choose a template")),
        }
    }

    fn domains(&self, errors: &mut FieldErrors) -> Option<Domains> {
        if self.all_domains {
            let sampling =
                SamplingPercent::parse(&self.sampling).map_err(|m| FieldError::new("sampling", m));
            return errors
                .check(sampling)
                .map(|sampling| Domains::All { sampling });
        }
        let before = errors.0.len();
        if self.domain_ids.is_empty() {
            errors.add("domains", "Choose at least one domain, or All Domains");
        }
        if !matches!(self.sampling.trim(), "" | "100") {
            errors.add("sampling", "Sampling is offered only with All Domains");
        }
        let mut ids = self.domain_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        (errors.0.len() == before).then_some(Domains::List(ids))
    }

    /// The form for a saved stream (secrets blank, flags saying which are stored).
    pub fn from_config(
        id: i64,
        config: &StreamConfig,
        custom_template: Option<&str>,
    ) -> StreamForm {
        let (template, custom_template_id) = match config.template {
            TemplateChoice::Preset(preset) => (preset.id.to_string(), None),
            TemplateChoice::Custom(id) => (CUSTOM_TEMPLATE.to_string(), Some(id)),
        };
        let (all_domains, domain_ids, sampling) = match &config.domains {
            Some(Domains::All { sampling }) => (true, Vec::new(), sampling.get()),
            Some(Domains::List(ids)) => (false, ids.clone(), 100),
            None => (false, Vec::new(), 100),
        };
        StreamForm {
            id: Some(id),
            name: config.name.as_str().to_string(),
            data_source: config.data_source.as_str().to_string(),
            template,
            custom_template_id,
            custom_template: custom_template.unwrap_or_default().to_string(),
            all_domains,
            domain_ids,
            sampling: sampling.to_string(),
            endpoint: config.endpoint.form_for_browser(),
            active: config.active,
        }
    }
}

string_serde!(StreamName);
