//! How the lesions of an annotation file are shaped: the share of positive images, lesions
//! (rows) per positive image, each lesion's area as a fraction of its image, and where its
//! centroid lies. [`LesionStatistics::siim`] holds the numbers measured on the challenge's
//! full `train-rle.csv` (12,047 images, 12,954 rows), from which [`super::generate`] draws its
//! lesions; [`LesionStatistics::from_images`] measures any other file the same way.
//!
//! ```
//! use ptx_io::annotations::Annotations;
//! use ptx_io::rle::RleForm;
//! use ptx_io::synth::{image_lesions, LesionStatistics};
//! // Image "a": two lesions in the top left; "b": none.
//! let csv = "ImageId,EncodedPixels\na,0 2\na,4 2\nb,-1\n";
//! let ann = Annotations::from_reader(csv.as_bytes(), "train-rle.csv")?;
//! let images = image_lesions(&ann, (4, 4), RleForm::Relative)?; // (height, width)
//! let stats = LesionStatistics::from_images(&images).expect("one positive image");
//! assert_eq!(stats.positive_share, 0.5);
//! assert_eq!(stats.lesions.lesions_per_image[1], 1.0); // every positive image has 2 rows
//! assert_eq!(stats.lesions.area_quantiles[0], 2.0 / 16.0);
//! # Ok::<(), ptx_io::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::annotations::Annotations;
use crate::rle::{self, RleForm};
use crate::{Error, Result};

/// The largest lesion count [`LesionDistribution::lesions_per_image`] tells apart; images with
/// more rows count in its last bucket.
pub const MAX_LESIONS: usize = 4;

/// Number of area quantiles ([`AREA_PROBABILITIES`]).
pub const AREA_QUANTILES: usize = 23;

/// The cumulative probabilities of the area quantiles: 0, 5, …, 95 %, then 97.5, 99 and
/// 100 % (finer in the long upper tail, which a straight line from 95 to 100 % would
/// overfill).
pub const AREA_PROBABILITIES: [f64; AREA_QUANTILES] = [
    0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8,
    0.85, 0.9, 0.95, 0.975, 0.99, 1.0,
];

/// A centroid in the top third of the image counts as apical, below it as lateral or basal.
pub const APICAL_LIMIT: f64 = 1.0 / 3.0;

/// The shape of one lesion (one annotation row, or one drawn lesion).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LesionShape {
    /// Pixels set, as a fraction of the image's pixels.
    pub area_fraction: f64,
    /// Centroid as fractions of the image, `(down, across)`: `(0, 0)` the top-left corner,
    /// `(1, 1)` the bottom-right; pixel centres at `(row + 0.5) / height`.
    pub centroid: (f64, f64),
}

impl LesionShape {
    /// The shape of the pixels set in `mask` (`(height, width)`, any non-zero set), or `None`
    /// for an empty mask.
    pub fn of_mask(mask: &ArrayView2<'_, u8>) -> Option<Self> {
        let (h, w) = mask.dim();
        let (mut n, mut sum_row, mut sum_col) = (0u64, 0f64, 0f64);
        for ((r, c), &v) in mask.indexed_iter() {
            if v != 0 {
                n += 1;
                sum_row += r as f64;
                sum_col += c as f64;
            }
        }
        (n > 0).then(|| Self::from_sums(n, sum_row, sum_col, (h, w)))
    }

    /// The shape of column-major runs (`(start, length)`, 0-based, see [`rle::decode_runs`])
    /// over a `(height, width)` image, or `None` for no pixel (or an empty image). Runs must
    /// not overlap.
    pub fn of_runs(runs: &[(usize, usize)], (height, width): (usize, usize)) -> Option<Self> {
        if height == 0 || width == 0 {
            return None;
        }
        let (mut n, mut sum_row, mut sum_col) = (0u64, 0f64, 0f64);
        for &(start, len) in runs {
            // split the run at column boundaries: rows r0..r1 of column c
            let (mut p, end) = (start, start + len);
            while p < end {
                let (c, r0) = (p / height, p % height);
                let r1 = (r0 + (end - p)).min(height);
                let k = (r1 - r0) as f64;
                n += (r1 - r0) as u64;
                sum_col += c as f64 * k;
                sum_row += (r0 + r1 - 1) as f64 * k / 2.0;
                p += r1 - r0;
            }
        }
        (n > 0).then(|| Self::from_sums(n, sum_row, sum_col, (height, width)))
    }

