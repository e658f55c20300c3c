//! Scoring trained models on a part of an experiment's data: its validation fold, or its
//! held-out test part.

use std::path::PathBuf;

use anyhow::{bail, Result};
use ptx_metrics::{Confusion, EmptyPolicy, SegmentationMeter};
use ptx_train::{
    validation_metrics, Dataset, Ensemble, Experiment, ImagePrediction, ValidationMetrics,
};

/// What a model scored on a part of its data (pixel threshold 0.5, the training size).
#[derive(Debug, Clone)]
pub struct Scores {
    /// The trainer's validation numbers: the challenge's mean Dice, mean IoU, Dice over
    /// positives, pooled Dice, F2, AUC, accuracy.
    pub metrics: ValidationMetrics,
    /// The predictions, for further analysis.
    pub predictions: Vec<ImagePrediction>,
}

impl Scores {
    /// Scores predictions.
    ///
    /// # Errors
    /// Mismatched shapes.
    pub fn of(predictions: Vec<ImagePrediction>) -> Result<Self> {
        Ok(Self {
            metrics: validation_metrics(&predictions)?,
            predictions,
        })
    }

    /// Pooled pixel IoU, `D / (2 - D)` of the pooled Dice `D`.
    pub fn pooled_iou(&self) -> Option<f64> {
        self.metrics.pooled_dice.map(|d| d / (2.0 - d))
    }

    /// The image-level confusion matrix of the scores at `threshold`.
    ///
    /// # Errors
    /// No predictions.
    pub fn confusion(&self, threshold: f64) -> Result<Confusion> {
        let truth: Vec<bool> = self
            .predictions
            .iter()
            .map(ImagePrediction::positive)
            .collect();
        let scores: Vec<f64> = self.predictions.iter().map(|p| p.score()).collect();
        Ok(Confusion::from_scores(&truth, &scores, threshold)?)
    }
}

/// Which images of an experiment's data a model is scored on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The validation fold (what the training run saw every epoch).
    Validation,
    /// The held-out test part (`data.holdout` or `test` rows of the folds file), which no
    /// training run, threshold or epoch choice has seen.
    Test,
}

/// Runs the models in `dirs` (averaged) over `part` of `exp`'s data and scores them.
///
/// # Errors
/// Loading the models or the data.
pub fn evaluate(dirs: &[PathBuf], exp: &Experiment, part: Part, threads: usize) -> Result<Scores> {
    Scores::of(predict(dirs, exp, part, threads)?.predictions)
}

/// The predictions of [`predict`], with the ImageId of each.
#[derive(Debug, Clone)]
pub struct ValidationPredictions {
    /// One per validation image that loaded; `index` counts in `image_ids`.
    pub predictions: Vec<ImagePrediction>,
    /// ImageId of each validation image, in fold order.
    pub image_ids: Vec<String>,
}

/// Runs the models in `dirs` (averaged) over `part` of `exp`'s data at its input size.
///
/// # Errors
/// Loading the models or the data; an empty part.
pub fn predict(
    dirs: &[PathBuf],
    exp: &Experiment,
    part: Part,
    threads: usize,
) -> Result<ValidationPredictions> {
    let dataset = Dataset::open(&exp.data, exp.seed)?;
    let positives_only = exp.data.positives_only;
    let val = match part {
        Part::Validation => dataset.split(exp.data.folds.validation(), true, positives_only),
        Part::Test => dataset.test(positives_only),
    };
    if val.is_empty() {
        bail!("{part:?}: no image to score");
    }
    let ensemble = Ensemble::load(dirs, exp.train.device.device()?, false)?;
    let (predictions, _) = ensemble.predict(
        dataset.source(&val)?,
        exp.input.eval_pipeline(),
        exp.train.batch_size.get(),
        threads,
    )?;
    let image_ids = val
        .iter()
        .map(|&i| dataset.samples()[i].image_id.clone())
        .collect();
    Ok(ValidationPredictions {
        predictions,
        image_ids,
    })
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
    // One pass over each image's pixels counts every threshold at once.
    let mut meters: Vec<SegmentationMeter> = thresholds
        .iter()
        .map(|_| SegmentationMeter::new(EmptyPolicy::Kaggle))
        .collect();
    let mut counts = vec![Confusion::default(); thresholds.len()];
    for p in predictions {
        if p.probability.dim() != p.truth.dim() {
            bail!(
                "prediction {} is {:?} but its truth {:?}",
                p.index,
                p.probability.dim(),
                p.truth.dim()
            );
        }
        counts.fill(Confusion::default());
        for (&v, &truth) in p.probability.iter().zip(&p.truth) {
            for (c, &t) in counts.iter_mut().zip(thresholds) {
                c.add_one(truth != 0, v > t);
            }
        }
        for (meter, &c) in meters.iter_mut().zip(&counts) {
            meter.update_counts(c);
        }
    }
    let mut best = (0.5, f64::NEG_INFINITY);
    for (&t, meter) in thresholds.iter().zip(&meters) {
        let iou = meter.compute().mean_iou.unwrap_or(f64::NAN);
        if iou > best.1 {
            best = (t, iou);
        }
    }
    Ok(best)
}
