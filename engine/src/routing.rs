//! Which streams an event goes to.
//!
//! An event goes to every active stream of its account whose data source matches and whose
//! domains include the event's host; an All Domains stream takes any host of the account
//! (the caller checks the host belongs to the account) and keeps its Sampling percentage.
//! Hosts compare ASCII case-insensitively (hostnames are ASCII; IDNs arrive as punycode).
//!
//! Sampling is a pure function of the stream and the request id, so it is the same on
//! every node and after a restart, and a retried event is kept or dropped consistently.
//! Seeding the hash with the stream id decorrelates streams sampling the same events.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::catalog::DataSource;
use crate::event::FieldSet;
use crate::template::Template;

/// The domains a stream collects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainFilter {
    /// These hostnames only.
    List(Vec<String>),
    /// Every domain of the account, including ones added later, sampled.
    All { sampling_percent: u8 },
}

/// What routing and rendering need to know about a data stream.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    pub id: i64,
    pub account_id: i64,
    pub data_source: DataSource,
    pub domains: DomainFilter,
    pub template: Arc<Template>,
    pub active: bool,
}

/// The streams of every account, indexed for [`RoutingTable::route`]. Rebuilt when a stream
/// is saved.
#[derive(Debug, Default)]
pub struct RoutingTable {
    streams: Vec<StreamSpec>,
    routes: FxHashMap<(i64, DataSource), SourceRoutes>,
}

/// The active streams of one account and data source.
#[derive(Debug, Default)]
struct SourceRoutes {
    /// Lowercase host => indexes into `streams` of the streams listing it.
    by_host: FxHashMap<String, Vec<usize>>,
    /// Indexes of the All Domains streams, with their sampling percent.
    all_domains: Vec<(usize, u8)>,
}

impl RoutingTable {
    pub fn new(streams: Vec<StreamSpec>) -> RoutingTable {
        let mut routes: FxHashMap<(i64, DataSource), SourceRoutes> = FxHashMap::default();
        for (index, stream) in streams.iter().enumerate().filter(|(_, s)| s.active) {
            let source_routes = routes
                .entry((stream.account_id, stream.data_source))
                .or_default();
            match &stream.domains {
                DomainFilter::List(domains) => {
                    let mut hosts: Vec<String> = domains
                        .iter()
                        .map(|domain| domain.trim().to_ascii_lowercase())
                        .collect();
                    hosts.sort_unstable();
                    hosts.dedup();
                    for host in hosts {
                        source_routes.by_host.entry(host).or_default().push(index);
                    }
                }
                DomainFilter::All { sampling_percent } => {
                    source_routes.all_domains.push((index, *sampling_percent));
                }
            }
        }
        RoutingTable { streams, routes }
    }

    /// Every stream given to [`RoutingTable::new`], active or not.
    pub fn streams(&self) -> &[StreamSpec] {
        &self.streams
    }

    /// The fields events must be parsed with: routing's and every active stream's template's.
    pub fn field_set(&self) -> FieldSet {
        let mut fields = FieldSet::routing();
        for stream in self.streams.iter().filter(|s| s.active) {
            fields.add_template(&stream.template);
        }
        fields
    }

    /// The active streams for an event of `source` for `host` of `account_id`, each with
    /// whether it keeps the event (`false`: sampled out); `request_id` decides sampling
    /// (see [`crate::EventFields::sampling_key`]).
    pub fn route<'a>(
        &'a self,
        account_id: i64,
        source: DataSource,
        host: &str,
        request_id: &'a [u8],
    ) -> impl Iterator<Item = (&'a StreamSpec, bool)> + use<'a> {
        let routes = self.routes.get(&(account_id, source));
        let listing_host = routes
            .and_then(|routes| {
                if host.bytes().any(|b| b.is_ascii_uppercase()) {
                    routes.by_host.get(&host.to_ascii_lowercase())
                } else {
                    routes.by_host.get(host)
                }
            })
            .map_or(&[][..], Vec::as_slice);
        let all_domains = routes.map_or(&[][..], |routes| routes.all_domains.as_slice());
        let sampled = all_domains.iter().map(move |&(index, percent)| {
            let stream = &self.streams[index];
            (stream, keep(stream.id, request_id, percent))
        });
        listing_host
            .iter()
            .map(|&index| (&self.streams[index], true))
            .chain(sampled)
    }
}

