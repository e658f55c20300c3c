//! Experiment configurations: everything a training run needs, read from TOML.
//!
//! ```toml
//! name = "stage1"
//! seed = 7
//!
//! [data]
//! images = "synthetic/dicom-images-train"   # relative paths are relative to this file
//! annotations = "synthetic/train-rle.csv"
//! folds = 5
//! validation_fold = 0
//!
//! [input]
//! size = [256, 256]
//! preset = "viel"                             # or [input.augment] with a transform list
//!
//! [model]
//! arch = "unet"
//! encoder = "resnet18"
//! classifier = { pooling = "avg" }
//!
//! [loss]
//! classification_weight = 0.5
//!
//! [optimizer]
//! kind = "adam"
//! lr = 3e-4
//!
//! [schedule]
//! kind = "cosine"
//! epochs = 20
//!
//! [train]
//! epochs = 20
//! batch_size = 8
//! monitor = "val_dice"
//! ```
//!
//! Every section and key has a default except `[data]`'s `images` and one of `annotations` /
//! `masks`; a key that is not recognised is an error naming it (and where it is).

use std::path::{Path, PathBuf};

use ptx_io::rle::RleForm;
use ptx_losses::{Bce, Combined};
use ptx_models::{FreezeSchedule, ModelConfig, Part, Task, WeightSource};
use ptx_preproc::{Augment, ChannelStack, Normalize, OnError, Pipeline, Preset};
use serde::{Deserialize, Serialize};

use crate::optim::OptimizerConfig;
use crate::schedule::ScheduleConfig;
use crate::stopping::Goal;
use crate::{Error, Result};

/// One training run (see the [module docs](self) for the TOML form).
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
    /// Where the images and annotations are.
    pub data: DataConfig,
    /// Input size, channels, normalisation and augmentation.
    #[serde(default)]
    pub input: InputConfig,
    /// The network.
    #[serde(default)]
    pub model: ModelConfig,
    /// The loss.
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

/// Initial weights: a checkpoint folder or a weights file, whole or in parts.
///
/// ```toml
/// [[init]]                       # encoder and decoder of an X-ray auto-encoder
/// from = "runs/ae-xray/checkpoints/epoch-0012"
/// parts = ["encoder", "decoder"]
///
/// [[init]]                       # ImageNet weights of a torchvision classifier
/// from = "resnet34-333f7ec4.pth"
/// source = "classifier"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitFrom {
    /// A checkpoint folder (`config.json` + `model.safetensors`: a run's
    /// `checkpoints/epoch-NNNN`, `swa`, or a saved [`ptx_models::Model`]) or a weights file
    /// (`.safetensors`, `.pth`). A path that does not exist is an error. Relative paths are
    /// relative to the experiment file.
    pub from: PathBuf,
    /// The parts copied from a checkpoint folder (their variables must exist there with the
    /// same shapes); empty copies every variable. Not allowed with a weights file (use
    /// `source`). Default empty.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// How a weights file's names map onto the model ([`WeightSource`]): `classifier` puts an
    /// ImageNet / CheXNet classifier into the encoder. Default auto.
    #[serde(default)]
    pub source: WeightSource,
    /// A weights file with missing or unexpected keys is an error (shape mismatches always
    /// are). Default true.
    #[serde(default = "default_true")]
    pub strict: bool,
}

impl InitFrom {
    /// `parts` select variables of a checkpoint folder: with an existing weights file they
    /// are an error (a path that does not exist is reported when the run starts).
    pub(crate) fn check_parts(&self) -> Result<()> {
        if !self.parts.is_empty() && self.from.is_file() {
            return Err(Error::config(
                "init.parts",
                format!(
                    "{} is a weights file: `parts` needs a checkpoint folder (use `source`)",
                    self.from.display()
                ),
            ));
        }
        Ok(())
    }
}

/// What the network learns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Image -> mask with `loss.segmentation` (plus the classification term when
    /// `classification_weight` > 0).
    #[default]
    Segmentation,
    /// Auto-encoder: image -> the same image, mean squared error (Shannak et al.). The model
    /// needs `task = "reconstruction"` and as many classes as input channels.
    ReconstructImage,
    /// Auto-encoder on the masks: mask -> mask, mean squared error (Shannak et al.'s mask
    /// auto-encoder). The model needs `task = "reconstruction"`, 1 input channel and 1 class.
    ReconstructMask,
    /// Image classification with the classifier head only (`loss.classification`; the
    /// pixel head is not trained): the label is `data.labels`' class when given, else
    /// whether the mask has a pixel. One classifier class: binary cross-entropy; more:
    /// cross-entropy over the classes (Harmalkar et al.'s pre-training).
    Classification,
}

