//! Grid, optical and elastic distortions: smooth non-rigid warps of image and mask.

use ndarray::{Array1, Array2};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::limit::{check_bounds, check_probability, uniform, Limit};
use super::Sample;
use crate::error::{Error, Result};
use crate::warp::{BorderMode, Maps};

/// Grid distortion (`A.GridDistortion`): the image is cut into `num_steps` cells each way and
/// every cell is stretched by `1 + d`, `d` drawn from `distort_limit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridDistortion {
    /// Cells per side (albumentations: 5).
    pub num_steps: usize,
    /// Stretch range per cell; one number `x` is `[-x, x]` (albumentations: `[-0.3, 0.3]`).
    pub distort_limit: Limit,
    /// Rescale the cells so that the warp covers exactly the image (albumentations: `true`).
    pub normalized: bool,
    /// What uncovered areas show.
    pub border_mode: BorderMode,
    /// Image value of uncovered areas under [`BorderMode::Constant`].
    pub fill: u8,
    /// Mask value of uncovered areas under [`BorderMode::Constant`].
    pub fill_mask: u8,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for GridDistortion {
    fn default() -> Self {
        Self {
            num_steps: 5,
            distort_limit: Limit::range(-0.3, 0.3),
            normalized: true,
            border_mode: BorderMode::Constant,
            fill: 0,
            fill_mask: 0,
            p: 0.5,
        }
    }
}

impl GridDistortion {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.num_steps == 0 {
            return Err(Error::InvalidOption {
                name: "grid_distortion.num_steps",
                value: "0".into(),
                reason: "needs at least one cell",
            });
        }
        check_bounds(
            "grid_distortion.distort_limit",
            self.distort_limit.symmetric(),
        )?;
        check_probability("grid_distortion.p", self.p)
    }

    pub(crate) fn apply(&self, s: Sample, rng: &mut ChaCha8Rng) -> Sample {
        let (h, w) = s.dim();
        if h < self.num_steps || w < self.num_steps {
            return s; // cells of zero pixels: nothing to distort
        }
        let bounds = self.distort_limit.symmetric();
        let mut steps_x: Vec<f64> = (0..=self.num_steps)
            .map(|_| 1.0 + uniform(rng, bounds))
            .collect();
        let mut steps_y: Vec<f64> = (0..=self.num_steps)
            .map(|_| 1.0 + uniform(rng, bounds))
            .collect();
        if self.normalized {
            normalize_steps(&mut steps_x, w, self.num_steps);
            normalize_steps(&mut steps_y, h, self.num_steps);
        }
        let xx = grid_axis(&steps_x, w, self.num_steps);
        let yy = grid_axis(&steps_y, h, self.num_steps);
        let maps = Maps::Explicit {
            x: Array2::from_shape_fn((h, w), |(_, x)| xx[x]),
            y: Array2::from_shape_fn((h, w), |(y, _)| yy[y]),
        };
        s.remap(&maps, self.border_mode, self.fill, self.fill_mask)
    }
}

/// albumentations' `normalize_grid_distortion_steps` along one axis of `len` pixels.
fn normalize_steps(steps: &mut [f64], len: usize, num_steps: usize) {
    let step = len / num_steps;
    let last = (len.min((num_steps + 1) * step) - num_steps * step) as f64;
    if let Some(s) = steps.last_mut() {
        *s *= last / step as f64;
    }
    let total = len as f64 / (len as f64 / num_steps as f64).floor();
    let sum: f64 = steps.iter().sum();
    for s in steps.iter_mut() {
        *s *= total / sum;
    }
}

/// albumentations' `generate_grid` along one axis: piecewise-linear source coordinates.
fn grid_axis(steps: &[f64], len: usize, num_steps: usize) -> Array1<f32> {
    let step = len / num_steps;
    let mut out = Array1::<f32>::zeros(len);
    let mut prev = 0.0f64;
    for (i, s) in steps.iter().enumerate() {
        let start = i * step;
        let end = (start + step).min(len);
        let cur = prev + step as f64 * s;
        let n = end.saturating_sub(start);
        for k in 0..n {
            // numpy.linspace(prev, cur, n): start + k * delta, the last point exactly `cur`.
            out[start + k] = if k + 1 == n && n > 1 {
                cur as f32
            } else {
                (prev + k as f64 * (cur - prev) / (n as f64 - 1.0).max(1.0)) as f32
            };
        }
        prev = cur;
    }
    out
}

/// The lens model of [`OpticalDistortion`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LensModel {
    /// OpenCV's camera model with radial coefficients `k1 = k2 = k` (albumentations' default).
    #[default]
    Camera,
    /// Fisheye: `r' = r (1 + k (r / r_max)^2)`.
    Fisheye,
}

