//! The stream form's rules as the console runs them: the browser as the user types, the
//! server again before saving. They are [`StreamForm::parse`]'s (the `model` crate): one
//! set of rules, in the form's field order.

use crate::model::{FieldError, StreamForm};

/// Every problem of the form at once, each naming its field; empty when the form is valid.
/// (Name uniqueness, domain ownership and stored secrets need the database: the server
/// checks them.)
pub fn stream_errors(form: &StreamForm) -> Vec<FieldError> {
    form.parse().err().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CUSTOM_TEMPLATE;
    use crate::model::endpoints::http::HeaderName;
    use crate::model::endpoints::kafka::{BootstrapServers, KafkaTopic};
    use crate::model::endpoints::s3::{BucketName, Region};
    use crate::model::endpoints::{self, EndpointForm, HttpUrl, Pair};

    fn valid_http() -> StreamForm {
        let mut endpoint = EndpointForm::new(&endpoints::http::TYPE);
        endpoint.set("url", "https://siem.example.com/ingest");
        StreamForm {
            name: "to SIEM".into(),
            domain_ids: vec![1],
            endpoint,
            ..StreamForm::default()
        }
    }

    fn fields(input: &StreamForm) -> Vec<String> {
        stream_errors(input).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_form_is_valid() {
        assert_eq!(stream_errors(&valid_http()), vec![]);
    }

    #[test]
    fn name_domains_and_sampling() {
        let mut s = valid_http();
        s.name = "  ".into();
        s.domain_ids.clear();
        s.sampling = "50".into();
        assert_eq!(fields(&s), ["name", "domains", "sampling"]);
        s.all_domains = true;
        for bad in ["0", "101", "5.5", "x", ""] {
            s.sampling = bad.into();
            assert!(fields(&s).contains(&"sampling".to_string()), "{bad}");
        }
        s.sampling = "10".into();
        assert_eq!(fields(&s), ["name"]);
    }

    #[test]
    fn templates() {
        let mut s = valid_http();
        s.template = "waf-event-collector".into();
        assert_eq!(fields(&s), ["template"]);
        s.template = CUSTOM_TEMPLATE.into();
        s.custom_template = r#"{"host":"$host","x":"$nope"}"#.into();
        let errors = stream_errors(&s);
        assert_eq!(errors[0].field, "custom_template");
        assert!(errors[0].message.contains("$nope"), "{}", errors[0].message);
        s.custom_template = "{not json".into();
        assert!(stream_errors(&s)[0].message.contains("invalid JSON"));
        s.custom_template = r#"{"host":"$host","status":"$status"}"#.into();
        assert_eq!(stream_errors(&s), vec![]);
    }

    #[test]
    fn urls() {
        assert!(HttpUrl::parse("https://a.example.com/x").is_ok());
        assert!(HttpUrl::parse("http://10.0.0.1:8080/").is_ok());
        assert!(
            HttpUrl::parse("ftp://a.example.com/x")
                .unwrap_err()
                .contains("http:// or https://")
        );
        assert!(HttpUrl::parse("a.example.com/x").is_err());
        assert!(HttpUrl::parse("https://u:p@a.example.com/").is_err());
        assert!(HttpUrl::parse("").unwrap_err().contains("required"));
    }

    #[test]
    fn headers() {
        assert!(HeaderName::parse("X-Api-Key").is_ok());
        assert!(HeaderName::parse("Bad Name").unwrap_err().contains("' '"));
        assert!(
            HeaderName::parse("Host")
                .unwrap_err()
                .contains("set by the service")
        );
        assert!(HeaderName::parse("transfer-encoding").is_err());
        assert!(HeaderName::parse("Content-Length").is_err());
        let mut s = valid_http();
        let pair = |name: &str, value: &str| Pair {
            name: name.into(),
            value: value.into(),
        };
        *s.endpoint.rows_mut("headers") = vec![
            pair("X-Key", "v"),
            pair("x-key", "w"),
            pair("X-Empty", ""),
            pair("X-Kept", ""),
            Pair::default(),
        ];
        s.endpoint.stored.insert("headers.x-kept".into());
        assert_eq!(
            fields(&s),
            ["endpoint.headers.1.name", "endpoint.headers.2.value"]
        );
    }

    #[test]
    fn s3_fields() {
        assert!(BucketName::parse("my-logs.2026").is_ok());
        for bad in [
            "ab",
            "My-Logs",
            "-logs",
            "logs-",
            "a..b",
            "192.168.1.1",
            "xn--logs",
            "logs-s3alias",
            "log_s",
        ] {
            assert!(BucketName::parse(bad).is_err(), "{bad}");
        }
        assert!(Region::parse("us-east-1").is_ok());
        assert!(Region::parse("eu-central-1").is_ok());
        assert!(Region::parse("US East").is_err());
        assert!(Region::parse("us--east").is_err());
        let mut s = valid_http();
        s.endpoint = EndpointForm::new(&endpoints::s3::TYPE);
        s.endpoint.set("content_type", "text/csv");
        assert_eq!(
            fields(&s),
            [
                "endpoint.host_url",
                "endpoint.bucket",
                "endpoint.region",
                "endpoint.access_key",
                "endpoint.secret_key",
                "endpoint.content_type"
            ]
        );
        s.endpoint.stored.insert("secret_key".into());
        assert!(
            !fields(&s).contains(&"endpoint.secret_key".to_string()),
            "a stored secret is kept"
        );
    }

    #[test]
    fn kafka_fields() {
        assert_eq!(
            BootstrapServers::parse("k1.example.com:9092, 10.0.0.2:9093,[::1]:9094")
                .unwrap()
                .servers(),
            ["k1.example.com:9092", "10.0.0.2:9093", "[::1]:9094"]
        );
        assert!(
            BootstrapServers::parse("k1:0")
                .unwrap_err()
                .contains("1 to 65535")
        );
        assert!(BootstrapServers::parse("k1:65536").is_err());
        assert!(
            BootstrapServers::parse("k1")
                .unwrap_err()
                .contains("no port")
        );
        assert!(
            BootstrapServers::parse("bad host:1")
                .unwrap_err()
                .contains("not a valid host")
        );
        assert!(
            BootstrapServers::parse(" , ")
                .unwrap_err()
                .contains("required")
        );
        assert!(KafkaTopic::parse("edge.logs_v1-a").is_ok());
        assert!(KafkaTopic::parse("..").is_err());
        assert!(KafkaTopic::parse("a/b").unwrap_err().contains("'/'"));
        assert!(KafkaTopic::parse(&"a".repeat(250)).is_err());
    }
}
