//! The ModSecurity input: `POST /ingest/modsecurity/{token}`, one audit entry per request
//! as `SecAuditLogType HTTPS` + `SecAuditLogFormat JSON` send it (ModSecurity sends no
//! custom headers, so the ingest token is in the path; the route is outside the request
//! log, and no answer or log line repeats the path).
//!
//! ModSecurity waits for the answer before it finishes the client's request, so the work
//! here is one parse and one spool append: the entry becomes a WAF Events event, and its
//! verdict waits in the join for the request's Edge Applications event.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use engine::DataSource;
use model::{EdgeInput, EdgeOutcome};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Edge;

/// Largest audit entry taken (parts ABFHZ carry headers, not bodies: a few KB).
const MAX_ENTRY_BYTES: usize = 1024 * 1024;
/// The whole entry must arrive within this.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Entries read at once, over all accounts (503 past it, as ingest's bodies).
pub const MAX_ENTRIES_AT_ONCE: usize = 64;

/// What the server takes from an audit entry (libmodsecurity 3's JSON).
#[derive(Debug, Deserialize)]
pub struct AuditEntry {
    transaction: Transaction,
}

#[derive(Debug, Deserialize)]
struct Transaction {
    #[serde(default)]
    client_ip: String,
    #[serde(default)]
    time_stamp: String,
    #[serde(default)]
    server_id: String,
    #[serde(default)]
    unique_id: String,
    request: Request,
    #[serde(default)]
    response: Option<Answer>,
    #[serde(default)]
    producer: Option<Producer>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Debug, Deserialize)]
struct Request {
    #[serde(default)]
    uri: String,
    #[serde(default)]
    http_version: Option<Value>,
    #[serde(default)]
    headers: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    http_code: u16,
}

#[derive(Debug, Deserialize)]
struct Producer {
    #[serde(default)]
    modsecurity: String,
    #[serde(default)]
    secrules_engine: String,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    message: String,
    details: Details,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    #[serde(default)]
    rule_id: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    tags: Vec<String>,
}

/// The CRS rules that decide the block in anomaly-scoring mode (inbound, outbound).
const BLOCKING_EVALUATION_RULES: [&str; 2] = ["949110", "959100"];

/// An entry, mapped: the WAF Events event, and the `waf_*` members of the request's Edge
/// Applications event.
pub struct Mapped {
    pub request_id: String,
    pub waf_event: Vec<u8>,
    pub edge_members: Vec<u8>,
}

