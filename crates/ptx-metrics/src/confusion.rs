//! True/false positive/negative counts: the functional core of every metric here, at pixel
//! level (one image's masks) or at image level (labels of many images).

use ndarray::{ArrayView2, Zip};
use serde::{Deserialize, Serialize};

use crate::error::{check_shape, Error, Result};

/// Counts of a binary comparison of a truth against a prediction.
///
/// At pixel level the units are pixels of one image (or of many, summed); at image level they
/// are images. The ratio methods follow scikit-learn's definitions and its default
/// `zero_division` behaviour: a ratio whose denominator is 0 is `0.0`.
///
/// ```
/// use ptx_metrics::Confusion;
/// let c = Confusion::from_labels(&[true, true, false, false], &[true, false, true, false])?;
/// assert_eq!((c.true_pos, c.false_neg, c.false_pos, c.true_neg), (1, 1, 1, 1));
/// assert_eq!(c.precision(), 0.5);
/// assert_eq!(c.f_beta(2.0), 0.5);
/// # Ok::<(), ptx_metrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Confusion {
    /// Truth set, prediction set.
    pub true_pos: u64,
    /// Truth clear, prediction set.
    pub false_pos: u64,
    /// Truth set, prediction clear.
    pub false_neg: u64,
    /// Truth clear, prediction clear.
    pub true_neg: u64,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Counts of set truth, set prediction and both over two equally long byte slices.
fn count_slices(truth: &[u8], pred: &[u8]) -> (u64, u64, u64) {
    // u32 lanes in blocks the compiler vectorises; blocks keep the lanes from overflowing.
    const BLOCK: usize = 1 << 20;
    let (mut t, mut p, mut both) = (0u64, 0u64, 0u64);
    for (tb, pb) in truth.chunks(BLOCK).zip(pred.chunks(BLOCK)) {
        let (mut bt, mut bp, mut bb) = (0u32, 0u32, 0u32);
        for (&a, &b) in tb.iter().zip(pb) {
            let a = u32::from(a != 0);
            let b = u32::from(b != 0);
            bt += a;
            bp += b;
            bb += a & b;
        }
        t += u64::from(bt);
        p += u64::from(bp);
        both += u64::from(bb);
    }
    (t, p, both)
}

impl Confusion {
    /// Counts from the number of pixels (or images) in the truth, in the prediction, in both,
    /// and in all. `both` must not exceed either count, nor the counts `total`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the counts are inconsistent.
    pub fn from_totals(truth: u64, predicted: u64, both: u64, total: u64) -> Result<Self> {
        let union = (truth + predicted).checked_sub(both);
        match union {
            Some(u) if both <= truth && both <= predicted && u <= total => Ok(Confusion {
                true_pos: both,
                false_pos: predicted - both,
                false_neg: truth - both,
                true_neg: total - u,
            }),
            _ => Err(Error::InvalidArgument {
                name: "counts",
                message: format!(
                    "truth {truth}, predicted {predicted}, both {both}, total {total} do not fit together"
                ),
            }),
        }
    }

    /// Pixel counts of two masks of the same `(height, width)`; any non-zero value is set.
    /// Any memory layout (ptx-io's masks are column-major); equal layouts are scanned as
    /// slices.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the shapes differ.
    pub fn from_masks(truth: ArrayView2<'_, u8>, pred: ArrayView2<'_, u8>) -> Result<Self> {
        check_shape("prediction", truth.dim(), pred.dim())?;
        let total = truth.len() as u64;
        let (t, p, both) = match (truth.as_slice_memory_order(), pred.as_slice_memory_order()) {
            (Some(ts), Some(ps)) if truth.strides() == pred.strides() => count_slices(ts, ps),
            _ => {
                let (mut t, mut p, mut both) = (0u64, 0u64, 0u64);
                Zip::from(&truth).and(&pred).for_each(|&a, &b| {
                    let a = u64::from(a != 0);
                    let b = u64::from(b != 0);
                    t += a;
                    p += b;
                    both += a & b;
                });
                (t, p, both)
            }
        };
        Self::from_totals(t, p, both, total)
    }

    /// Pixel counts of two flat masks of the same length and pixel order.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the lengths differ.
    pub fn from_slices(truth: &[u8], pred: &[u8]) -> Result<Self> {
        check_shape("prediction", (truth.len(), 1), (pred.len(), 1))?;
        let (t, p, both) = count_slices(truth, pred);
        Self::from_totals(t, p, both, truth.len() as u64)
    }