/// Whether stream `stream_id`, sampling `percent` % (100 or more keeps all), keeps the
/// request `request_id`.
fn keep(stream_id: i64, request_id: &[u8], percent: u8) -> bool {
    if percent >= 100 {
        return true;
    }
    // The seed is the id's bit pattern; ids are never negative in practice.
    let hash = xxh3_64_with_seed(request_id, stream_id as u64);
    hash % 100 < u64::from(percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(source: DataSource) -> Arc<Template> {
        Arc::new(Template::compile(r#"{"h":"$host"}"#, source).unwrap())
    }

    fn stream(id: i64, account_id: i64, domains: DomainFilter) -> StreamSpec {
        StreamSpec {
            id,
            account_id,
            data_source: DataSource::EdgeApplications,
            domains,
            template: template(DataSource::EdgeApplications),
            active: true,
        }
    }

    fn list(hosts: &[&str]) -> DomainFilter {
        DomainFilter::List(hosts.iter().map(|h| h.to_string()).collect())
    }

    fn routed(table: &RoutingTable, account: i64, source: DataSource, host: &str) -> Vec<i64> {
        table
            .route(account, source, host, b"request-1")
            .filter(|&(_, kept)| kept)
            .map(|(stream, _)| stream.id)
            .collect()
    }

    #[test]
    fn routes_by_account_source_and_host() {
        let mut waf = stream(4, 1, list(&["a.com"]));
        waf.data_source = DataSource::WafEvents;
        waf.template = template(DataSource::WafEvents);
        let mut inactive = stream(5, 1, list(&["a.com"]));
        inactive.active = false;
        let table = RoutingTable::new(vec![
            stream(1, 1, list(&["A.com", "b.com", "a.com"])),
            stream(2, 1, list(&["b.com"])),
            stream(3, 2, list(&["a.com"])),
            waf,
            inactive,
        ]);
        let edge = DataSource::EdgeApplications;
        assert_eq!(routed(&table, 1, edge, "a.com"), [1]);
        assert_eq!(routed(&table, 1, edge, "B.COM"), [1, 2]);
        assert_eq!(routed(&table, 1, edge, "c.com"), Vec::<i64>::new());
        assert_eq!(routed(&table, 2, edge, "a.com"), [3]);
        assert_eq!(routed(&table, 3, edge, "a.com"), Vec::<i64>::new());
        assert_eq!(routed(&table, 1, DataSource::WafEvents, "a.com"), [4]);
        assert_eq!(table.streams().len(), 5);
    }

    #[test]
    fn all_domains_takes_any_host_and_samples() {
        let table = RoutingTable::new(vec![
            stream(
                1,
                1,
                DomainFilter::All {
                    sampling_percent: 100,
                },
            ),
            stream(2, 1, list(&["a.com"])),
            stream(
                3,
                1,
                DomainFilter::All {
                    sampling_percent: 10,
                },
            ),
        ]);
        let edge = DataSource::EdgeApplications;
        assert_eq!(routed(&table, 1, edge, "new.example.org")[0], 1);
        assert_eq!(routed(&table, 1, edge, "a.com")[..2], [2, 1]);
        let sampled = (0..10_000)
            .filter(|n| {
                let id = format!("request-{n}");
                table
                    .route(1, edge, "x.com", id.as_bytes())
                    .any(|(stream, kept)| stream.id == 3 && kept)
            })
            .count();
        assert!((800..1_200).contains(&sampled), "{sampled}");
        // A sampled-out event is still reported for the stream (counted as sampled out).
        assert!(
            table
                .route(1, edge, "x.com", b"any")
                .any(|(stream, _)| stream.id == 3)
        );
    }

    #[test]
    fn field_set_covers_active_templates() {
        let mut with_status = stream(1, 1, list(&["a.com"]));
        with_status.template = Arc::new(
            Template::compile(r#"{"s":"$status"}"#, DataSource::EdgeApplications).unwrap(),
        );
        let mut inactive = stream(2, 1, list(&["a.com"]));
        inactive.template =
            Arc::new(Template::compile(r#"{"s":"$asn"}"#, DataSource::EdgeApplications).unwrap());
        inactive.active = false;
        let fields = RoutingTable::new(vec![with_status, inactive]).field_set();
        let id = |name| crate::VariableId::of(name).unwrap();
        assert!(fields.contains(id("host")));
        assert!(fields.contains(id("request_id")));
        assert!(fields.contains(id("status")));
        assert!(!fields.contains(id("asn")));
    }

    fn request_ids(count: usize) -> impl Iterator<Item = String> {
        // Distinct, random-looking ids without a random number generator.
        (0..count as u64).map(|n| format!("{:032x}", xxh3_64_with_seed(&n.to_le_bytes(), 7)))
    }

    fn kept(stream_id: i64, percent: u8) -> usize {
        request_ids(100_000)
            .filter(|id| keep(stream_id, id.as_bytes(), percent))
            .count()
    }

    #[test]
    fn keeps_the_requested_share() {
        for (stream_id, percent) in [(1, 10), (42, 10), (7, 1), (7, 50), (9, 99)] {
            let expected = 1_000 * usize::from(percent);
            assert!(
                kept(stream_id, percent).abs_diff(expected) <= 1_000,
                "stream {stream_id} at {percent}%: {}",
                kept(stream_id, percent)
            );
        }
    }

    #[test]
    fn all_or_nothing_at_the_bounds() {
        assert_eq!(kept(3, 100), 100_000);
        assert_eq!(kept(3, 0), 0);
    }

    #[test]
    fn is_deterministic_per_stream_and_request() {
        let id = b"6f1d3b9c2a7e4f0a8b5c1d2e3f4a5b6c";
        let first = (0..100)
            .map(|stream| keep(stream, id, 50))
            .collect::<Vec<_>>();
        let again = (0..100)
            .map(|stream| keep(stream, id, 50))
            .collect::<Vec<_>>();
        assert_eq!(first, again);
        // Streams decide independently: not all the same.
        assert!(first.contains(&true) && first.contains(&false));
    }
}