/// Barrel / pincushion distortion (`A.OpticalDistortion`), `k` drawn from `distort_limit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpticalDistortion {
    /// Range of `k`; one number `x` is `[-x, x]` (albumentations: `[-0.05, 0.05]`).
    pub distort_limit: Limit,
    /// The lens model.
    pub mode: LensModel,
    /// What uncovered areas show.
    pub border_mode: BorderMode,
    /// Image value of uncovered areas under [`BorderMode::Constant`].
    pub fill: u8,
    /// Mask value of uncovered areas under [`BorderMode::Constant`].
    pub fill_mask: u8,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for OpticalDistortion {
    fn default() -> Self {
        Self {
            distort_limit: Limit::range(-0.05, 0.05),
            mode: LensModel::Camera,
            border_mode: BorderMode::Constant,
            fill: 0,
            fill_mask: 0,
            p: 0.5,
        }
    }
}

impl OpticalDistortion {
    pub(crate) fn validate(&self) -> Result<()> {
        check_bounds(
            "optical_distortion.distort_limit",
            self.distort_limit.symmetric(),
        )?;
        check_probability("optical_distortion.p", self.p)
    }

    pub(crate) fn apply(&self, s: Sample, rng: &mut ChaCha8Rng) -> Sample {
        let k = uniform(rng, self.distort_limit.symmetric());
        let maps = match self.mode {
            LensModel::Camera => camera_maps(s.dim(), k),
            LensModel::Fisheye => fisheye_maps(s.dim(), k),
        };
        s.remap(&maps, self.border_mode, self.fill, self.fill_mask)
    }
}

/// `cv2.initUndistortRectifyMap` with camera matrix `[[w, 0, w/2], [0, h, h/2]]`,
/// distortion `[k, k, 0, 0, 0]` (float32, as albumentations passes it) and OpenCV's default
/// new camera matrix (principal point `((w-1)/2, (h-1)/2)`).
fn camera_maps((h, w): (usize, usize), k: f64) -> Maps {
    let k = k as f32 as f64;
    let (fx, fy) = (w as f64, h as f64);
    let (u0, v0) = (w as f64 / 2.0, h as f64 / 2.0);
    let (cx, cy) = ((w as f64 - 1.0) * 0.5, (h as f64 - 1.0) * 0.5);
    let mut x = Array2::zeros((h, w));
    let mut y = Array2::zeros((h, w));
    for row in 0..h {
        let yn = (row as f64 - cy) / fy;
        for col in 0..w {
            let xn = (col as f64 - cx) / fx;
            let r2 = xn * xn + yn * yn;
            let kr = 1.0 + (k * r2 + k) * r2;
            x[[row, col]] = (fx * xn * kr + u0) as f32;
            y[[row, col]] = (fy * yn * kr + v0) as f32;
        }
    }
    Maps::Explicit { x, y }
}

/// albumentations' fisheye maps (float32 arithmetic, as numpy does there).
fn fisheye_maps((h, w): (usize, usize), k: f64) -> Maps {
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let max_radius = (cx.max(w as f32 - cx).powi(2) + cy.max(h as f32 - cy).powi(2)).sqrt();
    let k = k as f32;
    let mut x = Array2::zeros((h, w));
    let mut y = Array2::zeros((h, w));
    for row in 0..h {
        for col in 0..w {
            let (dx, dy) = (col as f32 - cx, row as f32 - cy);
            let r = (dx * dx + dy * dy).sqrt();
            let theta = dy.atan2(dx);
            let rn = r / max_radius;
            let rd = r * (1.0 + k * rn * rn);
            x[[row, col]] = rd * theta.cos() + cx;
            y[[row, col]] = rd * theta.sin() + cy;
        }
    }
    Maps::Explicit { x, y }
}

/// Elastic deformation (`A.ElasticTransform` of albumentations 2.0, Simard et al.): a random
/// displacement field, normalised to `[-1, 1]`, smoothed by a Gaussian of `sigma` pixels and
/// scaled by `alpha` pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ElasticTransform {
    /// Displacement scale in pixels (albumentations: 1).
    pub alpha: f64,
    /// Smoothing in pixels (albumentations: 50).
    pub sigma: f64,
    /// A 17 x 17 smoothing kernel instead of OpenCV's automatic size (`8 sigma + 1`).
    pub approximate: bool,
    /// One field for both axes.
    pub same_dxdy: bool,
    /// What uncovered areas show.
    pub border_mode: BorderMode,
    /// Image value of uncovered areas under [`BorderMode::Constant`].
    pub fill: u8,
    /// Mask value of uncovered areas under [`BorderMode::Constant`].
    pub fill_mask: u8,
    /// Probability (albumentations: 0.5).
    pub p: f64,
}

impl Default for ElasticTransform {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            sigma: 50.0,
            approximate: false,
            same_dxdy: false,
            border_mode: BorderMode::Constant,
            fill: 0,
            fill_mask: 0,
            p: 0.5,
        }
    }
}

