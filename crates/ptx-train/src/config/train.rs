//! `[train]`: epochs, batches, device and the loop's options.

use std::num::NonZeroUsize;

use ptx_models::FreezeSchedule;
use serde::{Deserialize, Serialize};

use super::nonzero;
use crate::stopping::Goal;
use crate::{Error, Result};

/// The training loop's options. Every key has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// Epochs. Default 10.
    pub epochs: NonZeroUsize,
    /// Images per batch. Default 8.
    pub batch_size: NonZeroUsize,
    /// Loader threads (0: one per core). Default 0.
    pub loader_threads: usize,
    /// libtorch's intra-op threads (0: libtorch's default). Default 0.
    pub torch_threads: usize,
    /// The device. Default auto.
    pub device: DeviceChoice,
    /// Clip the gradients' global L2 norm to this value (> 0). Default none.
    #[serde(deserialize_with = "super::positive_option")]
    pub clip_grad_norm: Option<f64>,
    /// Freeze parts of the model for the first epochs. Default none.
    pub freeze: Option<FreezeSchedule>,
    /// The number that ranks epochs. Default `val_dice`.
    pub monitor: Monitor,
    /// Stop early when the monitored number stops improving. Default none.
    pub early_stopping: Option<EarlyStop>,
    /// Checkpoints kept besides the last one: the best `keep_best` by `monitor`. Default 1.
    pub keep_best: NonZeroUsize,
    /// The model a run ends with: the best epoch by `monitor` (default), or the last epoch
    /// (the papers that train a fixed number of epochs and choose nothing on the data they
    /// report).
    pub select: Select,
    /// After training, average the weights of the kept best checkpoints (stochastic weight
    /// averaging) and recompute batch-norm statistics on the training images. Default false.
    pub swa: bool,
    /// Mixed precision: libtorch's CUDA autocast around the forward pass (its default
    /// reduced type, float16). Ignored on the CPU. Default false.
    pub autocast: bool,
    /// Channels-last memory format for the model and its inputs. Default false.
    pub channels_last: bool,
    /// Validation images shown in the montage (`montage.png`). Default 16.
    pub montage: usize,
    /// Draw progress bars on a terminal. Default true.
    pub progress: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: nonzero(10),
            batch_size: nonzero(8),
            loader_threads: 0,
            torch_threads: 0,
            device: DeviceChoice::default(),
            clip_grad_norm: None,
            freeze: None,
            monitor: Monitor::default(),
            early_stopping: None,
            keep_best: nonzero(1),
            select: Select::Best,
            swa: false,
            autocast: false,
            channels_last: false,
            montage: 16,
            progress: true,
        }
    }
}

/// Which epoch's model a run ends with (unless SWA averages the best ones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// The best epoch by `train.monitor` (the last one when no epoch had a finite number).
    #[default]
    Best,
    /// The last epoch.
    Last,
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
            Monitor::ValDice | Monitor::ValF2 | Monitor::ValAuc | Monitor::ValAccuracy => {
                Goal::Maximize
            }
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
#[serde(default, deny_unknown_fields)]
pub struct EarlyStop {
    /// Epochs without improvement before stopping. Default 5.
    pub patience: usize,
    /// The smallest change that counts as an improvement. Default 0.001.
    pub min_delta: f64,
}

impl Default for EarlyStop {
    fn default() -> Self {
        Self {
            patience: 5,
            min_delta: 0.001,
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

/// A device name that is not `auto`, `cpu`, `cuda` or `cuda:N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("device `{0}`: expected auto, cpu, cuda or cuda:N")]
pub struct UnknownDevice(pub String);

impl TryFrom<String> for DeviceChoice {
    type Error = UnknownDevice;
    fn try_from(s: String) -> Result<Self, UnknownDevice> {
        s.parse()
    }
}

impl From<DeviceChoice> for String {
    fn from(d: DeviceChoice) -> String {
        d.to_string()
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = UnknownDevice;
    fn from_str(s: &str) -> Result<Self, UnknownDevice> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|i| i.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| UnknownDevice(other.to_owned())),
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
