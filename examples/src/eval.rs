//! Scoring trained models on an experiment's validation fold.

use std::path::PathBuf;

use anyhow::{Context, Result};
use ptx_metrics::{Confusion, EmptyPolicy, SegmentationMeter};
use ptx_train::predict::predict_source;
use ptx_train::run::{validation_metrics, ValidationMetrics};
use ptx_train::{Dataset, Ensemble, Experiment, FitReport, ImagePrediction};

/// What a model scored on the validation fold (pixel threshold 0.5, the training size).
#[derive(Debug, Clone)]
pub struct Scores {
    /// The trainer's validation numbers: the challenge's mean Dice, mean IoU, Dice over
    /// positives, F2, AUC, accuracy.
    pub metrics: ValidationMetrics,
    /// Pooled pixel Dice over all images (sum of overlaps over sum of sizes).
    pub pooled_dice: Option<f64>,
    /// Pooled pixel IoU (`D / (2 - D)` of the pooled Dice).
    pub pooled_iou: Option<f64>,
    /// The predictions, for further analysis.
    pub predictions: Vec<ImagePrediction>,
}

impl Scores {
    /// Scores predictions.
    ///
    /// # Errors
    /// Mismatched shapes.
    pub fn of(predictions: Vec<ImagePrediction>) -> Result<Self> {
        let metrics = validation_metrics(&predictions)?;
        let mut meter = SegmentationMeter::new(EmptyPolicy::Kaggle);
        for p in &predictions {
            let pred = p.probability.mapv(|v| u8::from(v > 0.5));
            meter.update(p.truth.view(), pred.view())?;
        }
        let pooled_dice = meter.compute().pooled_dice();
        Ok(Self {
            metrics,
            pooled_dice,
            pooled_iou: pooled_dice.map(|d| d / (2.0 - d)),
            predictions,
        })
    }

    /// The image-level confusion matrix of the scores at `threshold`.
    ///
    /// # Errors
    /// No predictions.
    pub fn confusion(&self, threshold: f64) -> Result<Confusion> {
        let truth: Vec<bool> = self
            .predictions
            .iter()
            .map(|p| p.truth.iter().any(|&v| v != 0))
            .collect();
        let scores: Vec<f64> = self.predictions.iter().map(|p| p.score()).collect();
        Ok(Confusion::from_scores(&truth, &scores, threshold)?)
    }
}

/// The model a fit ended with: the SWA model when there is one, else the best checkpoint.
///
/// # Errors
/// A run that kept no checkpoint.
pub fn final_model(fit: &FitReport) -> Result<PathBuf> {
    fit.final_dir()
        .map(PathBuf::from)
        .context("the run kept no checkpoint (no finite validation number)")
}

/// Runs the models in `dirs` (averaged) over the validation fold of `exp` and scores them.
///
/// # Errors
/// Loading the models or the data.
pub fn evaluate(dirs: &[PathBuf], exp: &Experiment, threads: usize) -> Result<Scores> {
    let device = exp.train.device.device()?;
    let dataset = Dataset::open(&exp.data, exp.seed)?;
    let val = dataset.split(exp.data.validation_fold, true, exp.data.positives_only);
    let ensemble = Ensemble::load(dirs, device, false)?;
    let (predictions, _) = predict_source(
        &ensemble,
        dataset.source(&val),
        exp.input.eval_pipeline(),
        exp.train.batch_size,
        threads,
    )?;
    Scores::of(predictions)
}

/// The pixel threshold with the highest mean IoU (the challenge's empty rule) among
/// `thresholds`, and that IoU (Haghanifar et al. searched IoU thresholds and kept 0.69).
///
/// # Errors
/// Mismatched shapes.
pub fn iou_threshold_search(
    predictions: &[ImagePrediction],
    thresholds: &[f32],
) -> Result<(f32, f64)> {
    let mut best = (0.5, f64::NEG_INFINITY);
    for &t in thresholds {
        let mut meter = SegmentationMeter::new(EmptyPolicy::Kaggle);
        for p in predictions {
            let pred = p.probability.mapv(|v| u8::from(v > t));
            meter.update(p.truth.view(), pred.view())?;
        }
        let iou = meter.compute().mean_iou.unwrap_or(f64::NAN);
        if iou > best.1 {
            best = (t, iou);
        }
    }
    Ok(best)
}
