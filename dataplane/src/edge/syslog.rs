//! The syslog input: nginx's `access_log syslog:server=…` (UDP), and TCP for relays
//! (rsyslog, syslog-ng) with RFC 6587 framing: octet counting (`LEN SP MSG`) or a newline
//! after each message.
//!
//! A message is taken when it names a valid ingest token under `"ds_token"`, fits
//! `--syslog-max-message-bytes`, has an RFC 3164 or RFC 5424 header and a JSON object as
//! its text; every other one is counted and dropped. TCP is bounded like ingest: frame
//! size, open connections (in all and per sender address), idle time, and a first message
//! with a valid token within 10 s.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use model::{EdgeInput, EdgeOutcome};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::{Edge, EdgeSettings, string_member};
use engine::edge::TOKEN_KEY;

/// Datagrams read at once before the events go to the join (one lock per read burst).
const DATAGRAMS_PER_BURST: usize = 512;
/// The kernel's receive buffer asked for: room for bursts while the loop works.
const UDP_RECEIVE_BUFFER: usize = 8 * 1024 * 1024;
/// A TCP connection must bring a message with a valid token this soon, or it is closed:
/// a sender without one cannot sit on the connection slots.
const FIRST_MESSAGE_WITHIN: Duration = Duration::from_secs(10);
/// Open TCP connections per sender address (a relay needs a few).
const MAX_CONNECTIONS_PER_ADDRESS: usize = 16;

/// An Edge Applications event taken from a message.
struct EdgeEvent {
    account_id: i64,
    request_id: Option<Vec<u8>>,
    event: Vec<u8>,
}

impl Edge {
    /// One syslog message: the event it carries, or the outcome it is counted under.
    fn syslog_message(
        &self,
        raw: &[u8],
        cut_off: bool,
    ) -> Result<EdgeEvent, (EdgeOutcome, Option<i64>)> {
        let account_id = string_member(raw, TOKEN_KEY)
            .and_then(|token| std::str::from_utf8(token).ok())
            .and_then(|token| self.account_for_token(token))
            .ok_or((EdgeOutcome::NoToken, None))?;
        let refused = |outcome| (outcome, Some(account_id));
        if cut_off || raw.len() > self.max_message_bytes {
            return Err(refused(EdgeOutcome::Oversize));
        }
        let text = std::str::from_utf8(raw).map_err(|_| refused(EdgeOutcome::Malformed))?;
        let message = syslog_loose::parse_message(text.trim_end(), syslog_loose::Variant::Either);
        let json = message.msg.trim();
        if !json.starts_with('{') {
            return Err(refused(EdgeOutcome::Malformed));
        }
        Ok(EdgeEvent {
            account_id,
            request_id: string_member(json.as_bytes(), "request_id").map(<[u8]>::to_vec),
            event: without_token(json.as_bytes()),
        })
    }

    /// Counts the messages of one read burst and hands their events to the join.
    fn take_messages(&self, messages: Vec<Result<EdgeEvent, (EdgeOutcome, Option<i64>)>>) {
        if messages.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut join = self.join.lock().unwrap_or_else(|p| p.into_inner());
        for message in messages {
            match message {
                Ok(event) => {
                    let account_id = event.account_id;
                    let taken =
                        join.add_event(account_id, event.request_id.as_deref(), event.event, now);
                    if !taken {
                        self.count(EdgeInput::Nginx, EdgeOutcome::Refused, Some(account_id), 1);
                    }
                }
                Err((outcome, account_id)) => {
                    self.count(EdgeInput::Nginx, outcome, account_id, 1);
                }
            }
        }
    }
}

/// The event's JSON without its `"ds_token":"…"` member: the token authenticates the
/// message and goes no further.
fn without_token(json: &[u8]) -> Vec<u8> {
    let needle = format!("\"{TOKEN_KEY}\":\"");
    let Some(start) = memchr::memmem::find(json, needle.as_bytes()) else {
        return json.to_vec();
    };
    let value_start = start + needle.len();
    let Some(value_len) = memchr::memchr(b'"', &json[value_start..]) else {
        return json.to_vec();
    };
    let mut end = value_start + value_len + 1;
    if json.get(end) == Some(&b',') {
        end += 1;
    }
    let mut event = Vec::with_capacity(json.len());
    event.extend_from_slice(&json[..start]);
    event.extend_from_slice(&json[end..]);
    event
}

