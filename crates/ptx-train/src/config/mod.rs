//! Experiment configurations: everything a training run needs, read from TOML (see
//! [`Experiment`]).

mod data;
mod init;
mod input;
mod loss;
mod train;

use std::num::NonZeroUsize;
use std::path::Path;

use ptx_models::ModelConfig;
use serde::{Deserialize, Deserializer, Serialize};

pub use data::{DataConfig, Folds, Holdout, Sampling, Subset, Truth};
pub use init::InitFrom;
pub use input::{Augmentation, InputConfig};
pub use loss::{ClassificationTerm, LossConfig};
pub use train::{DeviceChoice, EarlyStop, Monitor, Select, TrainOptions, UnknownDevice};

use crate::objective::{self, Objective};
use crate::optim::OptimizerConfig;
use crate::schedule::ScheduleConfig;
use crate::{Error, Result};

/// One training run: everything it needs, read from TOML.
///
/// ```toml
/// name = "stage1"
/// seed = 7
///
/// [data]
/// images = "synthetic/dicom-images-train"   # relative paths are relative to this file
/// annotations = "synthetic/train-rle.csv"
/// folds = 5
/// validation_fold = 0
///
/// [input]
/// size = [256, 256]                           # height, width
/// preset = "viel"                             # or [input.augment] with a transform list
///
/// [model]
/// arch = "unet"
/// encoder = "resnet18"
/// classifier = { pooling = "avg" }
///
/// [loss]
/// classification_weight = 0.5
///
/// [optimizer]
/// kind = "adam"
/// lr = 3e-4
///
/// [schedule]
/// kind = "cosine"
/// epochs = 20
///
/// [train]
/// epochs = 20
/// batch_size = 8
/// monitor = "val_dice"
/// ```
///
/// Every section and key has a default except `[data]`'s `images` and one of `annotations` /
/// `masks`. What the types can tell is checked while the TOML is read: an unknown key, a
/// count of 0, keys that exclude each other (`annotations` and `masks`, `preset` and
/// `augment`, a loss key that does not apply to the objective) are errors naming the key.
/// Values out of range (a negative learning rate or loss weight, a probability above 1, an
/// empty loss, a negative `min_delta`) are errors naming the section, from [`Experiment::check`],
/// which [`crate::Trainer::new`] runs once before anything trains. What needs two sections (the model's channels against the input's, the objective
/// against the model's heads, the monitored number against what the objective measures) is
/// checked once, when a run is prepared ([`Experiment::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// A name for logs and plots. Default `"experiment"`.
    #[serde(default = "default_name")]
    pub name: String,
    /// The seed of everything random: folds, shuffling, augmentation, initialisation,
    /// dropout. Default 0.
    #[serde(default)]
    pub seed: u64,
    /// Where the images and their truth are.
    pub data: DataConfig,
    /// Input size, channels, normalisation and augmentation.
    #[serde(default)]
    pub input: InputConfig,
    /// The network.
    #[serde(default)]
    pub model: ModelConfig,
    /// What the network learns, and the loss.
    #[serde(default)]
    pub loss: LossConfig,
    /// The optimizer (Adam, lr 1e-4 by default).
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// The per-epoch learning-rate schedule (constant by default).
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// Epochs, batches, device and the training options.
    #[serde(default)]
    pub train: TrainOptions,
    /// Weights the run starts from instead of the random initialisation (`[[init]]`
    /// entries, applied in order; a resumed run takes its checkpoint instead). Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init: Vec<InitFrom>,
}

fn default_name() -> String {
    "experiment".into()
}

impl Experiment {
    /// An experiment on `data` with `model`, every other section at its default.
    pub fn new(name: impl Into<String>, data: DataConfig, model: ModelConfig) -> Self {
        Self {
            name: name.into(),
            seed: 0,
            data,
            input: InputConfig::default(),
            model,
            loss: LossConfig::default(),
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
            train: TrainOptions::default(),
            init: Vec::new(),
        }
    }

