//! Contrast-limited adaptive histogram equalisation (CLAHE) and its unclipped form (AHE),
//! equal to OpenCV's `createCLAHE(clipLimit, tileGridSize).apply`.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{check_not_empty, Error, Result};
use crate::histogram::Histogram;
use crate::pad::reflect_101_signed;
use crate::pixel::Pixel;

/// A grid of tiles: `cols` across, `rows` down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TileGrid {
    /// Tiles across the width.
    pub cols: usize,
    /// Tiles down the height.
    pub rows: usize,
}

impl TileGrid {
    /// A square `n x n` grid.
    pub fn square(n: usize) -> Self {
        Self { cols: n, rows: n }
    }
}

impl Default for TileGrid {
    fn default() -> Self {
        Self::square(8)
    }
}

/// CLAHE options, OpenCV's meaning: the image is cut into `tiles`; in each tile the
/// histogram is clipped at `clip_limit` times the mean bin count (the excess spread evenly
/// over the bins) and turned into a mapping by its cumulative sum; every pixel is mapped by
/// bilinear interpolation between the mappings of the four nearest tile centres.
///
/// `clip_limit = 0` gives AHE (no clipping, [`Clahe::ahe`]). Defaults: clip 2.0, 8 x 8 tiles
/// (OpenCV's `createCLAHE()` default clip is 40; albumentations' `CLAHE` draws it from
/// [1, 4]). Sizes not divisible by the grid are handled as OpenCV does: the histograms are
/// taken on the image extended at the bottom and right by mirror reflection (without
/// repeating the edge, `BORDER_REFLECT_101`) by `tiles - size % tiles` pixels on each side,
/// which is a whole tile count on a side that divides when the other does not.
///
/// ```
/// use ndarray::Array2;
/// use ptx_preproc::{Clahe, TileGrid};
/// // A dark ramp: CLAHE stretches it.
/// let image = Array2::from_shape_fn((64, 64), |(y, x)| ((x + y) / 4) as u8);
/// let out = Clahe { clip_limit: 2.0, tiles: TileGrid::square(4) }.apply(image.view())?;
/// assert!(out.iter().max() > image.iter().max());
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Clahe {
    /// Clip limit relative to the mean bin count (>= 0; 0 = no clipping).
    pub clip_limit: f64,
    /// The tile grid.
    pub tiles: TileGrid,
}

impl Default for Clahe {
    fn default() -> Self {
        Self {
            clip_limit: 2.0,
            tiles: TileGrid::default(),
        }
    }
}

impl Clahe {
    /// Adaptive histogram equalisation without clipping on `tiles`.
    pub fn ahe(tiles: TileGrid) -> Self {
        Self {
            clip_limit: 0.0,
            tiles,
        }
    }

    /// Checks the options.
    pub fn validate(&self) -> Result<()> {
        if !(self.clip_limit.is_finite() && self.clip_limit >= 0.0) {
            return Err(Error::InvalidOption {
                name: "clahe.clip_limit",
                value: self.clip_limit.to_string(),
                reason: "must be finite and >= 0",
            });
        }
        if self.tiles.cols == 0 || self.tiles.rows == 0 {
            return Err(Error::InvalidOption {
                name: "clahe.tiles",
                value: format!("{}x{}", self.tiles.cols, self.tiles.rows),
                reason: "needs at least one tile each way",
            });
        }
        Ok(())
    }

    /// Equalises a `u8` or `u16` image `(height, width)`; the result has the same shape and
    /// type, bit-identical to OpenCV on every case of `tests/opencv_reference.rs`.
    pub fn apply<P: Pixel>(&self, image: ArrayView2<'_, P>) -> Result<Array2<P>> {
        self.validate()?;
        check_not_empty("clahe input", image.dim())?;
        let image = image.as_standard_layout();
        let pixels = image.as_slice().unwrap_or_default();
        let luts = self.tile_luts(pixels, image.dim());
        Ok(interpolate(
            pixels,
            image.dim(),
            &luts,
            self.tiles,
            self.tile_size(image.dim()),
        ))
    }

    /// Tile size `(height, width)` in pixels: of the image when both sides divide by the
    /// grid, otherwise of the image extended as OpenCV does, by `tiles - size % tiles` on
    /// each side (a whole extra tile's worth on a side that divides).
    fn tile_size(&self, (h, w): (usize, usize)) -> (usize, usize) {
        let (rows, cols) = (self.tiles.rows, self.tiles.cols);
        if h % rows == 0 && w % cols == 0 {
            (h / rows, w / cols)
        } else {
            ((h + rows - h % rows) / rows, (w + cols - w % cols) / cols)
        }
    }

