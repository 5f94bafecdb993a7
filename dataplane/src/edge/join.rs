//! The join of the two edge sources per request: an Edge Applications event (from nginx's
//! access log) gets the `waf_*` values of the request's ModSecurity entry, matched by
//! `$request_id` (the connector's `modsecurity_transaction_id`).
//!
//! nginx writes its access log and ModSecurity posts its entry in the same log phase, a
//! few milliseconds apart and in either order. So an event waits until its verdict is
//! here or [`JOIN_WINDOW`] passed; without one (ModSecurity reports only the requests it
//! found relevant) its `waf_*` keys stay absent and render `-`. A verdict waits as long for
//! its event. Both queues are bounded: past [`MAX_WAITING`], the oldest go on unjoined.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

/// How long an event waits for its verdict, and a verdict for its event.
pub const JOIN_WINDOW: Duration = Duration::from_millis(500);
/// How often waiting events are looked at.
pub const TICK: Duration = Duration::from_millis(100);
/// Events (and verdicts) waiting at most, over all accounts, by count and by bytes.
const MAX_WAITING: usize = 100_000;
const MAX_WAITING_BYTES: usize = 64 * 1024 * 1024;

type RequestKey = (i64, Box<[u8]>);

struct Waiting {
    account_id: i64,
    request_id: Option<Box<[u8]>>,
    event: Vec<u8>,
    until: Instant,
}

/// A request's verdict: the members to add to its event (`,"waf_block":"1",…`), and when
/// it arrived (a repeated request id replaces the verdict and restarts its wait).
struct Verdict {
    members: Vec<u8>,
    at: Instant,
}

#[derive(Default)]
pub struct Join {
    waiting: VecDeque<Waiting>,
    /// The events' bytes in `waiting`, and the members' bytes in `verdicts`.
    waiting_bytes: usize,
    verdict_bytes: usize,
    verdicts: FxHashMap<RequestKey, Verdict>,
    verdicts_by_age: VecDeque<(Instant, RequestKey)>,
}

impl Join {
    /// An Edge Applications event (a JSON object) of `account_id`. `false`: the queue is
    /// at its bound (the flusher is behind), the event is not taken.
    pub fn add_event(
        &mut self,
        account_id: i64,
        request_id: Option<&[u8]>,
        event: Vec<u8>,
        now: Instant,
    ) -> bool {
        if self.waiting.len() >= MAX_WAITING || self.waiting_bytes + event.len() > MAX_WAITING_BYTES
        {
            return false;
        }
        self.waiting_bytes += event.len();
        self.waiting.push_back(Waiting {
            account_id,
            request_id: request_id.map(Into::into),
            event,
            until: now + JOIN_WINDOW,
        });
        true
    }

    /// The `waf_*` members a request's ModSecurity entry gives its event. Past the bound
    /// the oldest verdicts are dropped first.
    pub fn add_verdict(
        &mut self,
        account_id: i64,
        request_id: &[u8],
        members: Vec<u8>,
        now: Instant,
    ) {
        let key: RequestKey = (account_id, request_id.into());
        self.verdicts_by_age.push_back((now, key.clone()));
        self.verdict_bytes += members.len();
        if let Some(replaced) = self.verdicts.insert(key, Verdict { members, at: now }) {
            self.verdict_bytes -= replaced.members.len();
        }
        self.expire_verdicts(None);
    }

    /// The events to send now, per account: joined ones, and those whose wait is over.
    pub fn take_ready(&mut self, now: Instant) -> FxHashMap<i64, Vec<Vec<u8>>> {
        let mut ready: FxHashMap<i64, Vec<Vec<u8>>> = FxHashMap::default();
        let mut still_waiting = VecDeque::with_capacity(self.waiting.len());
        for mut waiting in self.waiting.drain(..) {
            let verdict = waiting.request_id.as_ref().and_then(|request_id| {
                self.verdicts
                    .remove(&(waiting.account_id, request_id.clone()))
            });
            match verdict {
                Some(verdict) => {
                    self.verdict_bytes -= verdict.members.len();
                    self.waiting_bytes -= waiting.event.len();
                    add_members(&mut waiting.event, &verdict.members);
                    ready
                        .entry(waiting.account_id)
                        .or_default()
                        .push(waiting.event);
                }
                None if waiting.until <= now => {
                    self.waiting_bytes -= waiting.event.len();
                    ready
                        .entry(waiting.account_id)
                        .or_default()
                        .push(waiting.event);
                }
                None => still_waiting.push_back(waiting),
            }
        }
        self.waiting = still_waiting;
        self.expire_verdicts(Some(now));
        ready
    }

    /// Drops the verdicts older than the window (with `now`) and, oldest first, those over
    /// the bounds. An age entry whose verdict was joined or replaced since is skipped.
    fn expire_verdicts(&mut self, now: Option<Instant>) {
        while let Some((at, key)) = self.verdicts_by_age.front() {
            let expired = now.is_some_and(|now| *at + JOIN_WINDOW <= now);
            let over_bound =
                self.verdicts.len() > MAX_WAITING || self.verdict_bytes > MAX_WAITING_BYTES;
            let current = self.verdicts.get(key).is_some_and(|v| v.at == *at);
            if current && !expired && !over_bound {
                break;
            }
            let (at, key) = self.verdicts_by_age.pop_front().expect("a front entry");
            if current && let Some(verdict) = self.verdicts.remove(&key) {
                debug_assert_eq!(verdict.at, at);
                self.verdict_bytes -= verdict.members.len();
            }
        }
    }
}