    /// Parses TOML; relative data paths stay relative (see [`Experiment::from_file`]).
    ///
    /// # Errors
    /// [`Error::Config`] naming the unknown key or bad value and its place.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::config("experiment", e.to_string()))
    }

    /// Reads a TOML file; relative paths are taken relative to the file's folder.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file; [`Error::Config`] as [`Experiment::from_toml`], naming
    /// the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut exp = Self::from_toml(&text).map_err(|e| match e {
            Error::Config { section, reason } => Error::Config {
                section,
                reason: format!("{}: {reason}", path.display()),
            },
            other => other,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        exp.data.resolve(base);
        for init in &mut exp.init {
            if init.from.is_relative() {
                init.from = base.join(&init.from);
            }
        }
        Ok(exp)
    }

    /// The configuration as TOML text (what a run folder keeps as `experiment.toml`).
    ///
    /// # Errors
    /// [`Error::Config`] when a value has no TOML form.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| Error::config("experiment", e.to_string()))
    }

    /// Checks each section's value ranges (model, optimizer, loss terms, augmentations, early
    /// stopping, and `[data]`'s key combinations for a config built in code) and what needs
    /// more than one section: the model's input channels against `[input]`'s, the objective
    /// against the model's heads and `data.labels`, the monitored number against what the
    /// objective measures, `[[init]]` parts against the files. A [`crate::Trainer`] runs
    /// this before it makes anything; call it to learn of a problem before anything else
    /// happens. (The optimizer and the losses keep their own checks as they are built.)
    ///
    /// # Errors
    /// [`Error::Config`] naming the key.
    pub fn check(&self) -> Result<()> {
        self.objective().map(drop)
    }

    /// The experiment with its objective, once every cross-section check has passed: what
    /// a [`crate::Trainer`] is made from.
    pub(crate) fn checked(self) -> Result<Checked> {
        let objective = self.objective()?;
        Ok(Checked {
            exp: self,
            objective,
        })
    }

    /// Each section's values in range: the model's, optimizer's, loss terms' and
    /// augmentations' own checks, run here before any tensor is made, their errors named by
    /// the section.
    fn check_ranges(&self) -> Result<()> {
        self.data.check()?;
        let model = match &self.model {
            ModelConfig::Unet(u) => u.validate(),
            ModelConfig::PlainUnet(p) => p.validate(),
        };
        model.map_err(|e| Error::config("model", e.to_string()))?;
        self.optimizer
            .validate()
            .map_err(|e| Error::config("optimizer", e.to_string()))?;
        let loss = match &self.loss {
            LossConfig::Segmentation {
                loss,
                classification,
            } => loss.validate().and_then(|()| {
                classification
                    .as_ref()
                    .map_or(Ok(()), |t| t.loss().validate())
            }),
            LossConfig::Classification { loss } => loss.validate(),
            LossConfig::ReconstructImage | LossConfig::ReconstructMask => Ok(()),
        };
        loss.map_err(|e| Error::config("loss", e.to_string()))?;
        if let Augmentation::List(augment) = &self.input.augmentation {
            augment
                .validate()
                .map_err(|e| Error::config("input.augment", e.to_string()))?;
        }
        if let Some(stop) = &self.train.early_stopping {
            if !(stop.min_delta.is_finite() && stop.min_delta >= 0.0) {
                return Err(Error::config(
                    "train.early_stopping.min_delta",
                    format!("{} must be finite and >= 0", stop.min_delta),
                ));
            }
        }
        Ok(())
    }

    /// The objective, once every section's ranges and every cross-section check have passed.
    fn objective(&self) -> Result<Box<dyn Objective>> {
        self.check_ranges()?;
        let channels = self.input.channels.channels.len() as i64;
        if channels != self.model.in_channels() {
            return Err(Error::config(
                "model",
                format!(
                    "the model takes {} input channels but [input] gives {channels}",
                    self.model.in_channels()
                ),
            ));
        }
        for init in &self.init {
            if !init.parts.is_empty() && init.from.is_file() {
                return Err(Error::config(
                    "init.parts",
                    format!(
                        "{} is a weights file: `parts` needs a checkpoint folder (use `source`)",
                        init.from.display()
                    ),
                ));
            }
        }
        let objective = objective::for_experiment(self)?;
        let monitor = self.train.monitor;
        if !objective.measures(monitor) {
            return Err(Error::config(
                "train.monitor",
                format!(
                    "{} is not measured for objective {}",
                    monitor.name(),
                    self.loss.objective()
                ),
            ));
        }
        if self.train.swa && !objective.feeds_images() {
            return Err(Error::config(
                "train.swa",
                format!(
                    "the batch-norm pass of SWA feeds images; not available for {}",
                    self.loss.objective()
                ),
            ));
        }
        Ok(objective)
    }
}

/// An experiment that passed [`Experiment::check`], with the objective the check made.
pub(crate) struct Checked {
    /// The experiment.
    pub exp: Experiment,
    /// Its objective.
    pub objective: Box<dyn Objective>,
}

/// A count known to be positive at compile time (`n` > 0 in every use).
pub(crate) const fn nonzero(n: usize) -> NonZeroUsize {
    match NonZeroUsize::new(n) {
        Some(n) => n,
        None => NonZeroUsize::MIN,
    }
}

/// Reads a number that must be finite and above 0 (`deserialize_with`).
pub(crate) fn positive<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    check_positive(f64::deserialize(d)?)
}

/// [`positive`] for an optional number.
pub(crate) fn positive_option<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)?
        .map(check_positive)
        .transpose()
}

fn check_positive<E: serde::de::Error>(v: f64) -> std::result::Result<f64, E> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(E::custom(format!("{v}: expected a number > 0")))
    }
}
