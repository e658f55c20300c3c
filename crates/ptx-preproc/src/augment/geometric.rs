//! Flips, rotations, shift-scale-rotate and random crops (albumentations' parameter meanings).

use ndarray::{Axis, Slice};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::limit::{check_bounds, check_probability, uniform, Limit};
use super::Sample;
use crate::error::{Error, Result};
use crate::warp::{invert_affine, BorderMode, Maps};

/// A mirror flip (`A.HorizontalFlip` / `A.VerticalFlip`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Flip {
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for Flip {
    fn default() -> Self {
        Self { p: 0.5 }
    }
}

/// Mirrors image and mask along `axis` (2 = columns: horizontal flip; 1 = rows: vertical).
pub(crate) fn flip(mut s: Sample, axis: usize) -> Sample {
    s.image.invert_axis(Axis(axis));
    s.mask.invert_axis(Axis(axis - 1));
    s
}

/// Rotation about the image centre by an angle drawn from `limit`, degrees, counter-clockwise
/// as displayed (`A.Rotate`; the output keeps the input's size, corners filled by
/// `border_mode`, black by default as Shannak et al.).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rotate {
    /// Angle range in degrees; one number `x` is `[-x, x]` (albumentations: `[-90, 90]`).
    pub limit: Limit,
    /// What the corners show.
    pub border_mode: BorderMode,
    /// Image value of the corners under [`BorderMode::Constant`].
    pub fill: u8,
    /// Mask value of the corners under [`BorderMode::Constant`].
    pub fill_mask: u8,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for Rotate {
    fn default() -> Self {
        Self {
            limit: Limit::range(-90.0, 90.0),
            border_mode: BorderMode::Constant,
            fill: 0,
            fill_mask: 0,
            p: 0.5,
        }
    }
}

impl Rotate {
    pub(crate) fn validate(&self) -> Result<()> {
        check_bounds("rotate.limit", self.limit.symmetric())?;
        check_probability("rotate.p", self.p)
    }

    pub(crate) fn apply(&self, s: Sample, rng: &mut ChaCha8Rng) -> Sample {
        let angle = uniform(rng, self.limit.symmetric());
        let m = affine_matrix(s.dim(), angle, (1.0, 1.0), (0.0, 0.0));
        s.warp_affine(m, self.border_mode, self.fill, self.fill_mask)
    }
}

/// Random shift, scale ("zoom in/out") and rotation in one resampling (`A.ShiftScaleRotate`
/// of albumentations 2.0: an `A.Affine` without shear).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShiftScaleRotate {
    /// Shift as a fraction of the width / height, truncated to whole pixels; one number `x`
    /// is `[-x, x]` (albumentations: `[-0.0625, 0.0625]`).
    pub shift_limit: Limit,
    /// Horizontal shift range overriding `shift_limit`.
    pub shift_limit_x: Option<Limit>,
    /// Vertical shift range overriding `shift_limit`.
    pub shift_limit_y: Option<Limit>,
    /// Scale range **minus one**: `[-0.1, 0.1]` zooms by 0.9 to 1.1 (albumentations' bias);
    /// one number `x` is `[-x, x]`.
    pub scale_limit: Limit,
    /// Draw one scale for both axes. albumentations 2.0's `ShiftScaleRotate` draws them
    /// independently (`false`, the default); `true` is a uniform zoom.
    pub keep_ratio: bool,
    /// Angle range in degrees; one number `x` is `[-x, x]` (albumentations: `[-45, 45]`).
    pub rotate_limit: Limit,
    /// What uncovered areas show.
    pub border_mode: BorderMode,
    /// Image value of uncovered areas under [`BorderMode::Constant`].
    pub fill: u8,
    /// Mask value of uncovered areas under [`BorderMode::Constant`].
    pub fill_mask: u8,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for ShiftScaleRotate {
    fn default() -> Self {
        Self {
            shift_limit: Limit::range(-0.0625, 0.0625),
            shift_limit_x: None,
            shift_limit_y: None,
            scale_limit: Limit::range(-0.1, 0.1),
            keep_ratio: false,
            rotate_limit: Limit::range(-45.0, 45.0),
            border_mode: BorderMode::Constant,
            fill: 0,
            fill_mask: 0,
            p: 0.5,
        }
    }
}

impl ShiftScaleRotate {
    fn shift_x(&self) -> (f64, f64) {
        self.shift_limit_x.unwrap_or(self.shift_limit).symmetric()
    }

