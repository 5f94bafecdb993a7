//! A real edge as the source: where each variable comes from when nginx and ModSecurity
//! send the events, and the configuration lines that make them send it.
//!
//! nginx sends Edge Applications events as syslog messages whose text is the JSON of the
//! `log_format` [`nginx_log_format`] writes: its keys are the product's variable names, so
//! the message is an event as it is (plus the ingest token, under [`TOKEN_KEY`], which
//! authenticates it and is never rendered). ModSecurity sends WAF Events as audit entries
//! (`SecAuditLogFormat JSON`), which the server maps as [`WAF_EVENTS_SOURCES`] says.

use crate::DataSource;

/// The `log_format` key that carries the ingest token (first, so a cut-off message
/// still names its account).
pub const TOKEN_KEY: &str = "ds_token";

/// The tag nginx's `access_log syslog:` writes (the syslog APP-NAME).
pub const SYSLOG_TAG: &str = "datastream";

/// The nginx `log_format` name the snippets define.
pub const LOG_FORMAT_NAME: &str = "datastream";

/// Where one variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// An nginx expression written into the `log_format`.
    Nginx(&'static str),
    /// Written by the product or derived; the text says how.
    Derived(&'static str),
    /// nginx and ModSecurity have no such value: it renders `-`; the text says why.
    Unavailable(&'static str),
}

impl Origin {
    /// The text of the Fields page's source column.
    pub fn describe(&self) -> String {
        match self {
            Origin::Nginx(expression) => format!("nginx {expression}"),
            Origin::Derived(how) | Origin::Unavailable(how) => (*how).to_string(),
        }
    }
}

/// Every Edge Applications variable, in catalogue order, and its nginx origin.
pub const EDGE_APPLICATIONS_SOURCES: &[(&str, Origin)] = &[
    (
        "asn",
        Origin::Unavailable("- (nginx has no ASN without a GeoIP2 module)"),
    ),
    ("bytes_sent", Origin::Nginx("$bytes_sent")),
    (
        "client",
        Origin::Derived("the account id, written into the generated log_format"),
    ),
    (
        "configuration",
        Origin::Nginx("$hostname (the nginx machine that served the request)"),
    ),
    ("country", Origin::Unavailable("- (needs a GeoIP2 module)")),
    ("host", Origin::Nginx("$host")),
    ("http_referrer", Origin::Nginx("$http_referer")),
    ("http_user_agent", Origin::Nginx("$http_user_agent")),
    (
        "proxy_status",
        Origin::Unavailable("- (nginx reports the origin's status as $upstream_status)"),
    ),
    ("remote_addr", Origin::Nginx("$remote_addr")),
    ("remote_port", Origin::Nginx("$remote_port")),
    ("request_id", Origin::Nginx("$request_id")),
    ("request_length", Origin::Nginx("$request_length")),
    ("request_method", Origin::Nginx("$request_method")),
    ("request_time", Origin::Nginx("$request_time")),
    ("request_uri", Origin::Nginx("$request_uri")),
    (
        "requestPath",
        Origin::Nginx("$uri (the path, normalised and without the query string)"),
    ),
    ("requestQuery", Origin::Nginx("$args (the query string)")),
    ("scheme", Origin::Nginx("$scheme")),
    (
        "sent_http_content_type",
        Origin::Nginx("$sent_http_content_type"),
    ),
    (
        "sent_http_x_original_image_size",
        Origin::Nginx("$sent_http_x_original_image_size"),
    ),
    ("server_addr", Origin::Nginx("$server_addr")),
    ("server_port", Origin::Nginx("$server_port")),
    ("server_protocol", Origin::Nginx("$server_protocol")),
    (
        "session_id",
        Origin::Unavailable("- (nginx has no session id)"),
    ),
    ("ssl_cipher", Origin::Nginx("$ssl_cipher")),
    ("ssl_protocol", Origin::Nginx("$ssl_protocol")),
    ("ssl_server_name", Origin::Nginx("$ssl_server_name")),
    ("ssl_session_reused", Origin::Nginx("$ssl_session_reused")),
    ("state", Origin::Unavailable("- (needs a GeoIP2 module)")),
    ("status", Origin::Nginx("$status")),
    (
        "stream",
        Origin::Nginx("$server_name (nginx names no location: the server block stands for it)"),
    ),
    ("tcpinfo_rtt", Origin::Nginx("$tcpinfo_rtt")),
    (
        "time",
        Origin::Nginx("$time_iso8601 (ISO 8601, the edge's local offset)"),
    ),
    (
        "traceback",
        Origin::Unavailable("- (nginx has no rules engine trace)"),
    ),
    ("upstream_addr", Origin::Nginx("$upstream_addr")),
    (
        "upstream_bytes_received",
        Origin::Nginx("$upstream_bytes_received"),
    ),
    ("upstream_bytes_sent", Origin::Nginx("$upstream_bytes_sent")),
    (
        "upstream_cache_status",
        Origin::Nginx("$upstream_cache_status"),
    ),
    (
        "upstream_connect_time",
        Origin::Nginx("$upstream_connect_time"),
    ),
    (
        "upstream_header_time",
        Origin::Nginx("$upstream_header_time"),
    ),
    (
        "upstream_response_time",
        Origin::Nginx("$upstream_response_time"),
    ),
    ("upstream_status", Origin::Nginx("$upstream_status")),
    ("waf_attack_action", Origin::Derived(WAF_JOINED)),
    ("waf_attack_family", Origin::Derived(WAF_JOINED)),
    ("waf_block", Origin::Derived(WAF_JOINED)),
    ("waf_headers", Origin::Derived(WAF_JOINED)),
    ("waf_learning", Origin::Derived(WAF_JOINED)),
    ("waf_match", Origin::Derived(WAF_JOINED)),
    ("waf_score", Origin::Derived(WAF_JOINED)),
    (
        "waf_total_blocked",
        Origin::Unavailable("- (a per-request record carries no totals)"),
    ),
    (
        "waf_total_processed",
        Origin::Unavailable("- (a per-request record carries no totals)"),
    ),
];

/// The Edge Applications `waf_*` variables of a request from nginx.
pub const WAF_JOINED: &str = "the request's ModSecurity entry, joined by $request_id \
     (modsecurity_transaction_id); - when ModSecurity sent none (it reports only the \
     requests it found relevant)";

/// Every WAF Events variable, in catalogue order, and where the audit entry has it.
pub const WAF_EVENTS_SOURCES: &[(&str, Origin)] = &[
    (
        "blocked",
        Origin::Derived(
            "1 when ModSecurity intervened (the response is its 4xx/5xx and a disruptive rule matched), else 0",
        ),
    ),
    (
        "client",
        Origin::Derived("the account id of the ingest token in the SecAuditLog URL"),
    ),
    ("configuration", Origin::Derived("transaction.server_id")),
    (
        "country",
        Origin::Unavailable("- (ModSecurity has no geolocation)"),
    ),
    (
        "headers",
        Origin::Derived("base64 of transaction.request.headers, one `Name: value` per line"),
    ),
    ("host", Origin::Derived("the request's Host header")),
    ("remote_addr", Origin::Derived("transaction.client_ip")),
    (
        "requestPath",
        Origin::Derived("transaction.request.uri before `?`"),
    ),
    (
        "requestQuery",
        Origin::Derived("transaction.request.uri after `?`"),
    ),
    (
        "server_protocol",
        Origin::Derived("HTTP/ and transaction.request.http_version"),
    ),
    (
        "time",
        Origin::Derived(
            "transaction.time_stamp as ISO 8601, in the edge's local time (ModSecurity writes no offset)",
        ),
    ),
    ("truncated_body", Origin::Derived("always -")),
    (
        "version",
        Origin::Derived("transaction.producer.modsecurity"),
    ),
    (
        "waf_args",
        Origin::Derived("the query string (transaction.request.uri after `?`)"),
    ),
    (
        "waf_attack_action",
        Origin::Derived(
            "$BLOCK or $PASS; $LEARNING_BLOCK/$LEARNING_PASS when the engine is DetectionOnly",
        ),
    ),
    (
        "waf_attack_family",
        Origin::Derived(
            "the family most matched rules name: CRS tags attack-sqli → SQL, attack-xss → XSS, attack-lfi → TRAVERSAL, attack-rce → RCE, attack-rfi → RFI, attack-php → PHP, attack-java → JAVA, attack-protocol → PROTOCOL, … (or the rule id's CRS file when a rule has no tag)",
        ),
    ),
    (
        "waf_learning",
        Origin::Derived("1 when producer.secrules_engine is DetectionOnly, else 0"),
    ),
    (
        "waf_match",
        Origin::Derived(
            "each matched rule as `ruleId: message` (details.data when present), `; ` between",
        ),
    ),
    (
        "waf_score",
        Origin::Derived(
            "the inbound anomaly score (rule 949110's Total Score; else the sum of the matched rules' severities)",
        ),
    ),
    (
        "waf_server",
        Origin::Derived("the Host header ModSecurity saw"),
    ),
    ("waf_uri", Origin::Derived("transaction.request.uri")),
];

/// Where `variable` of `source` comes from at a real edge.
pub fn origin(source: DataSource, variable: &str) -> Option<Origin> {
    let table = match source {
        DataSource::EdgeApplications => EDGE_APPLICATIONS_SOURCES,
        DataSource::WafEvents => WAF_EVENTS_SOURCES,
        // Written by the service, not by the edge.
        DataSource::ActivityHistory => &[],
    };
    table
        .iter()
        .find(|(name, _)| *name == variable)
        .map(|(_, origin)| *origin)
}

/// The nginx `log_format` line (for the `http` block): the token and the account first,
/// then every variable nginx has, each as a JSON string (`escape=json` escapes values).
pub fn nginx_log_format(token: &str, account_id: i64) -> String {
    let mut line = format!(
        "log_format {LOG_FORMAT_NAME} escape=json\n  '{{\"{TOKEN_KEY}\":\"{token}\",\"client\":\"{account_id}\","
    );
    let nginx_fields = EDGE_APPLICATIONS_SOURCES
        .iter()
        .filter_map(|(name, origin)| match origin {
            Origin::Nginx(expression) => Some((name, expression.split(' ').next()?)),
            _ => None,
        });
    let mut first = true;
    for (name, expression) in nginx_fields {
        if !first {
            line.push(',');
        }
        first = false;
        line.push_str(&format!("'\n  '\"{name}\":\"{expression}\""));
    }
    line.push_str("}';");
    line
}

/// The lines for an nginx `server` block: the access log to this server's syslog input,
/// and ModSecurity with the transaction id the two sources are joined by.
pub fn nginx_server_lines(syslog_address: &str, modsecurity_rules_file: &str) -> String {
    format!(
        "access_log syslog:server={syslog_address},tag={SYSLOG_TAG},nohostname {LOG_FORMAT_NAME};\n\
         modsecurity on;\n\
         modsecurity_transaction_id \"$request_id\";\n\
         modsecurity_rules_file {modsecurity_rules_file};"
    )
}

/// The ModSecurity rules file: the audit log to this server, as JSON over HTTP(S), then
/// the OWASP Core Rule Set as Debian installs it.
pub fn modsecurity_rules(collector_url: &str) -> String {
    format!(
        "SecRuleEngine On\n\
         SecRequestBodyAccess On\n\
         SecAuditEngine RelevantOnly\n\
         SecAuditLogRelevantStatus \"^(?:5|4(?!04))\"\n\
         SecAuditLogParts ABFHZ\n\
         SecAuditLogFormat JSON\n\
         SecAuditLogType HTTPS\n\
         SecAuditLog {collector_url}\n\
         Include /etc/modsecurity/crs/crs-setup.conf\n\
         Include /usr/share/modsecurity-crs/rules/*.conf"
    )
}

/// The ModSecurity collector path for an ingest token.
pub fn modsecurity_path(token: &str) -> String {
    format!("/ingest/modsecurity/{token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_has_an_origin() {
        for source in DataSource::ALL.into_iter().filter(|s| s.has_hosts()) {
            let table = match source {
                DataSource::EdgeApplications => EDGE_APPLICATIONS_SOURCES,
                DataSource::WafEvents => WAF_EVENTS_SOURCES,
                DataSource::ActivityHistory => unreachable!("no hosts"),
            };
            let names: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
            let catalogue: Vec<&str> = source.variables().iter().map(|v| v.name).collect();
            assert_eq!(names, catalogue, "{source}");
        }
    }

    #[test]
    fn log_format_is_json_once_nginx_fills_it() {
        let line = nginx_log_format("dsi_abc", 7);
        // What nginx writes: the quoted pieces joined, each $variable replaced.
        let body: String = line
            .split('\'')
            .skip(1)
            .step_by(2)
            .collect::<Vec<_>>()
            .concat();
        let filled = body
            .split('"')
            .map(|piece| if piece.starts_with('$') { "x" } else { piece })
            .collect::<Vec<_>>()
            .join("\"");
        let event: serde_json::Value = serde_json::from_str(&filled).unwrap();
        assert_eq!(event[TOKEN_KEY], "dsi_abc");
        assert_eq!(event["client"], "7");
        assert_eq!(event["requestPath"], "x");
        assert!(event.get("waf_block").is_none());
    }
}
