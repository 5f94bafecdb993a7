//! Rules for the stream form. Pure functions over [`StreamInput`]: the browser runs them as
//! the user types, the server runs them again before saving.

use engine::{DataSource, Preset, Template};

use crate::model::{
    CUSTOM_TEMPLATE, EndpointInput, EndpointType, FieldError, S3_CONTENT_TYPES, StreamInput,
};

pub const MAX_NAME_CHARS: usize = 100;

/// Every problem of the form at once, each naming its field; empty when the form is valid.
/// (Name uniqueness and domain ownership need the database: the server checks them.)
pub fn stream_errors(input: &StreamInput) -> Vec<FieldError> {
    let mut errors = Errors::default();
    let name = input.name.trim();
    if name.is_empty() {
        errors.add("name", "Name is required");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.add(
            "name",
            format!("Name is longer than {MAX_NAME_CHARS} characters"),
        );
    }

    match input.data_source.parse::<DataSource>() {
        Err(_) => errors.add("data_source", "Choose Edge Applications or WAF Events"),
        Ok(source) => template_errors(input, source, &mut errors),
    }

    if input.all_domains {
        match input.sampling.trim().parse::<u32>() {
            Ok(1..=100) => {}
            _ => errors.add("sampling", "Sampling must be a whole number from 1 to 100"),
        }
    } else {
        if input.domain_ids.is_empty() {
            errors.add("domains", "Choose at least one domain, or All Domains");
        }
        if !matches!(input.sampling.trim(), "" | "100") {
            errors.add("sampling", "Sampling is offered only with All Domains");
        }
    }

    endpoint_errors(&input.endpoint, &mut errors);
    errors.0
}

fn template_errors(input: &StreamInput, source: DataSource, errors: &mut Errors) {
    if input.template == CUSTOM_TEMPLATE {
        if input.custom_template.trim().is_empty() {
            errors.add(
                "custom_template",
                "The Data Set is required for a Custom Template",
            );
        } else if let Err(e) = Template::compile(&input.custom_template, source) {
            errors.add("custom_template", format!("Data Set: {e}"));
        }
        return;
    }
    match Preset::find(&input.template) {
        Some(preset) if preset.data_source == source => {}
        Some(_) => errors.add(
            "template",
            format!("This template is not for {}", source.label()),
        ),
        None => errors.add("template", "Choose a template"),
    }
}

fn endpoint_errors(endpoint: &EndpointInput, errors: &mut Errors) {
    match endpoint.endpoint_type {
        EndpointType::Http => {
            if let Err(m) = http_url(&endpoint.url) {
                errors.add("endpoint.url", format!("Endpoint URL {m}"));
            }
            let mut seen = Vec::new();
            for (i, header) in endpoint.headers.iter().enumerate() {
                let name = header.name.trim();
                if name.is_empty() && header.value.is_empty() && !header.value_stored {
                    continue; // an empty row is ignored
                }
                if let Err(m) = header_name(name) {
                    errors.add(
                        &format!("endpoint.headers.{i}.name"),
                        format!("Header name {m}"),
                    );
                } else if seen.contains(&name.to_ascii_lowercase()) {
                    errors.add(
                        &format!("endpoint.headers.{i}.name"),
                        format!("Header {name} is given twice"),
                    );
                } else {
                    seen.push(name.to_ascii_lowercase());
                }
                if header.value.is_empty() && !header.value_stored {
                    errors.add(
                        &format!("endpoint.headers.{i}.value"),
                        "Header value is required",
                    );
                } else if header
                    .value
                    .chars()
                    .any(|c| c == '\r' || c == '\n' || c == '\0')
                {
                    errors.add(
                        &format!("endpoint.headers.{i}.value"),
                        "Header value cannot contain line breaks",
                    );
                }
            }
        }
        EndpointType::S3 => {
            if let Err(m) = http_url(&endpoint.host_url) {
                errors.add("endpoint.host_url", format!("Host URL {m}"));
            }
            if let Err(m) = bucket_name(&endpoint.bucket) {
                errors.add("endpoint.bucket", format!("Bucket Name {m}"));
            }
            if let Err(m) = region(&endpoint.region) {
                errors.add("endpoint.region", format!("Region {m}"));
            }
            if endpoint.access_key.trim().is_empty() {
                errors.add("endpoint.access_key", "Access Key is required");
            }
            if endpoint.secret_key.is_empty() && !endpoint.secret_key_stored {
                errors.add("endpoint.secret_key", "Secret Key is required");
            }
            if endpoint.prefix.len() > 512 || endpoint.prefix.chars().any(char::is_control) {
                errors.add(
                    "endpoint.prefix",
                    "Object Key Prefix must be at most 512 characters, without control characters",
                );
            }
            if !S3_CONTENT_TYPES.contains(&endpoint.content_type.as_str()) {
                errors.add(
                    "endpoint.content_type",
                    "Content Type must be plain/text or application/gzip",
                );
            }
        }
        EndpointType::Kafka => {
            if let Err(m) = bootstrap_servers(&endpoint.bootstrap_servers) {
                errors.add(
                    "endpoint.bootstrap_servers",
                    format!("Bootstrap Servers {m}"),
                );
            }
            if let Err(m) = kafka_topic(&endpoint.topic) {
                errors.add("endpoint.topic", format!("Kafka Topic {m}"));
            }
        }
    }
}

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }
}