    /// One mapping of `P::LEVELS` entries per tile, row-major over the grid: the output
    /// levels, kept as float32 for the interpolation.
    fn tile_luts<P: Pixel>(&self, pixels: &[P], (h, w): (usize, usize)) -> Vec<f32> {
        let (th, tw) = self.tile_size((h, w));
        let levels = P::LEVELS;
        let area = th * tw;
        let lut_scale = (levels - 1) as f32 / area as f32;
        let clip = if self.clip_limit > 0.0 {
            ((self.clip_limit * area as f64 / levels as f64) as u32).max(1)
        } else {
            0
        };
        let rows: Vec<usize> = (0..th * self.tiles.rows)
            .map(|y| reflect_101_signed(y as i64, h))
            .collect();
        let cols: Vec<usize> = (0..tw * self.tiles.cols)
            .map(|x| reflect_101_signed(x as i64, w))
            .collect();
        let mut luts = vec![0f32; self.tiles.rows * self.tiles.cols * levels];
        let mut counter = Histogram::new::<P>();
        let mut hist = vec![0u32; levels];
        for (k, lut) in luts.chunks_exact_mut(levels).enumerate() {
            let (ty, tx) = (k / self.tiles.cols, k % self.tiles.cols);
            counter.clear();
            let (x0, x1) = (tx * tw, (tx + 1) * tw);
            for &y in &rows[ty * th..(ty + 1) * th] {
                let row = &pixels[y * w..(y + 1) * w];
                if x1 <= w {
                    counter.add(&row[x0..x1]);
                } else {
                    for &x in &cols[x0..x1] {
                        counter.add_one(row[x]);
                    }
                }
            }
            counter.counts(&mut hist);
            if clip > 0 {
                clip_histogram(&mut hist, clip);
            }
            let mut sum = 0u32;
            for (out, &count) in lut.iter_mut().zip(&hist) {
                sum += count;
                *out = P::saturate(sum as f32 * lut_scale).index() as f32;
            }
        }
        luts
    }
}

/// Clips every bin at `clip` and spreads the excess: an equal share to every bin, then the
/// remainder one by one at a regular step from bin 0 (OpenCV's order).
fn clip_histogram(hist: &mut [u32], clip: u32) {
    let mut clipped = 0;
    for bin in hist.iter_mut() {
        if *bin > clip {
            clipped += *bin - clip;
            *bin = clip;
        }
    }
    let levels = hist.len();
    let levels = levels as u32;
    let batch = clipped / levels;
    let mut residual = clipped - batch * levels;
    for bin in hist.iter_mut() {
        *bin += batch;
    }
    if let Some(step) = levels.checked_div(residual) {
        let step = step.max(1) as usize;
        let mut i = 0;
        while i < hist.len() && residual > 0 {
            hist[i] += 1;
            i += step;
            residual -= 1;
        }
    }
}

/// Per-column (or per-row) interpolation: the two tiles and the weight of the second, in
/// float32 as OpenCV computes them.
fn axis_weights(len: usize, tile: usize, tiles: usize) -> Vec<(usize, usize, f32)> {
    let inv = 1.0f32 / tile as f32;
    (0..len)
        .map(|i| {
            let f = i as f32 * inv - 0.5;
            let t1 = f.floor();
            let a = f - t1;
            let t1 = t1 as i64;
            let first = t1.max(0) as usize;
            let second = ((t1 + 1) as usize).min(tiles - 1);
            (first, second, a)
        })
        .collect()
}

/// Maps every pixel through the four nearest tiles' mappings, bilinearly weighted. Columns
/// are taken in runs that share their two tiles, with the mappings as float32 tables, so the
/// inner loop is four table reads and OpenCV's float expression, in OpenCV's order.
fn interpolate<P: Pixel>(
    pixels: &[P],
    (h, w): (usize, usize),
    luts: &[f32],
    tiles: TileGrid,
    (th, tw): (usize, usize),
) -> Array2<P> {
    let levels = P::LEVELS;
    let table = |ty: usize, tx: usize| &luts[(ty * tiles.cols + tx) * levels..][..levels];
    let xs = axis_weights(w, tw, tiles.cols);
    let ys = axis_weights(h, th, tiles.rows);
    let xa: Vec<f32> = xs.iter().map(|&(_, _, a)| a).collect();
    let xa1: Vec<f32> = xa.iter().map(|a| 1.0 - a).collect();
    // Runs of columns [start, end) with the same two tiles.
    let mut runs: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (x, &(t1, t2, _)) in xs.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.2 == t1 && run.3 == t2 => run.1 = x + 1,
            _ => runs.push((x, x + 1, t1, t2)),
        }
    }
    let mut out = vec![P::default(); h * w];
    for (y, (out_row, src)) in out
        .chunks_exact_mut(w)
        .zip(pixels.chunks_exact(w))
        .enumerate()
    {
        let (ty1, ty2, ya) = ys[y];
        let ya1 = 1.0 - ya;
        for &(start, end, tx1, tx2) in &runs {
            let (l11, l12) = (table(ty1, tx1), table(ty1, tx2));
            let (l21, l22) = (table(ty2, tx1), table(ty2, tx2));
            let cols = out_row[start..end]
                .iter_mut()
                .zip(&src[start..end])
                .zip(xa[start..end].iter().zip(&xa1[start..end]));
            for ((out_px, p), (&a, &a1)) in cols {
                // Levels are a power of two: the mask lets the compiler drop bounds checks.
                let v = p.index() & (levels - 1);
                let res = (l11[v] * a1 + l12[v] * a) * ya1 + (l21[v] * a1 + l22[v] * a) * ya;
                *out_px = P::saturate(res);
            }
        }
    }
    Array2::from_shape_vec((h, w), out).unwrap_or_default()
}
