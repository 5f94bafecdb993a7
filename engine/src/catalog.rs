//! The data sources, the variables each one offers, the preset templates and sample events.
//!
//! Every variable of every source also gets a small numeric [`VariableId`] (the union of
//! the catalogues has at most 64 names), so the hot path can keep an event's values in
//! a flat array and a set of wanted fields in one `u64`.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Where events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// Every request to the account's domains.
    EdgeApplications,
    /// Requests the Web Application Firewall analysed.
    WafEvents,
    /// The account's configuration changes, written by the service itself (no hosts:
    /// domains and sampling do not apply).
    ActivityHistory,
}

impl DataSource {
    pub const ALL: [DataSource; 3] = [
        DataSource::EdgeApplications,
        DataSource::WafEvents,
        DataSource::ActivityHistory,
    ];

    /// The stable identifier used in APIs and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            DataSource::EdgeApplications => "edge_applications",
            DataSource::WafEvents => "waf_events",
            DataSource::ActivityHistory => "activity_history",
        }
    }

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            DataSource::EdgeApplications => "Edge Applications",
            DataSource::WafEvents => "WAF Events",
            DataSource::ActivityHistory => "Activity History",
        }
    }

    /// Every variable of this source, in the order of the reference documentation.
    pub fn variables(self) -> &'static [Variable] {
        match self {
            DataSource::EdgeApplications => EDGE_APPLICATIONS_VARIABLES,
            DataSource::WafEvents => WAF_EVENTS_VARIABLES,
            DataSource::ActivityHistory => ACTIVITY_HISTORY_VARIABLES,
        }
    }

    /// Whether its events belong to a host (and streams of it pick domains). Events of a
    /// source without hosts come from the service, never from the ingest API.
    pub fn has_hosts(self) -> bool {
        self != DataSource::ActivityHistory
    }

    /// Whether `name` (without `$`) is a variable of this source.
    pub fn has_variable(self, name: &str) -> bool {
        self.variables()
            .iter()
            .any(|variable| variable.name == name)
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The text given to [`DataSource::from_str`] is neither an identifier nor a label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown data source {0:?}")]
pub struct UnknownDataSource(pub String);

impl FromStr for DataSource {
    type Err = UnknownDataSource;

    /// Accepts the identifier (`edge_applications`) or the label (`Edge Applications`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DataSource::ALL
            .into_iter()
            .find(|source| text == source.as_str() || text == source.label())
            .ok_or_else(|| UnknownDataSource(text.to_owned()))
    }
}

/// One variable of a data source: an event key, written `$name` in templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Variable {
    /// The name without `$`, which is also the event's JSON key.
    pub name: &'static str,
    pub description: &'static str,
}

const fn var(name: &'static str, description: &'static str) -> Variable {
    Variable { name, description }
}