/// `scheme://host/path` with scheme http or https.
pub fn http_url(text: &str) -> Result<url::Url, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is required".into());
    }
    let url = url::Url::parse(text)
        .map_err(|e| format!("is not a URL ({e}): use scheme://domain/path"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must start with http:// or https://, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host: use scheme://domain/path".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password: use a custom header".into());
    }
    Ok(url)
}

/// Headers the service sets itself or that only make sense hop by hop.
const RESERVED_HEADERS: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// An HTTP field name (RFC 9110 token) that is not hop-by-hop, Host or Content-Length.
pub fn header_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is required".into());
    }
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if let Some(bad) = name.chars().find(|c| !is_tchar(*c)) {
        return Err(format!(
            "{name:?} contains {bad:?}: use letters, digits and !#$%&'*+-.^_`|~"
        ));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "{name} is set by the service and cannot be a custom header"
        ));
    }
    Ok(())
}

/// S3 bucket naming rules (general purpose buckets).
pub fn bucket_name(name: &str) -> Result<(), String> {
    let n = name.trim();
    if n.is_empty() {
        return Err("is required".into());
    }
    if !(3..=63).contains(&n.len()) {
        return Err("must be 3 to 63 characters long".into());
    }
    if !n
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err("may contain only lowercase letters, digits, '.' and '-'".into());
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(n.as_bytes()[0]) || !edge_ok(n.as_bytes()[n.len() - 1]) {
        return Err("must begin and end with a letter or digit".into());
    }
    if n.contains("..") {
        return Err("must not contain two adjacent periods".into());
    }
    if n.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("must not be formatted as an IP address".into());
    }
    if n.starts_with("xn--")
        || n.starts_with("sthree-")
        || n.ends_with("-s3alias")
        || n.ends_with("--ol-s3")
    {
        return Err(
            "must not use a prefix or suffix reserved by S3 (xn--, sthree-, -s3alias, --ol-s3)"
                .into(),
        );
    }
    Ok(())
}

/// A region code such as `us-east-1`: lowercase letters and digits in `-`-separated parts.
pub fn region(text: &str) -> Result<(), String> {
    let r = text.trim();
    if r.is_empty() {
        return Err("is required".into());
    }
    let parts_ok = r.len() <= 32
        && r.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !parts_ok {
        return Err(format!("{r:?} is not a region code like us-east-1"));
    }
    Ok(())
}

/// `host1:port1,host2:port2`: hostnames, IPv4 or [IPv6] addresses, ports 1–65535.
pub fn bootstrap_servers(text: &str) -> Result<Vec<String>, String> {
    let list: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if list.is_empty() {
        return Err("is required: host1:port1,host2:port2".into());
    }
    for server in &list {
        let Some((host, port)) = server.rsplit_once(':') else {
            return Err(format!("{server:?} has no port: use host:port"));
        };
        match port.parse::<u32>() {
            Ok(1..=65535) => {}
            _ => {
                return Err(format!(
                    "{server:?}: the port must be a number from 1 to 65535"
                ));
            }
        }
        let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            v6.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        };
        if !host_ok {
            return Err(format!("{server:?}: {host:?} is not a valid host"));
        }
    }
    Ok(list.into_iter().map(String::from).collect())
}