impl AuditEntry {
    pub fn map(&self, account_id: i64) -> Mapped {
        let t = &self.transaction;
        let engine = t
            .producer
            .as_ref()
            .map_or("", |p| p.secrules_engine.as_str());
        let learning = engine.eq_ignore_ascii_case("DetectionOnly");
        let evaluated_to_block = t
            .messages
            .iter()
            .any(|m| BLOCKING_EVALUATION_RULES.contains(&m.details.rule_id.as_str()));
        let intercepted = t.response.as_ref().is_some_and(|r| r.http_code >= 400);
        let blocked = evaluated_to_block && intercepted && !learning;
        let action = match (evaluated_to_block, learning) {
            (true, false) => "$BLOCK",
            (false, false) => "$PASS",
            (true, true) => "$LEARNING_BLOCK",
            (false, true) => "$LEARNING_PASS",
        };
        let host = header(&t.request.headers, "host").unwrap_or("-");
        let (path, query) = t
            .request
            .uri
            .split_once('?')
            .unwrap_or((&t.request.uri, ""));
        let family = attack_family(&t.messages).unwrap_or("-");
        let score = anomaly_score(&t.messages).to_string();
        let matches = t
            .messages
            .iter()
            .map(|m| format!("{}: {}", m.details.rule_id, m.message))
            .collect::<Vec<_>>()
            .join("; ");
        let headers = base64::engine::general_purpose::STANDARD.encode(
            t.request
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {}\n", value.as_str().unwrap_or_default()))
                .collect::<String>(),
        );
        let protocol = match &t.request.http_version {
            Some(Value::Number(n)) => format!("HTTP/{:.1}", n.as_f64().unwrap_or(1.1)),
            Some(Value::String(s)) => format!("HTTP/{s}"),
            _ => "-".into(),
        };
        let blocked_flag = if blocked { "1" } else { "0" };
        let learning_flag = if learning { "1" } else { "0" };
        let waf_event = json!({
            "blocked": blocked_flag,
            "client": account_id.to_string(),
            "configuration": t.server_id,
            "headers": headers,
            "host": host,
            "remote_addr": t.client_ip,
            "requestPath": path,
            "requestQuery": query,
            "request_id": t.unique_id,
            "server_protocol": protocol,
            "time": iso_time(&t.time_stamp),
            "truncated_body": "-",
            "version": t.producer.as_ref().map_or("-", |p| p.modsecurity.as_str()),
            "waf_args": query,
            "waf_attack_action": action,
            "waf_attack_family": family,
            "waf_learning": learning_flag,
            "waf_match": matches,
            "waf_score": score,
            "waf_server": host,
            "waf_uri": t.request.uri,
        });
        let mut members = Map::new();
        members.insert("waf_attack_action".into(), action.into());
        members.insert("waf_attack_family".into(), family.into());
        members.insert("waf_block".into(), blocked_flag.into());
        members.insert(
            "waf_headers".into(),
            if blocked { headers.as_str() } else { "-" }.into(),
        );
        members.insert("waf_learning".into(), learning_flag.into());
        members.insert("waf_match".into(), matches.as_str().into());
        members.insert("waf_score".into(), score.as_str().into());
        // `{…}` → `,…`: members to add to another object.
        let mut edge_members = Value::Object(members).to_string().into_bytes();
        edge_members[0] = b',';
        edge_members.pop();
        Mapped {
            request_id: t.unique_id.clone(),
            waf_event: waf_event.to_string().into_bytes(),
            edge_members,
        }
    }
}

/// A request header by name, case-insensitively.
fn header<'a>(headers: &'a BTreeMap<String, Value>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, value)| value.as_str())
}

/// The family most of the matched rules name (the first one on a tie); `None` when no
/// rule names one. A rule's CRS tag says it; a rule without one, its CRS file (rule id).
fn attack_family(messages: &[Message]) -> Option<&'static str> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for message in messages {
        let family = message
            .details
            .tags
            .iter()
            .find_map(|tag| family_of_tag(tag))
            .or_else(|| family_of_rule(&message.details.rule_id));
        if let Some(family) = family {
            match counts.iter_mut().find(|(f, _)| *f == family) {
                Some((_, count)) => *count += 1,
                None => counts.push((family, 1)),
            }
        }
    }
    // max_by_key keeps the last of equals: walk backwards so the first seen wins.
    counts
        .iter()
        .rev()
        .max_by_key(|(_, count)| *count)
        .map(|(family, _)| *family)
}

fn family_of_tag(tag: &str) -> Option<&'static str> {
    Some(match tag.strip_prefix("attack-")? {
        "sqli" => "SQL",
        "xss" => "XSS",
        "lfi" => "TRAVERSAL",
        "rce" => "RCE",
        "rfi" => "RFI",
        "php" | "injection-php" => "PHP",
        "java" => "JAVA",
        "nodejs" => "NODEJS",
        "protocol" => "PROTOCOL",
        "fixation" => "SESSION_FIXATION",
        "reputation-scanner" => "SCANNER",
        _ => return None,
    })
}

/// The family of a CRS rule by its file (the rule id's first three digits).
fn family_of_rule(rule_id: &str) -> Option<&'static str> {
    Some(match rule_id.get(..3)? {
        "913" => "SCANNER",
        "920" | "921" => "PROTOCOL",
        "930" => "TRAVERSAL",
        "931" => "RFI",
        "932" => "RCE",
        "933" => "PHP",
        "934" => "NODEJS",
        "941" => "XSS",
        "942" => "SQL",
        "943" => "SESSION_FIXATION",
        "944" => "JAVA",
        _ => return None,
    })
}