const EDGE_APPLICATIONS_VARIABLES: &[Variable] = &[
    var("asn", "Autonomous system number of the client."),
    var("bytes_sent", "Bytes sent to the client."),
    var("client", "Customer (account) identifier."),
    var("configuration", "Configuration identifier."),
    var("country", "Client country, from geolocation."),
    var("host", "Host of the request."),
    var("http_referrer", "Referer header of the request."),
    var("http_user_agent", "User-Agent header of the request."),
    var(
        "proxy_status",
        "Error status when the origin gave no response.",
    ),
    var("remote_addr", "Client IP address."),
    var("remote_port", "Client port."),
    var("request_id", "Unique identifier of the request."),
    var(
        "request_length",
        "Request length: request line, headers and body.",
    ),
    var("request_method", "HTTP method of the request."),
    var("request_time", "Request processing time, in seconds."),
    var("request_uri", "URI of the request, with the query string."),
    var(
        "requestPath",
        "URI of the request, without the query string.",
    ),
    var("requestQuery", "Query string of the request."),
    var("scheme", "Request scheme: http or https."),
    var("sent_http_content_type", "Content-Type of the response."),
    var(
        "sent_http_x_original_image_size",
        "X-Original-Image-Size header of the response.",
    ),
    var(
        "server_addr",
        "Edge server address that served the request.",
    ),
    var("server_port", "Edge server port that served the request."),
    var(
        "server_protocol",
        "Request protocol: HTTP/1.1, HTTP/2.0 or HTTP/3.0.",
    ),
    var("session_id", "Session identifier."),
    var("ssl_cipher", "Cipher of the TLS connection."),
    var("ssl_protocol", "Protocol of the TLS connection."),
    var("ssl_server_name", "Server name (SNI) requested over TLS."),
    var(
        "ssl_session_reused",
        "`r` if the TLS session was reused, `.` otherwise.",
    ),
    var("state", "Client state, from geolocation."),
    var("status", "Response status code."),
    var("stream", "Location (stream) identifier."),
    var(
        "tcpinfo_rtt",
        "Client TCP round-trip time, in microseconds.",
    ),
    var("time", "Date and time of the request."),
    var("traceback", "Rules Engine rules that ran for the request."),
    var(
        "upstream_addr",
        "Origin address (`, ` between origins tried, ` : ` between internal redirects).",
    ),
    var("upstream_bytes_received", "Bytes received from the origin."),
    var("upstream_bytes_sent", "Bytes sent to the origin."),
    var(
        "upstream_cache_status",
        "Cache status: HIT, MISS, BYPASS, EXPIRED, STALE, UPDATING or REVALIDATED.",
    ),
    var(
        "upstream_connect_time",
        "Time to connect to the origin, in seconds.",
    ),
    var(
        "upstream_header_time",
        "Time to receive the origin's response headers, in seconds.",
    ),
    var(
        "upstream_response_time",
        "Time to receive the origin's whole response, in seconds.",
    ),
    var("upstream_status", "Response status of the origin."),
    var(
        "waf_attack_action",
        "WAF action: $BLOCK, $PASS, $LEARNING_BLOCK or $LEARNING_PASS.",
    ),
    var(
        "waf_attack_family",
        "Attack family found by the WAF: SQL, XSS, TRAVERSAL, ...",
    ),
    var(
        "waf_block",
        "1 if the WAF blocked the request, 0 otherwise.",
    ),
    var(
        "waf_headers",
        "Base64 of the request headers when blocked, `-` otherwise.",
    ),
    var(
        "waf_learning",
        "1 if the WAF is in learning mode, 0 otherwise.",
    ),
    var("waf_match", "Violations found by the WAF."),
    var("waf_score", "Score the WAF gave the request."),
    var("waf_total_blocked", "Requests blocked by the WAF."),
    var("waf_total_processed", "Requests processed by the WAF."),
];

const WAF_EVENTS_VARIABLES: &[Variable] = &[
    var("blocked", "1 if the request was blocked, 0 otherwise."),
    var("client", "Customer (account) identifier."),
    var("configuration", "Configuration identifier."),
    var("country", "Client country, from geolocation."),
    var("headers", "Base64 of the blocked request's headers."),
    var("host", "Host of the request."),
    var("remote_addr", "Client IP address."),
    var(
        "requestPath",
        "URI of the request, without the query string.",
    ),
    var("requestQuery", "Query string of the request."),
    var(
        "server_protocol",
        "Request protocol: HTTP/1.1, HTTP/2.0 or HTTP/3.0.",
    ),
    var("time", "Date and time of the request."),
    var("truncated_body", "Always `-`."),
    var("version", "Log format version."),
    var("waf_args", "Request arguments."),
    var(
        "waf_attack_action",
        "WAF action: $BLOCK, $PASS, $LEARNING_BLOCK or $LEARNING_PASS.",
    ),
    var(
        "waf_attack_family",
        "Attack family found by the WAF: SQL, XSS, TRAVERSAL, ...",
    ),
    var(
        "waf_learning",
        "1 if the WAF is in learning mode, 0 otherwise.",
    ),
    var("waf_match", "Violations found by the WAF."),
    var("waf_score", "Score the WAF gave the request."),
    var("waf_server", "Hostname the WAF saw."),
    var("waf_uri", "URI the WAF analysed."),
];

const ACTIVITY_HISTORY_VARIABLES: &[Variable] = &[
    var("time", "When the change was made (RFC 3339, UTC)."),
    var("request_id", "Unique identifier of the entry."),
    var("client", "Customer (account) identifier."),
    var("actor", "Email of the user who made the change."),
    var("via", "Where it was made: console or api."),
    var(
        "action",
        "What was done, e.g. stream.create, template.update, domain.delete.",
    ),
    var(
        "target",
        "What it was done to: its kind and id, e.g. stream/12.",
    ),
    var(
        "changes",
        "The changed fields, each with its old and new value (secrets masked).",
    ),
];

