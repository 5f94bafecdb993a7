//! A traffic generator: realistic events of either data source, for the built-in traffic
//! generator and the benchmarks.
//!
//! Each event is one JSON object holding every variable of its source, in catalogue order,
//! with values that hang together the way an edge's logs do: a visitor keeps its address,
//! country, user agent and TLS setup across requests; a cache hit has no upstream; an origin
//! that failed over or redirected internally lists several values (`, ` and ` : `); a blocked
//! attack gets a 403 and its request headers in base64. Most requests are page, asset and
//! API hits; a few fail at the origin; a few are SQL injection, XSS or path traversal
//! attempts. Now and then a user agent, query or attack payload holds a quote or a backslash.
//!
//! Speed: everything that may need JSON escaping (hosts, user agents, queries, payloads) is
//! escaped once, when the generator is built. Per event the generator only picks from tables,
//! copies text and formats numbers into the caller's buffer, without allocating.

use fastrand::Rng;

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
/// Edge Applications requests that are attacks, per thousand.
const ATTACKS_PER_THOUSAND: u32 = 25;
/// Edge Applications requests over plain HTTP (redirected to HTTPS), per hundred.
const PLAIN_HTTP_PERCENT: u32 = 3;

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
    /// If `hosts` is empty.
    pub fn new(source: DataSource, hosts: Vec<String>, seed: u64) -> EventGenerator {
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
                let request = self.next_request();
                self.write_edge_applications_event(&request, out);
            }
            DataSource::WafEvents => {
                let detection = self.next_detection();
                self.write_waf_event(&detection, out);
            }
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

    /// Picks a visitor, favouring some (a few clients send much of the traffic).
    fn pick_visitor(&mut self) -> usize {
        let len = self.visitors.len();
        below(&mut self.rng, len).min(below(&mut self.rng, len))
    }

    fn next_detection(&mut self) -> Detection {
        Detection {
            host: below(&mut self.rng, self.hosts.len()),
            visitor: self.pick_visitor(),
            attack: below(&mut self.rng, ATTACKS.len()),
            action: match self.rng.u32(..100) {
                0..70 => WafAction::Block,
                70..90 => WafAction::LearningBlock,
                _ => WafAction::LearningPass,
            },
        }
    }

    /// Decides what the next Edge Applications request was and how it went.
    fn next_request(&mut self) -> Request {
        let https = self.rng.u32(..100) >= PLAIN_HTTP_PERCENT;
        let detection = self.next_detection();
        let rng = &mut self.rng;
        let attacked = https && rng.u32(..1000) < ATTACKS_PER_THOUSAND;
        let (target, method, page) = if attacked {
            let attack = &ATTACKS[detection.attack];
            let target = Target::Attack {
                attack: detection.attack,
                action: detection.action,
            };
            (target, attack.method, &ATTACK_TARGET_PAGE)
        } else {
            let page_index = below(rng, PAGES.len());
            let page = &PAGES[page_index];
            let query =
                (!page.queries.is_empty() && rng.bool()).then(|| below(rng, page.queries.len()));
            let method = match rng.u32(..100) {
                0..50 if page.accepts_post => "POST",
                0..2 => "HEAD",
                _ => "GET",
            };
            let target = Target::Page {
                page: page_index,
                query,
            };
            (target, method, page)
        };
        let outcome = match target {
            _ if !https => Outcome::RedirectedToHttps,
            Target::Attack {
                action: WafAction::Block,
                ..
            } => Outcome::Blocked,
            Target::Attack { .. } if rng.bool() => Outcome::NotFound,
            Target::Attack { .. } => Outcome::Served,
            Target::Page { .. } => match rng.u32(..1000) {
                0..860 => Outcome::Served,
                860..930 => Outcome::NotModified,
                930..965 => Outcome::NotFound,
                965..985 => Outcome::OriginError,
                985..995 => Outcome::OriginDown,
                _ => Outcome::OriginTimeout,
            },
        };
        let request_length = rng.u32(380..900)
            + if method == "POST" {
                rng.u32(200..3_000)
            } else {
                0
            };
        let response = Response::plan(rng, outcome, page, method, request_length);
        let traceback = match outcome {
            Outcome::RedirectedToHttps => "rule_engine:redirect-http-to-https",
            _ if page.cacheable && rng.bool() => {
                "rule_engine:set-cache-policy,rule_engine:add-security-headers"
            }
            _ if page.cacheable => "rule_engine:set-cache-policy",
            _ => "-",
        };
        let referrer = match rng.u32(..100) {
            0..40 => Referrer::None,
            40..70 => Referrer::SameSite,
            _ => Referrer::Other(below(rng, REFERRERS.len())),
        };
        Request {
            host: detection.host,
            visitor: detection.visitor,
            remote_port: rng.u16(1_024..),
            https,
            target,
            method,
            request_length,
            response,
            referrer,
            traceback,
            session_reused: rng.u32(..100) < 60,
            rtt_jitter_micros: rng.u32(..4_000),
            request_id_random_half: rng.u64(..),
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

#[derive(Debug)]
struct Host {
    /// As given, for the raw request headers.
    name: String,
    /// Escaped for JSON strings.
    json: Box<str>,
    configuration: u64,
}

/// One client: what stays the same across its requests.
#[derive(Debug)]
struct Visitor {
    remote_addr: Box<str>,
    /// Index into [`GEOS`].
    geo: usize,
    /// Index into [`USER_AGENTS`].
    user_agent: usize,
    session_id: u64,
    server_protocol: &'static str,
    /// Index into [`TLS_SETUPS`].
    tls: usize,
    rtt_micros: u32,
    /// Index into [`EDGES`]: the edge nearest to the visitor.
    edge: usize,
}

impl Visitor {
    fn new(rng: &mut Rng) -> Visitor {
        let geo = pick_weighted(rng, GEOS, |geo| geo.weight);
        let first_octets = GEOS[geo].first_octets;
        let remote_addr = format!(
            "{}.{}.{}.{}",
            first_octets[below(rng, first_octets.len())],
            rng.u8(..),
            rng.u8(..),
            rng.u8(1..255),
        );
        let server_protocol = match rng.u32(..100) {
            0..65 => "HTTP/2.0",
            65..85 => "HTTP/1.1",
            _ => "HTTP/3.0",
        };
        // HTTP/3 runs over QUIC, which requires TLS 1.3.
        let tls = if server_protocol == "HTTP/3.0" {
            below(rng, TLS_1_3_SETUPS)
        } else {
            below(rng, TLS_SETUPS.len())
        };
        Visitor {
            remote_addr: remote_addr.into_boxed_str(),
            geo,
            user_agent: pick_weighted(rng, USER_AGENTS, |agent| agent.weight),
            session_id: rng.u64(..),
            server_protocol,
            tls,
            rtt_micros: rng.u32(4_000..180_000),
            edge: below(rng, EDGES.len()),
        }
    }
}

/// The index of an entry of `table`, with chances proportional to `weight`.
/// A uniform index below `n`, the same on every platform (fastrand's `usize` draws
/// differently on 32-bit wasm, and the console's preview must match the server's).
fn below(rng: &mut Rng, n: usize) -> usize {
    rng.u32(..n as u32) as usize
}

fn pick_weighted<T>(rng: &mut Rng, table: &[T], weight: impl Fn(&T) -> u32) -> usize {
    let total: u32 = table.iter().map(&weight).sum();
    let mut roll = rng.u32(..total);
    for (index, entry) in table.iter().enumerate() {
        let chance = weight(entry);
        if roll < chance {
            return index;
        }
        roll -= chance;
    }
    unreachable!("the roll is below the total weight")
}

/// A WAF Events event, and the attack part of an attacked Edge Applications request.
struct Detection {
    host: usize,
    visitor: usize,
    /// Index into [`ATTACKS`].
    attack: usize,
    action: WafAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WafAction {
    Block,
    LearningBlock,
    LearningPass,
}

impl WafAction {
    fn as_str(self) -> &'static str {
        match self {
            WafAction::Block => "$BLOCK",
            WafAction::LearningBlock => "$LEARNING_BLOCK",
            WafAction::LearningPass => "$LEARNING_PASS",
        }
    }

    fn is_learning(self) -> bool {
        self != WafAction::Block
    }
}

/// One Edge Applications request, decided before it is written.
struct Request {
    host: usize,
    visitor: usize,
    remote_port: u16,
    https: bool,
    target: Target,
    method: &'static str,
    request_length: u32,
    response: Response,
    referrer: Referrer,
    traceback: &'static str,
    session_reused: bool,
    rtt_jitter_micros: u32,
    /// The first half of `request_id`; the second half, unique, comes from the event counter.
    request_id_random_half: u64,
}

#[derive(Clone, Copy)]
enum Target {
    Page {
        /// Index into [`PAGES`].
        page: usize,
        /// Index into the page's queries.
        query: Option<usize>,
    },
    Attack {
        /// Index into [`ATTACKS`].
        attack: usize,
        action: WafAction,
    },
}

enum Referrer {
    None,
    /// The request's own host: a visitor clicking through the site.
    SameSite,
    /// Index into [`REFERRERS`].
    Other(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Served,
    NotModified,
    NotFound,
    OriginError,
    /// The origin refused the connection: 502.
    OriginDown,
    /// The origin accepted but never answered: 504.
    OriginTimeout,
    /// The WAF answered 403.
    Blocked,
    /// Plain HTTP, answered 301 by a rule.
    RedirectedToHttps,
}

/// What the edge answered, and what it took from the origin to answer.
struct Response {
    status: u16,
    content_type: &'static str,
    bytes_sent: u32,
    original_image_bytes: Option<u32>,
    request_millis: u32,
    cache_status: &'static str,
    proxy_status: &'static str,
    upstream: Upstream,
}

impl Response {
    fn plan(
        rng: &mut Rng,
        outcome: Outcome,
        page: &Page,
        method: &str,
        request_length: u32,
    ) -> Response {
        let header_bytes = rng.u32(240..420);
        let forwarded_bytes = request_length + rng.u32(60..140);
        let mut response = Response {
            status: 200,
            content_type: "text/html",
            bytes_sent: header_bytes,
            original_image_bytes: None,
            request_millis: rng.u32(0..3),
            cache_status: "-",
            proxy_status: "-",
            upstream: Upstream::NONE,
        };
        let (status, body_bytes) = match outcome {
            Outcome::RedirectedToHttps => (301, 162),
            Outcome::Blocked => (403, rng.u32(400..600)),
            Outcome::Served | Outcome::NotModified => {
                let cacheable = page.cacheable && matches!(method, "GET" | "HEAD");
                response.cache_status = if !cacheable {
                    "BYPASS"
                } else {
                    match rng.u32(..100) {
                        0..62 => "HIT",
                        62..82 => "MISS",
                        82..88 => "EXPIRED",
                        88..93 => "REVALIDATED",
                        93..96 => "STALE",
                        _ => "UPDATING",
                    }
                };
                let body_bytes = rng.u32(page.body_bytes.0..page.body_bytes.1);
                let from_cache = matches!(response.cache_status, "HIT" | "STALE" | "UPDATING");
                if !from_cache {
                    let origin_status = match (outcome, response.cache_status) {
                        (Outcome::NotModified, _) | (_, "REVALIDATED") => 304,
                        _ => 200,
                    };
                    let received = header_bytes + if origin_status == 200 { body_bytes } else { 0 };
                    let served = Fetch::answered(rng, origin_status, received, forwarded_bytes);
                    response.upstream = Upstream::serving(rng, served);
                }
                if outcome == Outcome::NotModified {
                    response.content_type = "-";
                    (304, 0)
                } else {
                    response.content_type = page.content_type;
                    if page.image && rng.bool() {
                        response.original_image_bytes = Some(body_bytes * rng.u32(2..6));
                    }
                    // A HEAD answer has the headers of a GET one, without its body.
                    (200, if method == "HEAD" { 0 } else { body_bytes })
                }
            }
            Outcome::NotFound | Outcome::OriginError => {
                let (status, body_bytes) = if outcome == Outcome::NotFound {
                    (404, rng.u32(550..1_200))
                } else {
                    (500, rng.u32(400..700))
                };
                response.cache_status = "MISS";
                let served =
                    Fetch::answered(rng, status, header_bytes + body_bytes, forwarded_bytes);
                response.upstream = Upstream::serving(rng, served);
                (status, body_bytes)
            }
            Outcome::OriginDown => {
                response.cache_status = "MISS";
                response.proxy_status = "502";
                response.upstream = Upstream::single(Fetch::refused(rng));
                (502, rng.u32(490..560))
            }
            Outcome::OriginTimeout => {
                response.cache_status = "MISS";
                response.proxy_status = "504";
                response.upstream = Upstream::single(Fetch::timed_out(rng, forwarded_bytes));
                (504, rng.u32(490..560))
            }
        };
        response.status = status;
        response.bytes_sent = header_bytes + body_bytes;
        response.request_millis += response
            .upstream
            .fetches()
            .iter()
            .map(|fetch| fetch.response_millis)
            .sum::<u32>();
        response
    }
}

/// One exchange with an origin.
#[derive(Debug, Clone, Copy)]
struct Fetch {
    /// Index into [`ORIGINS`].
    origin: usize,
    status: u16,
    connect_millis: u32,
    /// `None` when the origin sent no headers.
    header_millis: Option<u32>,
    response_millis: u32,
    bytes_received: u32,
    bytes_sent: u32,
}

impl Fetch {
    /// Fills the unused places of an [`Upstream`].
    const NOT_MADE: Fetch = Fetch {
        origin: 0,
        status: 0,
        connect_millis: 0,
        header_millis: None,
        response_millis: 0,
        bytes_received: 0,
        bytes_sent: 0,
    };

    fn answered(rng: &mut Rng, status: u16, bytes_received: u32, bytes_sent: u32) -> Fetch {
        // Half the requests reuse a kept-alive connection.
        let connect_millis = if rng.bool() { 0 } else { rng.u32(1..12) };
        let header_millis = connect_millis + rng.u32(8..180);
        Fetch {
            origin: below(rng, ORIGINS.len()),
            status,
            connect_millis,
            header_millis: Some(header_millis),
            response_millis: header_millis + rng.u32(0..40),
            bytes_received,
            bytes_sent,
        }
    }

    /// The connection was refused: the edge reports 502 for it.
    fn refused(rng: &mut Rng) -> Fetch {
        let connect_millis = rng.u32(0..3);
        Fetch {
            origin: below(rng, ORIGINS.len()),
            status: 502,
            connect_millis,
            header_millis: None,
            response_millis: connect_millis,
            bytes_received: 0,
            bytes_sent: 0,
        }
    }

    /// The origin never answered within the edge's 60 s read timeout.
    fn timed_out(rng: &mut Rng, bytes_sent: u32) -> Fetch {
        let connect_millis = rng.u32(1..12);
        Fetch {
            origin: below(rng, ORIGINS.len()),
            status: 504,
            connect_millis,
            header_millis: None,
            response_millis: 60_000 + connect_millis,
            bytes_received: 0,
            bytes_sent,
        }
    }
}

/// The origins a request went to: none (answered at the edge), one, or two, separated by
/// `, ` (the first origin failed, the next was tried) or ` : ` (an internal redirect).
#[derive(Debug, Clone, Copy)]
struct Upstream {
    fetches: [Fetch; 2],
    /// How many of `fetches` happened.
    count: usize,
    separator: &'static str,
}

impl Upstream {
    const NONE: Upstream = Upstream {
        fetches: [Fetch::NOT_MADE; 2],
        count: 0,
        separator: "",
    };

    fn single(fetch: Fetch) -> Upstream {
        Upstream {
            fetches: [fetch, Fetch::NOT_MADE],
            count: 1,
            separator: "",
        }
    }

    /// The fetches behind a response the origin answered with `served`.
    fn serving(rng: &mut Rng, served: Fetch) -> Upstream {
        let (first, separator) = match rng.u32(..100) {
            0..3 => (Fetch::refused(rng), ", "),
            // The origin's 502 sends the request to an error page location on another origin.
            3..5 => {
                let error_page_bytes = rng.u32(300..600);
                let bad_gateway = Fetch::answered(rng, 502, error_page_bytes, served.bytes_sent);
                (bad_gateway, " : ")
            }
            _ => return Upstream::single(served),
        };
        let next_origin = (first.origin + 1) % ORIGINS.len();
        Upstream {
            fetches: [
                first,
                Fetch {
                    origin: next_origin,
                    ..served
                },
            ],
            count: 2,
            separator,
        }
    }

    fn fetches(&self) -> &[Fetch] {
        &self.fetches[..self.count]
    }

    /// Appends one upstream variable as a JSON string: each fetch's value, or `-`.
    fn put_quoted(&self, out: &mut Vec<u8>, put_value: impl Fn(&Fetch, &mut Vec<u8>)) {
        out.push(b'"');
        match self.fetches() {
            [] => out.push(b'-'),
            [first, rest @ ..] => {
                put_value(first, out);
                for fetch in rest {
                    out.extend_from_slice(self.separator.as_bytes());
                    put_value(fetch, out);
                }
            }
        }
        out.push(b'"');
    }
}

/// The `time` of events: an instant in milliseconds, and its date and time to the second,
/// formatted only when the second changes.
#[derive(Debug)]
struct Clock {
    unix_millis: u64,
    /// `YYYY-MM-DDTHH:MM:SS` of `unix_millis`.
    second_text: String,
}

#[derive(Clone, Copy)]
enum TimePrecision {
    /// `2026-11-14T12:34:56Z`, as Edge Applications events have it.
    Seconds,
    /// `2026-11-14T12:34:56.114Z`, as WAF events have it.
    Millis,
}

impl Clock {
    fn new(unix_millis: u64) -> Clock {
        let mut clock = Clock {
            unix_millis,
            second_text: String::with_capacity(24),
        };
        clock.format_second();
        clock
    }

    fn advance(&mut self, millis: u64) {
        let second = self.unix_millis / 1_000;
        self.unix_millis += millis;
        if self.unix_millis / 1_000 != second {
            self.format_second();
        }
    }

    fn format_second(&mut self) {
        use std::fmt::Write as _;
        let seconds = self.unix_millis / 1_000;
        let (year, month, day) = civil_from_days(seconds / 86_400);
        let second_of_day = seconds % 86_400;
        self.second_text.clear();
        write!(
            self.second_text,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            second_of_day / 3_600,
            second_of_day / 60 % 60,
            second_of_day % 60,
        )
        .expect("writing to a String cannot fail");
    }

    fn put_quoted(&self, out: &mut Vec<u8>, precision: TimePrecision) {
        out.push(b'"');
        out.extend_from_slice(self.second_text.as_bytes());
        if let TimePrecision::Millis = precision {
            out.push(b'.');
            put_three_digits(out, self.unix_millis % 1_000);
        }
        out.extend_from_slice(b"Z\"");
    }
}

/// The Gregorian (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468; // days since 0000-03-01
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

/// `text` as the content of a JSON string, without the quotes.
fn json_escaped(text: &str) -> Box<str> {
    let quoted = serde_json::to_string(text).expect("a string always serializes");
    quoted[1..quoted.len() - 1].into()
}

/// Appends `"content"`; `content` must already be valid JSON string content.
fn put_quoted(out: &mut Vec<u8>, content: &str) {
    out.push(b'"');
    out.extend_from_slice(content.as_bytes());
    out.push(b'"');
}

fn put_number(out: &mut Vec<u8>, number: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
}

fn put_quoted_number(out: &mut Vec<u8>, number: impl itoa::Integer) {
    out.push(b'"');
    put_number(out, number);
    out.push(b'"');
}

/// `"0"` or `"1"`.
fn put_flag(out: &mut Vec<u8>, set: bool) {
    out.extend_from_slice(if set { b"\"1\"" } else { b"\"0\"" });
}

/// Appends a duration in seconds with three decimals, as nginx logs them: `0.043`.
fn put_seconds(out: &mut Vec<u8>, millis: u32) {
    put_number(out, millis / 1_000);
    out.push(b'.');
    put_three_digits(out, u64::from(millis % 1_000));
}

fn put_quoted_seconds(out: &mut Vec<u8>, millis: u32) {
    out.push(b'"');
    put_seconds(out, millis);
    out.push(b'"');
}

/// Appends `value` (below 1,000) as three digits, with leading zeros.
fn put_three_digits(out: &mut Vec<u8>, value: u64) {
    let digit = |place: u64| b'0' + (value / place % 10) as u8;
    out.extend_from_slice(&[digit(100), digit(10), digit(1)]);
}

/// Appends `value` as 16 lowercase hex digits.
fn put_hex(out: &mut Vec<u8>, value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0; 16];
    for (index, digit) in text.iter_mut().enumerate() {
        *digit = DIGITS[(value >> (60 - 4 * index) & 0xf) as usize];
    }
    out.extend_from_slice(&text);
}

/// Appends `bytes` in standard base64, padded.
fn put_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let byte = |index: usize| u32::from(chunk.get(index).copied().unwrap_or(0));
        let group = byte(0) << 16 | byte(1) << 8 | byte(2);
        let encoded = [18, 12, 6, 0].map(|shift| ALPHABET[(group >> shift & 63) as usize]);
        // n input bytes make n + 1 characters, padded with `=` to four.
        out.extend_from_slice(&encoded[..chunk.len() + 1]);
        out.extend_from_slice(&b"=="[..3 - chunk.len()]);
    }
}

