//! Sampling ranges written as albumentations writes them.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A range a parameter is drawn from uniformly: one number or `[low, high]`, as
/// albumentations accepts. What one number means is the field's (for most it is
/// `[-x, x]`; each field says).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Limit {
    /// One number, read as the field documents.
    Value(f64),
    /// `[low, high]`, inclusive.
    Range([f64; 2]),
}

impl Limit {
    /// `[low, high]`.
    pub const fn range(low: f64, high: f64) -> Self {
        Self::Range([low, high])
    }

    /// The bounds, one number `x` read as `[-x, x]`.
    pub(crate) fn symmetric(self) -> (f64, f64) {
        match self {
            Self::Value(x) => (-x, x),
            Self::Range([a, b]) => (a, b),
        }
    }

    /// The bounds, one number `x` read as `[low, x]`.
    pub(crate) fn with_low(self, low: f64) -> (f64, f64) {
        match self {
            Self::Value(x) => (low, x),
            Self::Range([a, b]) => (a, b),
        }
    }
}

/// Checks that bounds are finite and ordered.
pub(crate) fn check_bounds(name: &'static str, (low, high): (f64, f64)) -> Result<()> {
    if low.is_finite() && high.is_finite() && low <= high {
        return Ok(());
    }
    Err(Error::InvalidOption {
        name,
        value: format!("[{low}, {high}]"),
        reason: "needs finite bounds with low <= high",
    })
}

/// Checks a probability.
pub(crate) fn check_probability(name: &'static str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        return Ok(());
    }
    Err(Error::InvalidOption {
        name,
        value: p.to_string(),
        reason: "a probability must lie in [0, 1]",
    })
}

/// A uniform draw from `[low, high]` (`low` itself when the range is one point).
pub(crate) fn uniform(rng: &mut ChaCha8Rng, (low, high): (f64, f64)) -> f64 {
    if low >= high {
        low
    } else {
        rng.random_range(low..=high)
    }
}

/// Whether a transform of probability `p` fires (one draw whatever `p`).
pub(crate) fn fires(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}
