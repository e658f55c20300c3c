//! Which images an epoch trains on: class-balanced undersampling, positive oversampling,
//! weighted sampling and a positive share that changes over epochs. Every function is
//! seeded: the same seed gives the same indices.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The random generator of a seed and an epoch (independent streams per epoch).
fn rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64);
    rng
}

fn split(labels: &[bool]) -> (Vec<usize>, Vec<usize>) {
    (0..labels.len()).partition(|&i| labels[i])
}

fn need(what: &'static str, n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidOption {
            name: "labels",
            value: format!("no {what} images"),
            reason: "the sampler needs at least one",
        });
    }
    Ok(())
}

/// Every positive image and `negatives_per_positive` times as many negatives drawn without
/// replacement (all of them if there are fewer), shuffled: Dasic et al.'s majority-class
/// undersampling (1.0 = balanced).
///
/// ```
/// let labels = [true, false, false, false, true, false];
/// let epoch = ptx_preproc::undersample_negatives(&labels, 1.0, 7)?;
/// assert_eq!(epoch.len(), 4);
/// assert_eq!(epoch.iter().filter(|&&i| labels[i]).count(), 2);
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
pub fn undersample_negatives(
    labels: &[bool],
    negatives_per_positive: f64,
    seed: u64,
) -> Result<Vec<usize>> {
    if !(negatives_per_positive.is_finite() && negatives_per_positive >= 0.0) {
        return Err(Error::InvalidOption {
            name: "negatives_per_positive",
            value: negatives_per_positive.to_string(),
            reason: "must be finite and >= 0",
        });
    }
    let (positives, mut negatives) = split(labels);
    need("positive", positives.len())?;
    let mut rng = rng(seed, 0);
    negatives.shuffle(&mut rng);
    let keep =
        ((positives.len() as f64 * negatives_per_positive).round() as usize).min(negatives.len());
    let mut out = positives;
    out.extend_from_slice(&negatives[..keep]);
    out.shuffle(&mut rng);
    Ok(out)
}

/// Every image once and every positive `copies` times in all, shuffled: Shannak et al.
/// triple the positives (`copies = 3`), each copy meant to get its own augmentation.
pub fn oversample_positives(labels: &[bool], copies: usize, seed: u64) -> Vec<usize> {
    let mut out: Vec<usize> = (0..labels.len()).collect();
    for (i, _) in labels.iter().enumerate().filter(|(_, &l)| l) {
        out.extend(std::iter::repeat_n(i, copies.saturating_sub(1)));
    }
    out.shuffle(&mut rng(seed, 0));
    out
}

/// Sampling with replacement in proportion to weights, as PyTorch's
/// `WeightedRandomSampler(weights, n, replacement=True)` (Harmalkar et al. oversample
/// positives this way). The same seed gives the same indices; they are not PyTorch's.
#[derive(Debug, Clone)]
pub struct WeightedSampler {
    cumulative: Vec<f64>,
}

impl WeightedSampler {
    /// A sampler over `weights.len()` items; weights must be finite, >= 0, not all 0.
    pub fn new(weights: &[f64]) -> Result<Self> {
        let mut total = 0.0;
        let mut cumulative = Vec::with_capacity(weights.len());
        for &w in weights {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::InvalidOption {
                    name: "weights",
                    value: w.to_string(),
                    reason: "must be finite and >= 0",
                });
            }
            total += w;
            cumulative.push(total);
        }
        if total <= 0.0 {
            return Err(Error::InvalidOption {
                name: "weights",
                value: "all 0".into(),
                reason: "need a positive weight",
            });
        }
        Ok(Self { cumulative })
    }

    /// Weights that give each class the same total, `1 / count(class)` per image.
    pub fn class_balanced(labels: &[bool]) -> Result<Self> {
        let (p, n) = split(labels);
        need("positive", p.len())?;
        need("negative", n.len())?;
        let (wp, wn) = (1.0 / p.len() as f64, 1.0 / n.len() as f64);
        Self::new(
            &labels
                .iter()
                .map(|&l| if l { wp } else { wn })
                .collect::<Vec<_>>(),
        )
    }

    /// `n` indices for `epoch`.
    pub fn sample(&self, n: usize, seed: u64, epoch: usize) -> Vec<usize> {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let mut rng = rng(seed, epoch);
        (0..n)
            .map(|_| {
                let u = rng.random::<f64>() * total;
                self.cumulative
                    .partition_point(|&c| c <= u)
                    .min(self.cumulative.len() - 1)
            })
            .collect()
    }
}

/// A share of positive images per epoch going linearly from `start` to `end` over `epochs`
/// (then staying at `end`): the winning solution went from 0.8 to 0.4.
///
/// ```
/// use ptx_preproc::PositiveShare;
/// let schedule = PositiveShare { start: 0.8, end: 0.4, epochs: 5 };
/// assert!((schedule.share(0) - 0.8).abs() < 1e-12);
/// assert!((schedule.share(4) - 0.4).abs() < 1e-12);
/// let labels: Vec<bool> = (0..100).map(|i| i % 5 == 0).collect();
/// let first = schedule.epoch(&labels, 0, 50, 1)?;
/// assert_eq!(first.iter().filter(|&&i| labels[i]).count(), 40);
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositiveShare {
    /// Share of positives in the first epoch, in [0, 1].
    pub start: f64,
    /// Share from epoch `epochs - 1` on, in [0, 1].
    pub end: f64,
    /// Epochs the change takes.
    pub epochs: usize,
}

impl PositiveShare {
    /// The share at `epoch` (from 0).
    pub fn share(&self, epoch: usize) -> f64 {
        let t = (epoch as f64 / self.epochs.saturating_sub(1).max(1) as f64).min(1.0);
        self.start + (self.end - self.start) * t
    }

    /// `len` indices for `epoch`: `round(share * len)` positives and the rest negatives, each
    /// class drawn with replacement, shuffled.
    pub fn epoch(
        &self,
        labels: &[bool],
        epoch: usize,
        len: usize,
        seed: u64,
    ) -> Result<Vec<usize>> {
        for (name, v) in [
            ("positive_share.start", self.start),
            ("positive_share.end", self.end),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::InvalidOption {
                    name,
                    value: v.to_string(),
                    reason: "must be in [0, 1]",
                });
            }
        }
        let (positives, negatives) = split(labels);
        let n_pos = (self.share(epoch) * len as f64).round() as usize;
        if n_pos > 0 {
            need("positive", positives.len())?;
        }
        if n_pos < len {
            need("negative", negatives.len())?;
        }
        let mut rng = rng(seed, epoch);
        let mut out: Vec<usize> = (0..len)
            .map(|k| {
                let pool = if k < n_pos { &positives } else { &negatives };
                pool[rng.random_range(0..pool.len())]
            })
            .collect();
        out.shuffle(&mut rng);
        Ok(out)
    }
}
