//! Random draws that come out the same on every platform for the same seed.

use fastrand::Rng;

/// A uniform index below `n`, drawn as a `u32`: fastrand's `usize` draws differ between
/// 32- and 64-bit targets, and a seed must give the same events everywhere.
pub(super) fn below(rng: &mut Rng, n: usize) -> usize {
    rng.u32(..n as u32) as usize
}

/// The index of an entry of `table`, with chances proportional to `weight`.
pub(super) fn pick_weighted<T>(rng: &mut Rng, table: &[T], weight: impl Fn(&T) -> u32) -> usize {
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
