//! Resampling through coordinate maps: the engine of every geometric augmentation.
//!
//! An output pixel `(y, x)` takes the source value at `(map_y[y, x], map_x[y, x])`, as
//! OpenCV's `cv2.remap` (and `cv2.warpAffine`, which builds the maps from a matrix). Bilinear
//! interpolation runs in float32 and rounds to nearest, as OpenCV 5 does for `u8`.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, CowArray, Ix2};
use serde::{Deserialize, Serialize};

use crate::pad::reflect_101_signed;
use crate::pixel::round_ties_even;

/// What a transform reads outside the source image (albumentations' `border_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BorderMode {
    /// A constant: the transform's `fill` for images, `fill_mask` for masks
    /// (`cv2.BORDER_CONSTANT`; black, as Shannak et al. fill rotations).
    #[default]
    Constant,
    /// The edge pixel repeated (`cv2.BORDER_REPLICATE`).
    Replicate,
    /// Mirror without repeating the edge (`cv2.BORDER_REFLECT_101`).
    #[serde(rename = "reflect_101")]
    Reflect101,
}

/// How source values are interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sampling {
    /// The nearest source pixel (masks).
    Nearest,
    /// Bilinear (images).
    Bilinear,
}

/// Where each output pixel reads: explicit per-pixel maps, or an affine transform whose
/// coordinates are computed row by row (no map arrays).
pub(crate) enum Maps {
    /// `(map_x, map_y)`, each of the output's shape.
    Explicit {
        /// Source column of each output pixel.
        x: Array2<f32>,
        /// Source row of each output pixel.
        y: Array2<f32>,
    },
    /// The inverse affine transform `(x, y) -> (m0 x + m1 y + m2, m3 x + m4 y + m5)` and the
    /// output shape.
    Affine {
        /// The inverse matrix, row-major 2 x 3.
        inverse: [f64; 6],
        /// Output `(height, width)`.
        dim: (usize, usize),
    },
}

impl Maps {
    /// The output shape `(height, width)`.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Self::Explicit { x, .. } => x.dim(),
            Self::Affine { dim, .. } => *dim,
        }
    }

    /// The maps of an affine transform given as its inverse.
    pub fn affine(inverse: [f64; 6], dim: (usize, usize)) -> Self {
        Self::Affine { inverse, dim }
    }

    /// Fills the source coordinates of output row `row`.
    fn row(&self, row: usize, xs: &mut [f32], ys: &mut [f32]) {
        match self {
            Self::Explicit { x, y } => {
                for ((o, v), (p, u)) in xs
                    .iter_mut()
                    .zip(x.row(row))
                    .zip(ys.iter_mut().zip(y.row(row)))
                {
                    *o = *v;
                    *p = *u;
                }
            }
            Self::Affine {
                inverse: [a, b, c, d, e, f],
                ..
            } => {
                let (x0, y0) = (b * row as f64 + c, e * row as f64 + f);
                for (col, (o, p)) in xs.iter_mut().zip(ys.iter_mut()).enumerate() {
                    *o = (a * col as f64 + x0) as f32;
                    *p = (d * col as f64 + y0) as f32;
                }
            }
        }
    }
}

/// Inverts a forward 2 x 3 affine matrix (source to output), as `cv2.invertAffineTransform`;
/// `None` when it is singular.
pub(crate) fn invert_affine(m: [f64; 6]) -> Option<[f64; 6]> {
    let [a, b, c, d, e, f] = m;
    let det = a * e - b * d;
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
    Some([ia, ib, -ia * c - ib * f, id, ie, -id * c - ie * f])
}

/// One plane resampled by [`remap`]: its source, where the result goes, how it is sampled
/// and the value read outside under [`BorderMode::Constant`].
pub(crate) struct Plane<'a> {
    pub src: ArrayView2<'a, u8>,
    pub out: ArrayViewMut2<'a, u8>,
    pub sampling: Sampling,
    pub fill: u8,
}

