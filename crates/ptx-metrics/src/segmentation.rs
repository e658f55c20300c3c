//! Per-image Dice and IoU with an explicit empty-mask policy, their means, and a streaming
//! meter for training loops.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::confusion::Confusion;
use crate::error::{check_shape, Error, Result};

/// What a per-image score is when the truth mask is empty.
///
/// | truth | prediction | `Kaggle` | `Skip` | `Zero` |
/// |---|---|---|---|---|
/// | empty | empty | 1 | left out | 0 |
/// | empty | not empty | 0 | left out | 0 |
/// | not empty | any | formula | formula | formula |
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmptyPolicy {
    /// The SIIM-ACR challenge's rule: an empty prediction on an empty truth scores 1, any
    /// pixel predicted on an empty truth scores 0.
    #[default]
    Kaggle,
    /// Images with an empty truth are left out of the mean (Dice over positive images).
    Skip,
    /// `0/0` is 0: an empty truth always scores 0.
    Zero,
}

impl Confusion {
    /// Dice coefficient `2 tp / (2 tp + fp + fn)` of one image, with the empty-truth case
    /// decided by `policy`; `None` when the policy leaves the image out.
    ///
    /// ```
    /// use ptx_metrics::{Confusion, EmptyPolicy};
    /// let both_empty = Confusion { true_neg: 100, ..Default::default() };
    /// assert_eq!(both_empty.dice(EmptyPolicy::Kaggle), Some(1.0));
    /// assert_eq!(both_empty.dice(EmptyPolicy::Skip), None);
    /// assert_eq!(both_empty.dice(EmptyPolicy::Zero), Some(0.0));
    /// ```
    pub fn dice(&self, policy: EmptyPolicy) -> Option<f64> {
        self.overlap(policy, 2)
    }

    /// Intersection over union `tp / (tp + fp + fn)` of one image, empty truth as in
    /// [`Confusion::dice`].
    pub fn iou(&self, policy: EmptyPolicy) -> Option<f64> {
        self.overlap(policy, 1)
    }

    fn overlap(&self, policy: EmptyPolicy, tp_weight: u64) -> Option<f64> {
        if self.truth_positives() == 0 {
            match policy {
                EmptyPolicy::Skip => return None,
                EmptyPolicy::Zero => return Some(0.0),
                EmptyPolicy::Kaggle => {
                    return Some(if self.false_pos == 0 { 1.0 } else { 0.0 });
                }
            }
        }
        let tp = (tp_weight * self.true_pos) as f64;
        Some(tp / (tp + (self.false_pos + self.false_neg) as f64))
    }
}

/// The scores of one image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImageScore {
    /// Its pixel counts.
    pub counts: Confusion,
    /// Its Dice, `None` when the policy leaves it out.
    pub dice: Option<f64>,
    /// Its IoU, `None` when the policy leaves it out.
    pub iou: Option<f64>,
}

impl ImageScore {
    /// Scores of one image from its pixel counts.
    pub fn new(counts: Confusion, policy: EmptyPolicy) -> Self {
        ImageScore {
            counts,
            dice: counts.dice(policy),
            iou: counts.iou(policy),
        }
    }
}

/// Means over a set of images.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SegmentationSummary {
    /// The empty-mask policy used.
    pub policy: EmptyPolicy,
    /// Images seen.
    pub images: usize,
    /// Images that entered the means (all but the left-out ones).
    pub scored: usize,
    /// Mean per-image Dice; `None` when no image was scored.
    pub mean_dice: Option<f64>,
    /// Mean per-image IoU; `None` when no image was scored.
    pub mean_iou: Option<f64>,
    /// Pixel counts summed over all images.
    pub pixels: Confusion,
}

impl SegmentationSummary {
    /// Dice of all pixels pooled ("micro" Dice), as if the images were one; `None` when no
    /// pixel is set in truth or prediction.
    pub fn pooled_dice(&self) -> Option<f64> {
        let den = 2 * self.pixels.true_pos + self.pixels.false_pos + self.pixels.false_neg;
        (den > 0).then(|| (2 * self.pixels.true_pos) as f64 / den as f64)
    }
}

/// A streaming accumulator of per-image scores: `update` per image (or batch), `compute`
/// at the end of an epoch, `reset` before the next.
///
/// ```
/// use ndarray::array;
/// use ptx_metrics::{EmptyPolicy, SegmentationMeter};
/// let mut meter = SegmentationMeter::new(EmptyPolicy::Kaggle);
/// meter.update(array![[1u8, 1], [0, 0]].view(), array![[1u8, 0], [0, 0]].view())?;
/// meter.update(array![[0u8, 0], [0, 0]].view(), array![[0u8, 0], [0, 0]].view())?;
/// let s = meter.compute();
/// assert_eq!(s.mean_dice, Some((2.0 / 3.0 + 1.0) / 2.0));
/// # Ok::<(), ptx_metrics::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SegmentationMeter {
    policy: EmptyPolicy,
    keep_per_image: bool,
    per_image: Vec<ImageScore>,
    images: usize,
    scored: usize,
    dice_sum: f64,
    iou_sum: f64,
    pixels: Confusion,
}

impl SegmentationMeter {
    /// An empty meter that keeps only sums (constant memory).
    pub fn new(policy: EmptyPolicy) -> Self {
        SegmentationMeter {
            policy,
            ..Default::default()
        }
    }

    /// Also keep every image's score, for reports ([`SegmentationMeter::per_image`]).
    pub fn keep_per_image(mut self, keep: bool) -> Self {
        self.keep_per_image = keep;
        self
    }

