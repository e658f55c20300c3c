//! Resizing 8-bit images and masks, equal to OpenCV's `cv2.resize`.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{check_not_empty, Error, Result};
use crate::pixel::round_ties_even;

/// How [`resize`] samples the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// The source pixel at `floor(x * src / dst)` (OpenCV's `INTER_NEAREST`): for masks, which
    /// must stay binary.
    Nearest,
    /// Bilinear between pixel centres in OpenCV's 11-bit fixed point (`INTER_LINEAR`).
    Bilinear,
    /// The mean of the source area each output pixel covers (`INTER_AREA`): the right choice
    /// for shrinking images (1024 -> 512 or 256), free of aliasing. When either side grows,
    /// OpenCV's bilinear variant whose weights follow the output pixel's edges.
    #[default]
    Area,
}

/// Resizes an input image the way the training pipelines do: [`Interpolation::Area`] when
/// neither side grows, [`Interpolation::Bilinear`] otherwise (OpenCV users' convention), and
/// a copy when `size` is the image's size.
pub fn resize_input(image: ArrayView2<'_, u8>, size: (usize, usize)) -> Result<Array2<u8>> {
    let (h, w) = image.dim();
    if size == (h, w) {
        return Ok(image.to_owned());
    }
    let interpolation = if size.0 <= h && size.1 <= w {
        Interpolation::Area
    } else {
        Interpolation::Bilinear
    };
    resize(image, size, interpolation)
}

/// Resizes a grey `u8` image `(height, width)` to `size = (height, width)`, bit-identical to
/// `cv2.resize(image, (width, height), interpolation=...)` (tested on real radiographs and
/// random images of odd sizes, shrinking and growing; see `tests/opencv_reference.rs`).
///
/// ```
/// use ndarray::Array2;
/// use ptx_preproc::{resize, Interpolation};
/// let image = Array2::from_shape_fn((4, 4), |(y, x)| (10 * y + x) as u8);
/// let half = resize(image.view(), (2, 2), Interpolation::Area)?;
/// assert_eq!(half[[0, 0]], 6); // (0 + 1 + 10 + 11 + 2) / 4, OpenCV's rounding for 2x2
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
pub fn resize(
    image: ArrayView2<'_, u8>,
    size: (usize, usize),
    interpolation: Interpolation,
) -> Result<Array2<u8>> {
    check_not_empty("resize input", image.dim())?;
    if size.0 == 0 || size.1 == 0 {
        return Err(Error::InvalidOption {
            name: "resize.size",
            value: format!("{}x{}", size.1, size.0),
            reason: "the output needs at least one pixel each way",
        });
    }
    let image = image.as_standard_layout();
    let src = Source {
        pixels: image.as_slice().unwrap_or_default(),
        height: image.dim().0,
        width: image.dim().1,
    };
    // OpenCV's scales: the inverse of the inverse, which can differ from src / dst by an ulp.
    let scale = |s: usize, d: usize| 1.0 / (d as f64 / s as f64);
    let (sy, sx) = (scale(src.height, size.0), scale(src.width, size.1));
    let out = match interpolation {
        Interpolation::Nearest => nearest(&src, size, sy, sx),
        Interpolation::Area if sx >= 1.0 && sy >= 1.0 => {
            let (iy, ix) = (sy.round(), sx.round());
            if (sy - iy).abs() < f64::EPSILON && (sx - ix).abs() < f64::EPSILON {
                area_integer(&src, size, iy as usize, ix as usize)
            } else {
                area_general(&src, size, sy, sx)
            }
        }
        Interpolation::Area => bilinear(&src, size, sy, sx, true),
        // OpenCV shrinks by exactly 2 with the area code for bilinear too (same results).
        Interpolation::Bilinear if sx == 2.0 && sy == 2.0 => area_integer(&src, size, 2, 2),
        Interpolation::Bilinear => bilinear(&src, size, sy, sx, false),
    };
    Ok(Array2::from_shape_vec(size, out).unwrap_or_default())
}

/// Row-major source pixels.
struct Source<'a> {
    pixels: &'a [u8],
    height: usize,
    width: usize,
}