    fn from_sums(n: u64, sum_row: f64, sum_col: f64, (h, w): (usize, usize)) -> Self {
        let n_f = n as f64;
        Self {
            area_fraction: n_f / (h as f64 * w as f64),
            centroid: (
                (sum_row / n_f + 0.5) / h as f64,
                (sum_col / n_f + 0.5) / w as f64,
            ),
        }
    }

    /// Whether the centroid lies in the image's left half as displayed (the patient's right
    /// on a frontal film).
    pub fn image_left(&self) -> bool {
        self.centroid.1 < 0.5
    }

    /// Whether the centroid lies in the top third of the image ([`APICAL_LIMIT`]).
    pub fn apical(&self) -> bool {
        self.centroid.0 < APICAL_LIMIT
    }
}

/// The lesions of one image, one per non-empty annotation row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageLesions {
    /// The image.
    pub image_id: String,
    /// Its lesions (empty for a negative image).
    pub lesions: Vec<LesionShape>,
}

/// The lesions of every image of `annotations`, images in the file's order, each row (other
/// than `-1`) one lesion, all images of `size` = `(height, width)`. Reads runs; no mask is made.
///
/// # Errors
/// [`Error::Rle`] naming the ImageId and the bad token (a run past the image included).
pub fn image_lesions(
    annotations: &Annotations,
    size: (usize, usize),
    form: RleForm,
) -> Result<Vec<ImageLesions>> {
    let pixels = rle::image_pixels(size).map_err(|source| Error::Rle {
        image_id: String::new(),
        source,
    })?;
    let mut out = Vec::with_capacity(annotations.len());
    for image_id in annotations.image_ids() {
        let mut lesions = Vec::new();
        for row in annotations.rows(image_id).unwrap_or_default() {
            let runs = rle::decode_runs(row, pixels, form).map_err(|source| Error::Rle {
                image_id: image_id.to_owned(),
                source,
            })?;
            lesions.extend(LesionShape::of_runs(&runs, size));
        }
        out.push(ImageLesions {
            image_id: image_id.to_owned(),
            lesions,
        });
    }
    Ok(out)
}

/// The lesion statistics of a set of images (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LesionStatistics {
    /// Share of images with at least one lesion.
    pub positive_share: f64,
    /// How the lesions of a positive image are distributed.
    pub lesions: LesionDistribution,
}

/// How many lesions a positive image has, how large and where they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LesionDistribution {
    /// Share of positive images with 1, 2, …, [`MAX_LESIONS`] or more lesions (sums to 1).
    pub lesions_per_image: [f64; MAX_LESIONS],
    /// Quantiles of a lesion's area as a fraction of its image at [`AREA_PROBABILITIES`]
    /// (numpy's default, linear interpolation between order statistics).
    pub area_quantiles: [f64; AREA_QUANTILES],
    /// Share of lesions whose centroid is in the image's left half ([`LesionShape::image_left`]).
    pub image_left_share: f64,
    /// Share of lesions whose centroid is in the image's top third ([`LesionShape::apical`]).
    pub apical_share: f64,
}

