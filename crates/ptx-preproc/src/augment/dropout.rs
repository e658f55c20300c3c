//! Coarse dropout: rectangles of the image set to a constant.

use ndarray::Slice;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::limit::{check_bounds, check_probability, uniform};
use super::Sample;
use crate::error::{Error, Result};

/// Blanks `num_holes_range` rectangles whose sides are fractions of the image's
/// (`A.CoarseDropout` of albumentations 2.0 with fractional ranges).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoarseDropout {
    /// Number of holes, inclusive (albumentations: `[1, 2]`).
    pub num_holes_range: [usize; 2],
    /// Hole height as a fraction of the image height (albumentations: `[0.1, 0.2]`).
    pub hole_height_range: [f64; 2],
    /// Hole width as a fraction of the image width (albumentations: `[0.1, 0.2]`).
    pub hole_width_range: [f64; 2],
    /// Image value inside the holes.
    pub fill: u8,
    /// Mask value inside the holes; `None` leaves the mask (albumentations' default).
    pub fill_mask: Option<u8>,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for CoarseDropout {
    fn default() -> Self {
        Self {
            num_holes_range: [1, 2],
            hole_height_range: [0.1, 0.2],
            hole_width_range: [0.1, 0.2],
            fill: 0,
            fill_mask: None,
            p: 0.5,
        }
    }
}

impl CoarseDropout {
    pub(crate) fn validate(&self) -> Result<()> {
        let [low, high] = self.num_holes_range;
        if low > high {
            return Err(Error::InvalidOption {
                name: "coarse_dropout.num_holes_range",
                value: format!("[{low}, {high}]"),
                reason: "needs low <= high",
            });
        }
        for (name, [a, b]) in [
            ("coarse_dropout.hole_height_range", self.hole_height_range),
            ("coarse_dropout.hole_width_range", self.hole_width_range),
        ] {
            check_bounds(name, (a, b))?;
            if a < 0.0 || b > 1.0 {
                return Err(Error::InvalidOption {
                    name,
                    value: format!("[{a}, {b}]"),
                    reason: "fractions of the image must lie in [0, 1]",
                });
            }
        }
        check_probability("coarse_dropout.p", self.p)
    }

    pub(crate) fn apply(&self, mut s: Sample, rng: &mut ChaCha8Rng) -> Sample {
        let (h, w) = s.dim();
        let [low, high] = self.num_holes_range;
        let holes = rng.random_range(low..=high);
        for _ in 0..holes {
            let [a, b] = self.hole_height_range;
            let hh = ((h as f64 * uniform(rng, (a, b))) as usize).min(h);
            let [a, b] = self.hole_width_range;
            let hw = ((w as f64 * uniform(rng, (a, b))) as usize).min(w);
            let y = rng.random_range(0..=h - hh);
            let x = rng.random_range(0..=w - hw);
            let (rows, cols) = (Slice::from(y..y + hh), Slice::from(x..x + hw));
            s.image
                .slice_each_axis_mut(|a| match a.axis.index() {
                    1 => rows,
                    2 => cols,
                    _ => Slice::from(..),
                })
                .fill(self.fill);
            if let Some(fill) = self.fill_mask {
                s.mask
                    .slice_each_axis_mut(|a| if a.axis.index() == 0 { rows } else { cols })
                    .fill(fill);
            }
        }
        s
    }
}
