//! Freezing policies: which variables stop receiving gradients.

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;

use crate::encoder::EncoderName;

/// A named part of a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Every `encoder.*` variable.
    Encoder,
    /// The encoder except its last stage (e.g. `layer4` of a ResNet, `denseblock4` + `norm5`
    /// of DenseNet121).
    EncoderButLastBlock,
    /// Every `decoder.*` variable (centre block included).
    Decoder,
    /// The pixel head (`segmentation_head.*` / `reconstruction_head.*`).
    Head,
    /// The classification head.
    Classifier,
    /// Variables whose name starts with this prefix.
    Prefix(String),
}

impl Part {
    /// Whether variable `name` belongs to this part.
    pub fn contains(&self, name: &str, encoder: EncoderName) -> bool {
        self.contains_with(name, &encoder.last_stage_prefixes())
    }

    /// [`Part::contains`] with the encoder's last-stage prefixes computed once by the caller.
    pub(crate) fn contains_with(&self, name: &str, last_stage: &[String]) -> bool {
        match self {
            Part::Encoder => name.starts_with("encoder."),
            Part::EncoderButLastBlock => name
                .strip_prefix("encoder.")
                .is_some_and(|rest| !last_stage.iter().any(|p| rest.starts_with(p.as_str()))),
            Part::Decoder => name.starts_with("decoder."),
            Part::Head => {
                name.starts_with("segmentation_head.") || name.starts_with("reconstruction_head.")
            }
            Part::Classifier => name.starts_with("classification_head."),
            Part::Prefix(p) => name.starts_with(p.as_str()),
        }
    }
}

/// What to freeze (Haghanifar et al. compare the first three).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Freeze {
    /// Everything trainable.
    #[default]
    Nothing,
    /// The whole encoder.
    Encoder,
    /// The encoder except its last stage.
    AllButLastBlock,
    /// Any set of parts.
    Parts(Vec<Part>),
}

impl Freeze {
    fn parts(&self) -> Vec<Part> {
        match self {
            Freeze::Nothing => vec![],
            Freeze::Encoder => vec![Part::Encoder],
            Freeze::AllButLastBlock => vec![Part::EncoderButLastBlock],
            Freeze::Parts(p) => p.clone(),
        }
    }
}

/// Freezing for the first epochs only (Viel & Orhan train with the decoder frozen for 3 epochs
/// before training jointly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeSchedule {
    /// What is frozen while `epoch < epochs`.
    pub freeze: Freeze,
    /// Number of epochs (counting from 0) it stays frozen.
    pub epochs: usize,
}

impl FreezeSchedule {
    /// The policy for `epoch` (0-based): `freeze` before `epochs`, nothing after.
    pub fn at(&self, epoch: usize) -> Freeze {
        if epoch < self.epochs {
            self.freeze.clone()
        } else {
            Freeze::Nothing
        }
    }
}

/// Whether `name` is a buffer (batch-norm statistics), never trained.
pub(crate) fn is_buffer(name: &str) -> bool {
    ["running_mean", "running_var", "num_batches_tracked"]
        .iter()
        .any(|b| name.ends_with(b))
}

/// Sets `requires_grad` on every parameter of `vs`: off inside the policy's parts, on
/// elsewhere. Buffers (running statistics) are left alone. Returns the number of parameters
/// frozen.
pub(crate) fn apply(vs: &VarStore, encoder: EncoderName, policy: Freeze) -> usize {
    let parts = policy.parts();
    let last_stage = encoder.last_stage_prefixes();
    let mut frozen = 0;
    for (name, var) in vs.variables() {
        if is_buffer(&name) {
            continue;
        }
        let freeze = parts.iter().any(|p| p.contains_with(&name, &last_stage));
        let _ = var.set_requires_grad(!freeze);
        frozen += usize::from(freeze);
    }
    frozen
}
