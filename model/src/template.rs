//! Custom templates: an account's own data sets, rows of their own that several streams
//! may share. The form ([`TemplateForm`], as typed) is parsed once into a
//! [`ParsedTemplate`] whose data set compiles for its data source.

use engine::{DataSource, Template};
use serde::{Deserialize, Serialize};

use crate::field::{FieldError, FieldErrors};

/// A template's name has a stream's rules: 1 to 100 characters, trimmed.
pub type TemplateName = crate::stream::StreamName;

/// A custom template as the console and the API show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomTemplate {
    pub id: i64,
    pub name: String,
    pub data_source: DataSource,
    pub data_set: String,
    /// Bumped on every change (the API's ETag).
    pub revision: i64,
    /// The streams that render with it (id, name): it cannot be deleted while any do.
    pub used_by: Vec<(i64, String)>,
}

/// The template form: what the user typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateForm {
    pub name: String,
    /// A data source id (`edge_applications`, …).
    pub data_source: String,
    pub data_set: String,
}

/// A template form that passed: its data set compiles for its data source.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedTemplate {
    pub name: TemplateName,
    pub data_source: DataSource,
    pub data_set: String,
}

impl TemplateForm {
    /// Every problem at once, each naming its field (`name`, `data_source`, `data_set`).
    pub fn parse(&self) -> Result<ParsedTemplate, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name =
            errors.check(TemplateName::parse(&self.name).map_err(|m| FieldError::new("name", m)));
        let data_source = errors.check(self.data_source.parse::<DataSource>().map_err(|_| {
            FieldError::new(
                "data_source",
                "Choose Edge Applications, WAF Events or Activity History",
            )
        }));
        if self.data_set.trim().is_empty() {
            errors.add("data_set", "The Data Set is required");
        } else if let Some(source) = data_source
            && let Err(e) = Template::compile(&self.data_set, source)
        {
            errors.add("data_set", format!("Data Set: {e}"));
        }
        match (name, data_source) {
            (Some(name), Some(data_source)) if errors.is_empty() => Ok(ParsedTemplate {
                name,
                data_source,
                data_set: self.data_set.clone(),
            }),
            _ => Err(errors.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, source: &str, data_set: &str) -> TemplateForm {
        TemplateForm {
            name: name.into(),
            data_source: source.into(),
            data_set: data_set.into(),
        }
    }

    #[test]
    fn a_template_compiles_for_its_source_or_names_the_field() {
        let parsed = form(" Hosts ", "waf_events", r#"{"h":"$host"}"#)
            .parse()
            .unwrap();
        assert_eq!(parsed.name.as_str(), "Hosts");
        assert_eq!(parsed.data_source, DataSource::WafEvents);
        let errors = form("", "edge", r#"{"u":"$waf_uri"}"#).parse().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "data_source"]);
        let errors = form("x", "edge_applications", r#"{"u":"$waf_uri"}"#)
            .parse()
            .unwrap_err();
        assert_eq!(errors[0].field, "data_set");
        assert!(
            errors[0].message.contains("waf_uri"),
            "{}",
            errors[0].message
        );
    }
}
