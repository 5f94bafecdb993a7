//! The traffic generator ([`EventGenerator`]): realistic events of either data source, for
//! the server's `generate` tool and the benchmarks (feature `generator`).
//!
//! Events hang together as an edge's logs do: a visitor keeps its address and TLS setup, a
//! cache hit has no upstream, a blocked attack gets a 403. Texts that may need JSON escaping
//! are escaped once, when the generator is built, so writing an event only copies and formats.
//!
//! Here: the generator and its event writing. `traffic`: what each request was; `response`:
//! what the edge answered; `clock`: `time`; `tables`: the data; `json`, `random`: helpers.

mod clock;
mod json;
mod random;
mod response;
mod tables;
mod traffic;

#[cfg(test)]
mod tests;

use fastrand::Rng;

use self::clock::{Clock, TimePrecision};
use self::json::{
    json_escaped, put_base64, put_flag, put_hex, put_number, put_quoted, put_quoted_number,
    put_quoted_seconds, put_seconds,
};
use self::tables::{
    ATTACKS, Attack, EDGES, GEOS, ORIGINS, PAGES, REFERRERS, TLS_SETUPS, USER_AGENTS,
};
use self::traffic::{Detection, Referrer, Request, Target, Visitor, WafAction};
use crate::catalog::DataSource;

/// `,"name":` as bytes: the start of every member of an event but the first.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":").as_bytes()
    };
}

/// `{"name":` as bytes: the start of an event.
macro_rules! first_key {
    ($name:literal) => {
        concat!("{\"", $name, "\":").as_bytes()
    };
}

/// Events start at 2026-11-14T12:00:00Z unless [`EventGenerator::starting_at`] moves them.
const DEFAULT_START_UNIX_MILLIS: u64 = 1_794_657_600_000;
/// Distinct clients (address, user agent, TLS setup) a generator sends requests from.
const VISITORS: usize = 2_048;
/// Room reserved per event, above the largest event, so one event never reallocates twice.
const EVENT_BYTES_HINT: usize = 2_048;

/// Writes realistic events of one data source as single-line JSON objects.
///
/// The same source, hosts and seed always give the same events. `request_id` is unique
/// among the events of one generator; `time` starts at a fixed instant (see
/// [`EventGenerator::starting_at`]) and advances about a millisecond per event.
#[derive(Debug)]
pub struct EventGenerator {
    source: DataSource,
    rng: Rng,
    /// The account id (`client`) of every event.
    client: Box<str>,
    hosts: Vec<Host>,
    visitors: Vec<Visitor>,
    /// [`USER_AGENTS`], escaped.
    user_agents: Vec<Box<str>>,
    /// The queries of each of [`PAGES`], escaped.
    page_queries: Vec<Vec<Box<str>>>,
    /// [`ATTACKS`], escaped.
    attacks: Vec<EscapedAttack>,
    /// Mixed with the event counter into the unique half of `request_id`.
    request_id_key: u64,
    events_written: u64,
    clock: Clock,
    /// The raw request headers of a blocked attack, before they are base64-encoded.
    headers_scratch: Vec<u8>,
}

impl EventGenerator {
    /// A generator of `source` events for requests to `hosts`, reproducible from `seed`.
    ///
    /// # Panics
    ///
    /// If `hosts` is empty, or `source` has no hosts (Activity History is the service's own).
    pub fn new(source: DataSource, hosts: Vec<String>, seed: u64) -> EventGenerator {
        assert!(source.has_hosts(), "{source} events are not edge traffic");
        assert!(!hosts.is_empty(), "the traffic generator needs a host");
        let mut rng = Rng::with_seed(seed);
        let client = format!("{}{}", rng.u32(1_000..10_000), rng.lowercase()).into_boxed_str();
        let hosts = hosts
            .into_iter()
            .map(|name| Host {
                json: json_escaped(&name),
                configuration: rng.u64(1_000_000_000..2_000_000_000),
                name,
            })
            .collect();
        let visitors = (0..VISITORS).map(|_| Visitor::new(&mut rng)).collect();
        EventGenerator {
            source,
            client,
            hosts,
            visitors,
            user_agents: USER_AGENTS
                .iter()
                .map(|agent| json_escaped(agent.text))
                .collect(),
            page_queries: PAGES
                .iter()
                .map(|page| {
                    page.queries
                        .iter()
                        .map(|query| json_escaped(query))
                        .collect()
                })
                .collect(),
            attacks: ATTACKS.iter().map(EscapedAttack::new).collect(),
            request_id_key: rng.u64(..),
            events_written: 0,
            clock: Clock::new(DEFAULT_START_UNIX_MILLIS),
            headers_scratch: Vec::with_capacity(256),
            rng,
        }
    }