/// A bijection on `u64` that scatters consecutive counters (SplitMix64's finalizer): distinct
/// inputs give distinct outputs, which keeps `request_id` unique.
fn scatter(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

// The tables. Texts outside `USER_AGENTS`, page queries and `ATTACKS` are written as they
// are, so they must not need JSON escaping (a test checks).

/// Where visitors are, with the networks they use.
struct Geo {
    country: &'static str,
    state: &'static str,
    asn: &'static str,
    /// First octets of the network's IPv4 addresses.
    first_octets: &'static [u8],
    weight: u32,
}

const fn geo(
    country: &'static str,
    state: &'static str,
    asn: &'static str,
    first_octets: &'static [u8],
    weight: u32,
) -> Geo {
    Geo {
        country,
        state,
        asn,
        first_octets,
        weight,
    }
}

const GEOS: &[Geo] = &[
    geo("Brazil", "São Paulo", "AS28573", &[177, 179, 189], 22),
    geo("Brazil", "Rio de Janeiro", "AS18881", &[187, 191], 10),
    geo("Brazil", "Rio Grande do Sul", "AS8167", &[186, 201], 6),
    geo("United States", "California", "AS7922", &[24, 73], 12),
    geo("United States", "New York", "AS701", &[71, 108], 8),
    geo("United States", "Texas", "AS7018", &[99, 107], 6),
    geo("United States", "Iowa", "AS15169", &[34, 66], 4),
    geo("Mexico", "Ciudad de México", "AS8151", &[187, 189], 5),
    geo("Argentina", "Buenos Aires", "AS7303", &[181, 190], 4),
    geo("Portugal", "Lisboa", "AS3243", &[85, 89], 3),
    geo("Germany", "Hesse", "AS3320", &[79, 91], 5),
    geo("United Kingdom", "England", "AS2856", &[81, 86], 5),
    geo("France", "Île-de-France", "AS3215", &[86, 90], 4),
    geo("Japan", "Tokyo", "AS2516", &[106, 111], 3),
    geo("India", "Maharashtra", "AS55836", &[49, 157], 3),
];

struct UserAgent {
    text: &'static str,
    weight: u32,
}

const USER_AGENTS: &[UserAgent] = &[
    UserAgent {
        text: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        weight: 30,
    },
    UserAgent {
        text: "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
        weight: 22,
    },
    UserAgent {
        text: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        weight: 18,
    },
    UserAgent {
        text: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        weight: 8,
    },
    UserAgent {
        text: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
        weight: 6,
    },
    UserAgent {
        text: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        weight: 4,
    },
    UserAgent {
        text: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        weight: 3,
    },
    UserAgent {
        text: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        weight: 2,
    },
    UserAgent {
        text: "okhttp/4.12.0",
        weight: 3,
    },
    UserAgent {
        text: "curl/8.5.0",
        weight: 1,
    },
    UserAgent {
        text: "python-requests/2.32.3",
        weight: 1,
    },
    // Clients send odd headers too; these two need escaping.
    UserAgent {
        text: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "ShopAssistant" Toolbar/2.1"#,
        weight: 1,
    },
    UserAgent {
        text: r"InventorySync/3.4 (C:\Program Files\InventorySync\sync.exe)",
        weight: 1,
    },
];

/// Something a site serves.
struct Page {
    path: &'static str,
    content_type: &'static str,
    /// The range of its body sizes.
    body_bytes: (u32, u32),
    cacheable: bool,
    /// Served through the image processor, which reports the original's size.
    image: bool,
    accepts_post: bool,
    /// Query strings it is requested with (or without), as clients send them.
    queries: &'static [&'static str],
}