/// The inbound anomaly score: rule 949110's "Total Score: N", or else the matched rules'
/// CRS weights by severity (critical 5, error 4, warning 3, notice 2).
fn anomaly_score(messages: &[Message]) -> u32 {
    let total = messages.iter().find_map(|m| {
        let (_, rest) = m.message.split_once("Total Score: ")?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    });
    total.unwrap_or_else(|| {
        messages
            .iter()
            .map(|m| match m.details.severity.as_str() {
                "0" | "1" | "2" => 5,
                "3" => 4,
                "4" => 3,
                "5" => 2,
                _ => 0,
            })
            .sum()
    })
}

/// `Wed Dec  2 15:24:15 2026` (the edge's local time) as ISO 8601.
fn iso_time(stamp: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(stamp, "%a %b %e %H:%M:%S %Y")
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_else(|_| stamp.to_string())
}

fn answer(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

/// `POST /ingest/modsecurity/{token}`.
pub async fn receive(State(edge): State<Edge>, Path(token): Path<String>, body: Body) -> Response {
    let Some(account_id) = edge.account_for_token(&token) else {
        edge.count(EdgeInput::ModSecurity, EdgeOutcome::NoToken, None, 1);
        return answer(
            StatusCode::UNAUTHORIZED,
            "a valid ingest token is required in the path\n",
        );
    };
    let account = Some(account_id);
    let Ok(_slot) = edge.entries.try_acquire() else {
        edge.count(EdgeInput::ModSecurity, EdgeOutcome::Refused, account, 1);
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many audit entries at once: retry later\n",
        );
    };
    let read = axum::body::to_bytes(body, MAX_ENTRY_BYTES);
    let body = match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            edge.count(EdgeInput::ModSecurity, EdgeOutcome::Oversize, account, 1);
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the audit entry is larger than 1 MiB\n",
            );
        }
        Err(_) => {
            edge.count(EdgeInput::ModSecurity, EdgeOutcome::Malformed, account, 1);
            return answer(
                StatusCode::REQUEST_TIMEOUT,
                "the audit entry did not arrive in time\n",
            );
        }
    };
    let entry: AuditEntry = match serde_json::from_slice(&body) {
        Ok(entry) => entry,
        Err(e) => {
            tracing::debug!(account_id, error = %e, "ModSecurity: not an audit entry");
            edge.count(EdgeInput::ModSecurity, EdgeOutcome::Malformed, account, 1);
            return answer(
                StatusCode::BAD_REQUEST,
                "not a ModSecurity JSON audit entry (SecAuditLogFormat JSON)\n",
            );
        }
    };
    let mapped = entry.map(account_id);
    if !mapped.request_id.is_empty() {
        edge.join
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add_verdict(
                account_id,
                mapped.request_id.as_bytes(),
                mapped.edge_members,
                Instant::now(),
            );
    }
    match edge
        .ingest(
            EdgeInput::ModSecurity,
            account_id,
            DataSource::WafEvents,
            &mapped.waf_event,
            1,
        )
        .await
    {
        Ok(()) => answer(StatusCode::OK, "ok\n"),
        Err(refusal) => answer(refusal.status, "not taken: retry later\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry as ModSecurity 3.0.9 + CRS 3.3.4 sent it for `?id=1' OR 1=1--`.
    const SQLI: &str = r#"{"transaction":{"client_ip":"127.0.0.1","time_stamp":"Wed Dec  2 15:24:15 2026","server_id":"2ce1","client_port":39272,"host_ip":"127.0.0.1","host_port":18080,"unique_id":"ed7835b9","request":{"method":"GET","http_version":1.1,"uri":"/products?id=1'%20OR%201=1--","headers":{"Host":"shop.example.com","User-Agent":"curl/7.88.1","Accept":"*/*"}},"response":{"http_code":403,"headers":{}},"producer":{"modsecurity":"ModSecurity v3.0.9 (Linux)","connector":"ModSecurity-nginx v1.0.3","secrules_engine":"Enabled","components":["OWASP_CRS/3.3.4\""]},"messages":[{"message":"SQL Injection Attack Detected via libinjection","details":{"match":"detected SQLi using libinjection.","reference":"v17,11","ruleId":"942100","file":"/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf","lineNumber":"46","data":"Matched Data: s&1c found within ARGS:id: 1' OR 1=1--","severity":"2","ver":"OWASP_CRS/3.3.4","rev":"","tags":[],"maturity":"0","accuracy":"0"}},{"message":"Inbound Anomaly Score Exceeded (Total Score: 5)","details":{"match":"","reference":"","ruleId":"949110","file":"","lineNumber":"81","data":"","severity":"2","ver":"OWASP_CRS/3.3.4","rev":"","tags":["application-multi","language-multi","platform-multi","attack-generic"],"maturity":"0","accuracy":"0"}}]}}"#;

    #[test]
    fn a_blocked_sql_injection_maps_to_the_waf_variables() {
        let entry: AuditEntry = serde_json::from_str(SQLI).unwrap();
        let mapped = entry.map(7);
        let event: Value = serde_json::from_slice(&mapped.waf_event).unwrap();
        assert_eq!(event["blocked"], "1");
        assert_eq!(
            event["waf_attack_family"], "SQL",
            "the untagged rule 942100 by its file"
        );
        assert_eq!(event["waf_score"], "5");
        assert_eq!(event["waf_attack_action"], "$BLOCK");
        assert_eq!(event["host"], "shop.example.com");
        assert_eq!(event["requestPath"], "/products");
        assert_eq!(event["waf_args"], "id=1'%20OR%201=1--");
        assert_eq!(event["server_protocol"], "HTTP/1.1");
        assert_eq!(event["time"], "2026-12-02T15:24:15");
        assert_eq!(event["client"], "7");
        let headers = base64::engine::general_purpose::STANDARD
            .decode(event["headers"].as_str().unwrap())
            .unwrap();
        assert!(
            String::from_utf8(headers)
                .unwrap()
                .contains("Host: shop.example.com\n")
        );
        let members = format!(
            "{{\"x\":1{}}}",
            String::from_utf8(mapped.edge_members).unwrap()
        );
        let members: Value = serde_json::from_str(&members).unwrap();
        assert_eq!(members["waf_block"], "1");
        assert_eq!(members["waf_attack_family"], "SQL");
        assert_eq!(mapped.request_id, "ed7835b9");
    }

    #[test]
    fn detection_only_learns_instead_of_blocking() {
        let entry: AuditEntry =
            serde_json::from_str(&SQLI.replace("\"Enabled\"", "\"DetectionOnly\"")).unwrap();
        let event: Value = serde_json::from_slice(&entry.map(7).waf_event).unwrap();
        assert_eq!(event["blocked"], "0");
        assert_eq!(event["waf_learning"], "1");
        assert_eq!(event["waf_attack_action"], "$LEARNING_BLOCK");
    }

    #[test]
    fn the_most_named_family_wins() {
        let message = |rule: &str, tag: &str| Message {
            message: String::new(),
            details: Details {
                rule_id: rule.into(),
                severity: "2".into(),
                tags: vec![tag.into()],
            },
        };
        let path_traversal = [
            message("930100", "attack-lfi"),
            message("930110", ""),
            message("932160", "attack-rce"),
            message("949110", "attack-generic"),
        ];
        assert_eq!(attack_family(&path_traversal), Some("TRAVERSAL"));
        assert_eq!(
            attack_family(&[
                message("932160", "attack-rce"),
                message("941100", "attack-xss")
            ]),
            Some("RCE")
        );
        assert_eq!(attack_family(&[message("949110", "attack-generic")]), None);
        assert_eq!(anomaly_score(&path_traversal[..3]), 15);
    }
}