impl ElasticTransform {
    pub(crate) fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("elastic_transform.alpha", self.alpha),
            ("elastic_transform.sigma", self.sigma),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::InvalidOption {
                    name,
                    value: v.to_string(),
                    reason: "must be finite and > 0",
                });
            }
        }
        check_probability("elastic_transform.p", self.p)
    }

    pub(crate) fn apply(&self, s: Sample, rng: &mut ChaCha8Rng) -> Sample {
        let (h, w) = s.dim();
        let size = if self.approximate {
            17
        } else {
            // OpenCV's automatic size for float images: round(sigma * 4 * 2 + 1) | 1.
            ((self.sigma * 8.0 + 1.0).round() as usize) | 1
        };
        let kernel = gaussian_kernel(size, self.sigma);
        let fields = if self.same_dxdy { 1 } else { 2 };
        let mut noise: Vec<Array2<f32>> = (0..fields)
            .map(|_| {
                let mut values = vec![0.0f32; h * w];
                for pair in values.chunks_mut(2) {
                    let (a, b) = standard_normal_pair(rng);
                    pair[0] = a;
                    if let Some(second) = pair.get_mut(1) {
                        *second = b;
                    }
                }
                Array2::from_shape_vec((h, w), values).unwrap_or_default()
            })
            .collect();
        // albumentations normalises both fields together by their largest magnitude.
        let max = noise
            .iter()
            .flat_map(|f| f.iter())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        for field in &mut noise {
            if max > 1e-6 {
                field.mapv_inplace(|v| v / max);
            }
            *field = blur_replicate(field, &kernel);
            field.mapv_inplace(|v| v * self.alpha as f32);
        }
        let dy = noise.pop().unwrap_or_default();
        let dx = noise.pop().unwrap_or_else(|| dy.clone());
        let maps = Maps::Explicit {
            x: Array2::from_shape_fn((h, w), |(r, c)| c as f32 + dx[[r, c]]),
            y: Array2::from_shape_fn((h, w), |(r, c)| r as f32 + dy[[r, c]]),
        };
        s.remap(&maps, self.border_mode, self.fill, self.fill_mask)
    }
}

/// Two independent standard normal draws (Box-Muller, both outputs).
fn standard_normal_pair(rng: &mut ChaCha8Rng) -> (f32, f32) {
    let u1: f32 = 1.0 - rng.random::<f32>(); // (0, 1]
    let u2: f32 = rng.random();
    let r = (-2.0 * u1.ln()).sqrt();
    let (sin, cos) = (std::f32::consts::TAU * u2).sin_cos();
    (r * cos, r * sin)
}

/// `cv2.getGaussianKernel(size, sigma)` for a positive sigma: normalised samples of the bell.
fn gaussian_kernel(size: usize, sigma: f64) -> Vec<f32> {
    let centre = (size as f64 - 1.0) / 2.0;
    let scale = -0.5 / (sigma * sigma);
    let raw: Vec<f64> = (0..size)
        .map(|i| (scale * (i as f64 - centre).powi(2)).exp())
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|v| (v / sum) as f32).collect()
}

/// Separable convolution with `kernel` along rows then columns, edges replicated (as
/// `cv2.GaussianBlur(..., borderType=BORDER_REPLICATE)`). Each pass adds one kernel tap at a
/// time over a whole row, which the compiler vectorises.
fn blur_replicate(field: &Array2<f32>, kernel: &[f32]) -> Array2<f32> {
    let (h, w) = field.dim();
    let r = kernel.len() / 2;
    let field = field.as_standard_layout();
    let src = field.as_slice().unwrap_or_default();
    let mut rows = vec![0.0f32; h * w];
    let mut padded = vec![0.0f32; w + 2 * r];
    for (row, out) in src.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        let (first, last) = (row[0], row[w - 1]);
        padded[..r].fill(first);
        padded[r..r + w].copy_from_slice(row);
        padded[r + w..].fill(last);
        for (k, &g) in kernel.iter().enumerate() {
            for (o, &v) in out.iter_mut().zip(&padded[k..k + w]) {
                *o += g * v;
            }
        }
    }
    let mut out = vec![0.0f32; h * w];
    for (y, out_row) in out.chunks_exact_mut(w).enumerate() {
        for (k, &g) in kernel.iter().enumerate() {
            let sy = (y + k).saturating_sub(r).min(h - 1);
            for (o, &v) in out_row.iter_mut().zip(&rows[sy * w..(sy + 1) * w]) {
                *o += g * v;
            }
        }
    }
    Array2::from_shape_vec((h, w), out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_kernel_is_normalised_and_symmetric() {
        let k = gaussian_kernel(49, 6.0);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(k[0], k[48]);
        assert!(k[24] > k[23]);
    }

    #[test]
    fn blur_keeps_constants() {
        let f = Array2::from_elem((9, 13), 0.25f32);
        let out = blur_replicate(&f, &gaussian_kernel(17, 3.0));
        assert!(out.iter().all(|v| (v - 0.25).abs() < 1e-6));
    }

    #[test]
    fn grid_axis_is_numpy_linspace_per_cell() {
        // np.linspace(0, 4, 4) for the first cell, np.linspace(4, 8, 4) for the second.
        let xx = grid_axis(&[1.0; 6], 20, 5);
        let expected = [
            0.0,
            4.0 / 3.0,
            8.0 / 3.0,
            4.0,
            4.0,
            16.0 / 3.0,
            20.0 / 3.0,
            8.0,
        ];
        for (v, e) in xx.iter().zip(expected) {
            assert!((v - e).abs() < 1e-5, "{v} vs {e}");
        }
        assert_eq!(xx[19], 20.0);
    }
}