/// The most variables the catalogues may have together: a [`crate::FieldSet`] is a `u64`.
pub const MAX_VARIABLES: usize = 64;

/// A variable of either source, as a small index (see [`VariableId::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VariableId(u8);

impl VariableId {
    /// `$host`, which routing reads from every event.
    pub const HOST: VariableId = VariableId::of_edge_applications("host");
    /// `$request_id`, which sampling reads.
    pub const REQUEST_ID: VariableId = VariableId::of_edge_applications("request_id");

    /// The id of an Edge Applications variable, at compile time: the registry numbers that
    /// catalogue first, in order.
    const fn of_edge_applications(name: &str) -> VariableId {
        let mut index = 0;
        while index < EDGE_APPLICATIONS_VARIABLES.len() {
            if const_str_eq(EDGE_APPLICATIONS_VARIABLES[index].name, name) {
                return VariableId(index as u8);
            }
            index += 1;
        }
        panic!("not an Edge Applications variable");
    }

    /// The id of a variable of either source; `None` for a name in neither catalogue.
    pub fn of(name: &str) -> Option<VariableId> {
        REGISTRY.ids.get(name.as_bytes()).copied()
    }

    /// [`VariableId::of`] for a raw event key, trying the id `guess` first.
    ///
    /// Events of one producer list their keys in the same order, usually the catalogue's,
    /// so guessing the id after the previous key's saves most hash lookups.
    pub(crate) fn of_key(key: &[u8], guess: usize) -> Option<VariableId> {
        let registry = &*REGISTRY;
        match registry.names.get(guess) {
            Some(name) if name.as_bytes() == key => Some(VariableId(guess as u8)),
            _ => registry.ids.get(key).copied(),
        }
    }

    pub fn name(self) -> &'static str {
        REGISTRY.names[self.index()]
    }

    /// Below [`MAX_VARIABLES`].
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// `a == b`, which is not yet callable in constants.
const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
}

struct Registry {
    names: Vec<&'static str>,
    ids: FxHashMap<&'static [u8], VariableId>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut names: Vec<&'static str> = Vec::new();
    for variable in DataSource::ALL.iter().flat_map(|source| source.variables()) {
        if !names.contains(&variable.name) {
            names.push(variable.name);
        }
    }
    assert!(names.len() <= MAX_VARIABLES, "too many variables");
    let id = |index: usize| VariableId(u8::try_from(index).expect("fewer than 64 variables"));
    Registry {
        ids: names
            .iter()
            .enumerate()
            .map(|(index, name)| (name.as_bytes(), id(index)))
            .collect(),
        names,
    }
});

/// A read-only template offered for a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// Stable identifier, e.g. `edge-applications-event-collector`.
    pub id: &'static str,
    pub name: &'static str,
    pub data_source: DataSource,
    variables: &'static [Variable],
}

impl Preset {
    /// The preset's data set: a pretty-printed JSON object mapping each variable to `"$name"`.
    pub fn template_text(&self) -> String {
        let entries: Vec<String> = self
            .variables
            .iter()
            .map(|Variable { name, .. }| format!("  \"{name}\": \"${name}\""))
            .collect();
        format!("{{\n{}\n}}", entries.join(",\n"))
    }

    /// The variables the preset sends, in the order of its data set.
    pub fn variables(&self) -> &'static [Variable] {
        self.variables
    }

    /// The preset with this [`Preset::id`].
    pub fn find(id: &str) -> Option<&'static Preset> {
        PRESETS.iter().find(|preset| preset.id == id)
    }
}

/// Every preset, for both sources.
pub static PRESETS: &[Preset] = &[
    Preset {
        id: "edge-applications-event-collector",
        name: "Edge Applications Event Collector",
        data_source: DataSource::EdgeApplications,
        variables: EDGE_APPLICATIONS_VARIABLES,
    },
    Preset {
        id: "waf-event-collector",
        name: "WAF Event Collector",
        data_source: DataSource::WafEvents,
        variables: WAF_EVENTS_VARIABLES,
    },
    Preset {
        id: "activity-history-collector",
        name: "Activity History Collector",
        data_source: DataSource::ActivityHistory,
        variables: ACTIVITY_HISTORY_VARIABLES,
    },
    // The spec defines it as the Edge Applications request variables plus the `$waf_*` ones,
    // which together are every Edge Applications variable.
    Preset {
        id: "edge-applications-waf-event-collector",
        name: "Edge Applications + WAF Event Collector",
        data_source: DataSource::EdgeApplications,
        variables: EDGE_APPLICATIONS_VARIABLES,
    },
];

