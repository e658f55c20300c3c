//! Image-level classification metrics from scores: ROC-AUC and a threshold sweep that picks
//! the best threshold for a chosen metric (counts and ratios are on [`Confusion`]).

use serde::{Deserialize, Serialize};

use crate::confusion::Confusion;
use crate::error::{check_shape, Error, Result};

/// A ratio of [`Confusion`] to optimise in a threshold sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassMetric {
    /// [`Confusion::precision`].
    Precision,
    /// [`Confusion::recall`].
    Recall,
    /// [`Confusion::specificity`].
    Specificity,
    /// [`Confusion::accuracy`].
    Accuracy,
    /// [`Confusion::f1`].
    F1,
    /// [`Confusion::f_beta`] with this beta (2 for F2).
    FBeta(f64),
}

impl ClassMetric {
    /// The metric's value on `c`.
    pub fn value(&self, c: &Confusion) -> f64 {
        match *self {
            ClassMetric::Precision => c.precision(),
            ClassMetric::Recall => c.recall(),
            ClassMetric::Specificity => c.specificity(),
            ClassMetric::Accuracy => c.accuracy(),
            ClassMetric::F1 => c.f1(),
            ClassMetric::FBeta(b) => c.f_beta(b),
        }
    }
}

/// One point of a threshold sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdPoint {
    /// Scores `>=` this are predicted positive.
    pub threshold: f64,
    /// The image-level counts at this threshold.
    pub counts: Confusion,
}

fn check_scores(labels: &[bool], scores: &[f64]) -> Result<()> {
    check_shape("scores", (labels.len(), 1), (scores.len(), 1))?;
    match scores.iter().position(|s| s.is_nan()) {
        Some(index) => Err(Error::NaN {
            what: "scores",
            index,
        }),
        None => Ok(()),
    }
}

/// Area under the ROC curve of `scores` against `labels`, equal to scikit-learn's
/// `roc_auc_score` (tied scores count one half: the trapezoidal area). O(n log n).
///
/// ```
/// use ptx_metrics::roc_auc;
/// // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
/// assert_eq!(roc_auc(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8])?, 0.75);
/// # Ok::<(), ptx_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::OneClass`] when all labels are equal (the area is undefined), [`Error::NaN`],
/// [`Error::ShapeMismatch`].
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Result<f64> {
    check_scores(labels, scores)?;
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(Error::OneClass {
            metric: "ROC-AUC",
            positives,
            negatives,
        });
    }
    let mut order: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann-Whitney: for each positive, the negatives below it, ties counting one half.
    let mut negatives_below = 0u64;
    let mut pairs2 = 0u64; // twice the count of correctly ordered pairs
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let (mut pos, mut neg) = (0u64, 0u64);
        while j < order.len() && order[j].0 == order[i].0 {
            if order[j].1 {
                pos += 1;
            } else {
                neg += 1;
            }
            j += 1;
        }
        pairs2 += pos * (2 * negatives_below + neg);
        negatives_below += neg;
        i = j;
    }
    Ok(pairs2 as f64 / (2.0 * positives as f64 * negatives as f64))
}

/// Image-level counts at every threshold; an empty `thresholds` sweeps every distinct score.
/// Points come in increasing threshold order. O((n + t) log n).
///
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::NaN`] in scores or thresholds.
pub fn sweep_thresholds(
    labels: &[bool],
    scores: &[f64],
    thresholds: &[f64],
) -> Result<Vec<ThresholdPoint>> {
    check_scores(labels, scores)?;
    if let Some(index) = thresholds.iter().position(|t| t.is_nan()) {
        return Err(Error::NaN {
            what: "thresholds",
            index,
        });
    }
    let mut pos: Vec<f64> = Vec::new();
    let mut neg: Vec<f64> = Vec::new();
    for (&l, &s) in labels.iter().zip(scores) {
        if l {
            pos.push(s);
        } else {
            neg.push(s);
        }
    }
    pos.sort_by(f64::total_cmp);
    neg.sort_by(f64::total_cmp);
    let mut ts: Vec<f64> = if thresholds.is_empty() {
        scores.to_vec()
    } else {
        thresholds.to_vec()
    };
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    let at_least =
        |sorted: &[f64], t: f64| (sorted.len() - sorted.partition_point(|&s| s < t)) as u64;
    Ok(ts
        .into_iter()
        .map(|t| {
            let tp = at_least(&pos, t);
            let fp = at_least(&neg, t);
            ThresholdPoint {
                threshold: t,
                counts: Confusion {
                    true_pos: tp,
                    false_pos: fp,
                    false_neg: pos.len() as u64 - tp,
                    true_neg: neg.len() as u64 - fp,
                },
            }
        })
        .collect())
}

/// The threshold that maximises `metric`, its value and counts; the lowest threshold wins
/// ties. An empty `thresholds` tries every distinct score.
///
/// ```
/// use ptx_metrics::{best_threshold, ClassMetric};
/// let labels = [false, false, true, true];
/// let (point, f2) = best_threshold(&labels, &[0.1, 0.4, 0.35, 0.8], &[], ClassMetric::FBeta(2.0))?;
/// assert_eq!(point.threshold, 0.35); // recall 1, precision 2/3
/// assert!((f2 - 10.0 / 11.0).abs() < 1e-12);
/// # Ok::<(), ptx_metrics::Error>(())
/// ```
///
/// # Errors
/// As [`sweep_thresholds`]; [`Error::InvalidArgument`] when there is no threshold to try.
pub fn best_threshold(
    labels: &[bool],
    scores: &[f64],
    thresholds: &[f64],
    metric: ClassMetric,
) -> Result<(ThresholdPoint, f64)> {
    let mut best: Option<(ThresholdPoint, f64)> = None;
    for point in sweep_thresholds(labels, scores, thresholds)? {
        let v = metric.value(&point.counts);
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((point, v));
        }
    }
    best.ok_or_else(|| Error::InvalidArgument {
        name: "thresholds",
        message: "no threshold to try (no scores)".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_with_ties_is_half() -> Result<()> {
        // sklearn.metrics.roc_auc_score([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == 0.875
        assert_eq!(
            roc_auc(&[false, true, false, true], &[0.5, 0.5, 0.2, 0.9])?,
            0.875
        );
        assert_eq!(roc_auc(&[false, true], &[0.3, 0.3])?, 0.5);
        Ok(())
    }

    #[test]
    fn auc_needs_two_classes() {
        assert!(matches!(
            roc_auc(&[true, true], &[0.1, 0.2]),
            Err(Error::OneClass {
                positives: 2,
                negatives: 0,
                ..
            })
        ));
        assert!(matches!(
            roc_auc(&[true, false], &[0.1, f64::NAN]),
            Err(Error::NaN { index: 1, .. })
        ));
    }

    #[test]
    fn sweep_equals_direct_counts() -> Result<()> {
        let labels = [true, false, true, false, false, true];
        let scores = [0.9, 0.1, 0.4, 0.4, 0.7, 0.2];
        for p in sweep_thresholds(&labels, &scores, &[0.0, 0.3, 0.4, 0.95])? {
            assert_eq!(
                p.counts,
                Confusion::from_scores(&labels, &scores, p.threshold)?
            );
        }
        Ok(())
    }
}