/// Adds `members` (`,"k":"v",…`) before the closing brace of the JSON object `event`.
fn add_members(event: &mut Vec<u8>, members: &[u8]) {
    let Some(close) = event.iter().rposition(|b| *b == b'}') else {
        return;
    };
    event.truncate(close);
    let empty = event
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    event.extend_from_slice(if empty { &members[1..] } else { members });
    event.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_gets_the_verdict_that_arrives_within_the_window() {
        let mut join = Join::default();
        let start = Instant::now();
        join.add_event(1, Some(b"r1"), br#"{"request_id":"r1"}"#.to_vec(), start);
        join.add_event(1, Some(b"r2"), br#"{"request_id":"r2"}"#.to_vec(), start);
        assert!(join.take_ready(start).is_empty(), "both wait");
        join.add_verdict(1, b"r1", br#","waf_block":"1""#.to_vec(), start);
        let ready = join.take_ready(start + TICK);
        assert_eq!(
            ready[&1],
            vec![br#"{"request_id":"r1","waf_block":"1"}"#.to_vec()]
        );
        let ready = join.take_ready(start + JOIN_WINDOW);
        assert_eq!(
            ready[&1],
            vec![br#"{"request_id":"r2"}"#.to_vec()],
            "unjoined after the window"
        );
    }

    #[test]
    fn a_verdict_waits_for_its_event_and_joins_only_its_own_account() {
        let mut join = Join::default();
        let start = Instant::now();
        join.add_verdict(1, b"r1", br#","waf_block":"1""#.to_vec(), start);
        join.add_event(2, Some(b"r1"), br#"{"request_id":"r1"}"#.to_vec(), start);
        join.add_event(1, Some(b"r1"), br#"{"request_id":"r1"}"#.to_vec(), start);
        let ready = join.take_ready(start);
        assert_eq!(
            ready[&1],
            vec![br#"{"request_id":"r1","waf_block":"1"}"#.to_vec()]
        );
        assert!(
            !ready.contains_key(&2),
            "account 2's event waits for its own verdict"
        );
    }

    #[test]
    fn past_the_bounds_new_events_are_refused_and_old_verdicts_dropped() {
        let mut join = Join::default();
        let start = Instant::now();
        let big = vec![b'x'; MAX_WAITING_BYTES / 2 + 1];
        assert!(join.add_event(1, Some(b"r1"), big.clone(), start));
        assert!(
            !join.add_event(1, Some(b"r2"), big, start),
            "over the byte bound"
        );
        join.add_verdict(1, b"v1", vec![b','; MAX_WAITING_BYTES / 2 + 1], start);
        join.add_verdict(1, b"v2", vec![b','; MAX_WAITING_BYTES / 2 + 1], start);
        assert_eq!(join.verdicts.len(), 1, "the oldest verdict made room");
        assert!(join.verdicts.contains_key(&(1, b"v2"[..].into())));
    }

    #[test]
    fn the_byte_counts_return_to_zero() {
        let mut join = Join::default();
        let start = Instant::now();
        join.add_verdict(1, b"r1", br#","waf_block":"1""#.to_vec(), start);
        join.add_verdict(1, b"r1", br#","waf_block":"0""#.to_vec(), start + TICK);
        join.add_event(
            1,
            Some(b"r1"),
            br#"{"request_id":"r1"}"#.to_vec(),
            start + TICK,
        );
        join.add_event(
            1,
            Some(b"r2"),
            br#"{"request_id":"r2"}"#.to_vec(),
            start + TICK,
        );
        let ready = join.take_ready(start + TICK);
        assert_eq!(
            ready[&1],
            vec![br#"{"request_id":"r1","waf_block":"0"}"#.to_vec()],
            "the newer verdict"
        );
        join.take_ready(start + TICK + JOIN_WINDOW);
        assert_eq!((join.waiting_bytes, join.verdict_bytes), (0, 0));
        assert!(join.verdicts_by_age.is_empty() && join.waiting.is_empty());
    }

    #[test]
    fn a_repeated_request_id_keeps_the_newer_verdict_its_full_window() {
        let mut join = Join::default();
        let start = Instant::now();
        join.add_verdict(1, b"r1", br#","a":"old""#.to_vec(), start);
        join.add_verdict(1, b"r1", br#","a":"new""#.to_vec(), start + JOIN_WINDOW / 2);
        join.take_ready(start + JOIN_WINDOW);
        join.add_event(1, Some(b"r1"), b"{}".to_vec(), start + JOIN_WINDOW);
        let ready = join.take_ready(start + JOIN_WINDOW);
        assert_eq!(ready[&1], vec![br#"{"a":"new"}"#.to_vec()]);
    }

    #[test]
    fn members_go_inside_an_empty_object_too() {
        let mut event = b"{ }".to_vec();
        add_members(&mut event, br#","a":"1""#);
        assert_eq!(event, br#"{ "a":"1"}"#.to_vec());
    }
}