    fn shift_y(&self) -> (f64, f64) {
        self.shift_limit_y.unwrap_or(self.shift_limit).symmetric()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        check_bounds("shift_scale_rotate.shift_limit_x", self.shift_x())?;
        check_bounds("shift_scale_rotate.shift_limit_y", self.shift_y())?;
        let (low, high) = self.scale_limit.symmetric();
        check_bounds("shift_scale_rotate.scale_limit", (low, high))?;
        if low <= -1.0 {
            return Err(Error::InvalidOption {
                name: "shift_scale_rotate.scale_limit",
                value: format!("[{low}, {high}]"),
                reason: "the scale 1 + limit must stay above 0",
            });
        }
        check_bounds(
            "shift_scale_rotate.rotate_limit",
            self.rotate_limit.symmetric(),
        )?;
        check_probability("shift_scale_rotate.p", self.p)
    }

    pub(crate) fn apply(&self, s: Sample, rng: &mut ChaCha8Rng) -> Sample {
        let (h, w) = s.dim();
        // albumentations truncates the shift to whole pixels (`int(t * width)`).
        let tx = (uniform(rng, self.shift_x()) * w as f64).trunc();
        let ty = (uniform(rng, self.shift_y()) * h as f64).trunc();
        let (low, high) = self.scale_limit.symmetric();
        let sx = 1.0 + uniform(rng, (low, high));
        let sy = if self.keep_ratio {
            sx
        } else {
            1.0 + uniform(rng, (low, high))
        };
        let angle = uniform(rng, self.rotate_limit.symmetric());
        let m = affine_matrix((h, w), angle, (sx, sy), (tx, ty));
        s.warp_affine(m, self.border_mode, self.fill, self.fill_mask)
    }
}

/// albumentations' forward matrix (source to output): about the centre
/// `(w / 2 - 0.5, h / 2 - 0.5)`, scale, then rotate by `angle` degrees, then translate.
pub(crate) fn affine_matrix(
    (h, w): (usize, usize),
    angle: f64,
    (sx, sy): (f64, f64),
    (tx, ty): (f64, f64),
) -> [f64; 6] {
    let (cx, cy) = (w as f64 / 2.0 - 0.5, h as f64 / 2.0 - 0.5);
    let rad = angle.rem_euclid(360.0).to_radians();
    let (sin, cos) = rad.sin_cos();
    // [cos sin; -sin cos] * diag(sx, sy), shifted to and from the centre.
    let (a, b) = (cos * sx, sin * sy);
    let (d, e) = (-sin * sx, cos * sy);
    [
        a,
        b,
        cx + tx - a * cx - b * cy,
        d,
        e,
        cy + ty - d * cx - e * cy,
    ]
}

impl Sample {
    /// Warps image (bilinear) and mask (nearest) by the forward matrix `m`.
    fn warp_affine(self, m: [f64; 6], border: BorderMode, fill: u8, fill_mask: u8) -> Sample {
        match invert_affine(m) {
            Some(inverse) => {
                let maps = Maps::affine(inverse, self.dim());
                self.remap(&maps, border, fill, fill_mask)
            }
            None => self,
        }
    }
}

/// A crop of `height` x `width` pixels at a random position (`A.RandomCrop`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomCrop {
    /// Crop height in pixels.
    pub height: usize,
    /// Crop width in pixels.
    pub width: usize,
    /// Probability (albumentations: 1).
    #[serde(default = "one")]
    pub p: f64,
}

fn one() -> f64 {
    1.0
}

impl RandomCrop {
    /// A crop of `height` x `width` applied always.
    pub fn new(height: usize, width: usize) -> Self {
        Self {
            height,
            width,
            p: 1.0,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.height == 0 || self.width == 0 {
            return Err(Error::InvalidOption {
                name: "random_crop.height/width",
                value: format!("{}x{}", self.height, self.width),
                reason: "a crop needs at least one pixel",
            });
        }
        check_probability("random_crop.p", self.p)
    }

    pub(crate) fn apply(&self, s: Sample, rng: &mut ChaCha8Rng) -> Result<Sample> {
        let (h, w) = s.dim();
        if self.height > h || self.width > w {
            return Err(Error::ShapeMismatch {
                what: "random_crop: the crop must fit in the image",
                expected: (self.height, self.width),
                found: (h, w),
            });
        }
        let y = rng.random_range(0..=h - self.height);
        let x = rng.random_range(0..=w - self.width);
        let rows = Slice::from(y..y + self.height);
        let cols = Slice::from(x..x + self.width);
        let image = s
            .image
            .slice_each_axis(|a| match a.axis.index() {
                1 => rows,
                2 => cols,
                _ => Slice::from(..),
            })
            .to_owned();
        let mask = s
            .mask
            .slice_each_axis(|a| if a.axis.index() == 0 { rows } else { cols })
            .to_owned();
        Ok(Sample { image, mask })
    }
}