impl LesionStatistics {
    /// The SIIM-ACR challenge's training set, measured with [`Self::from_images`] on its full
    /// `train-rle.csv` (12,047 images at 1024², 2,669 positive, 3,576 lesion rows); a test
    /// measures the file again and compares. Area quantiles rounded to 6 decimals, shares to 4.
    pub fn siim() -> Self {
        Self {
            positive_share: 0.2215,
            lesions: LesionDistribution {
                lesions_per_image: [0.7662, 0.1675, 0.0420, 0.0244],
                area_quantiles: [
                    0.000052, 0.001066, 0.001586, 0.002049, 0.002543, 0.003091, 0.003615, 0.004182,
                    0.004732, 0.005320, 0.006203, 0.007040, 0.008138, 0.009488, 0.010947, 0.012943,
                    0.015732, 0.019104, 0.024833, 0.033842, 0.046592, 0.062295, 0.153943,
                ],
                image_left_share: 0.5803,
                apical_share: 0.6994,
            },
        }
    }

    /// Measures `images` (e.g. from [`image_lesions`]); `None` when no image has a lesion.
    pub fn from_images(images: &[ImageLesions]) -> Option<Self> {
        let positives: Vec<&ImageLesions> =
            images.iter().filter(|i| !i.lesions.is_empty()).collect();
        if positives.is_empty() {
            return None;
        }
        let mut lesions_per_image = [0.0; MAX_LESIONS];
        for image in &positives {
            lesions_per_image[image.lesions.len().min(MAX_LESIONS) - 1] += 1.0;
        }
        lesions_per_image
            .iter_mut()
            .for_each(|s| *s /= positives.len() as f64);
        let all: Vec<&LesionShape> = positives.iter().flat_map(|i| &i.lesions).collect();
        let share = |f: fn(&LesionShape) -> bool| {
            all.iter().filter(|l| f(l)).count() as f64 / all.len() as f64
        };
        let mut areas: Vec<f64> = all.iter().map(|l| l.area_fraction).collect();
        areas.sort_by(f64::total_cmp);
        let area_quantiles = AREA_PROBABILITIES.map(|p| quantile(&areas, p));
        Some(Self {
            positive_share: positives.len() as f64 / images.len() as f64,
            lesions: LesionDistribution {
                lesions_per_image,
                area_quantiles,
                image_left_share: share(LesionShape::image_left),
                apical_share: share(LesionShape::apical),
            },
        })
    }
}

impl LesionDistribution {
    /// The area fraction at cumulative probability `p` in `[0, 1]`: the quantiles
    /// interpolated linearly, so a uniform `p` draws areas distributed as measured.
    pub fn area_at(&self, p: f64) -> f64 {
        let (q, ps) = (&self.area_quantiles, &AREA_PROBABILITIES);
        let p = p.clamp(0.0, 1.0);
        let i = ps[1..AREA_QUANTILES - 1].partition_point(|&x| x <= p);
        q[i] + (q[i + 1] - q[i]) * (p - ps[i]) / (ps[i + 1] - ps[i])
    }

    /// The lesion count (1..=[`MAX_LESIONS`]) at cumulative probability `p` in `[0, 1)`.
    pub fn lesions_at(&self, p: f64) -> usize {
        let mut acc = 0.0;
        for (i, share) in self.lesions_per_image.iter().enumerate() {
            acc += share;
            if p < acc {
                return i + 1;
            }
        }
        MAX_LESIONS
    }

    /// Checks that the shares are in `[0, 1]`, the counts' shares sum to 1 (within 1e-3) and
    /// the quantiles rise from a positive first one to at most 1.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        let shares = [self.image_left_share, self.apical_share];
        let q = &self.area_quantiles;
        let total: f64 = self.lesions_per_image.iter().sum();
        if shares
            .iter()
            .chain(&self.lesions_per_image)
            .any(|s| !(0.0..=1.0).contains(s))
            || (total - 1.0).abs() > 1e-3
        {
            return Err("shares must lie in [0, 1] and lesions_per_image sum to 1".into());
        }
        if !(q[0] > 0.0 && q[AREA_QUANTILES - 1] <= 1.0 && q.windows(2).all(|w| w[0] <= w[1])) {
            return Err("area_quantiles must rise from above 0 to at most 1".into());
        }
        Ok(())
    }
}