    /// Moves the clock of the next events to `unix_millis` (e.g. now, for live traffic).
    pub fn starting_at(mut self, unix_millis: u64) -> EventGenerator {
        self.clock = Clock::new(unix_millis);
        self
    }

    /// Appends one event to `out`: a JSON object on one line, without a newline.
    pub fn write_event(&mut self, out: &mut Vec<u8>) {
        out.reserve(EVENT_BYTES_HINT);
        // Several events share a millisecond, as on a busy edge.
        self.clock.advance(self.rng.u64(0..3));
        match self.source {
            DataSource::EdgeApplications => {
                let request = Request::draw(&mut self.rng, self.hosts.len(), self.visitors.len());
                self.write_edge_applications_event(&request, out);
            }
            DataSource::WafEvents => {
                let detection =
                    Detection::draw(&mut self.rng, self.hosts.len(), self.visitors.len());
                self.write_waf_event(&detection, out);
            }
            DataSource::ActivityHistory => unreachable!("refused by EventGenerator::new"),
        }
        self.events_written += 1;
    }

    /// Appends `count` events to `out`, each followed by `\n`: an NDJSON body.
    pub fn write_batch(&mut self, count: usize, out: &mut Vec<u8>) {
        out.reserve(count * EVENT_BYTES_HINT);
        for _ in 0..count {
            self.write_event(out);
            out.push(b'\n');
        }
    }