/// Which training images an epoch visits (the validation images are never resampled).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sampling {
    /// Every image once, shuffled.
    #[default]
    All,
    /// Every image once and every positive `copies` times in all (Shannak et al. triple the
    /// positives), shuffled.
    OversamplePositives {
        /// Copies of each positive image per epoch (3 in the paper).
        copies: usize,
    },
    /// All positives and `ratio` times as many negatives, drawn afresh each epoch (Dasic et
    /// al.'s majority-class undersampling; 1.0 = balanced).
    UndersampleNegatives {
        /// Negatives per positive.
        ratio: f64,
    },
    /// As many draws as images, with replacement, each class with the same total weight
    /// (PyTorch's `WeightedRandomSampler` as Harmalkar et al. use it).
    ClassBalanced,
}

fn default_name() -> String {
    "experiment".into()
}

/// The data of a run: a SIIM DICOM tree with an annotation CSV, or PNG images with PNG masks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The DICOM tree (`dicom-images-train`) or the folder of PNG images.
    pub images: PathBuf,
    /// The annotation CSV (`ImageId,EncodedPixels`), for DICOM trees.
    #[serde(default)]
    pub annotations: Option<PathBuf>,
    /// The folder of PNG masks named as the images, instead of `annotations`.
    #[serde(default)]
    pub masks: Option<PathBuf>,
    /// The run-length form of `annotations`. Default relative (the challenge's
    /// `train-rle.csv`).
    #[serde(default)]
    pub rle: RleForm,
    /// Number of stratified folds. Default 5.
    #[serde(default = "default_folds")]
    pub folds: usize,
    /// The fold held out for validation. Default 0.
    #[serde(default)]
    pub validation_fold: usize,
    /// Train and validate on positive images only (the two-stage system's segmenter).
    #[serde(default)]
    pub positives_only: bool,
    /// A file that fails to decode: `skip` it (counted in the log, a warning) or `fail` the
    /// run. Default skip.
    #[serde(default = "default_on_error")]
    pub on_error: OnError,
    /// Image classes for `loss.objective = "classification"`: a CSV with a header and rows
    /// `ImageId,class` (class 0, 1, ...), e.g. pseudo-labels from clustering. Every image
    /// needs a row. Default none (the class is whether the mask has a pixel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    /// Which training images each epoch visits. Default all.
    #[serde(default)]
    pub sampling: Sampling,
    /// Folds from a CSV (`ImageId,label,fold`, as `ptx index` writes) instead of the seeded
    /// stratified split, e.g. to keep all patches of one image in one fold. Every image needs
    /// a row and every fold must be below `folds`. Default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds_file: Option<PathBuf>,
}

fn default_folds() -> usize {
    5
}

fn default_on_error() -> OnError {
    OnError::Skip
}

/// What the network sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// `[height, width]` the images are resized to. Default `[512, 512]`.
    #[serde(default = "default_size")]
    pub size: [usize; 2],
    /// The input channels (raw + AHE + CLAHE by default).
    #[serde(default)]
    pub channels: ChannelStack,
    /// The normalisation (to [0, 1] by default).
    #[serde(default)]
    pub normalize: Normalize,
    /// A paper's augmentation list by name. Default none.
    #[serde(default = "default_preset")]
    pub preset: Preset,
    /// An explicit augmentation list, instead of `preset`.
    #[serde(default)]
    pub augment: Option<Augment>,
}

fn default_size() -> [usize; 2] {
    [512, 512]
}

fn default_preset() -> Preset {
    Preset::None
}

impl Default for InputConfig {
    fn default() -> Self {
        Self {
            size: default_size(),
            channels: ChannelStack::default(),
            normalize: Normalize::default(),
            preset: default_preset(),
            augment: None,
        }
    }
}

