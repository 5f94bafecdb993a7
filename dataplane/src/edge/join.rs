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
/// Events (and verdicts) waiting at most, over all accounts.
const MAX_WAITING: usize = 100_000;

type RequestKey = (i64, Box<[u8]>);

struct Waiting {
    account_id: i64,
    request_id: Option<Box<[u8]>>,
    event: Vec<u8>,
    until: Instant,
}

#[derive(Default)]
pub struct Join {
    waiting: VecDeque<Waiting>,
    /// Per account and request id: the members to add to its event
    /// (`,"waf_block":"1",…`).
    verdicts: FxHashMap<RequestKey, Vec<u8>>,
    verdicts_by_age: VecDeque<(Instant, RequestKey)>,
}

impl Join {
    /// An Edge Applications event (a JSON object) of `account_id`.
    pub fn add_event(
        &mut self,
        account_id: i64,
        request_id: Option<&[u8]>,
        event: Vec<u8>,
        now: Instant,
    ) {
        self.waiting.push_back(Waiting {
            account_id,
            request_id: request_id.map(Into::into),
            event,
            until: now + JOIN_WINDOW,
        });
    }

    /// The `waf_*` members a request's ModSecurity entry gives its event.
    pub fn add_verdict(
        &mut self,
        account_id: i64,
        request_id: &[u8],
        members: Vec<u8>,
        now: Instant,
    ) {
        let key: RequestKey = (account_id, request_id.into());
        self.verdicts_by_age.push_back((now, key.clone()));
        self.verdicts.insert(key, members);
    }

    /// The events to send now, per account: joined ones, and those whose wait is over.
    pub fn take_ready(&mut self, now: Instant) -> FxHashMap<i64, Vec<Vec<u8>>> {
        let mut ready: FxHashMap<i64, Vec<Vec<u8>>> = FxHashMap::default();
        let over_bound = self.waiting.len().saturating_sub(MAX_WAITING);
        let mut still_waiting = VecDeque::with_capacity(self.waiting.len());
        for (index, mut waiting) in self.waiting.drain(..).enumerate() {
            let verdict = waiting.request_id.take().and_then(|request_id| {
                let verdict = self
                    .verdicts
                    .remove(&(waiting.account_id, request_id.clone()));
                if verdict.is_none() {
                    waiting.request_id = Some(request_id);
                }
                verdict
            });
            match verdict {
                Some(members) => {
                    add_members(&mut waiting.event, &members);
                    ready
                        .entry(waiting.account_id)
                        .or_default()
                        .push(waiting.event);
                }
                None if waiting.until <= now || index < over_bound => {
                    ready
                        .entry(waiting.account_id)
                        .or_default()
                        .push(waiting.event);
                }
                None => still_waiting.push_back(waiting),
            }
        }
        self.waiting = still_waiting;
        // Verdicts whose event did not come (or came already): dropped after the window.
        while let Some((at, _)) = self.verdicts_by_age.front() {
            if *at + JOIN_WINDOW > now && self.verdicts_by_age.len() <= MAX_WAITING {
                break;
            }
            if let Some((_, key)) = self.verdicts_by_age.pop_front() {
                self.verdicts.remove(&key);
            }
        }
        ready
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
    fn members_go_inside_an_empty_object_too() {
        let mut event = b"{ }".to_vec();
        add_members(&mut event, br#","a":"1""#);
        assert_eq!(event, br#"{ "a":"1"}"#.to_vec());
    }
}
