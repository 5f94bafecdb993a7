//! Who sends requests and what they ask: the visitors, and each Edge Applications request
//! or WAF detection, decided before it is written.

use fastrand::Rng;

use super::random::{below, pick_weighted};
use super::response::{Outcome, Response};
use super::tables::{
    ATTACK_TARGET_PAGE, ATTACKS, EDGES, GEOS, PAGES, REFERRERS, TLS_1_3_SETUPS, TLS_SETUPS,
    USER_AGENTS,
};

/// Edge Applications requests that are attacks, per thousand.
const ATTACKS_PER_THOUSAND: u32 = 25;
/// Edge Applications requests over plain HTTP (redirected to HTTPS), per hundred.
const PLAIN_HTTP_PERCENT: u32 = 3;

/// One client: what stays the same across its requests.
#[derive(Debug)]
pub(super) struct Visitor {
    pub(super) remote_addr: Box<str>,
    /// Index into [`GEOS`].
    pub(super) geo: usize,
    /// Index into [`USER_AGENTS`].
    pub(super) user_agent: usize,
    pub(super) session_id: u64,
    pub(super) server_protocol: &'static str,
    /// Index into [`TLS_SETUPS`].
    pub(super) tls: usize,
    pub(super) rtt_micros: u32,
    /// Index into [`EDGES`]: the edge nearest to the visitor.
    pub(super) edge: usize,
}

impl Visitor {
    pub(super) fn new(rng: &mut Rng) -> Visitor {
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

/// Picks one of `visitors`, favouring some (a few clients send much of the traffic).
fn pick_visitor(rng: &mut Rng, visitors: usize) -> usize {
    below(rng, visitors).min(below(rng, visitors))
}

/// A WAF Events event, and the attack part of an attacked Edge Applications request.
pub(super) struct Detection {
    pub(super) host: usize,
    pub(super) visitor: usize,
    /// Index into [`ATTACKS`].
    pub(super) attack: usize,
    pub(super) action: WafAction,
}

impl Detection {
    /// Draws an attack by one of `visitors` on one of `hosts`.
    pub(super) fn draw(rng: &mut Rng, hosts: usize, visitors: usize) -> Detection {
        Detection {
            host: below(rng, hosts),
            visitor: pick_visitor(rng, visitors),
            attack: below(rng, ATTACKS.len()),
            action: match rng.u32(..100) {
                0..70 => WafAction::Block,
                70..90 => WafAction::LearningBlock,
                _ => WafAction::LearningPass,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WafAction {
    Block,
    LearningBlock,
    LearningPass,
}

impl WafAction {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            WafAction::Block => "$BLOCK",
            WafAction::LearningBlock => "$LEARNING_BLOCK",
            WafAction::LearningPass => "$LEARNING_PASS",
        }
    }

    pub(super) fn is_learning(self) -> bool {
        self != WafAction::Block
    }
}

/// One Edge Applications request, decided before it is written.
pub(super) struct Request {
    pub(super) host: usize,
    pub(super) visitor: usize,
    pub(super) remote_port: u16,
    pub(super) https: bool,
    pub(super) target: Target,
    pub(super) method: &'static str,
    pub(super) request_length: u32,
    pub(super) response: Response,
    pub(super) referrer: Referrer,
    pub(super) traceback: &'static str,
    pub(super) session_reused: bool,
    pub(super) rtt_jitter_micros: u32,
    /// The first half of `request_id`; the second half, unique, comes from the event counter.
    pub(super) request_id_random_half: u64,
}

impl Request {
    /// Decides what a request by one of `visitors` to one of `hosts` was and how it went.
    pub(super) fn draw(rng: &mut Rng, hosts: usize, visitors: usize) -> Request {
        let https = rng.u32(..100) >= PLAIN_HTTP_PERCENT;
        let detection = Detection::draw(rng, hosts, visitors);
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
}

#[derive(Clone, Copy)]
pub(super) enum Target {
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

pub(super) enum Referrer {
    None,
    /// The request's own host: a visitor clicking through the site.
    SameSite,
    /// Index into [`REFERRERS`].
    Other(usize),
}
