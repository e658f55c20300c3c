//! Validation numbers of a set of predictions.

use ptx_metrics::{best_threshold, roc_auc, ClassMetric, EmptyPolicy, SegmentationMeter};

use crate::predict::ImagePrediction;
use crate::Result;

/// Validation numbers at pixel threshold 0.5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidationMetrics {
    /// The challenge's mean Dice.
    pub dice: f64,
    /// Mean IoU, same rule.
    pub iou: f64,
    /// Mean Dice over images whose truth has a pixel.
    pub dice_positive: Option<f64>,
    /// Pooled Dice: the overlap summed over all images over their summed sizes (`None`
    /// when no image has a truth or predicted pixel).
    pub pooled_dice: Option<f64>,
    /// Best image-level F2 over score thresholds, and the threshold.
    pub f2: Option<(f64, f64)>,
    /// Image-level ROC AUC (needs both classes).
    pub auc: Option<f64>,
    /// Image-level accuracy of the score at 0.5 (`None` without images).
    pub accuracy: Option<f64>,
}

/// Scores predictions against their truths (see [`ValidationMetrics`]).
///
/// # Errors
/// [`crate::Error::Metrics`] for mismatched shapes.
pub fn validation_metrics(predictions: &[ImagePrediction]) -> Result<ValidationMetrics> {
    let mut all = SegmentationMeter::new(EmptyPolicy::Kaggle);
    let mut positive = SegmentationMeter::new(EmptyPolicy::Kaggle);
    let mut labels = Vec::with_capacity(predictions.len());
    let mut scores = Vec::with_capacity(predictions.len());
    for p in predictions {
        let pred = p.probability.mapv(|v| u8::from(v > 0.5));
        let score = all.update(p.truth.view(), pred.view())?;
        let is_positive = p.truth.iter().any(|&v| v != 0);
        if is_positive {
            positive.update_counts(score.counts);
        }
        labels.push(is_positive);
        scores.push(p.score());
    }
    let summary = all.compute();
    let correct = labels
        .iter()
        .zip(&scores)
        .filter(|(&l, &s)| (s >= 0.5) == l)
        .count();
    let both = labels.iter().any(|&l| l) && labels.iter().any(|&l| !l);
    let f2 = if labels.iter().any(|&l| l) && !scores.is_empty() {
        let (point, f2) = best_threshold(&labels, &scores, &[], ClassMetric::FBeta(2.0))?;
        Some((f2, point.threshold))
    } else {
        None
    };
    Ok(ValidationMetrics {
        dice: summary.mean_dice.unwrap_or(f64::NAN),
        iou: summary.mean_iou.unwrap_or(f64::NAN),
        dice_positive: positive.compute().mean_dice,
        pooled_dice: summary.pooled_dice(),
        f2,
        auc: if both {
            Some(roc_auc(&labels, &scores)?)
        } else {
            None
        },
        accuracy: (!labels.is_empty()).then(|| correct as f64 / labels.len() as f64),
    })
}