impl InputConfig {
    /// The training pipeline (with augmentation).
    ///
    /// # Errors
    /// [`Error::Config`] when both `preset` and `augment` are given.
    pub fn train_pipeline(&self) -> Result<Pipeline> {
        let augment = match (&self.augment, self.preset) {
            (Some(_), p) if p != Preset::None => {
                return Err(Error::config(
                    "input",
                    "give `preset` or `augment`, not both",
                ))
            }
            (Some(a), _) => a.clone(),
            (None, p) => p.augment(),
        };
        Ok(Pipeline {
            augment,
            ..self.eval_pipeline()
        })
    }

    /// The validation and inference pipeline (no augmentation).
    pub fn eval_pipeline(&self) -> Pipeline {
        Pipeline {
            size: Some((self.size[0], self.size[1])),
            augment: Augment::default(),
            channels: self.channels.clone(),
            normalize: self.normalize.clone(),
        }
    }
}

/// The loss: a segmentation loss, plus a classification loss when the model has a classifier
/// head and `classification_weight` > 0 (the multi-task form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossConfig {
    /// The segmentation loss. Default BCE + Dice.
    #[serde(default = "Combined::bce_dice")]
    pub segmentation: Combined,
    /// The classification loss on the image label (a mask with any pixel is positive).
    /// Default BCE.
    #[serde(default)]
    pub classification: Bce,
    /// Weight of the classification loss (lambda); 0 trains the classifier head not at all.
    /// Default 0.
    #[serde(default)]
    pub classification_weight: f64,
    /// What the network learns. Default segmentation.
    #[serde(default)]
    pub objective: Objective,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            segmentation: Combined::bce_dice(),
            classification: Bce::default(),
            classification_weight: 0.0,
            objective: Objective::Segmentation,
        }
    }
}

/// The validation number that picks the best checkpoints and drives early stopping and
/// reduce-on-plateau.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// The loss on the validation images (lower is better).
    ValLoss,
    /// The challenge's mean Dice at a 0.5 pixel threshold (higher is better).
    #[default]
    ValDice,
    /// The best image-level F2 over classifier thresholds (higher is better).
    ValF2,
    /// The image-level ROC AUC of the classifier (higher is better).
    ValAuc,
    /// The image-level accuracy (higher is better): the classifier's probability at 0.5
    /// (its arg-max with several classes), or whether any pixel reaches 0.5 without a
    /// classifier.
    ValAccuracy,
}

impl Monitor {
    /// Whether lower or higher is better.
    pub fn goal(self) -> Goal {
        match self {
            Monitor::ValLoss => Goal::Minimize,
            _ => Goal::Maximize,
        }
    }

    /// The column name in the epoch log.
    pub fn name(self) -> &'static str {
        match self {
            Monitor::ValLoss => "val_loss",
            Monitor::ValDice => "val_dice",
            Monitor::ValF2 => "val_f2",
            Monitor::ValAuc => "val_auc",
            Monitor::ValAccuracy => "val_accuracy",
        }
    }
}

/// Early stopping on the monitored number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStop {
    /// Epochs without improvement before stopping. Default 5.
    #[serde(default = "default_patience")]
    pub patience: usize,
    /// The smallest change that counts as an improvement. Default 0.001.
    #[serde(default = "default_min_delta")]
    pub min_delta: f64,
}

fn default_patience() -> usize {
    5
}

fn default_min_delta() -> f64 {
    0.001
}

impl Default for EarlyStop {
    fn default() -> Self {
        Self {
            patience: default_patience(),
            min_delta: default_min_delta(),
        }
    }
}

/// Where tensors live: `cpu`, `cuda`, `cuda:N`, or `auto` (CUDA when available).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String", into = "String")]
pub enum DeviceChoice {
    /// CUDA device 0 when libtorch has CUDA, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// A CUDA device.
    Cuda(usize),
}

