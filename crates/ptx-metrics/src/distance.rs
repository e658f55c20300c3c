//! Exact Euclidean distance transform (Felzenszwalb and Huttenlocher's lower envelope of
//! parabolas, one pass per axis), with anisotropic pixel spacing.

use ndarray::{Array2, ArrayView2};

/// Euclidean distance from each set pixel of `mask` (`(height, width)`, non-zero set) to the
/// nearest clear pixel, counting everything outside the image as clear; 0 on clear pixels.
/// `row_spacing` and `col_spacing` are the sizes of a pixel between rows and between columns
/// (1, 1 for pixels; DICOM Pixel Spacing for millimetres); they must be positive. O(pixels).
///
/// ```
/// use ndarray::array;
/// use ptx_metrics::distance_to_outside;
/// let m = array![[0u8, 1, 1, 1, 0]];
/// // The middle pixel is 2 pixels from the clear ends; the image edge above and below is
/// // outside, 1 pixel away.
/// assert_eq!(distance_to_outside(m.view(), 1.0, 1.0).row(0).to_vec(), vec![0.0, 1.0, 1.0, 1.0, 0.0]);
/// ```
pub fn distance_to_outside(
    mask: ArrayView2<'_, u8>,
    row_spacing: f64,
    col_spacing: f64,
) -> Array2<f64> {
    let (rows, cols) = mask.dim();
    // Squared distances; "far" is finite so that the envelope arithmetic stays finite.
    let far = 1e30;
    let mut d = mask.mapv(|v| if v != 0 { far } else { 0.0 });
    let mut f = Vec::new();
    let mut out = Vec::new();
    let mut work = Envelope::default();
    for c in 0..cols {
        f.clear();
        f.extend(d.column(c).iter().copied());
        work.transform(&f, row_spacing, &mut out);
        d.column_mut(c)
            .iter_mut()
            .zip(&out)
            .for_each(|(x, &v)| *x = v);
    }
    for r in 0..rows {
        f.clear();
        f.extend(d.row(r).iter().copied());
        work.transform(&f, col_spacing, &mut out);
        d.row_mut(r)
            .iter_mut()
            .zip(&out)
            .for_each(|(x, &v)| *x = v.sqrt());
    }
    d
}

/// Scratch of the 1-D transform.
#[derive(Default)]
struct Envelope {
    /// Sample positions of the parabolas in the envelope.
    v: Vec<f64>,
    /// Their values.
    fv: Vec<f64>,
    /// Boundaries between them.
    z: Vec<f64>,
}

impl Envelope {
    /// `out[q] = min_p ((q - p) s)² + f[p]` over the samples and two clear samples just
    /// outside both ends (positions -1 and n).
    fn transform(&mut self, f: &[f64], s: f64, out: &mut Vec<f64>) {
        let n = f.len();
        self.v.clear();
        self.fv.clear();
        self.z.clear();
        let samples = std::iter::once((-s, 0.0))
            .chain(f.iter().enumerate().map(|(i, &x)| (i as f64 * s, x)))
            .chain(std::iter::once((n as f64 * s, 0.0)));
        for (x, fx) in samples {
            loop {
                let Some((&xv, &fxv)) = self.v.last().zip(self.fv.last()) else {
                    self.z.push(f64::NEG_INFINITY);
                    break;
                };
                let boundary = ((fx + x * x) - (fxv + xv * xv)) / (2.0 * (x - xv));
                if self.z.last().is_some_and(|&zl| boundary <= zl) {
                    self.v.pop();
                    self.fv.pop();
                    self.z.pop();
                } else {
                    self.z.push(boundary);
                    break;
                }
            }
            self.v.push(x);
            self.fv.push(fx);
        }
        out.clear();
        let mut k = 0;
        for q in 0..n {
            let x = q as f64 * s;
            while k + 1 < self.z.len() && self.z[k + 1] < x {
                k += 1;
            }
            let dx = x - self.v[k];
            out.push(dx * dx + self.fv[k]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use proptest::prelude::*;

    fn brute(m: &Array2<u8>, rs: f64, cs: f64) -> Array2<f64> {
        let (rows, cols) = m.dim();
        Array2::from_shape_fn((rows, cols), |(r, c)| {
            if m[[r, c]] == 0 {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            // Clear pixels, and the ring just outside the image.
            for y in -1..=rows as i64 {
                for x in -1..=cols as i64 {
                    let inside = y >= 0 && x >= 0 && y < rows as i64 && x < cols as i64;
                    if inside && m[[y as usize, x as usize]] != 0 {
                        continue;
                    }
                    let dy = (y - r as i64) as f64 * rs;
                    let dx = (x - c as i64) as f64 * cs;
                    best = best.min((dy * dy + dx * dx).sqrt());
                }
            }
            best
        })
    }

    proptest! {
        #[test]
        fn equals_brute_force(
            m in (1usize..9, 1usize..9).prop_flat_map(|(r, c)| {
                proptest::collection::vec(prop_oneof![1 => Just(0u8), 3 => Just(1u8)], r * c)
                    .prop_map(move |v| Array2::from_shape_vec((r, c), v).unwrap())
            }),
            rs in 0.1f64..2.0,
            cs in 0.1f64..2.0,
        ) {
            let fast = distance_to_outside(m.view(), rs, cs);
            let slow = brute(&m, rs, cs);
            for (a, b) in fast.iter().zip(slow.iter()) {
                prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b);
            }
        }
    }
}