/// Binds the UDP input and starts its loop; returns the address it listens on.
pub(super) async fn listen_udp(edge: Edge, address: SocketAddr) -> std::io::Result<SocketAddr> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    // Best effort: the kernel caps it at net.core.rmem_max.
    let _ = socket.set_recv_buffer_size(UDP_RECEIVE_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    let socket = UdpSocket::from_std(socket.into())?;
    let local = socket.local_addr()?;
    tracing::info!(address = %local, "syslog UDP input listening");
    tokio::spawn(async move {
        // One byte more than the largest message: a datagram that fills it was cut off.
        let mut buffer = vec![0u8; edge.max_message_bytes + 1];
        loop {
            let mut messages = Vec::new();
            match socket.recv(&mut buffer).await {
                Ok(len) => messages.push(edge.syslog_message(&buffer[..len], len == buffer.len())),
                Err(e) => {
                    tracing::warn!(error = %e, "syslog UDP: receive failed");
                    continue;
                }
            }
            while messages.len() < DATAGRAMS_PER_BURST {
                match socket.try_recv(&mut buffer) {
                    Ok(len) => {
                        messages.push(edge.syslog_message(&buffer[..len], len == buffer.len()));
                    }
                    Err(_) => break,
                }
            }
            edge.take_messages(messages);
        }
    });
    Ok(local)
}

/// Binds the TCP input and starts accepting; returns the address it listens on.
pub(super) async fn listen_tcp(
    edge: Edge,
    address: SocketAddr,
    settings: &EdgeSettings,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(address).await?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "syslog TCP input listening");
    let connections = Arc::new(tokio::sync::Semaphore::new(settings.tcp_max_connections));
    let per_address: Arc<std::sync::Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    let idle_timeout = settings.tcp_idle_timeout;
    tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "syslog TCP: accept failed");
                    continue;
                }
            };
            // Over the bound, a new connection is closed at once: the open ones keep going.
            let Ok(slot) = connections.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "syslog TCP: too many connections (--syslog-tcp-max-connections)");
                continue;
            };
            let Some(address_slot) = AddressSlot::take(&per_address, peer.ip()) else {
                tracing::warn!(%peer, "syslog TCP: too many connections from this address");
                continue;
            };
            let edge = edge.clone();
            tokio::spawn(async move {
                read_connection(&edge, stream, idle_timeout).await;
                drop((slot, address_slot));
            });
        }
    });
    Ok(local)
}

/// One of an address's connections; given back when dropped.
struct AddressSlot {
    counts: Arc<std::sync::Mutex<HashMap<IpAddr, usize>>>,
    address: IpAddr,
}

impl AddressSlot {
    fn take(
        counts: &Arc<std::sync::Mutex<HashMap<IpAddr, usize>>>,
        address: IpAddr,
    ) -> Option<AddressSlot> {
        let mut map = counts.lock().unwrap_or_else(|p| p.into_inner());
        let open = map.entry(address).or_default();
        if *open >= MAX_CONNECTIONS_PER_ADDRESS {
            return None;
        }
        *open += 1;
        Some(AddressSlot {
            counts: counts.clone(),
            address,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = map.get_mut(&self.address) {
            *open -= 1;
            if *open == 0 {
                map.remove(&self.address);
            }
        }
    }
}

async fn read_connection(edge: &Edge, mut stream: TcpStream, idle_timeout: Duration) {
    let mut buffer = BytesMut::with_capacity(64 * 1024);
    let mut framer = Framer::new(edge.max_message_bytes);
    // Until a message names a valid token, the connection has this long in all.
    let mut first_message_by = Some(tokio::time::Instant::now() + FIRST_MESSAGE_WITHIN);
    loop {
        let wait = match first_message_by {
            Some(by) => by.saturating_duration_since(tokio::time::Instant::now()),
            None => idle_timeout,
        };
        match tokio::time::timeout(wait, stream.read_buf(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) => {}
        }
        let mut messages = Vec::new();
        while let Some(frame) = framer.next(&mut buffer) {
            messages.push(match frame {
                Frame::Message(raw) => edge.syslog_message(&raw, false),
                Frame::Oversize(prefix) => edge.syslog_message(&prefix, true),
            });
        }
        if messages
            .iter()
            .any(|m| matches!(m, Ok(_) | Err((_, Some(_)))))
        {
            first_message_by = None;
        }
        edge.take_messages(messages);
    }
}

/// A message cut from the TCP stream.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Message(BytesMut),
    /// A message over the size bound: its first bytes (to name its account), the rest
    /// is skipped.
    Oversize(BytesMut),
}

/// RFC 6587 framing: a message that starts with a digit is octet-counted, any other ends at
/// a newline. Never holds more than the size bound of one message.
struct Framer {
    max_message: usize,
    skip: Skip,
}

enum Skip {
    Nothing,
    Bytes(usize),
    ToNewline,
}

/// Digits of an octet count, at most.
const MAX_COUNT_DIGITS: usize = 10;

impl Framer {
    fn new(max_message: usize) -> Framer {
        Framer {
            max_message,
            skip: Skip::Nothing,
        }
    }