impl TryFrom<String> for DeviceChoice {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<DeviceChoice> for String {
    fn from(d: DeviceChoice) -> String {
        d.to_string()
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|i| i.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| format!("device `{other}`: expected auto, cpu, cuda or cuda:N")),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl DeviceChoice {
    /// The libtorch device.
    ///
    /// # Errors
    /// [`Error::Config`] for a CUDA device this libtorch does not have.
    pub fn device(self) -> Result<tch::Device> {
        match self {
            DeviceChoice::Auto => Ok(tch::Device::cuda_if_available()),
            DeviceChoice::Cpu => Ok(tch::Device::Cpu),
            DeviceChoice::Cuda(i) if (i as i64) < tch::Cuda::device_count() => {
                Ok(tch::Device::Cuda(i))
            }
            DeviceChoice::Cuda(i) => Err(Error::config(
                "train.device",
                format!(
                    "cuda:{i} requested but libtorch sees {} CUDA device(s)",
                    tch::Cuda::device_count()
                ),
            )),
        }
    }
}

/// The training loop's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainOptions {
    /// Epochs. Default 10.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Images per batch. Default 8.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Loader threads (0: one per core). Default 0.
    #[serde(default)]
    pub loader_threads: usize,
    /// libtorch's intra-op threads (0: libtorch's default). Default 0.
    #[serde(default)]
    pub torch_threads: usize,
    /// The device. Default auto.
    #[serde(default)]
    pub device: DeviceChoice,
    /// Clip the gradients' global L2 norm to this value. Default none.
    #[serde(default)]
    pub clip_grad_norm: Option<f64>,
    /// Freeze parts of the model for the first epochs. Default none.
    #[serde(default)]
    pub freeze: Option<FreezeSchedule>,
    /// The number that ranks epochs. Default `val_dice`.
    #[serde(default)]
    pub monitor: Monitor,
    /// Stop early when the monitored number stops improving. Default none.
    #[serde(default)]
    pub early_stopping: Option<EarlyStop>,
    /// Checkpoints kept besides the last one: the best `keep_best` by `monitor`. Default 1.
    #[serde(default = "default_keep_best")]
    pub keep_best: usize,
    /// After training, average the weights of the kept best checkpoints (stochastic weight
    /// averaging) and recompute batch-norm statistics on the training images. Default false.
    #[serde(default)]
    pub swa: bool,
    /// Mixed precision: libtorch's CUDA autocast around the forward pass (its default
    /// reduced type, float16). Ignored on the CPU. Default false.
    #[serde(default)]
    pub autocast: bool,
    /// Channels-last memory format for the model and its inputs. Default false.
    #[serde(default)]
    pub channels_last: bool,
    /// Validation images shown in the montage (`montage.png`). Default 16.
    #[serde(default = "default_montage")]
    pub montage: usize,
    /// Draw progress bars on a terminal. Default true.
    #[serde(default = "default_true")]
    pub progress: bool,
}

fn default_epochs() -> usize {
    10
}

fn default_batch_size() -> usize {
    8
}

fn default_keep_best() -> usize {
    1
}

fn default_montage() -> usize {
    16
}

fn default_true() -> bool {
    true
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: default_epochs(),
            batch_size: default_batch_size(),
            loader_threads: 0,
            torch_threads: 0,
            device: DeviceChoice::default(),
            clip_grad_norm: None,
            freeze: None,
            monitor: Monitor::default(),
            early_stopping: None,
            keep_best: default_keep_best(),
            swa: false,
            autocast: false,
            channels_last: false,
            montage: default_montage(),
            progress: true,
        }
    }
}

impl Experiment {
    /// Parses TOML; relative data paths stay relative (see [`Experiment::from_file`]).
    ///
    /// # Errors
    /// [`Error::Config`] naming the unknown key or bad value and its place.
    pub fn from_toml(text: &str) -> Result<Self> {
        let exp: Experiment =
            toml::from_str(text).map_err(|e| Error::config("experiment", e.to_string()))?;
        exp.validate()?;
        Ok(exp)
    }

    /// Reads a TOML file; relative data paths are taken relative to the file's folder.
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

