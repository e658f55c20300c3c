//! `[[init]]`: the weights a fresh run starts from.

use std::path::PathBuf;

use ptx_models::{Part, WeightSource};
use serde::{Deserialize, Serialize};

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
    /// `checkpoints/epoch-NNNN`, `swa`, or a saved [`ptx_models::Model`]), a training run's
    /// folder (its final model: SWA, else as `train.select` says), or a weights file
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
    #[serde(default = "yes")]
    pub strict: bool,
}

fn yes() -> bool {
    true
}

impl InitFrom {
    /// The whole of a checkpoint folder or weights file (`source` auto, strict).
    pub fn new(from: impl Into<PathBuf>) -> Self {
        Self {
            from: from.into(),
            parts: Vec::new(),
            source: WeightSource::Auto,
            strict: true,
        }
    }
}