    fn write_edge_applications_event(&mut self, request: &Request, out: &mut Vec<u8>) {
        let host = &self.hosts[request.host];
        let visitor = &self.visitors[request.visitor];
        let geo = &GEOS[visitor.geo];
        let response = &request.response;
        let (path, query, attack) = match request.target {
            Target::Page { page, query } => (
                PAGES[page].path,
                query.map(|query| &*self.page_queries[page][query]),
                None,
            ),
            Target::Attack { attack, action } => (
                ATTACKS[attack].path,
                Some(&*self.attacks[attack].query),
                Some((attack, action)),
            ),
        };
        let user_agent = match attack {
            Some((attack, _)) => &self.attacks[attack].user_agent,
            None => &self.user_agents[visitor.user_agent],
        };

        out.extend_from_slice(first_key!("asn"));
        put_quoted(out, geo.asn);
        out.extend_from_slice(key!("bytes_sent"));
        put_number(out, response.bytes_sent);
        out.extend_from_slice(key!("client"));
        put_quoted(out, &self.client);
        out.extend_from_slice(key!("configuration"));
        put_quoted_number(out, host.configuration);
        out.extend_from_slice(key!("country"));
        put_quoted(out, geo.country);
        out.extend_from_slice(key!("host"));
        put_quoted(out, &host.json);
        out.extend_from_slice(key!("http_referrer"));
        match request.referrer {
            Referrer::None => put_quoted(out, "-"),
            Referrer::SameSite => {
                out.extend_from_slice(b"\"https://");
                out.extend_from_slice(host.json.as_bytes());
                out.extend_from_slice(b"/\"");
            }
            Referrer::Other(referrer) => put_quoted(out, REFERRERS[referrer]),
        }
        out.extend_from_slice(key!("http_user_agent"));
        put_quoted(out, user_agent);
        out.extend_from_slice(key!("proxy_status"));
        put_quoted(out, response.proxy_status);
        out.extend_from_slice(key!("remote_addr"));
        put_quoted(out, &visitor.remote_addr);
        out.extend_from_slice(key!("remote_port"));
        put_quoted_number(out, request.remote_port);
        out.extend_from_slice(key!("request_id"));
        out.push(b'"');
        put_hex(out, request.request_id_random_half);
        put_hex(out, scatter(self.events_written ^ self.request_id_key));
        out.push(b'"');
        out.extend_from_slice(key!("request_length"));
        put_number(out, request.request_length);
        out.extend_from_slice(key!("request_method"));
        put_quoted(out, request.method);
        out.extend_from_slice(key!("request_time"));
        put_quoted_seconds(out, response.request_millis);
        out.extend_from_slice(key!("request_uri"));
        out.push(b'"');
        out.extend_from_slice(path.as_bytes());
        if let Some(query) = query {
            out.push(b'?');
            out.extend_from_slice(query.as_bytes());
        }
        out.push(b'"');
        out.extend_from_slice(key!("requestPath"));
        put_quoted(out, path);
        out.extend_from_slice(key!("requestQuery"));
        put_quoted(out, query.unwrap_or("-"));
        out.extend_from_slice(key!("scheme"));
        put_quoted(out, if request.https { "https" } else { "http" });
        out.extend_from_slice(key!("sent_http_content_type"));
        put_quoted(out, response.content_type);
        out.extend_from_slice(key!("sent_http_x_original_image_size"));
        match response.original_image_bytes {
            Some(bytes) => put_quoted_number(out, bytes),
            None => put_quoted(out, "-"),
        }
        let edge = &EDGES[visitor.edge];
        out.extend_from_slice(key!("server_addr"));
        put_quoted(out, edge.address);
        out.extend_from_slice(key!("server_port"));
        put_quoted(out, if request.https { "443" } else { "80" });
        out.extend_from_slice(key!("server_protocol"));
        put_quoted(
            out,
            if request.https {
                visitor.server_protocol
            } else {
                "HTTP/1.1"
            },
        );
        out.extend_from_slice(key!("session_id"));
        out.push(b'"');
        put_hex(out, visitor.session_id);
        out.push(b'"');
        let tls = &TLS_SETUPS[visitor.tls];
        let (cipher, protocol, server_name, reused) = if request.https {
            let reused = if request.session_reused { "r" } else { "." };
            (tls.cipher, tls.protocol, &*host.json, reused)
        } else {
            ("-", "-", "-", "-")
        };
        out.extend_from_slice(key!("ssl_cipher"));
        put_quoted(out, cipher);
        out.extend_from_slice(key!("ssl_protocol"));
        put_quoted(out, protocol);
        out.extend_from_slice(key!("ssl_server_name"));
        put_quoted(out, server_name);
        out.extend_from_slice(key!("ssl_session_reused"));
        put_quoted(out, reused);
        out.extend_from_slice(key!("state"));
        put_quoted(out, geo.state);
        out.extend_from_slice(key!("status"));
        put_number(out, response.status);
        out.extend_from_slice(key!("stream"));
        put_quoted(out, edge.stream);
        out.extend_from_slice(key!("tcpinfo_rtt"));
        put_quoted_number(out, visitor.rtt_micros + request.rtt_jitter_micros);
        out.extend_from_slice(key!("time"));
        self.clock.put_quoted(out, TimePrecision::Seconds);
        out.extend_from_slice(key!("traceback"));
        put_quoted(out, request.traceback);

        let upstream = &response.upstream;
        out.extend_from_slice(key!("upstream_addr"));
        upstream.put_quoted(out, |fetch, out| {
            out.extend_from_slice(ORIGINS[fetch.origin].as_bytes());
        });
        out.extend_from_slice(key!("upstream_bytes_received"));
        upstream.put_quoted(out, |fetch, out| put_number(out, fetch.bytes_received));
        out.extend_from_slice(key!("upstream_bytes_sent"));
        upstream.put_quoted(out, |fetch, out| put_number(out, fetch.bytes_sent));
        out.extend_from_slice(key!("upstream_cache_status"));
        put_quoted(out, response.cache_status);
        out.extend_from_slice(key!("upstream_connect_time"));
        upstream.put_quoted(out, |fetch, out| put_seconds(out, fetch.connect_millis));
        out.extend_from_slice(key!("upstream_header_time"));
        upstream.put_quoted(out, |fetch, out| match fetch.header_millis {
            Some(millis) => put_seconds(out, millis),
            None => out.push(b'-'),
        });
        out.extend_from_slice(key!("upstream_response_time"));
        upstream.put_quoted(out, |fetch, out| put_seconds(out, fetch.response_millis));
        out.extend_from_slice(key!("upstream_status"));
        upstream.put_quoted(out, |fetch, out| put_number(out, fetch.status));

        match attack {
            None => out.extend_from_slice(
                concat!(
                    r#","waf_attack_action":"$PASS","waf_attack_family":"-","waf_block":"0","#,
                    r#""waf_headers":"-","waf_learning":"0","waf_match":"-","waf_score":"0","#,
                    r#""waf_total_blocked":"0","waf_total_processed":"1"}"#
                )
                .as_bytes(),
            ),
            Some((attack, action)) => {
                let escaped = &self.attacks[attack];
                out.extend_from_slice(key!("waf_attack_action"));
                put_quoted(out, action.as_str());
                out.extend_from_slice(key!("waf_attack_family"));
                put_quoted(out, ATTACKS[attack].family);
                out.extend_from_slice(key!("waf_block"));
                put_flag(out, action == WafAction::Block);
                out.extend_from_slice(key!("waf_headers"));
                let user_agent = ATTACKS[attack].user_agent;
                put_blocked_headers(&mut self.headers_scratch, host, user_agent, action, out);
                out.extend_from_slice(key!("waf_learning"));
                put_flag(out, action.is_learning());
                out.extend_from_slice(key!("waf_match"));
                put_quoted(out, &escaped.matched);
                out.extend_from_slice(key!("waf_score"));
                put_quoted(out, ATTACKS[attack].score);
                out.extend_from_slice(key!("waf_total_blocked"));
                put_flag(out, action == WafAction::Block);
                out.extend_from_slice(key!("waf_total_processed"));
                out.extend_from_slice(b"\"1\"}");
            }
        }
    }