/// The presets offered for `source`.
pub fn presets_for(source: DataSource) -> impl Iterator<Item = &'static Preset> {
    PRESETS
        .iter()
        .filter(move |preset| preset.data_source == source)
}

const EDGE_APPLICATIONS_SAMPLE: &str = concat!(
    r#"{"asn":"AS15169","bytes_sent":18342,"client":"4529r","configuration":"1595368520","#,
    r#""country":"United States","host":"shop.example.com","#,
    r#""http_referrer":"https://www.google.com/","#,
    r#""http_user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0","#,
    r#""proxy_status":"-","remote_addr":"203.0.113.47","remote_port":"51324","#,
    r#""request_id":"6f1d3b9c2a7e4f0a8b5c1d2e3f4a5b6c","request_length":712,"#,
    r#""request_method":"GET","request_time":"0.043","#,
    r#""request_uri":"/products/shoes?color=blue&size=42","#,
    r#""requestPath":"/products/shoes","#,
    r#""requestQuery":"color=blue&size=42","scheme":"https","#,
    r#""sent_http_content_type":"text/html","sent_http_x_original_image_size":"-","#,
    r#""server_addr":"198.51.100.12","server_port":"443","server_protocol":"HTTP/2.0","#,
    r#""session_id":"b7e2c4a1f9d84e6a","ssl_cipher":"TLS_AES_128_GCM_SHA256","#,
    r#""ssl_protocol":"TLSv1.3","ssl_server_name":"shop.example.com","ssl_session_reused":"r","#,
    r#""state":"California","status":200,"stream":"1181","tcpinfo_rtt":"21340","#,
    r#""time":"2026-11-14T12:34:56Z","#,
    r#""traceback":"rule_engine:set-cache-policy","#,
    r#""upstream_addr":"192.0.2.10:443","upstream_bytes_received":"18760","#,
    r#""upstream_bytes_sent":"698","upstream_cache_status":"MISS","#,
    r#""upstream_connect_time":"0.004","upstream_header_time":"0.028","#,
    r#""upstream_response_time":"0.030","upstream_status":"200","#,
    r#""waf_attack_action":"$PASS","waf_attack_family":"-","waf_block":"0","waf_headers":"-","#,
    r#""waf_learning":"0","waf_match":"-","waf_score":"0","waf_total_blocked":"0","#,
    r#""waf_total_processed":"1"}"#,
);

const WAF_EVENTS_SAMPLE: &str = concat!(
    r#"{"blocked":"1","client":"4529r","configuration":"1595368520","country":"Brazil","#,
    r#""headers":"SG9zdDogc2hvcC5leGFtcGxlLmNvbQ0KVXNlci1BZ2VudDogc3FsbWFwLzEuOC4yI3N0YWJsZSAoaHR0cHM6Ly9zcWxtYXAub3JnKQ0KQWNjZXB0OiAqLyoNCg==","#,
    r#""host":"shop.example.com","remote_addr":"198.51.100.77","requestPath":"/search","#,
    r#""requestQuery":"q=%27%20OR%201%3D1--","server_protocol":"HTTP/1.1","#,
    r#""time":"2026-11-14T12:35:02.114Z","truncated_body":"-","version":"BETA","#,
    r#""waf_args":"q=' OR 1=1--","waf_attack_action":"$BLOCK","waf_attack_family":"SQL","#,
    r#""waf_learning":"0","waf_match":"{\"zone\":\"ARGS\",\"id\":\"1000\",\"var_name\":\"q\"}","#,
    r#""waf_score":"8","waf_server":"shop.example.com","waf_uri":"/search"}"#,
);

const ACTIVITY_HISTORY_SAMPLE: &str = concat!(
    r#"{"time":"2026-11-14T12:36:40Z","request_id":"activity-1042","client":"4529r","#,
    r#""actor":"ana@example.com","via":"api","action":"stream.update","target":"stream/12","#,
    r#""changes":{"active":{"from":true,"to":false}}}"#,
);