    /// Adds one image's masks (same `(height, width)`, non-zero = set) and returns its
    /// score.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`].
    pub fn update(
        &mut self,
        truth: ArrayView2<'_, u8>,
        pred: ArrayView2<'_, u8>,
    ) -> Result<ImageScore> {
        Ok(self.update_counts(Confusion::from_masks(truth, pred)?))
    }

    /// Adds a batch of `n` images stored back to back in flat buffers (`n * height * width`
    /// bytes each, as an NCHW tensor with one channel copied out of a framework).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the buffers are not `n` images of `pixels` each.
    pub fn update_batch(&mut self, truth: &[u8], pred: &[u8], pixels: usize) -> Result<()> {
        if pixels == 0 || truth.len() % pixels != 0 || truth.len() != pred.len() {
            return Err(Error::ShapeMismatch {
                what: "batch",
                expected: (truth.len(), pixels),
                found: (pred.len(), pixels),
            });
        }
        for (t, p) in truth.chunks_exact(pixels).zip(pred.chunks_exact(pixels)) {
            self.update_counts(Confusion::from_slices(t, p)?);
        }
        Ok(())
    }

    /// Adds one image given by its pixel counts.
    pub fn update_counts(&mut self, counts: Confusion) -> ImageScore {
        let score = ImageScore::new(counts, self.policy);
        self.images += 1;
        self.pixels += counts;
        if let (Some(d), Some(i)) = (score.dice, score.iou) {
            self.scored += 1;
            self.dice_sum += d;
            self.iou_sum += i;
        }
        if self.keep_per_image {
            self.per_image.push(score);
        }
        score
    }

    /// The means so far.
    pub fn compute(&self) -> SegmentationSummary {
        let mean = |sum: f64| (self.scored > 0).then(|| sum / self.scored as f64);
        SegmentationSummary {
            policy: self.policy,
            images: self.images,
            scored: self.scored,
            mean_dice: mean(self.dice_sum),
            mean_iou: mean(self.iou_sum),
            pixels: self.pixels,
        }
    }

    /// The kept per-image scores in update order (empty unless
    /// [`SegmentationMeter::keep_per_image`]).
    pub fn per_image(&self) -> &[ImageScore] {
        &self.per_image
    }

    /// Forgets everything, keeping the policy and options.
    pub fn reset(&mut self) {
        *self = SegmentationMeter {
            policy: self.policy,
            keep_per_image: self.keep_per_image,
            ..Default::default()
        };
    }
}

/// Scores many images in parallel (rayon's current pool) and returns the per-image scores in
/// input order with their summary. `truths[i]` and `preds[i]` must have the same shape.
///
/// # Errors
/// [`Error::ShapeMismatch`] for the first pair that differs, or when the slices differ in
/// length.
pub fn score_images(
    truths: &[ArrayView2<'_, u8>],
    preds: &[ArrayView2<'_, u8>],
    policy: EmptyPolicy,
) -> Result<(Vec<ImageScore>, SegmentationSummary)> {
    check_shape("prediction list", (truths.len(), 1), (preds.len(), 1))?;
    let counts: Vec<Confusion> = truths
        .par_iter()
        .zip(preds.par_iter())
        .map(|(t, p)| Confusion::from_masks(t.view(), p.view()))
        .collect::<Result<_>>()?;
    let mut meter = SegmentationMeter::new(policy).keep_per_image(true);
    for c in counts {
        meter.update_counts(c);
    }
    let summary = meter.compute();
    Ok((meter.per_image, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(tp: u64, fp: u64, fn_: u64) -> Confusion {
        Confusion {
            true_pos: tp,
            false_pos: fp,
            false_neg: fn_,
            true_neg: 100,
        }
    }

    #[test]
    fn policies_on_empty_truth() {
        let fp_only = counts(0, 3, 0);
        assert_eq!(fp_only.dice(EmptyPolicy::Kaggle), Some(0.0));
        assert_eq!(fp_only.dice(EmptyPolicy::Skip), None);
        assert_eq!(fp_only.iou(EmptyPolicy::Zero), Some(0.0));
        let missed = counts(0, 0, 5);
        for p in [EmptyPolicy::Kaggle, EmptyPolicy::Skip, EmptyPolicy::Zero] {
            assert_eq!(missed.dice(p), Some(0.0));
        }
    }

    #[test]
    fn hand_computed_overlap() {
        // tp 3, fp 1, fn 2: Dice 6/9, IoU 3/6.
        let c = counts(3, 1, 2);
        assert_eq!(c.dice(EmptyPolicy::Kaggle), Some(6.0 / 9.0));
        assert_eq!(c.iou(EmptyPolicy::Kaggle), Some(0.5));
    }

    #[test]
    fn meter_means_and_reset() {
        let mut m = SegmentationMeter::new(EmptyPolicy::Skip).keep_per_image(true);
        m.update_counts(counts(3, 1, 2));
        m.update_counts(counts(0, 0, 0)); // left out under Skip
        m.update_counts(counts(1, 0, 0));
        let s = m.compute();
        assert_eq!((s.images, s.scored), (3, 2));
        assert_eq!(s.mean_dice, Some((6.0 / 9.0 + 1.0) / 2.0));
        assert_eq!(s.pooled_dice(), Some(8.0 / 11.0));
        assert_eq!(m.per_image().len(), 3);
        m.reset();
        assert_eq!(m.compute().images, 0);
        assert_eq!(m.compute().mean_dice, None);
    }

    #[test]
    fn batch_update_checks_sizes() {
        let mut m = SegmentationMeter::new(EmptyPolicy::Kaggle);
        assert!(m.update_batch(&[0; 8], &[0; 8], 3).is_err());
        assert!(m.update_batch(&[1, 0, 0, 0], &[1, 0, 0, 0], 2).is_ok());
        assert_eq!(m.compute().mean_dice, Some(1.0));
    }
}