/// Resamples every plane through `maps` (all planes the source size; outputs the maps' size).
/// The source coordinates of each output row are computed once for all planes.
pub(crate) fn remap(planes: &mut [Plane<'_>], maps: &Maps, border: BorderMode) {
    // Row-major sources (a copy only for a non-standard layout), not borrowed from `planes`.
    let sources: Vec<CowArray<'_, u8, Ix2>> = planes
        .iter()
        .map(|p| {
            let view = p.src;
            if view.is_standard_layout() {
                CowArray::from(view)
            } else {
                CowArray::from(view.as_standard_layout().into_owned())
            }
        })
        .collect();
    let (oh, ow) = maps.dim();
    let (mut xs, mut ys) = (vec![0.0f32; ow], vec![0.0f32; ow]);
    for row in 0..oh {
        maps.row(row, &mut xs, &mut ys);
        for (plane, src) in planes.iter_mut().zip(&sources) {
            let (h, w) = src.dim();
            let pixels = src.as_slice().unwrap_or_default();
            let fill = plane.fill;
            let at = |iy: i32, ix: i32| -> u8 {
                match (axis_index(iy, h, border), axis_index(ix, w, border)) {
                    (Some(y), Some(x)) => pixels[y * w + x],
                    _ => fill,
                }
            };
            let mut out_row = plane.out.row_mut(row);
            let Some(out_row) = out_row.as_slice_mut() else {
                continue;
            };
            match plane.sampling {
                Sampling::Nearest => {
                    for ((o, &x), &y) in out_row.iter_mut().zip(&xs).zip(&ys) {
                        *o = at(nearest(y), nearest(x));
                    }
                }
                Sampling::Bilinear => {
                    for ((o, &x), &y) in out_row.iter_mut().zip(&xs).zip(&ys) {
                        *o = bilinear(pixels, (h, w), x, y, &at);
                    }
                }
            }
        }
    }
}

/// Resamples one image into a new array (tests).
#[cfg(test)]
fn remap_one(
    src: ArrayView2<'_, u8>,
    maps: &Maps,
    sampling: Sampling,
    border: BorderMode,
    fill: u8,
) -> Array2<u8> {
    let mut out = Array2::zeros(maps.dim());
    remap(
        &mut [Plane {
            src: src.reborrow(),
            out: out.view_mut(),
            sampling,
            fill,
        }],
        maps,
        border,
    );
    out
}

/// `floor` as an integer for |v| <= 1e7 (without SSE4.1 `f32::floor` is a libm call).
#[inline]
fn floor_i32(v: f32) -> i32 {
    let i = v as i32;
    i - i32::from((i as f32) > v)
}

/// Bilinear sample at `(mx, my)` in float32, rounded to nearest (OpenCV 5's `remap`).
#[inline]
fn bilinear(
    pixels: &[u8],
    (h, w): (usize, usize),
    mx: f32,
    my: f32,
    at: &impl Fn(i32, i32) -> u8,
) -> u8 {
    // Far-away points read the border anyway; clamping keeps the integer conversion exact
    // (and maps NaN to 0).
    let (mx, my) = (mx.clamp(-1.0e7, 1.0e7), my.clamp(-1.0e7, 1.0e7));
    let (ix, iy) = (floor_i32(mx), floor_i32(my));
    let (ax, ay) = (mx - ix as f32, my - iy as f32);
    let (p00, p01, p10, p11) =
        if ix >= 0 && iy >= 0 && (ix as usize) + 1 < w && (iy as usize) + 1 < h {
            let i = iy as usize * w + ix as usize;
            (pixels[i], pixels[i + 1], pixels[i + w], pixels[i + w + 1])
        } else {
            (
                at(iy, ix),
                at(iy, ix + 1),
                at(iy + 1, ix),
                at(iy + 1, ix + 1),
            )
        };
    let (p00, p01, p10, p11) = (p00 as f32, p01 as f32, p10 as f32, p11 as f32);
    let top = p00 + ax * (p01 - p00);
    let bottom = p10 + ax * (p11 - p10);
    round_ties_even(top + ay * (bottom - top)) as u8
}

/// The nearest pixel index of a coordinate, ties to even (OpenCV's `cvRound`).
#[inline]
fn nearest(v: f32) -> i32 {
    round_ties_even(v.clamp(-1.0e6, 1.0e6)) as i32
}

/// The source index read for `i` on an axis of `len` pixels, `None` for the constant.
fn axis_index(i: i32, len: usize, border: BorderMode) -> Option<usize> {
    if i >= 0 && (i as usize) < len {
        return Some(i as usize);
    }
    match border {
        BorderMode::Constant => None,
        BorderMode::Replicate => Some(i.clamp(0, len as i32 - 1) as usize),
        BorderMode::Reflect101 => Some(reflect_101_signed(i64::from(i), len)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_maps_copy_the_image() {
        let img = Array2::from_shape_fn((5, 7), |(y, x)| (y * 7 + x) as u8);
        let maps = Maps::affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], (5, 7));
        for s in [Sampling::Nearest, Sampling::Bilinear] {
            assert_eq!(
                remap_one(img.view(), &maps, s, BorderMode::Constant, 0),
                img
            );
        }
    }

    #[test]
    fn half_pixel_shift_averages_neighbours() {
        let img = Array2::from_shape_fn((1, 4), |(_, x)| [0u8, 100, 200, 255][x]);
        let maps = Maps::affine([1.0, 0.0, 0.5, 0.0, 1.0, 0.0], (1, 4));
        let out = remap_one(
            img.view(),
            &maps,
            Sampling::Bilinear,
            BorderMode::Replicate,
            0,
        );
        assert_eq!(out.as_slice().unwrap(), &[50, 150, 228, 255]);
    }

    #[test]
    fn inverse_of_inverse_is_the_matrix() {
        let m = [0.8, -0.3, 12.0, 0.25, 1.1, -4.0];
        let back = invert_affine(invert_affine(m).unwrap()).unwrap();
        for (a, b) in m.iter().zip(back) {
            assert!((a - b).abs() < 1e-12);
        }
        assert!(invert_affine([1.0, 2.0, 0.0, 2.0, 4.0, 0.0]).is_none());
    }
}