    fn write_waf_event(&mut self, detection: &Detection, out: &mut Vec<u8>) {
        let host = &self.hosts[detection.host];
        let visitor = &self.visitors[detection.visitor];
        let attack = &ATTACKS[detection.attack];
        let escaped = &self.attacks[detection.attack];
        let action = detection.action;

        out.extend_from_slice(first_key!("blocked"));
        put_flag(out, action == WafAction::Block);
        out.extend_from_slice(key!("client"));
        put_quoted(out, &self.client);
        out.extend_from_slice(key!("configuration"));
        put_quoted_number(out, host.configuration);
        out.extend_from_slice(key!("country"));
        put_quoted(out, GEOS[visitor.geo].country);
        out.extend_from_slice(key!("headers"));
        put_blocked_headers(
            &mut self.headers_scratch,
            host,
            attack.user_agent,
            action,
            out,
        );
        out.extend_from_slice(key!("host"));
        put_quoted(out, &host.json);
        out.extend_from_slice(key!("remote_addr"));
        put_quoted(out, &visitor.remote_addr);
        out.extend_from_slice(key!("requestPath"));
        put_quoted(out, attack.path);
        out.extend_from_slice(key!("requestQuery"));
        put_quoted(out, &escaped.query);
        out.extend_from_slice(key!("server_protocol"));
        put_quoted(out, visitor.server_protocol);
        out.extend_from_slice(key!("time"));
        self.clock.put_quoted(out, TimePrecision::Millis);
        out.extend_from_slice(key!("truncated_body"));
        put_quoted(out, "-");
        out.extend_from_slice(key!("version"));
        put_quoted(out, "BETA");
        out.extend_from_slice(key!("waf_args"));
        put_quoted(out, &escaped.args);
        out.extend_from_slice(key!("waf_attack_action"));
        put_quoted(out, action.as_str());
        out.extend_from_slice(key!("waf_attack_family"));
        put_quoted(out, attack.family);
        out.extend_from_slice(key!("waf_learning"));
        put_flag(out, action.is_learning());
        out.extend_from_slice(key!("waf_match"));
        put_quoted(out, &escaped.matched);
        out.extend_from_slice(key!("waf_score"));
        put_quoted(out, attack.score);
        out.extend_from_slice(key!("waf_server"));
        put_quoted(out, &host.json);
        out.extend_from_slice(key!("waf_uri"));
        put_quoted(out, attack.path);
        out.push(b'}');
    }
}

/// Appends the base64 of the request headers of an attack when it was blocked, else `-`;
/// `scratch` holds the raw headers meanwhile.
fn put_blocked_headers(
    scratch: &mut Vec<u8>,
    host: &Host,
    user_agent: &str,
    action: WafAction,
    out: &mut Vec<u8>,
) {
    if action != WafAction::Block {
        put_quoted(out, "-");
        return;
    }
    scratch.clear();
    scratch.extend_from_slice(b"Host: ");
    scratch.extend_from_slice(host.name.as_bytes());
    scratch.extend_from_slice(b"\r\nUser-Agent: ");
    scratch.extend_from_slice(user_agent.as_bytes());
    scratch.extend_from_slice(b"\r\nAccept: */*\r\n");
    out.push(b'"');
    put_base64(out, scratch);
    out.push(b'"');
}

/// One of the hosts the events are for.
#[derive(Debug)]
struct Host {
    /// As given, for the raw request headers.
    name: String,
    /// Escaped for JSON strings.
    json: Box<str>,
    configuration: u64,
}

/// The texts of an [`Attack`] that may need escaping, escaped.
#[derive(Debug)]
struct EscapedAttack {
    query: Box<str>,
    args: Box<str>,
    matched: Box<str>,
    user_agent: Box<str>,
}

impl EscapedAttack {
    fn new(attack: &Attack) -> EscapedAttack {
        EscapedAttack {
            query: json_escaped(attack.query),
            args: json_escaped(attack.args),
            matched: json_escaped(attack.matched),
            user_agent: json_escaped(attack.user_agent),
        }
    }
}

/// A bijection on `u64` that scatters consecutive counters (SplitMix64's finalizer): distinct
/// inputs give distinct outputs, which keeps `request_id` unique.
fn scatter(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}