    /// Pixel counts of two masks given as runs, without making the masks: the cheap path for
    /// run-length encoded annotations (`ptx_io::annotations::Annotations::runs`). Runs are
    /// `(start, length)` pairs of 0-based pixel indices in one image of `pixels` pixels; each
    /// list must be sorted and disjoint (touching is fine). Cost: O(number of runs).
    ///
    /// ```
    /// use ptx_metrics::Confusion;
    /// let c = Confusion::from_runs(&[(0, 4)], &[(2, 4)], 10)?;
    /// assert_eq!((c.true_pos, c.false_neg, c.false_pos, c.true_neg), (2, 2, 2, 4));
    /// # Ok::<(), ptx_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::BadRuns`] naming the first run out of order, overlapping or past the end.
    pub fn from_runs(
        truth: &[(usize, usize)],
        pred: &[(usize, usize)],
        pixels: usize,
    ) -> Result<Self> {
        let t = check_runs(truth, pixels, "truth")?;
        let p = check_runs(pred, pixels, "prediction")?;
        let mut both = 0u64;
        let (mut i, mut j) = (0, 0);
        while i < truth.len() && j < pred.len() {
            let (ts, tl) = truth[i];
            let (ps, pl) = pred[j];
            let (te, pe) = (ts + tl, ps + pl);
            let lo = ts.max(ps);
            let hi = te.min(pe);
            if hi > lo {
                both += (hi - lo) as u64;
            }
            if te <= pe {
                i += 1;
            } else {
                j += 1;
            }
        }
        Self::from_totals(t, p, both, pixels as u64)
    }

    /// Image-level counts from truth labels and predicted labels (`true` = positive).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the lengths differ.
    pub fn from_labels(truth: &[bool], pred: &[bool]) -> Result<Self> {
        check_shape("predicted labels", (truth.len(), 1), (pred.len(), 1))?;
        let mut c = Confusion::default();
        for (&t, &p) in truth.iter().zip(pred) {
            c.add_one(t, p);
        }
        Ok(c)
    }

    /// Image-level counts from truth labels and scores, predicting positive where
    /// `score >= threshold` (scikit-learn's convention for ROC thresholds). NaN scores are
    /// negative.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the lengths differ.
    pub fn from_scores(truth: &[bool], scores: &[f64], threshold: f64) -> Result<Self> {
        check_shape("scores", (truth.len(), 1), (scores.len(), 1))?;
        let mut c = Confusion::default();
        for (&t, &s) in truth.iter().zip(scores) {
            c.add_one(t, s >= threshold);
        }
        Ok(c)
    }

    /// Adds one comparison.
    pub fn add_one(&mut self, truth: bool, pred: bool) {
        match (truth, pred) {
            (true, true) => self.true_pos += 1,
            (false, true) => self.false_pos += 1,
            (true, false) => self.false_neg += 1,
            (false, false) => self.true_neg += 1,
        }
    }

    /// All counted elements.
    pub fn total(&self) -> u64 {
        self.true_pos + self.false_pos + self.false_neg + self.true_neg
    }

    /// Elements set in the truth (`tp + fn`).
    pub fn truth_positives(&self) -> u64 {
        self.true_pos + self.false_neg
    }

    /// Elements set in the prediction (`tp + fp`).
    pub fn predicted_positives(&self) -> u64 {
        self.true_pos + self.false_pos
    }

    /// `tp / (tp + fp)`; 0 when nothing is predicted.
    pub fn precision(&self) -> f64 {
        ratio(self.true_pos, self.predicted_positives())
    }

    /// Sensitivity, `tp / (tp + fn)`; 0 when the truth has no positive.
    pub fn recall(&self) -> f64 {
        ratio(self.true_pos, self.truth_positives())
    }

    /// `tn / (tn + fp)`; 0 when the truth has no negative.
    pub fn specificity(&self) -> f64 {
        ratio(self.true_neg, self.true_neg + self.false_pos)
    }

    /// `(tp + tn) / total`; 0 when empty.
    pub fn accuracy(&self) -> f64 {
        ratio(self.true_pos + self.true_neg, self.total())
    }

    /// F1, the harmonic mean of precision and recall: `2 tp / (2 tp + fp + fn)`.
    pub fn f1(&self) -> f64 {
        self.f_beta(1.0)
    }

    /// F-beta, `(1 + b²) tp / ((1 + b²) tp + b² fn + fp)`, which weighs recall `beta` times as
    /// much as precision (F2: `beta = 2`). 0 when the denominator is 0, as scikit-learn.
    pub fn f_beta(&self, beta: f64) -> f64 {
        let b2 = beta * beta;
        let tp = self.true_pos as f64;
        let den = (1.0 + b2) * tp + b2 * self.false_neg as f64 + self.false_pos as f64;
        if den == 0.0 {
            0.0
        } else {
            (1.0 + b2) * tp / den
        }
    }
}

impl std::ops::Add for Confusion {
    type Output = Confusion;

    fn add(self, rhs: Confusion) -> Confusion {
        Confusion {
            true_pos: self.true_pos + rhs.true_pos,
            false_pos: self.false_pos + rhs.false_pos,
            false_neg: self.false_neg + rhs.false_neg,
            true_neg: self.true_neg + rhs.true_neg,
        }
    }
}