/// One realistic event of `source` (a JSON object on one line), for tests and benchmarks.
pub fn sample_event(source: DataSource) -> String {
    match source {
        DataSource::EdgeApplications => EDGE_APPLICATIONS_SAMPLE,
        DataSource::WafEvents => WAF_EVENTS_SAMPLE,
        DataSource::ActivityHistory => ACTIVITY_HISTORY_SAMPLE,
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_source_names_round_trip() {
        for source in DataSource::ALL {
            assert_eq!(source.as_str().parse::<DataSource>(), Ok(source));
            assert_eq!(source.label().parse::<DataSource>(), Ok(source));
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(json, format!("\"{}\"", source.as_str()));
            assert_eq!(serde_json::from_str::<DataSource>(&json).unwrap(), source);
        }
        assert_eq!(
            "edge".parse::<DataSource>(),
            Err(UnknownDataSource("edge".into()))
        );
        assert_eq!(DataSource::WafEvents.to_string(), "WAF Events");
    }

    #[test]
    fn catalogues_are_complete_and_unique() {
        assert_eq!(DataSource::EdgeApplications.variables().len(), 52);
        assert_eq!(DataSource::WafEvents.variables().len(), 21);
        assert_eq!(DataSource::ActivityHistory.variables().len(), 8);
        for source in DataSource::ALL {
            let mut names: Vec<_> = source.variables().iter().map(|v| v.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), source.variables().len(), "{source}");
            assert_eq!(source.has_variable("host"), source.has_hosts());
            assert!(!source.has_variable("$host"));
        }
        assert!(DataSource::EdgeApplications.has_variable("requestPath"));
        assert!(!DataSource::EdgeApplications.has_variable("blocked"));
        assert!(DataSource::WafEvents.has_variable("waf_uri"));
        assert!(!DataSource::WafEvents.has_variable("request_id"));
    }

    #[test]
    fn variable_ids_cover_both_catalogues() {
        for variable in DataSource::ALL.iter().flat_map(|s| s.variables()) {
            let id = VariableId::of(variable.name).unwrap();
            assert_eq!(id.name(), variable.name);
            assert!(id.index() < MAX_VARIABLES);
            for guess in [0, id.index(), MAX_VARIABLES] {
                assert_eq!(
                    VariableId::of_key(variable.name.as_bytes(), guess),
                    Some(id)
                );
            }
        }
        assert_eq!(VariableId::of("nope"), None);
        assert_eq!(VariableId::of("host"), Some(VariableId::HOST));
        assert_eq!(VariableId::of("request_id"), Some(VariableId::REQUEST_ID));
        assert_eq!(VariableId::of_key(b"nope", 0), None);
    }

    #[test]
    fn presets_map_every_variable_to_itself() {
        assert_eq!(presets_for(DataSource::EdgeApplications).count(), 2);
        assert_eq!(presets_for(DataSource::WafEvents).count(), 1);
        assert_eq!(presets_for(DataSource::ActivityHistory).count(), 1);
        for preset in PRESETS {
            let value: serde_json::Value = serde_json::from_str(&preset.template_text()).unwrap();
            let object = value.as_object().unwrap();
            assert_eq!(object.len(), preset.data_source.variables().len());
            for variable in preset.data_source.variables() {
                assert_eq!(object[variable.name], format!("${}", variable.name));
            }
            assert_eq!(Preset::find(preset.id), Some(preset));
        }
        let text = Preset::find("waf-event-collector").unwrap().template_text();
        assert!(text.starts_with("{\n  \"blocked\": \"$blocked\",\n"));
    }

    #[test]
    fn sample_events_hold_every_variable_of_their_source() {
        for source in DataSource::ALL {
            let event = sample_event(source);
            assert!(!event.contains('\n'));
            let value: serde_json::Value = serde_json::from_str(&event).unwrap();
            let object = value.as_object().unwrap();
            assert_eq!(object.len(), source.variables().len(), "{source}");
            for variable in source.variables() {
                assert!(object.contains_key(variable.name), "{}", variable.name);
            }
        }
        let edge_size = sample_event(DataSource::EdgeApplications).len();
        assert!((1_400..1_550).contains(&edge_size), "{edge_size} bytes");
        assert!(!DataSource::ActivityHistory.has_hosts());
    }
}
