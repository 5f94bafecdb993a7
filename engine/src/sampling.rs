//! Sampling for All Domains streams: keep a fixed percentage of requests.
//!
//! The decision is a pure function of the stream and the request id, so it is the same on
//! every node and after a restart, and a retried event is kept or dropped consistently.
//! Seeding the hash with the stream id decorrelates streams sampling the same events.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Whether stream `stream_id`, sampling `percent` % (100 or more keeps all), keeps the
/// request `request_id`.
pub fn keep(stream_id: i64, request_id: &[u8], percent: u8) -> bool {
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