impl std::ops::AddAssign for Confusion {
    fn add_assign(&mut self, rhs: Confusion) {
        *self = *self + rhs;
    }
}

impl std::iter::Sum for Confusion {
    fn sum<I: Iterator<Item = Confusion>>(iter: I) -> Confusion {
        iter.fold(Confusion::default(), |a, b| a + b)
    }
}

/// Checks that runs are sorted, disjoint and inside `pixels`; returns the pixels they cover.
fn check_runs(runs: &[(usize, usize)], pixels: usize, what: &'static str) -> Result<u64> {
    let mut previous_end = 0usize;
    let mut covered = 0u64;
    for (index, &(start, len)) in runs.iter().enumerate() {
        let bad = |problem| Error::BadRuns {
            what,
            index,
            start,
            len,
            problem,
            pixels,
        };
        if start < previous_end {
            return Err(bad("out of order or overlapping"));
        }
        let end = start.checked_add(len).ok_or_else(|| bad("past the end"))?;
        if end > pixels {
            return Err(bad("past the end"));
        }
        previous_end = end;
        covered += len as u64;
    }
    Ok(covered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2, ShapeBuilder};

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn masks_hand_counted() -> TestResult {
        let t = array![[1u8, 1, 0], [0, 0, 0]];
        let p = array![[0u8, 1, 1], [0, 0, 7]];
        let c = Confusion::from_masks(t.view(), p.view())?;
        assert_eq!(
            c,
            Confusion {
                true_pos: 1,
                false_pos: 2,
                false_neg: 1,
                true_neg: 2
            }
        );
        // Same masks, one column-major: same counts through the generic path.
        let mut pf = Array2::<u8>::zeros((2, 3).f());
        pf.assign(&p);
        assert_eq!(Confusion::from_masks(t.view(), pf.view())?, c);
        Ok(())
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let t = Array2::<u8>::zeros((2, 3));
        let p = Array2::<u8>::zeros((3, 2));
        assert!(matches!(
            Confusion::from_masks(t.view(), p.view()),
            Err(Error::ShapeMismatch {
                expected: (2, 3),
                found: (3, 2),
                ..
            })
        ));
        assert!(Confusion::from_labels(&[true], &[]).is_err());
    }

    #[test]
    fn runs_match_masks() -> TestResult {
        // Pixels 0..10: truth {1,2,3,6,7}, prediction {0,1,7,8,9}.
        let truth = [(1, 3), (6, 2)];
        let pred = [(0, 2), (7, 3)];
        let c = Confusion::from_runs(&truth, &pred, 10)?;
        let mut tm = [0u8; 10];
        let mut pm = [0u8; 10];
        for &(s, l) in &truth {
            tm[s..s + l].fill(1);
        }
        for &(s, l) in &pred {
            pm[s..s + l].fill(1);
        }
        assert_eq!(c, Confusion::from_slices(&tm, &pm)?);
        assert_eq!(
            (c.true_pos, c.false_pos, c.false_neg, c.true_neg),
            (2, 3, 3, 2)
        );
        Ok(())
    }

    #[test]
    fn bad_runs_are_named() {
        let e = Confusion::from_runs(&[(5, 2), (3, 1)], &[], 10);
        assert!(matches!(
            e,
            Err(Error::BadRuns {
                what: "truth",
                index: 1,
                ..
            })
        ));
        let e = Confusion::from_runs(&[], &[(8, 3)], 10);
        assert!(matches!(
            e,
            Err(Error::BadRuns {
                what: "prediction",
                index: 0,
                ..
            })
        ));
    }

    #[test]
    fn ratios_by_hand() {
        // tp 6, fp 2, fn 4, tn 8.
        let c = Confusion {
            true_pos: 6,
            false_pos: 2,
            false_neg: 4,
            true_neg: 8,
        };
        assert_eq!(c.precision(), 0.75);
        assert_eq!(c.recall(), 0.6);
        assert_eq!(c.specificity(), 0.8);
        assert_eq!(c.accuracy(), 0.7);
        assert!((c.f1() - 12.0 / 18.0).abs() < 1e-15);
        // F2 = 5*6 / (5*6 + 4*4 + 2) = 30/48.
        assert!((c.f_beta(2.0) - 30.0 / 48.0).abs() < 1e-15);
        let zero = Confusion::default();
        assert_eq!(
            (zero.precision(), zero.recall(), zero.f1()),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn scores_use_greater_or_equal() -> TestResult {
        let c = Confusion::from_scores(&[true, false, true], &[0.5, 0.5, f64::NAN], 0.5)?;
        assert_eq!((c.true_pos, c.false_pos, c.false_neg), (1, 1, 1));
        Ok(())
    }
}