    fn next(&mut self, buffer: &mut BytesMut) -> Option<Frame> {
        loop {
            match self.skip {
                Skip::Bytes(left) => {
                    let skipped = left.min(buffer.len());
                    buffer.advance(skipped);
                    self.skip = if skipped == left {
                        Skip::Nothing
                    } else {
                        Skip::Bytes(left - skipped)
                    };
                    if buffer.is_empty() {
                        return None;
                    }
                }
                Skip::ToNewline => match memchr::memchr(b'\n', buffer) {
                    Some(end) => {
                        buffer.advance(end + 1);
                        self.skip = Skip::Nothing;
                    }
                    None => {
                        buffer.clear();
                        return None;
                    }
                },
                Skip::Nothing => break,
            }
        }
        // Blank lines between messages carry nothing.
        while buffer
            .first()
            .is_some_and(|b| matches!(b, b'\n' | b'\r' | b' ' | 0))
        {
            buffer.advance(1);
        }
        let first = *buffer.first()?;
        if first.is_ascii_digit() {
            let digits = buffer.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > MAX_COUNT_DIGITS {
                // Not a count: read it as a newline-framed message.
                return self.newline_frame(buffer);
            }
            match buffer.get(digits) {
                None => return None,
                Some(b' ') => {}
                Some(_) => return self.newline_frame(buffer),
            }
            let count: usize = std::str::from_utf8(&buffer[..digits]).ok()?.parse().ok()?;
            if count > self.max_message {
                buffer.advance(digits + 1);
                let prefix = buffer.split_to(buffer.len().min(self.max_message));
                self.skip = Skip::Bytes(count - prefix.len());
                return Some(Frame::Oversize(prefix));
            }
            if buffer.len() < digits + 1 + count {
                return None;
            }
            buffer.advance(digits + 1);
            return Some(Frame::Message(buffer.split_to(count)));
        }
        self.newline_frame(buffer)
    }

    fn newline_frame(&mut self, buffer: &mut BytesMut) -> Option<Frame> {
        match memchr::memchr(b'\n', &buffer[..buffer.len().min(self.max_message + 1)]) {
            Some(end) => {
                let mut line = buffer.split_to(end + 1);
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.truncate(end - 1);
                }
                Some(Frame::Message(line))
            }
            None if buffer.len() > self.max_message => {
                let prefix = buffer.split_to(self.max_message);
                self.skip = Skip::ToNewline;
                Some(Frame::Oversize(prefix))
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer, input: &[u8]) -> Vec<Frame> {
        let mut buffer = BytesMut::from(input);
        std::iter::from_fn(|| framer.next(&mut buffer)).collect()
    }

    fn message(text: &str) -> Frame {
        Frame::Message(BytesMut::from(text.as_bytes()))
    }

    #[test]
    fn octet_counting_and_newline_framing_mix() {
        let mut framer = Framer::new(100);
        let got = frames(&mut framer, b"5 <1>ab3 <2>\n<3>cd\r\n\n<4>ef\n");
        assert_eq!(
            got,
            vec![
                message("<1>ab"),
                message("<2>"),
                message("<3>cd"),
                message("<4>ef")
            ]
        );
    }

    #[test]
    fn a_frame_split_over_reads_waits_for_its_end() {
        let mut framer = Framer::new(100);
        let mut buffer = BytesMut::from(&b"11 <1>abc"[..]);
        assert_eq!(framer.next(&mut buffer), None);
        buffer.extend_from_slice(b"defgh<2>x\n");
        assert_eq!(framer.next(&mut buffer), Some(message("<1>abcdefgh")));
        assert_eq!(framer.next(&mut buffer), Some(message("<2>x")));
    }

    #[test]
    fn oversize_frames_are_cut_and_the_next_one_is_found() {
        let mut framer = Framer::new(4);
        let got = frames(&mut framer, b"9 123456789<1>\n123456\n<2>\n");
        assert_eq!(
            got,
            vec![
                Frame::Oversize(BytesMut::from(&b"1234"[..])),
                message("<1>"),
                Frame::Oversize(BytesMut::from(&b"1234"[..])),
                message("<2>"),
            ]
        );
    }

    #[test]
    fn the_token_member_is_cut_out() {
        assert_eq!(
            without_token(br#"{"ds_token":"dsi_x","host":"a"}"#),
            br#"{"host":"a"}"#.to_vec()
        );
        assert_eq!(
            without_token(br#"{"host":"a"}"#),
            br#"{"host":"a"}"#.to_vec()
        );
    }

    #[test]
    fn nginx_and_rfc5424_headers_give_the_json() {
        for line in [
            r#"<190>Dec  2 00:36:16 datastream: {"host":"a"}"#,
            r#"<190>1 2026-12-02T00:36:16.000Z edge1 datastream - - - {"host":"a"}"#,
        ] {
            let message = syslog_loose::parse_message(line, syslog_loose::Variant::Either);
            assert_eq!(message.msg.trim(), r#"{"host":"a"}"#, "{line}");
        }
    }
}