    /// Checks the values serde cannot.
    ///
    /// # Errors
    /// [`Error::Config`] naming the option.
    pub fn validate(&self) -> Result<()> {
        let d = &self.data;
        if d.annotations.is_some() == d.masks.is_some() {
            return Err(Error::config(
                "data",
                "give exactly one of `annotations` (a CSV, with a DICOM tree) or `masks` (a PNG folder)",
            ));
        }
        if d.folds < 2 {
            return Err(Error::config("data.folds", "at least 2 (one is held out)"));
        }
        if d.validation_fold >= d.folds {
            return Err(Error::config(
                "data.validation_fold",
                format!("{} is not below folds = {}", d.validation_fold, d.folds),
            ));
        }
        if self.input.size.contains(&0) {
            return Err(Error::config("input.size", "sizes must be positive"));
        }
        let t = &self.train;
        if t.epochs == 0 || t.batch_size == 0 || t.keep_best == 0 {
            return Err(Error::config(
                "train",
                "epochs, batch_size and keep_best must be at least 1",
            ));
        }
        if self.loss.classification_weight.is_nan() || self.loss.classification_weight < 0.0 {
            return Err(Error::config(
                "loss.classification_weight",
                "must be a number >= 0",
            ));
        }
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
        self.validate_objective()?;
        for init in &self.init {
            init.check_parts()?;
        }
        if let Sampling::OversamplePositives { copies: 0 } = self.data.sampling {
            return Err(Error::config("data.sampling.copies", "must be at least 1"));
        }
        if let Sampling::UndersampleNegatives { ratio } = self.data.sampling {
            if !(ratio.is_finite() && ratio > 0.0) {
                return Err(Error::config("data.sampling.ratio", "must be a number > 0"));
            }
        }
        self.input.train_pipeline().map(drop)
    }

    /// The model's pixel-head task, its classes, and the classifier's classes (0 without a
    /// classifier).
    pub(crate) fn head(&self) -> (Task, i64, i64) {
        match &self.model {
            ModelConfig::Unet(u) => (
                u.task,
                u.classes,
                u.classifier.as_ref().map_or(0, |c| c.classes),
            ),
            ModelConfig::PlainUnet(p) => (p.task, p.classes, 0),
        }
    }

    fn validate_objective(&self) -> Result<()> {
        let (task, classes, classifier) = self.head();
        let objective = self.loss.objective;
        let monitor = self.train.monitor;
        let reconstruct = matches!(
            objective,
            Objective::ReconstructImage | Objective::ReconstructMask
        );
        if reconstruct != (task == Task::Reconstruction) {
            return Err(Error::config(
                "loss.objective",
                format!("{objective:?} does not go with the model's task {task:?} (reconstruction objectives need task = \"reconstruction\", and only they)"),
            ));
        }
        match objective {
            Objective::Segmentation => {}
            Objective::ReconstructImage if classes != self.model.in_channels() => {
                return Err(Error::config(
                    "model.classes",
                    format!(
                        "reconstructing the image needs as many output classes as input channels ({})",
                        self.model.in_channels()
                    ),
                ))
            }
            Objective::ReconstructMask if classes != 1 || self.model.in_channels() != 1 => {
                return Err(Error::config(
                    "model",
                    "reconstructing the mask needs in_channels = 1 and classes = 1",
                ))
            }
            Objective::Classification if classifier == 0 => {
                return Err(Error::config(
                    "loss.objective",
                    "classification needs a classifier head ([model.classifier])",
                ))
            }
            _ => {}
        }
        let allowed = match objective {
            Objective::Segmentation => true,
            Objective::Classification => {
                matches!(monitor, Monitor::ValLoss | Monitor::ValAccuracy)
                    || (classifier == 1 && self.data.labels.is_none())
            }
            _ => monitor == Monitor::ValLoss,
        };
        if !allowed {
            return Err(Error::config(
                "train.monitor",
                format!(
                    "{} is not measured for objective {objective:?}",
                    monitor.name()
                ),
            ));
        }
        if self.data.labels.is_some() && objective != Objective::Classification {
            return Err(Error::config(
                "data.labels",
                "class labels are used by objective = \"classification\" only",
            ));
        }
        if objective == Objective::ReconstructMask && self.train.swa {
            return Err(Error::config(
                "train.swa",
                "the batch-norm pass of SWA feeds images; not available for reconstruct_mask",
            ));
        }
        Ok(())
    }
}

impl DataConfig {
    /// Makes relative paths relative to `base`.
    pub fn resolve(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.images);
        if let Some(a) = self.annotations.as_mut() {
            join(a);
        }
        if let Some(m) = self.masks.as_mut() {
            join(m);
        }
        if let Some(l) = self.labels.as_mut() {
            join(l);
        }
        if let Some(f) = self.folds_file.as_mut() {
            join(f);
        }
    }
}
