//! The two-stage recipe: stage 1 trains a classifier with the multi-task segmentation branch
//! (its image threshold chosen for F2 on validation), stage 2 a segmenter on positive images
//! only; the post-processing of the combined system is then searched on the validation fold
//! and the system written as `system.json`.

use std::path::{Path, PathBuf};

use ptx_metrics::{grid_search, PostProcess, SearchGrid, SearchPoint, ValidationImage};
use serde::{Deserialize, Serialize};

use crate::config::Checked;
use crate::config::Experiment;
use crate::data::Dataset;
use crate::metrics::best_f2_threshold;
use crate::run::{FitReport, Resume, Trainer};
use crate::system::{System, SystemConfig};
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

impl RecipeReport {
    /// One line: the thresholds chosen and the validation numbers.
    pub fn summary(&self) -> String {
        format!(
            "classifier threshold {:.4} (validation F2 {:.4}); pixel threshold {}, minimum area {}; validation mean Dice {:.4} on {} images",
            self.classifier_threshold,
            self.f2,
            self.search.params.threshold,
            self.search.params.min_component_area,
            self.search.mean_dice,
            self.validation_images
        )
    }
}

impl TwoStageRecipe {
    /// Checks that the stages fit together and each stage's experiment
    /// ([`Experiment::check`]).
    ///
    /// # Errors
    /// [`Error::Config`].
    pub fn check(&self) -> Result<()> {
        self.stages().map(drop)
    }

    /// Both stages checked, stage 2 as it trains (`data.positives_only` on): the recipe's
    /// one check.
    fn stages(&self) -> Result<[Checked; 2]> {
        let (a, b) = (&self.stage1, &self.stage2);
        if a.data.images != b.data.images
            || a.data.truth != b.data.truth
            || a.data.folds != b.data.folds
            || a.seed != b.seed
        {
            return Err(Error::config(
                "stage2.data",
                "stage 2 must use stage 1's images, annotations, folds, validation fold and seed",
            ));
        }
        if !a.input.same_eval_input(&b.input) {
            return Err(Error::config(
                "stage2.input",
                "size, channels and normalisation must equal stage 1's",
            ));
        }
        let mut stage2 = b.clone();
        stage2.data.positives_only = true;
        Ok([a.clone().checked()?, stage2.checked()?])
    }

    /// Trains both stages in `dir/stage1` and `dir/stage2` (resuming each when asked),
    /// chooses the thresholds and writes `dir/system.json`. `threads` loader threads for
    /// the system's validation pass (0: one per core).
    ///
    /// # Errors
    /// As [`Trainer::new`] and [`Trainer::fit`]; [`Error::Metrics`].
    pub fn run(&self, dir: &Path, resume: Resume, threads: usize) -> Result<RecipeReport> {
        let [first, second] = self.stages()?;
        eprintln!("stage 1: classifier ({})", first.exp.name);
        let fit1 = Trainer::checked(first, dir.join("stage1"), resume)?.fit()?;
        eprintln!(
            "stage 2: segmenter on positive images ({})",
            second.exp.name
        );
        let fit2 = Trainer::checked(second, dir.join("stage2"), resume)?.fit()?;
        let device = self.stage1.train.device.device()?;
        let dataset = Dataset::open(&self.stage1.data, self.stage1.seed)?;
        let val = dataset.split(self.stage1.data.folds.validation(), true, false);
        let mut config = SystemConfig {
            classifier: vec![fit1.final_dir.clone()],
            segmenter: vec![fit2.final_dir.clone()],
            input: self.stage1.input.clone(),
            hflip: self.hflip,
            postprocess: PostProcess::default(),
            batch_size: self.stage1.train.batch_size,
        };
        let system = System::new(config.clone(), device)?;
        let (predictions, _) = system.probabilities(dataset.source(&val)?, threads)?;
        let (gate, f2) = best_f2_threshold(&predictions)?;
        let images: Vec<ValidationImage<'_>> = predictions
            .iter()
            .map(|p| ValidationImage {
                probability: p.probability.view(),
                truth: p.truth.view(),
                classifier: Some(p.score()),
            })
            .collect();
        let grid = SearchGrid {
            classifier_thresholds: vec![gate],
            ..self.grid.clone()
        };
        let search = grid_search(&images, &grid)?;
        config.postprocess = search.best.params;
        config.write(dir)?;
        Ok(RecipeReport {
            stage1: fit1,
            stage2: fit2,
            classifier_threshold: gate,
            f2,
            search: search.best,
            validation_images: images.len(),
            system_dir: dir.to_path_buf(),
        })
    }
}
