//! Brightness, contrast, gamma and CLAHE as random augmentations: image only, the mask stays.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::limit::{check_bounds, check_probability, uniform, Limit};
use super::Sample;
use crate::clahe::{Clahe, TileGrid};
use crate::error::{Error, Result};

/// `out = alpha * in + beta` with `alpha = 1 + contrast`, `beta = brightness * 255`
/// (`A.RandomBrightnessContrast`, the same float32 look-up table, truncated to `u8`).
/// Brightness only or contrast only is this with the other limit `0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrightnessContrast {
    /// Brightness shift as a fraction of 255 (or of the image mean without
    /// `brightness_by_max`); one number `x` is `[-x, x]` (albumentations: `[-0.2, 0.2]`).
    pub brightness_limit: Limit,
    /// Contrast change: the gain is `1 + c`; one number `x` is `[-x, x]`
    /// (albumentations: `[-0.2, 0.2]`).
    pub contrast_limit: Limit,
    /// Brightness relative to 255 (`true`, albumentations' default) or to the image's mean.
    pub brightness_by_max: bool,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for BrightnessContrast {
    fn default() -> Self {
        Self {
            brightness_limit: Limit::range(-0.2, 0.2),
            contrast_limit: Limit::range(-0.2, 0.2),
            brightness_by_max: true,
            p: 0.5,
        }
    }
}

impl BrightnessContrast {
    /// Brightness only (`A.RandomBrightness` of albumentations 1.x), `[-limit, limit]`.
    pub fn brightness(limit: f64, p: f64) -> Self {
        Self {
            brightness_limit: Limit::range(-limit, limit),
            contrast_limit: Limit::Value(0.0),
            brightness_by_max: true,
            p,
        }
    }

    /// Contrast only (`A.RandomContrast` of albumentations 1.x), `[-limit, limit]`.
    pub fn contrast(limit: f64, p: f64) -> Self {
        Self {
            brightness_limit: Limit::Value(0.0),
            contrast_limit: Limit::range(-limit, limit),
            brightness_by_max: true,
            p,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        check_bounds(
            "brightness_contrast.brightness_limit",
            self.brightness_limit.symmetric(),
        )?;
        check_bounds(
            "brightness_contrast.contrast_limit",
            self.contrast_limit.symmetric(),
        )?;
        check_probability("brightness_contrast.p", self.p)
    }

    pub(crate) fn apply(&self, mut s: Sample, rng: &mut ChaCha8Rng) -> Sample {
        let alpha = 1.0 + uniform(rng, self.contrast_limit.symmetric());
        let beta = uniform(rng, self.brightness_limit.symmetric());
        let scale = if self.brightness_by_max {
            255.0
        } else {
            s.image.iter().map(|&v| v as f64).sum::<f64>() / s.image.len().max(1) as f64
        };
        let (alpha, beta) = (alpha as f32, (beta * scale) as f32);
        // albucore's table: float32 arange * alpha + beta, clipped, cast (truncated) to u8.
        let lut: [u8; 256] =
            std::array::from_fn(|i| ((i as f32 * alpha) + beta).clamp(0.0, 255.0) as u8);
        s.image.mapv_inplace(|v| lut[v as usize]);
        s
    }
}

/// Gamma correction `out = 255 (in / 255)^gamma`, `gamma` drawn from `gamma_limit / 100`
/// (`A.RandomGamma`, same table, truncated to `u8`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gamma {
    /// Range of `100 gamma`; one number `x` is `[1, x]` as in albumentations
    /// (albumentations: `[80, 120]`).
    pub gamma_limit: Limit,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for Gamma {
    fn default() -> Self {
        Self {
            gamma_limit: Limit::range(80.0, 120.0),
            p: 0.5,
        }
    }
}

impl Gamma {
    pub(crate) fn validate(&self) -> Result<()> {
        let (low, high) = self.gamma_limit.with_low(1.0);
        check_bounds("random_gamma.gamma_limit", (low, high))?;
        if low <= 0.0 {
            return Err(Error::InvalidOption {
                name: "random_gamma.gamma_limit",
                value: format!("[{low}, {high}]"),
                reason: "gamma must be positive",
            });
        }
        check_probability("random_gamma.p", self.p)
    }

    pub(crate) fn apply(&self, mut s: Sample, rng: &mut ChaCha8Rng) -> Sample {
        let gamma = uniform(rng, self.gamma_limit.with_low(1.0)) / 100.0;
        // numpy: np.arange(0, 256 / 255, 1 / 255) ** gamma * 255, cast to uint8.
        let step = 1.0 / 255.0;
        let lut: [u8; 256] = std::array::from_fn(|i| {
            ((i as f64 * step).powf(gamma) * 255.0).clamp(0.0, 255.0) as u8
        });
        s.image.mapv_inplace(|v| lut[v as usize]);
        s
    }
}

/// CLAHE with a clip limit drawn from `clip_limit` (`A.CLAHE`), applied to every channel.
/// albumentations equalises the L channel of an RGB image instead; on grey images the two
/// agree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomClahe {
    /// Clip limit range; one number `x` is `[1, x]` (albumentations: `4` = `[1, 4]`).
    pub clip_limit: Limit,
    /// The tile grid (albumentations: 8 x 8).
    pub tile_grid_size: TileGrid,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for RandomClahe {
    fn default() -> Self {
        Self {
            clip_limit: Limit::Value(4.0),
            tile_grid_size: TileGrid::default(),
            p: 0.5,
        }
    }
}

impl RandomClahe {
    pub(crate) fn validate(&self) -> Result<()> {
        check_bounds("clahe.clip_limit", self.clip_limit.with_low(1.0))?;
        Clahe {
            clip_limit: self.clip_limit.with_low(1.0).0.max(0.0),
            tiles: self.tile_grid_size,
        }
        .validate()?;
        check_probability("clahe.p", self.p)
    }

    pub(crate) fn apply(&self, mut s: Sample, rng: &mut ChaCha8Rng) -> Result<Sample> {
        let clahe = Clahe {
            clip_limit: uniform(rng, self.clip_limit.with_low(1.0)),
            tiles: self.tile_grid_size,
        };
        for mut channel in s.image.outer_iter_mut() {
            let out = clahe.apply(channel.view())?;
            channel.assign(&out);
        }
        Ok(s)
    }
}
