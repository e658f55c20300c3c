//! A deployable predictor: classifier and segmenter checkpoints (each an ensemble), the input
//! pipeline and the post-processing chosen on validation, described by `system.json`.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use ptx_metrics::PostProcess;
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::data::SampleSource;
use crate::experiment::{Experiment, InputConfig};
use crate::predict::{image_scores, predict_with, Ensemble, ImagePrediction, Skipped};
use crate::run::checkpoint::{read_state, RunDir};
use crate::{Error, Result};

/// The file describing a system in its folder.
pub const SYSTEM_FILE: &str = "system.json";

/// What `system.json` holds. Checkpoint paths are relative to the file's folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// Classifier checkpoints (averaged); empty: the segmenter's own score is used (its
    /// classifier head when it has one, else its highest pixel probability).
    #[serde(default)]
    pub classifier: Vec<PathBuf>,
    /// Segmenter checkpoints (averaged).
    pub segmenter: Vec<PathBuf>,
    /// Size, channels and normalisation of the input (augmentation is ignored).
    pub input: InputConfig,
    /// Horizontal-flip test-time augmentation.
    #[serde(default)]
    pub hflip: bool,
    /// Probability maps to masks; its `classifier_threshold` gates on the image score.
    pub postprocess: PostProcess,
    /// Images per forward pass. Default 8.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
}

fn default_batch() -> usize {
    8
}

impl SystemConfig {
    /// Writes `system.json` into `dir`.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn write(&self, dir: &Path) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| Error::checkpoint(dir, e.to_string()))?;
        ptx_io::write_atomic(dir.join(SYSTEM_FILE), |out| out.write_all(&json))?;
        Ok(())
    }
}

/// One image's result at the model's input size.
#[derive(Debug, Clone)]
pub struct SystemPrediction {
    /// Index in the source.
    pub index: usize,
    /// Image-level probability of a pneumothorax.
    pub score: f64,
    /// Pixel probabilities `(height, width)`.
    pub probability: Array2<f32>,
    /// The post-processed 0/1 mask, same size.
    pub mask: Array2<u8>,
}

/// A loaded system.
pub struct System {
    config: SystemConfig,
    classifier: Option<Ensemble>,
    segmenter: Ensemble,
}

impl System {
    /// Loads a system from a folder holding `system.json`, or from a training run folder
    /// (`experiment.toml` + `checkpoints/`: its best checkpoint, threshold 0.5, no gate).
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for a folder that is neither; [`Error::Model`] for checkpoints
    /// that do not load.
    pub fn load(dir: &Path, device: Device, hflip: Option<bool>) -> Result<Self> {
        let config = if dir.join(SYSTEM_FILE).is_file() {
            let path = dir.join(SYSTEM_FILE);
            let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let mut c: SystemConfig = serde_json::from_slice(&text)
                .map_err(|e| Error::checkpoint(&path, e.to_string()))?;
            for p in c.classifier.iter_mut().chain(c.segmenter.iter_mut()) {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
            c
        } else if dir.join("experiment.toml").is_file() {
            Self::from_run(dir)?
        } else {
            return Err(Error::checkpoint(
                dir,
                format!("neither {SYSTEM_FILE} (a two-stage system) nor experiment.toml (a training run) is here"),
            ));
        };
        let hflip = hflip.unwrap_or(config.hflip);
        Self::new(SystemConfig { hflip, ..config }, device)
    }

    /// Loads the checkpoints a configuration names (paths as given) onto `device`.
    ///
    /// # Errors
    /// [`Error::Model`] for checkpoints that do not load.
    pub fn new(config: SystemConfig, device: Device) -> Result<Self> {
        let classifier = if config.classifier.is_empty() {
            None
        } else {
            Some(Ensemble::load(&config.classifier, device, config.hflip)?)
        };
        let segmenter = Ensemble::load(&config.segmenter, device, config.hflip)?;
        Ok(Self {
            config,
            classifier,
            segmenter,
        })
    }

    fn from_run(dir: &Path) -> Result<SystemConfig> {
        let exp = Experiment::from_file(dir.join("experiment.toml"))?;
        let run = RunDir::open(dir);
        let latest = run
            .latest()?
            .ok_or_else(|| Error::checkpoint(dir, "the run has no checkpoint yet"))?;
        let (state, _) = read_state(&latest)?;
        let best = if dir.join("swa").join(ptx_models::WEIGHTS_FILE).is_file() {
            dir.join("swa")
        } else {
            state
                .keep_best
                .kept()
                .first()
                .map_or(latest, |&(e, _)| run.epoch_dir(e))
        };
        Ok(SystemConfig {
            classifier: Vec::new(),
            segmenter: vec![best],
            input: exp.input,
            hflip: false,
            postprocess: PostProcess::default(),
            batch_size: exp.train.batch_size,
        })
    }

    /// The configuration (absolute checkpoint paths).
    pub fn config(&self) -> &SystemConfig {
        &self.config
    }

    /// Replaces the post-processing.
    pub fn set_postprocess(&mut self, postprocess: PostProcess) {
        self.config.postprocess = postprocess;
    }

    /// Probability maps and image scores of every image of `source`, in one loader pass:
    /// the segmenter's probabilities, and as [`ImagePrediction::classifier`] the classifier's
    /// score (its head's probability, else its highest pixel probability) or, without a
    /// classifier, the segmenter's head when it has one. Truths are the source's masks.
    ///
    /// # Errors
    /// [`Error::Preproc`], [`Error::Model`].
    pub fn probabilities(
        &self,
        source: SampleSource,
        threads: usize,
    ) -> Result<(Vec<ImagePrediction>, Skipped)> {
        predict_with(
            source,
            self.config.input.eval_pipeline(),
            self.config.batch_size.max(1),
            threads,
            self.segmenter.device(),
            |x, _| {
                let (probs, labels) = self.segmenter.forward(x)?;
                let scores = match &self.classifier {
                    Some(classifier) => {
                        let (p, l) = classifier.forward(x)?;
                        Some(image_scores(&p, l))
                    }
                    None => labels,
                };
                Ok((probs, scores))
            },
        )
    }

    /// Predicts every image of `source` (its masks are ignored): [`System::probabilities`]
    /// through the post-processing. Images that fail to load are returned in the second list
    /// (index, reason).
    ///
    /// # Errors
    /// [`Error::Preproc`], [`Error::Model`], [`Error::Metrics`].
    pub fn predict(
        &self,
        source: SampleSource,
        threads: usize,
    ) -> Result<(Vec<SystemPrediction>, Skipped)> {
        let (predictions, skipped) = self.probabilities(source, threads)?;
        let mut out = Vec::with_capacity(predictions.len());
        for p in predictions {
            let score = p.score();
            let mask = self
                .config
                .postprocess
                .apply(p.probability.view(), Some(score))?;
            out.push(SystemPrediction {
                index: p.index,
                score,
                probability: p.probability,
                mask,
            });
        }
        Ok((out, skipped))
    }
}
