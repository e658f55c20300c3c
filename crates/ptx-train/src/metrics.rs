//! Validation numbers: the one place they are computed, for the trainer, the recipes and
//! library users scoring their own predictions.

use ptx_metrics::{best_threshold, roc_auc, ClassMetric, EmptyPolicy, SegmentationMeter};

use crate::predict::ImagePrediction;
use crate::Result;

/// Validation numbers of a set of images (pixel threshold 0.5, the input size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidationMetrics {
    /// Mean loss per image, when losses were added.
    pub loss: Option<f64>,
    /// The challenge's mean Dice (an empty prediction on an empty truth scores 1); NaN when
    /// no mask was predicted (classification, reconstruction).
    pub dice: f64,
    /// Mean IoU, same rule.
    pub iou: f64,
    /// Mean Dice over images whose truth has a pixel.
    pub dice_positive: Option<f64>,
    /// Pooled Dice: the overlap summed over all images over their summed sizes (`None`
    /// when no image has a truth or predicted pixel).
    pub pooled_dice: Option<f64>,
    /// Best image-level F2 over score thresholds, and the threshold (needs a positive
    /// image).
    pub f2: Option<(f64, f64)>,
    /// Image-level ROC AUC (needs both classes).
    pub auc: Option<f64>,
    /// Image-level accuracy: the score at 0.5 against the label, or the arg-max class
    /// against the class (`None` without images).
    pub accuracy: Option<f64>,
}

/// Scores predictions against their truths (see [`ValidationMetrics`]; no loss).
///
/// # Errors
/// [`crate::Error::Metrics`] for mismatched shapes.
pub fn validation_metrics(predictions: &[ImagePrediction]) -> Result<ValidationMetrics> {
    let mut meter = Meter::default();
    for p in predictions {
        meter.add_prediction(p)?;
    }
    meter.finish()
}

/// The image-score threshold with the best F2 over `predictions` (each image's score
/// against whether its truth has a pixel; the lowest threshold wins ties), and that F2: the
/// two-stage system's classifier gate.
///
/// # Errors
/// [`crate::Error::Metrics`] when there is no prediction.
pub fn best_f2_threshold(predictions: &[ImagePrediction]) -> Result<(f64, f64)> {
    let labels: Vec<bool> = predictions.iter().map(ImagePrediction::positive).collect();
    let scores: Vec<f64> = predictions.iter().map(ImagePrediction::score).collect();
    f2_threshold(&labels, &scores)
}

/// The threshold of `scores` with the best F2 against `labels`, and that F2.
fn f2_threshold(labels: &[bool], scores: &[f64]) -> Result<(f64, f64)> {
    let (point, f2) = best_threshold(labels, scores, &[], ClassMetric::FBeta(2.0))?;
    Ok((point.threshold, f2))
}

/// Accumulates what one validation pass sees: losses, predicted masks, image scores and
/// classes.
pub(crate) struct Meter {
    loss: (f64, usize),
    masks: SegmentationMeter,
    positives: SegmentationMeter,
    labels: Vec<bool>,
    scores: Vec<f64>,
    /// Multi-class rows: (correct, total).
    classes: (usize, usize),
}

impl Default for Meter {
    fn default() -> Self {
        Self {
            loss: (0.0, 0),
            masks: SegmentationMeter::new(EmptyPolicy::Kaggle),
            positives: SegmentationMeter::new(EmptyPolicy::Kaggle),
            labels: Vec::new(),
            scores: Vec::new(),
            classes: (0, 0),
        }
    }
}

impl Meter {
    /// A batch's mean loss over `images` images.
    pub(crate) fn add_loss(&mut self, mean: f64, images: usize) {
        self.loss.0 += mean * images as f64;
        self.loss.1 += images;
    }

    /// A predicted probability map (thresholded at 0.5) against its truth, and its image
    /// score against whether the truth has a pixel.
    pub(crate) fn add_prediction(&mut self, p: &ImagePrediction) -> Result<()> {
        let predicted = p.probability.mapv(|v| u8::from(v > 0.5));
        let score = self.masks.update(p.truth.view(), predicted.view())?;
        let positive = p.positive();
        if positive {
            self.positives.update_counts(score.counts);
        }
        self.add_score(positive, p.score());
        Ok(())
    }

    /// An image's score against its label.
    pub(crate) fn add_score(&mut self, positive: bool, score: f64) {
        self.labels.push(positive);
        self.scores.push(score);
    }

    /// A multi-class prediction against the class.
    pub(crate) fn add_class(&mut self, truth: i64, predicted: i64) {
        self.classes.0 += usize::from(truth == predicted);
        self.classes.1 += 1;
    }

    /// The numbers.
    pub(crate) fn finish(&self) -> Result<ValidationMetrics> {
        let masks = self.masks.compute();
        let labels = &self.labels;
        let correct = labels
            .iter()
            .zip(&self.scores)
            .filter(|(&l, &s)| (s >= 0.5) == l)
            .count()
            + self.classes.0;
        let total = labels.len() + self.classes.1;
        let any_positive = labels.iter().any(|&l| l);
        let f2 = if any_positive {
            let (threshold, f2) = f2_threshold(labels, &self.scores)?;
            Some((f2, threshold))
        } else {
            None
        };
        let auc = if any_positive && labels.iter().any(|&l| !l) {
            Some(roc_auc(labels, &self.scores)?)
        } else {
            None
        };
        Ok(ValidationMetrics {
            loss: (self.loss.1 > 0).then(|| self.loss.0 / self.loss.1 as f64),
            dice: masks.mean_dice.unwrap_or(f64::NAN),
            iou: masks.mean_iou.unwrap_or(f64::NAN),
            dice_positive: self.positives.compute().mean_dice,
            pooled_dice: masks.pooled_dice(),
            f2,
            auc,
            accuracy: (total > 0).then(|| correct as f64 / total as f64),
        })
    }
}
