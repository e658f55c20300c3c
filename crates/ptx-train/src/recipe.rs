//! The two-stage recipe: stage 1 trains a classifier with the multi-task segmentation branch
//! (its image threshold chosen for F2 on validation), stage 2 a segmenter on positive images
//! only; the post-processing of the combined system is then searched on the validation fold
//! and the system written as `system.json`.

use std::path::{Path, PathBuf};

use ptx_metrics::{
    best_threshold, grid_search, ClassMetric, SearchGrid, SearchPoint, ValidationImage,
};
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::experiment::Experiment;
use crate::predict::{predict_source, Ensemble};
use crate::run::{FitReport, Resume, Trainer};
use crate::system::SystemConfig;
use crate::{Error, Result};

/// The two experiments and the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoStageRecipe {
    /// Stage 1: the classifier (a model with a classifier head; its loss should weigh the
    /// classification term, `loss.classification_weight` > 0).
    pub stage1: Experiment,
    /// Stage 2: the segmenter; `data.positives_only` is forced on. Its data, folds and seed
    /// must equal stage 1's so that both hold out the same validation images.
    pub stage2: Experiment,
    /// The post-processing grid (pixel thresholds, minimum areas); the classifier gate is the
    /// F2 threshold of stage 1.
    #[serde(default)]
    pub grid: SearchGrid,
    /// Horizontal-flip test-time augmentation in validation and in the system. Default true.
    #[serde(default = "yes")]
    pub hflip: bool,
}

fn yes() -> bool {
    true
}

/// What the recipe measured and wrote.
#[derive(Debug, Clone)]
pub struct RecipeReport {
    /// Stage 1's training.
    pub stage1: FitReport,
    /// Stage 2's training.
    pub stage2: FitReport,
    /// The classifier threshold with the best F2 on validation, and that F2.
    pub classifier_threshold: f64,
    /// The F2 at that threshold.
    pub f2: f64,
    /// The best post-processing and the validation mean Dice it reaches (the challenge's
    /// rule, at the training size).
    pub search: SearchPoint,
    /// Validation images scored.
    pub validation_images: usize,
    /// The folder holding `system.json`.
    pub system_dir: PathBuf,
}

impl TwoStageRecipe {
    /// Checks that the stages fit together.
    ///
    /// # Errors
    /// [`Error::Config`].
    pub fn validate(&self) -> Result<()> {
        let (a, b) = (&self.stage1.data, &self.stage2.data);
        let same = a.images == b.images
            && a.annotations == b.annotations
            && a.masks == b.masks
            && a.folds == b.folds
            && a.validation_fold == b.validation_fold
            && self.stage1.seed == self.stage2.seed;
        if !same {
            return Err(Error::config(
                "stage2.data",
                "stage 2 must use stage 1's images, annotations, folds, validation fold and seed",
            ));
        }
        if self.stage1.input.size != self.stage2.input.size
            || self.stage1.input.channels != self.stage2.input.channels
            || self.stage1.input.normalize != self.stage2.input.normalize
        {
            return Err(Error::config(
                "stage2.input",
                "size, channels and normalisation must equal stage 1's",
            ));
        }
        self.stage1.validate()?;
        self.stage2.validate()
    }

    /// Trains both stages in `dir/stage1` and `dir/stage2` (resuming each when asked),
    /// chooses the thresholds and writes `dir/system.json`.
    ///
    /// # Errors
    /// As [`Trainer::new`] and [`Trainer::fit`]; [`Error::Metrics`].
    pub fn run(&self, dir: &Path, resume: Resume, threads: usize) -> Result<RecipeReport> {
        self.validate()?;
        let mut stage2 = self.stage2.clone();
        stage2.data.positives_only = true;
        eprintln!("stage 1: classifier ({})", self.stage1.name);
        let fit1 = Trainer::new(self.stage1.clone(), dir.join("stage1"), resume)?.fit()?;
        eprintln!("stage 2: segmenter on positive images ({})", stage2.name);
        let fit2 = Trainer::new(stage2, dir.join("stage2"), resume)?.fit()?;
        let pick = |f: &FitReport, stage: &str| -> Result<PathBuf> {
            f.swa_dir
                .clone()
                .or_else(|| f.best_dir.clone())
                .ok_or_else(|| {
                    Error::Data(format!(
                        "{stage} kept no checkpoint (no finite validation number)"
                    ))
                })
        };
        let (cls_dir, seg_dir) = (pick(&fit1, "stage 1")?, pick(&fit2, "stage 2")?);
        let device = self.stage1.train.device.device()?;
        let dataset = Dataset::open(&self.stage1.data, self.stage1.seed)?;
        let val = dataset.split(self.stage1.data.validation_fold, true, false);
        let source = dataset.source(&val);
        let pipeline = self.stage1.input.eval_pipeline();
        let batch = self.stage1.train.batch_size;
        let classifier = Ensemble::load(std::slice::from_ref(&cls_dir), device, self.hflip)?;
        let segmenter = Ensemble::load(std::slice::from_ref(&seg_dir), device, self.hflip)?;
        let (cls, _) = predict_source(
            &classifier,
            source.clone(),
            pipeline.clone(),
            batch,
            threads,
        )?;
        let (seg, _) = predict_source(&segmenter, source, pipeline, batch, threads)?;
        let scores: std::collections::HashMap<usize, f64> =
            cls.iter().map(|p| (p.index, p.score())).collect();
        let labels: Vec<bool> = seg
            .iter()
            .map(|p| p.truth.iter().any(|&v| v != 0))
            .collect();
        let image_scores: Vec<f64> = seg
            .iter()
            .map(|p| scores.get(&p.index).copied().unwrap_or(0.0))
            .collect();
        let (point, f2) = best_threshold(&labels, &image_scores, &[], ClassMetric::FBeta(2.0))?;
        let images: Vec<ValidationImage<'_>> = seg
            .iter()
            .zip(&image_scores)
            .map(|(p, &s)| ValidationImage {
                probability: p.probability.view(),
                truth: p.truth.view(),
                classifier: Some(s),
            })
            .collect();
        let grid = SearchGrid {
            classifier_thresholds: vec![point.threshold],
            ..self.grid.clone()
        };
        let search = grid_search(&images, &grid)?;
        let relative = |p: &Path| {
            p.strip_prefix(dir)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| p.to_path_buf())
        };
        SystemConfig {
            classifier: vec![relative(&cls_dir)],
            segmenter: vec![relative(&seg_dir)],
            input: self.stage1.input.clone(),
            hflip: self.hflip,
            postprocess: search.best.params,
            batch_size: batch,
        }
        .write(dir)?;
        Ok(RecipeReport {
            stage1: fit1,
            stage2: fit2,
            classifier_threshold: point.threshold,
            f2,
            search: search.best,
            validation_images: images.len(),
            system_dir: dir.to_path_buf(),
        })
    }
}