/// Kafka topic names: 1–249 of `a-z A-Z 0-9 . _ -`, not `.` or `..`.
pub fn kafka_topic(text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("is required".into());
    }
    if t.len() > 249 {
        return Err("must be at most 249 characters".into());
    }
    if t == "." || t == ".." {
        return Err("cannot be '.' or '..'".into());
    }
    if let Some(bad) = t
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "contains {bad:?}: use letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HeaderInput;

    fn valid_http() -> StreamInput {
        StreamInput {
            name: "to SIEM".into(),
            domain_ids: vec![1],
            endpoint: EndpointInput {
                url: "https://siem.example.com/ingest".into(),
                ..EndpointInput::default()
            },
            ..StreamInput::default()
        }
    }

    fn fields(input: &StreamInput) -> Vec<String> {
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
        assert!(http_url("https://a.example.com/x").is_ok());
        assert!(http_url("http://10.0.0.1:8080/").is_ok());
        assert!(
            http_url("ftp://a.example.com/x")
                .unwrap_err()
                .contains("http:// or https://")
        );
        assert!(http_url("a.example.com/x").is_err());
        assert!(http_url("https://u:p@a.example.com/").is_err());
        assert!(http_url("").unwrap_err().contains("required"));
    }

    #[test]
    fn headers() {
        assert!(header_name("X-Api-Key").is_ok());
        assert!(header_name("Bad Name").unwrap_err().contains("' '"));
        assert!(
            header_name("Host")
                .unwrap_err()
                .contains("set by the service")
        );
        assert!(header_name("transfer-encoding").is_err());
        assert!(header_name("Content-Length").is_err());
        let mut s = valid_http();
        s.endpoint.headers = vec![
            HeaderInput {
                name: "X-Key".into(),
                value: "v".into(),
                value_stored: false,
            },
            HeaderInput {
                name: "x-key".into(),
                value: "w".into(),
                value_stored: false,
            },
            HeaderInput {
                name: "X-Empty".into(),
                value: "".into(),
                value_stored: false,
            },
            HeaderInput {
                name: "X-Kept".into(),
                value: "".into(),
                value_stored: true,
            },
            HeaderInput::default(),
        ];
        assert_eq!(
            fields(&s),
            ["endpoint.headers.1.name", "endpoint.headers.2.value"]
        );
    }

    #[test]
    fn s3_fields() {
        assert!(bucket_name("my-logs.2026").is_ok());
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
            assert!(bucket_name(bad).is_err(), "{bad}");
        }
        assert!(region("us-east-1").is_ok());
        assert!(region("eu-central-1").is_ok());
        assert!(region("US East").is_err());
        assert!(region("us--east").is_err());
        let mut s = valid_http();
        s.endpoint.endpoint_type = EndpointType::S3;
        s.endpoint.content_type = "text/csv".into();
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
        s.endpoint.secret_key_stored = true;
        assert!(
            !fields(&s).contains(&"endpoint.secret_key".to_string()),
            "a stored secret is kept"
        );
    }

    #[test]
    fn kafka_fields() {
        assert_eq!(
            bootstrap_servers("k1.example.com:9092, 10.0.0.2:9093,[::1]:9094").unwrap(),
            ["k1.example.com:9092", "10.0.0.2:9093", "[::1]:9094"]
        );
        assert!(
            bootstrap_servers("k1:0")
                .unwrap_err()
                .contains("1 to 65535")
        );
        assert!(bootstrap_servers("k1:65536").is_err());
        assert!(bootstrap_servers("k1").unwrap_err().contains("no port"));
        assert!(
            bootstrap_servers("bad host:1")
                .unwrap_err()
                .contains("not a valid host")
        );
        assert!(bootstrap_servers(" , ").unwrap_err().contains("required"));
        assert!(kafka_topic("edge.logs_v1-a").is_ok());
        assert!(kafka_topic("..").is_err());
        assert!(kafka_topic("a/b").unwrap_err().contains("'/'"));
        assert!(kafka_topic(&"a".repeat(250)).is_err());
    }
}
