//! The one predictor: classifier and segmenter checkpoints (each an ensemble), the input
//! pipeline and the post-processing chosen on validation, described by `system.json`; each
//! image in with its metadata, its mask out at the image's own size.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use ptx_metrics::PostProcess;
use ptx_preproc::{resize, Interpolation};
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::config::InputConfig;
use crate::data::{SampleMeta, SampleSource, Skipped};
use crate::predict::{each_batch, input_tensor, predictions, values, Ensemble, ImagePrediction};
use crate::run::dir::RunDir;
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
    pub batch_size: NonZeroUsize,
}

fn default_batch() -> NonZeroUsize {
    crate::config::nonzero(8)
}

impl SystemConfig {
    /// Writes `system.json` into `dir` (atomically), checkpoint paths under `dir` made
    /// relative to it.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let relative = |paths: &[PathBuf]| -> Vec<PathBuf> {
            paths
                .iter()
                .map(|p| {
                    p.strip_prefix(dir)
                        .map_or_else(|_| p.clone(), Path::to_path_buf)
                })
                .collect()
        };
        let config = SystemConfig {
            classifier: relative(&self.classifier),
            segmenter: relative(&self.segmenter),
            ..self.clone()
        };
        let json = serde_json::to_vec_pretty(&config)
            .map_err(|e| Error::checkpoint(dir, e.to_string()))?;
        ptx_io::write_atomic(dir.join(SYSTEM_FILE), |out| out.write_all(&json))?;
        Ok(())
    }

    /// The system of a training run: its final model ([`RunDir::final_checkpoint`]),
    /// threshold 0.5, no gate.
    fn of_run(run: &RunDir) -> Result<Self> {
        let exp = run.experiment()?;
        Ok(SystemConfig {
            classifier: Vec::new(),
            segmenter: vec![run.final_checkpoint()?],
            input: exp.input,
            hflip: false,
            postprocess: PostProcess::default(),
            batch_size: exp.train.batch_size,
        })
    }
}

/// One image's result.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// The image as its file described it (ImageId, path, size, DICOM attributes).
    pub meta: SampleMeta,
    /// Image-level probability of a pneumothorax.
    pub score: f64,
    /// Pixel probabilities `(height, width)` at the network's input size.
    pub probability: Array2<f32>,
    /// The post-processed 0/1 mask at the image's own size ([`SampleMeta::size`]): made at
    /// the input size, then resized with nearest neighbour.
    pub mask: Array2<u8>,
}

impl Prediction {
    /// Whether the mask has a pixel.
    pub fn positive(&self) -> bool {
        self.mask.iter().any(|&v| v != 0)
    }
}

/// A loaded system: the one predictor of ptx.
pub struct System {
    config: SystemConfig,
    classifier: Option<Ensemble>,
    segmenter: Ensemble,
}

impl System {
    /// Loads a system from a folder holding `system.json`, or from a training run folder
    /// (`experiment.toml` + `checkpoints/`: its final model, threshold 0.5, no gate).
    /// `hflip` overrides the system's flip TTA.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for a folder that is neither; [`Error::Model`] for checkpoints
    /// that do not load.
    pub fn load(dir: &Path, device: Device, hflip: Option<bool>) -> Result<Self> {
        let run = RunDir::open(dir);
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
        } else if run.is_run() {
            SystemConfig::of_run(&run)?
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

    /// The configuration (absolute checkpoint paths).
    pub fn config(&self) -> &SystemConfig {
        &self.config
    }

    /// Replaces the post-processing.
    pub fn set_postprocess(&mut self, postprocess: PostProcess) {
        self.config.postprocess = postprocess;
    }

    /// Probability maps and image scores at the input size of every image of `source`, in
    /// one loader pass (for threshold searches): the segmenter's probabilities, and as
    /// [`ImagePrediction::classifier`] the classifier's score ([`crate::image_score`] of its
    /// own output) or, without a classifier, the segmenter's head when it has one. Truths
    /// are the source's masks; `threads` loader threads (0: one per core).
    ///
    /// # Errors
    /// [`Error::Preproc`], [`Error::Model`].
    pub fn probabilities(
        &self,
        source: SampleSource,
        threads: usize,
    ) -> Result<(Vec<ImagePrediction>, Vec<Skipped>)> {
        let mut out = Vec::new();
        let skipped = self.each_batch(source, threads, |_, batch_predictions| {
            out.extend(batch_predictions);
            Ok(())
        })?;
        Ok((out, skipped))
    }

    /// Predicts every image of `source` (its masks are ignored), handing each image's
    /// [`Prediction`] to `each` as its batch is done, so that memory stays bounded whatever
    /// the number of images. Returns the images that did not load.
    ///
    /// # Errors
    /// [`Error::Preproc`], [`Error::Model`], [`Error::Metrics`]; what `each` returns.
    pub fn predict_each(
        &self,
        source: SampleSource,
        threads: usize,
        mut each: impl FnMut(Prediction) -> Result<()>,
    ) -> Result<Vec<Skipped>> {
        let postprocess = self.config.postprocess;
        self.each_batch(source, threads, |metas, batch_predictions| {
            for (meta, p) in metas.into_iter().zip(batch_predictions) {
                let score = p.score();
                let mask = postprocess.apply(p.probability.view(), Some(score))?;
                let mask = if mask.dim() == meta.size {
                    mask
                } else {
                    resize(mask.view(), meta.size, Interpolation::Nearest)?
                };
                each(Prediction {
                    meta,
                    score,
                    probability: p.probability,
                    mask,
                })?;
            }
            Ok(())
        })
    }

    /// [`System::predict_each`] collected.
    ///
    /// # Errors
    /// As [`System::predict_each`].
    pub fn predict(
        &self,
        source: SampleSource,
        threads: usize,
    ) -> Result<(Vec<Prediction>, Vec<Skipped>)> {
        let mut out = Vec::new();
        let skipped = self.predict_each(source, threads, |p| {
            out.push(p);
            Ok(())
        })?;
        Ok((out, skipped))
    }

    /// Runs both models on each batch of `source`; `each` gets the batch's metadata and
    /// predictions.
    fn each_batch(
        &self,
        source: SampleSource,
        threads: usize,
        mut each: impl FnMut(Vec<SampleMeta>, Vec<ImagePrediction>) -> Result<()>,
    ) -> Result<Vec<Skipped>> {
        let device = self.segmenter.device();
        each_batch(
            source,
            self.config.input.eval_pipeline(),
            self.config.batch_size.get(),
            threads,
            |mut batch| {
                let x = input_tensor(&batch, device, false)?;
                let (probs, head) = self.segmenter.forward(&x)?;
                let scores = match &self.classifier {
                    Some(classifier) => Some(classifier_scores(classifier, &x)?),
                    None => head.as_ref().map(values).transpose()?,
                };
                let mut batch_predictions = predictions(&batch, &probs, None)?;
                if let Some(scores) = scores {
                    for (p, s) in batch_predictions.iter_mut().zip(scores) {
                        p.classifier = Some(s);
                    }
                }
                each(std::mem::take(&mut batch.metas), batch_predictions)
            },
        )
    }
}

/// The classifier ensemble's score of each image, [`crate::image_score`]'s rule on its own
/// output: its head, else its highest pixel (taken on the device, as the maps are not needed).
fn classifier_scores(classifier: &Ensemble, x: &tch::Tensor) -> Result<Vec<f64>> {
    let (probs, head) = classifier.forward(x)?;
    values(&head.unwrap_or_else(|| probs.amax([1i64, 2, 3].as_slice(), false)))
}
