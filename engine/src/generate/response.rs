//! What the edge answered a request, and the origin fetches behind it (the `upstream_*`
//! variables).

use fastrand::Rng;

use super::random::below;
use super::tables::{ORIGINS, Page};

/// How a request went, which decides what the edge answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
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
pub(super) struct Response {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) bytes_sent: u32,
    pub(super) original_image_bytes: Option<u32>,
    pub(super) request_millis: u32,
    pub(super) cache_status: &'static str,
    pub(super) proxy_status: &'static str,
    pub(super) upstream: Upstream,
}

impl Response {
    pub(super) fn plan(
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
pub(super) struct Fetch {
    /// Index into [`ORIGINS`].
    pub(super) origin: usize,
    pub(super) status: u16,
    pub(super) connect_millis: u32,
    /// `None` when the origin sent no headers.
    pub(super) header_millis: Option<u32>,
    pub(super) response_millis: u32,
    pub(super) bytes_received: u32,
    pub(super) bytes_sent: u32,
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
pub(super) struct Upstream {
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
    pub(super) fn put_quoted(&self, out: &mut Vec<u8>, put_value: impl Fn(&Fetch, &mut Vec<u8>)) {
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