/// The two-sample Kolmogorov–Smirnov distance of `a` and `b`: the largest gap between their
/// empirical distribution functions, in `[0, 1]` (scipy's `ks_2samp(a, b).statistic`), e.g.
/// to say how close synthetic lesion areas are to real ones. 0 when either is empty.
pub fn ks_distance(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let sorted = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let (a, b) = (sorted(a), sorted(b));
    let (mut i, mut j, mut d) = (0, 0, 0f64);
    while i < a.len() && j < b.len() {
        let x = if a[i].total_cmp(&b[j]).is_le() {
            a[i]
        } else {
            b[j]
        };
        while i < a.len() && a[i].total_cmp(&x).is_le() {
            i += 1;
        }
        while j < b.len() && b[j].total_cmp(&x).is_le() {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// The `p` quantile of sorted `values` with numpy's default (linear) interpolation.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let x = p * (sorted.len() - 1) as f64;
    let (i, t) = (x.floor() as usize, x - x.floor());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + (next - sorted[i]) * t,
        None => sorted[i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn runs_and_masks_give_the_same_shape() {
        let mut mask = Array2::<u8>::zeros((5, 7));
        for (r, c) in [(0, 1), (4, 1), (0, 2), (1, 2), (2, 6), (3, 6), (4, 6)] {
            mask[[r, c]] = 1;
        }
        let runs = rle::runs(&mask.view());
        let a = LesionShape::of_mask(&mask.view()).expect("pixels set");
        let b = LesionShape::of_runs(&runs, (5, 7)).expect("pixels set");
        assert_eq!(a.area_fraction, 7.0 / 35.0);
        assert!((a.centroid.0 - b.centroid.0).abs() < 1e-12);
        assert!((a.centroid.1 - b.centroid.1).abs() < 1e-12);
        assert_eq!(
            LesionShape::of_mask(&Array2::<u8>::zeros((2, 2)).view()),
            None
        );
    }

    #[test]
    fn ks_as_scipy() {
        // scipy.stats.ks_2samp([1, 2, 3, 4, 5], [3, 3.5, 6, 7]).statistic = 0.5 (scipy 1.17.1)
        let d = ks_distance(&[1.0, 2.0, 3.0, 4.0, 5.0], &[3.0, 3.5, 6.0, 7.0]);
        assert!((d - 0.5).abs() < 1e-12, "{d}");
        assert_eq!(ks_distance(&[1.0, 2.0], &[2.0, 1.0]), 0.0);
        assert_eq!(ks_distance(&[0.0], &[1.0]), 1.0);
        assert_eq!(ks_distance(&[], &[1.0]), 0.0);
    }

    #[test]
    fn quantiles_as_numpy() {
        // numpy.quantile([1, 2, 4, 8], [0, 0.25, 0.5, 1]) = [1, 1.75, 3, 8]
        let v = [1.0, 2.0, 4.0, 8.0];
        let q: Vec<f64> = [0.0, 0.25, 0.5, 1.0]
            .iter()
            .map(|&p| quantile(&v, p))
            .collect();
        assert_eq!(q, vec![1.0, 1.75, 3.0, 8.0]);
    }

    #[test]
    fn draws_invert_the_measurement() {
        let s = LesionStatistics::siim().lesions;
        assert!(s.check().is_ok());
        assert_eq!(s.area_at(0.0), s.area_quantiles[0]);
        assert_eq!(s.area_at(1.0), s.area_quantiles[AREA_QUANTILES - 1]);
        assert!((s.area_at(0.98) - (0.046592 + (0.062295 - 0.046592) / 3.0)).abs() < 1e-9);
        assert_eq!(s.area_at(0.5), s.area_quantiles[10]);
        assert_eq!(s.lesions_at(0.0), 1);
        assert_eq!(s.lesions_at(0.77), 2);
        assert_eq!(s.lesions_at(0.9999), MAX_LESIONS);
        let total: f64 = s.lesions_per_image.iter().sum();
        assert!((total - 1.0).abs() < 1e-3);
    }
}