impl Source<'_> {
    fn row(&self, y: usize) -> &[u8] {
        &self.pixels[y * self.width..(y + 1) * self.width]
    }
}

fn nearest(src: &Source<'_>, (h, w): (usize, usize), sy: f64, sx: f64) -> Vec<u8> {
    let index =
        |i: usize, scale: f64, len: usize| ((i as f64 * scale).floor() as usize).min(len - 1);
    let xs: Vec<usize> = (0..w).map(|x| index(x, sx, src.width)).collect();
    let mut out = Vec::with_capacity(h * w);
    for y in 0..h {
        let row = src.row(index(y, sy, src.height));
        out.extend(xs.iter().map(|&x| row[x]));
    }
    out
}

/// Integer factors: block sums; 2 x 2 rounds halves up (OpenCV's SIMD path), other factors
/// multiply by the float reciprocal and round ties to even.
fn area_integer(src: &Source<'_>, (h, w): (usize, usize), fy: usize, fx: usize) -> Vec<u8> {
    if fx == 2 && fy == 2 {
        return halve(src, (h, w));
    }
    let area = fy * fx;
    let inv = 1.0f32 / area as f32;
    let mut sums = vec![0u32; w];
    let mut out = Vec::with_capacity(h * w);
    for y in 0..h {
        sums.fill(0);
        for sy in y * fy..(y + 1) * fy {
            for (sum, block) in sums.iter_mut().zip(src.row(sy).chunks_exact(fx)) {
                *sum += block.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        out.extend(sums.iter().map(|&s| round_ties_even(s as f32 * inv) as u8));
    }
    out
}

/// The 2 x 2 case, the most common (1024 -> 512): halves rounded up, as OpenCV's SIMD path,
/// in a loop the compiler vectorises.
fn halve(src: &Source<'_>, (h, w): (usize, usize)) -> Vec<u8> {
    let mut out = vec![0u8; h * w];
    for (y, row) in out.chunks_exact_mut(w).enumerate() {
        let (a, b) = (src.row(2 * y), src.row(2 * y + 1));
        for ((o, a), b) in row.iter_mut().zip(a.chunks_exact(2)).zip(b.chunks_exact(2)) {
            let sum = u16::from(a[0]) + u16::from(a[1]) + u16::from(b[0]) + u16::from(b[1]);
            *o = ((sum + 2) >> 2) as u8;
        }
    }
    out
}

/// One source index and its weight for an output index, in OpenCV's table order.
struct Tap {
    dst: usize,
    src: usize,
    weight: f32,
}

/// OpenCV's `computeResizeAreaTab`: the source cells each output cell covers, with the
/// covered fraction (partial cells at both ends) over the cell's width.
fn area_taps(src_len: usize, dst_len: usize, scale: f64) -> Vec<Tap> {
    let mut taps = Vec::new();
    for d in 0..dst_len {
        let f1 = d as f64 * scale;
        let f2 = f1 + scale;
        let cell = scale.min(src_len as f64 - f1);
        let s2 = (f2.floor() as usize).min(src_len - 1);
        let s1 = (f1.ceil() as usize).min(s2);
        if s1 as f64 - f1 > 1e-3 {
            taps.push(Tap {
                dst: d,
                src: s1 - 1,
                weight: ((s1 as f64 - f1) / cell) as f32,
            });
        }
        for s in s1..s2 {
            taps.push(Tap {
                dst: d,
                src: s,
                weight: (1.0 / cell) as f32,
            });
        }
        if f2 - s2 as f64 > 1e-3 {
            taps.push(Tap {
                dst: d,
                src: s2,
                weight: ((f2 - s2 as f64).min(1.0).min(cell) / cell) as f32,
            });
        }
    }
    taps
}

/// Non-integer shrinking: weighted sums in float32, rows accumulated in OpenCV's order.
fn area_general(src: &Source<'_>, (h, w): (usize, usize), sy: f64, sx: f64) -> Vec<u8> {
    let xtaps = area_taps(src.width, w, sx);
    let ytaps = area_taps(src.height, h, sy);
    let mut out = vec![0u8; h * w];
    let mut buf = vec![0f32; w];
    let mut sum = vec![0f32; w];
    let mut current = ytaps.first().map_or(0, |t| t.dst);
    let flush = |out: &mut [u8], dy: usize, sum: &[f32]| {
        for (o, &s) in out[dy * w..(dy + 1) * w].iter_mut().zip(sum) {
            *o = round_ties_even(s) as u8;
        }
    };
    for tap in &ytaps {
        buf.fill(0.0);
        let row = src.row(tap.src);
        for t in &xtaps {
            buf[t.dst] += f32::from(row[t.src]) * t.weight;
        }
        if tap.dst != current {
            flush(&mut out, current, &sum);
            for (s, &b) in sum.iter_mut().zip(&buf) {
                *s = tap.weight * b;
            }
            current = tap.dst;
        } else {
            for (s, &b) in sum.iter_mut().zip(&buf) {
                *s += tap.weight * b;
            }
        }
    }
    flush(&mut out, current, &sum);
    out
}

/// Bilinear taps of one axis: two source indices and 11-bit fixed-point weights. On the x
/// axis a position outside the source snaps to the edge pixel (OpenCV's `xmin`/`xmax`); on
/// the y axis the weights stay and the rows are clamped, as OpenCV does.
/// With `area`, OpenCV's `INTER_AREA` when growing: the source index under the output
/// pixel's left edge, weighted by how far the output pixel's right edge reaches past it.
fn linear_taps(
    src_len: usize,
    dst_len: usize,
    scale: f64,
    snap: bool,
    area: bool,
) -> Vec<(usize, usize, i32, i32)> {
    const ONE: f32 = 2048.0;
    let inv_scale = dst_len as f64 / src_len as f64;
    (0..dst_len)
        .map(|d| {
            let (mut s, mut frac) = if area {
                let s = (d as f64 * scale).floor();
                let f = ((d + 1) as f64 - (s + 1.0) * inv_scale) as f32;
                (s as i64, if f <= 0.0 { 0.0 } else { f - f.floor() })
            } else {
                let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
                let fl = f.floor();
                (fl as i64, f - fl)
            };
            let last = src_len as i64 - 1;
            if snap && s < 0 {
                (s, frac) = (0, 0.0);
            }
            if snap && s >= last {
                (s, frac) = (last, 0.0);
            }
            let c0 = round_ties_even((1.0 - frac) * ONE) as i32;
            let c1 = round_ties_even(frac * ONE) as i32;
            let clamp = |i: i64| i.clamp(0, last) as usize;
            (clamp(s), clamp(s + 1), c0, c1)
        })
        .collect()
}

fn bilinear(src: &Source<'_>, (h, w): (usize, usize), sy: f64, sx: f64, area: bool) -> Vec<u8> {
    let xt = linear_taps(src.width, w, sx, true, area);
    let yt = linear_taps(src.height, h, sy, false, area);
    let horizontal = |y: usize, row: &mut Vec<i32>| {
        let s = src.row(y);
        row.clear();
        row.extend(
            xt.iter()
                .map(|&(x0, x1, c0, c1)| i32::from(s[x0]) * c0 + i32::from(s[x1]) * c1),
        );
    };
    let (mut r0, mut r1) = (Vec::with_capacity(w), Vec::with_capacity(w));
    let mut rows = (usize::MAX, usize::MAX);
    let mut out = Vec::with_capacity(h * w);
    for &(y0, y1, b0, b1) in &yt {
        if rows != (y0, y1) {
            if rows.1 == y0 {
                std::mem::swap(&mut r0, &mut r1);
            } else {
                horizontal(y0, &mut r0);
            }
            horizontal(y1, &mut r1);
            rows = (y0, y1);
        }
        // OpenCV's vertical pass: 16-bit high products, then a rounding shift.
        out.extend(r0.iter().zip(&r1).map(|(&a, &b)| {
            let v = (((b0 * (a >> 4)) >> 16) + ((b1 * (b >> 4)) >> 16) + 2) >> 2;
            v.clamp(0, 255) as u8
        }));
    }
    out
}