const PAGES: &[Page] = &[
    Page {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body_bytes: (18_000, 60_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &["utm_source=newsletter&utm_medium=email", "ref=homepage"],
    },
    Page {
        path: "/products/shoes",
        content_type: "text/html; charset=utf-8",
        body_bytes: (20_000, 80_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &["color=blue&size=42", "sort=price_asc&page=2", "color=red"],
    },
    Page {
        path: "/products/shoes/trail-runner-42",
        content_type: "text/html; charset=utf-8",
        body_bytes: (30_000, 90_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/search",
        content_type: "text/html; charset=utf-8",
        body_bytes: (15_000, 50_000),
        cacheable: false,
        image: false,
        accepts_post: false,
        // Some clients do not percent-encode what they send.
        queries: &[
            "q=running+shoes",
            "q=t%C3%AAnis&page=3",
            r#"q="trail running""#,
            r"q=AC\DC+t-shirt",
        ],
    },
    Page {
        path: "/api/v1/cart",
        content_type: "application/json",
        body_bytes: (300, 4_000),
        cacheable: false,
        image: false,
        accepts_post: true,
        queries: &[],
    },
    Page {
        path: "/api/v1/products",
        content_type: "application/json",
        body_bytes: (2_000, 40_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &["category=running&limit=24", "ids=1042,1043,1044"],
    },
    Page {
        path: "/static/js/app.3f9a1c.js",
        content_type: "application/javascript",
        body_bytes: (80_000, 240_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/static/css/main.8b2e4d.css",
        content_type: "text/css",
        body_bytes: (20_000, 60_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/images/hero-banner.jpg",
        content_type: "image/jpeg",
        body_bytes: (90_000, 300_000),
        cacheable: true,
        image: true,
        accepts_post: false,
        queries: &["ims=1280x", "ims=640x360"],
    },
    Page {
        path: "/images/products/trail-runner-blue.webp",
        content_type: "image/webp",
        body_bytes: (20_000, 80_000),
        cacheable: true,
        image: true,
        accepts_post: false,
        queries: &["ims=300x300"],
    },
    Page {
        path: "/fonts/inter-var.woff2",
        content_type: "font/woff2",
        body_bytes: (40_000, 100_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/favicon.ico",
        content_type: "image/x-icon",
        body_bytes: (1_000, 16_000),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
    Page {
        path: "/robots.txt",
        content_type: "text/plain",
        body_bytes: (100, 800),
        cacheable: true,
        image: false,
        accepts_post: false,
        queries: &[],
    },
];

/// How the origin answers an attack the WAF let through (its path and query come from
/// [`ATTACKS`]).
const ATTACK_TARGET_PAGE: Page = Page {
    path: "",
    content_type: "text/html; charset=utf-8",
    body_bytes: (2_000, 20_000),
    cacheable: false,
    image: false,
    accepts_post: true,
    queries: &[],
};

/// An attack attempt, with what the WAF finds in it.
struct Attack {
    family: &'static str,
    method: &'static str,
    path: &'static str,
    /// As sent, percent-encoded (mostly).
    query: &'static str,
    /// The decoded arguments.
    args: &'static str,
    /// The violations found, as JSON.
    matched: &'static str,
    score: &'static str,
    user_agent: &'static str,
}

const ATTACKS: &[Attack] = &[
    Attack {
        family: "SQL",
        method: "GET",
        path: "/search",
        query: "q=%27%20OR%201%3D1--",
        args: "q=' OR 1=1--",
        matched: r#"{"zone":"ARGS","id":"1000","var_name":"q"}"#,
        score: "8",
        user_agent: "sqlmap/1.8.2#stable (https://sqlmap.org)",
    },
    Attack {
        family: "SQL",
        method: "GET",
        path: "/products",
        query: "id=1%20UNION%20SELECT%20username,password%20FROM%20users",
        args: "id=1 UNION SELECT username,password FROM users",
        matched: r#"{"zone":"ARGS","id":"1000","var_name":"id"}"#,
        score: "12",
        user_agent: "sqlmap/1.8.2#stable (https://sqlmap.org)",
    },
    Attack {
        family: "SQL",
        method: "POST",
        path: "/login",
        query: "user=admin%22%20OR%20%221%22=%221",
        args: r#"user=admin" OR "1"="1"#,
        matched: r#"{"zone":"ARGS","id":"1001","var_name":"user"}"#,
        score: "8",
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    },
    Attack {
        family: "XSS",
        method: "POST",
        path: "/comments",
        query: "text=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
        args: "text=<script>alert(document.cookie)</script>",
        matched: r#"{"zone":"ARGS","id":"1302","var_name":"text"}"#,
        score: "8",
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    },
    Attack {
        family: "XSS",
        method: "GET",
        path: "/search",
        query: "q=%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E",
        args: r#"q="><img src=x onerror=alert(1)>"#,
        matched: r#"{"zone":"ARGS","id":"1303","var_name":"q"}"#,
        score: "16",
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    },
    Attack {
        family: "TRAVERSAL",
        method: "GET",
        path: "/download",
        query: "file=..%2F..%2F..%2Fetc%2Fpasswd",
        args: "file=../../../etc/passwd",
        matched: r#"{"zone":"ARGS","id":"1200","var_name":"file"}"#,
        score: "8",
        user_agent: "Nikto/2.5.0",
    },
    Attack {
        family: "TRAVERSAL",
        method: "GET",
        path: "/download",
        query: r"file=..\..\windows\win.ini",
        args: r"file=..\..\windows\win.ini",
        matched: r#"{"zone":"ARGS","id":"1205","var_name":"file"}"#,
        score: "8",
        user_agent: "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    },
];

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

const REFERRERS: &[&str] = &[
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://t.co/",
    "https://www.facebook.com/",
    "https://www.instagram.com/",
    "android-app://com.google.android.gm/",
];

/// An edge server and the location (stream) it belongs to.
struct Edge {
    address: &'static str,
    stream: &'static str,
}

const EDGES: &[Edge] = &[
    Edge {
        address: "198.51.100.12",
        stream: "1181",
    },
    Edge {
        address: "198.51.100.13",
        stream: "1181",
    },
    Edge {
        address: "198.51.100.40",
        stream: "1187",
    },
    Edge {
        address: "203.0.113.5",
        stream: "2204",
    },
    Edge {
        address: "203.0.113.6",
        stream: "2204",
    },
];

const ORIGINS: &[&str] = &["192.0.2.10:443", "192.0.2.11:443", "192.0.2.12:443"];

struct Tls {
    protocol: &'static str,
    cipher: &'static str,
}

/// The first [`TLS_1_3_SETUPS`] are TLS 1.3.
const TLS_SETUPS: &[Tls] = &[
    Tls {
        protocol: "TLSv1.3",
        cipher: "TLS_AES_128_GCM_SHA256",
    },
    Tls {
        protocol: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
    },
    Tls {
        protocol: "TLSv1.3",
        cipher: "TLS_CHACHA20_POLY1305_SHA256",
    },
    Tls {
        protocol: "TLSv1.2",
        cipher: "ECDHE-RSA-AES128-GCM-SHA256",
    },
    Tls {
        protocol: "TLSv1.2",
        cipher: "ECDHE-ECDSA-AES256-GCM-SHA384",
    },
];
const TLS_1_3_SETUPS: usize = 3;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::{Map, Value};

    use super::*;
    use crate::event::{EventFields, FieldSet};

    const EVENTS_PER_CHECK: usize = 5_000;

    fn hosts() -> Vec<String> {
        ["shop.example.com", "api.example.com", "static.example.net"]
            .map(String::from)
            .to_vec()
    }

    /// `count` events of `source`, as lines.
    fn batch(source: DataSource, seed: u64, count: usize) -> Vec<String> {
        let mut body = Vec::new();
        EventGenerator::new(source, hosts(), seed).write_batch(count, &mut body);
        let body = String::from_utf8(body).expect("UTF-8");
        let lines: Vec<String> = body.split_terminator('\n').map(String::from).collect();
        assert!(body.ends_with('\n'));
        assert_eq!(lines.len(), count);
        lines
    }

    fn object(line: &str) -> Map<String, Value> {
        match serde_json::from_str(line) {
            Ok(Value::Object(object)) => object,
            other => panic!("not a JSON object ({other:?}): {line}"),
        }
    }

    fn text<'a>(event: &'a Map<String, Value>, name: &str) -> &'a str {
        event[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} is not a string"))
    }

    #[test]
    fn every_event_holds_exactly_the_variables_of_its_source() {
        for source in DataSource::ALL {
            let expected: Vec<&str> = source.variables().iter().map(|v| v.name).collect();
            for line in batch(source, 7, EVENTS_PER_CHECK) {
                let event = object(&line);
                let mut keys: Vec<&str> = event.keys().map(String::as_str).collect();
                let mut wanted = expected.clone();
                keys.sort_unstable();
                wanted.sort_unstable();
                assert_eq!(keys, wanted, "{source}: {line}");
                assert!(hosts().iter().any(|host| host == text(&event, "host")));
            }
        }
    }

    #[test]
    fn the_engine_scanner_accepts_every_event_and_finds_its_host() {
        for source in DataSource::ALL {
            for line in batch(source, 11, EVENTS_PER_CHECK) {
                let fields = EventFields::parse(line.as_bytes(), &FieldSet::all())
                    .unwrap_or_else(|error| panic!("{error}: {line}"));
                let host = fields.host().expect("a host");
                assert!(hosts().iter().any(|known| *known == host), "{host}");
            }
        }
    }

    #[test]
    fn request_ids_are_unique_hex() {
        let lines = batch(DataSource::EdgeApplications, 3, EVENTS_PER_CHECK);
        let ids: HashSet<String> = lines
            .iter()
            .map(|line| text(&object(line), "request_id").to_owned())
            .collect();
        assert_eq!(ids.len(), lines.len());
        assert!(ids.iter().all(|id| {
            id.len() == 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }));
    }

    #[test]
    fn the_same_seed_gives_the_same_events() {
        for source in DataSource::ALL {
            assert_eq!(batch(source, 42, 1_000), batch(source, 42, 1_000));
            assert_ne!(batch(source, 42, 1_000), batch(source, 43, 1_000));
        }
    }

    #[test]
    fn texts_that_need_escaping_come_out_escaped() {
        let hosts = vec![r#"odd"host\name.example"#.to_owned()];
        for source in DataSource::ALL {
            let mut body = Vec::new();
            let mut generator = EventGenerator::new(source, hosts.clone(), 5);
            generator.write_batch(EVENTS_PER_CHECK, &mut body);
            let (mut quotes, mut backslashes) = (0, 0);
            for line in std::str::from_utf8(&body).unwrap().lines() {
                let event = object(line);
                assert_eq!(text(&event, "host"), hosts[0]);
                let varying = match source {
                    DataSource::EdgeApplications => ["http_user_agent", "requestQuery"],
                    DataSource::WafEvents => ["waf_args", "requestQuery"],
                };
                for name in varying {
                    quotes += usize::from(text(&event, name).contains('"'));
                    backslashes += usize::from(text(&event, name).contains('\\'));
                }
            }
            assert!(
                quotes > 0 && backslashes > 0,
                "{source}: {quotes} {backslashes}"
            );
        }
    }

    #[test]
    fn edge_application_values_hang_together() {
        let lines = batch(DataSource::EdgeApplications, 9, EVENTS_PER_CHECK);
        let mut statuses: Vec<u64> = Vec::new();
        let (mut failovers, mut redirects, mut blocked, mut bytes) = (0, 0, 0, 0);
        let mut previous_time = String::new();
        for line in &lines {
            bytes += line.len();
            let event = object(line);
            let (path, query) = (text(&event, "requestPath"), text(&event, "requestQuery"));
            let uri = match query {
                "-" => path.to_owned(),
                query => format!("{path}?{query}"),
            };
            assert_eq!(text(&event, "request_uri"), uri);
            let status = event["status"].as_u64().expect("a numeric status");
            statuses.push(status);
            assert!(event["bytes_sent"].is_u64() && event["request_length"].is_u64());

            let time = text(&event, "time");
            assert_eq!(
                (time.len(), &time[10..11], &time[19..]),
                (20, "T", "Z"),
                "{time}"
            );
            assert!(*time >= *previous_time, "{time} after {previous_time}");
            previous_time = time.to_owned();

            let upstream_status = text(&event, "upstream_status");
            failovers += usize::from(upstream_status.contains(", "));
            redirects += usize::from(upstream_status.contains(" : "));
            for name in [
                "upstream_addr",
                "upstream_response_time",
                "upstream_bytes_sent",
            ] {
                let separators =
                    |value: &str| value.matches(", ").count() + value.matches(" : ").count();
                assert_eq!(
                    separators(text(&event, name)),
                    separators(upstream_status),
                    "{line}"
                );
            }
            if text(&event, "upstream_cache_status") == "HIT" {
                assert_eq!(upstream_status, "-");
            }

            let is_blocked = text(&event, "waf_block") == "1";
            blocked += usize::from(is_blocked);
            assert_eq!(is_blocked, text(&event, "waf_attack_action") == "$BLOCK");
            assert_eq!(is_blocked, text(&event, "waf_headers") != "-");
            if is_blocked {
                assert_eq!(status, 403);
                assert!(["SQL", "XSS", "TRAVERSAL"].contains(&text(&event, "waf_attack_family")));
            } else if text(&event, "waf_attack_action") == "$PASS" {
                assert_eq!(text(&event, "waf_attack_family"), "-");
            }
            if text(&event, "scheme") == "http" {
                assert_eq!((status, text(&event, "ssl_protocol")), (301, "-"));
            } else {
                assert_eq!(text(&event, "ssl_server_name"), text(&event, "host"));
            }
        }
        let share = |status: u64| statuses.iter().filter(|&&s| s == status).count();
        assert!(share(200) > lines.len() * 3 / 4, "{} of 200", share(200));
        for status in [304, 404, 500, 502, 403] {
            assert!(share(status) > 0, "no {status}");
        }
        assert!(failovers > 0 && redirects > 0 && blocked > 0);
        let average = bytes / lines.len();
        assert!(
            (1_300..1_600).contains(&average),
            "{average} bytes per event"
        );
    }

    #[test]
    fn waf_events_are_detections() {
        for line in batch(DataSource::WafEvents, 13, EVENTS_PER_CHECK) {
            let event = object(&line);
            let blocked = text(&event, "blocked") == "1";
            assert_eq!(blocked, text(&event, "waf_attack_action") == "$BLOCK");
            assert_eq!(blocked, text(&event, "headers") != "-");
            assert_eq!(text(&event, "waf_learning") == "1", !blocked);
            assert!(["SQL", "XSS", "TRAVERSAL"].contains(&text(&event, "waf_attack_family")));
            assert_eq!(text(&event, "waf_uri"), text(&event, "requestPath"));
            assert_eq!(text(&event, "waf_server"), text(&event, "host"));
            let time = text(&event, "time");
            assert_eq!(
                (time.len(), &time[19..20], &time[23..]),
                (24, ".", "Z"),
                "{time}"
            );
        }
    }

    #[test]
    fn blocked_headers_are_base64_of_the_request_headers() {
        // The catalogue's WAF sample event carries these headers.
        let sample = object(&crate::catalog::sample_event(DataSource::WafEvents));
        let mut out = Vec::new();
        let host = Host {
            name: "shop.example.com".into(),
            json: "shop.example.com".into(),
            configuration: 1,
        };
        let user_agent = ATTACKS[0].user_agent;
        put_blocked_headers(
            &mut Vec::new(),
            &host,
            user_agent,
            WafAction::Block,
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("\"{}\"", text(&sample, "headers"))
        );

        for (raw, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
        ] {
            let mut out = Vec::new();
            put_base64(&mut out, raw.as_bytes());
            assert_eq!(out, encoded.as_bytes());
        }
    }

    #[test]
    fn the_clock_writes_utc_dates() {
        let formatted = |unix_millis: u64, precision| {
            let mut out = Vec::new();
            Clock::new(unix_millis).put_quoted(&mut out, precision);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            formatted(0, TimePrecision::Seconds),
            r#""1970-01-01T00:00:00Z""#
        );
        assert_eq!(
            formatted(951_782_400_000, TimePrecision::Seconds),
            r#""2000-02-29T00:00:00Z""#
        );
        assert_eq!(
            formatted(4_102_444_800_000, TimePrecision::Seconds),
            r#""2100-01-01T00:00:00Z""#
        );
        assert_eq!(
            formatted(
                DEFAULT_START_UNIX_MILLIS + 86_399_999,
                TimePrecision::Millis
            ),
            r#""2026-11-15T11:59:59.999Z""#
        );
        let mut clock = Clock::new(DEFAULT_START_UNIX_MILLIS - 1);
        clock.advance(1);
        let mut out = Vec::new();
        clock.put_quoted(&mut out, TimePrecision::Millis);
        assert_eq!(out, br#""2026-11-14T12:00:00.000Z""#);

        let mut generator =
            EventGenerator::new(DataSource::WafEvents, hosts(), 1).starting_at(951_782_400_000);
        let mut out = Vec::new();
        generator.write_event(&mut out);
        assert!(
            text(&object(std::str::from_utf8(&out).unwrap()), "time")
                .starts_with("2000-02-29T00:00:00.")
        );
    }

    #[test]
    fn tables_written_as_they_are_need_no_escaping() {
        let mut texts: Vec<&str> = REFERRERS.iter().chain(ORIGINS).copied().collect();
        for geo in GEOS {
            texts.extend([geo.country, geo.state, geo.asn]);
        }
        for page in PAGES {
            texts.extend([page.path, page.content_type]);
        }
        for attack in ATTACKS {
            texts.extend([attack.family, attack.method, attack.path, attack.score]);
        }
        texts.extend(EDGES.iter().flat_map(|edge| [edge.address, edge.stream]));
        texts.extend(TLS_SETUPS.iter().flat_map(|tls| [tls.protocol, tls.cipher]));
        for text in texts {
            assert_eq!(&*json_escaped(text), text);
        }
        assert!(
            TLS_SETUPS[..TLS_1_3_SETUPS]
                .iter()
                .all(|tls| tls.protocol == "TLSv1.3")
        );
    }
}
