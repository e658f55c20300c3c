//! Fast, exact binning of probabilities against a sorted threshold list: the histogram step
//! that lets one pass over a probability map answer every threshold of a grid.

use crate::error::{Error, Result};

/// Marks a lookup bucket that straddles several thresholds (or holds NaNs): binary search.
const MIXED: u16 = u16::MAX;
/// Flags a bucket that straddles exactly one threshold: one comparison decides.
const ONE: u16 = 0x8000;

/// Sorted, distinct thresholds and a 65,536-entry table from the top 16 bits of a float's
/// order-preserving key to its bin. `bin(p)` is the number of thresholds `t` with `p > t`,
/// so the pixels above threshold `k` are exactly those with `bin > k`. A pixel costs one
/// table load, plus one comparison in the (at most `k`) buckets that straddle a threshold;
/// only buckets straddling two or more fall back to a binary search.
#[derive(Debug, Clone)]
pub(crate) struct ThresholdBins {
    thresholds: Vec<f32>,
    table: Vec<u16>,
}

/// Maps a float to a `u32` whose unsigned order is the float's order (NaNs at the ends).
#[inline]
fn key(p: f32) -> u32 {
    let b = p.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

fn from_key(k: u32) -> f32 {
    if k & 0x8000_0000 != 0 {
        f32::from_bits(k & 0x7FFF_FFFF)
    } else {
        f32::from_bits(!k)
    }
}

impl ThresholdBins {
    /// Bins for `thresholds` (any order, duplicates removed).
    ///
    /// # Errors
    /// [`Error::NaN`] for a NaN threshold, [`Error::InvalidArgument`] for more than 65,534.
    pub(crate) fn new(thresholds: &[f32]) -> Result<Self> {
        if let Some(index) = thresholds.iter().position(|t| t.is_nan()) {
            return Err(Error::NaN {
                what: "thresholds",
                index,
            });
        }
        let mut ts = thresholds.to_vec();
        ts.sort_by(f32::total_cmp);
        ts.dedup_by(|a, b| a == b);
        if ts.len() >= usize::from(ONE) - 1 {
            return Err(Error::InvalidArgument {
                name: "thresholds",
                message: format!("{} distinct thresholds; at most 32,766", ts.len()),
            });
        }
        let mut bins = ThresholdBins {
            thresholds: ts,
            table: Vec::new(),
        };
        bins.table = (0..=u16::MAX as u32)
            .map(|bucket| {
                let lo = from_key(bucket << 16);
                let hi = from_key((bucket << 16) | 0xFFFF);
                if lo.is_nan() || hi.is_nan() {
                    return MIXED;
                }
                let (a, b) = (bins.bin_slow(lo), bins.bin_slow(hi));
                match b - a {
                    0 => a as u16,
                    1 => a as u16 | ONE,
                    _ => MIXED,
                }
            })
            .collect();
        Ok(bins)
    }

    /// The sorted distinct thresholds.
    pub(crate) fn thresholds(&self) -> &[f32] {
        &self.thresholds
    }

    /// Index of `t` in the sorted thresholds (it must be one of them).
    pub(crate) fn index_of(&self, t: f32) -> Option<usize> {
        self.thresholds.iter().position(|&x| x == t)
    }

    fn bin_slow(&self, p: f32) -> usize {
        if p.is_nan() {
            0
        } else {
            self.thresholds.partition_point(|&t| t < p)
        }
    }

    /// Number of thresholds strictly below `p` (0 for NaN).
    #[inline]
    pub(crate) fn bin(&self, p: f32) -> usize {
        match self.table[(key(p) >> 16) as usize] {
            MIXED => self.bin_slow(p),
            b if b & ONE != 0 => {
                let b = usize::from(b & !ONE);
                b + usize::from(p > self.thresholds[b])
            }
            b => usize::from(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_keep_order() {
        let xs = [
            f32::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            1e-30,
            0.5,
            1.0,
            f32::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(key(w[0]) <= key(w[1]));
            assert_eq!(from_key(key(w[1])).to_bits(), w[1].to_bits());
        }
    }

    #[test]
    fn edges_and_nan() -> Result<()> {
        let b = ThresholdBins::new(&[0.5, 0.25, 0.5])?;
        assert_eq!(b.thresholds(), &[0.25, 0.5]);
        assert_eq!(b.bin(0.25), 0); // p > t is strict
        assert_eq!(b.bin(f32::from_bits(0.25f32.to_bits() + 1)), 1);
        assert_eq!(b.bin(0.5), 1);
        assert_eq!(b.bin(1.0), 2);
        assert_eq!(b.bin(f32::NAN), 0);
        assert_eq!(b.bin(-3.0), 0);
        assert!(ThresholdBins::new(&[f32::NAN]).is_err());
        Ok(())
    }

    proptest! {
        #[test]
        fn table_equals_comparisons(ts in proptest::collection::vec(-2.0f32..2.0, 0..20),
                                    ps in proptest::collection::vec(proptest::num::f32::ANY, 0..200)) {
            let b = ThresholdBins::new(&ts).unwrap();
            for p in ps {
                let direct = ts.iter().filter(|&&t| p > t).count();
                let mut distinct = ts.clone();
                distinct.sort_by(f32::total_cmp);
                distinct.dedup();
                let direct_distinct = distinct.iter().filter(|&&t| p > t).count();
                prop_assert!(direct >= direct_distinct);
                prop_assert_eq!(b.bin(p), direct_distinct);
            }
        }
    }
}
