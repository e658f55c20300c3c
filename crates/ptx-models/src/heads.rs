//! Heads: segmentation logits, image-level classification, reconstruction.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Path};
use tch::Tensor;

use crate::layers::conv2d;

/// Global pooling of the classification head.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Average pooling (smp's default).
    #[default]
    Avg,
    /// Max pooling.
    Max,
    /// Average and max pooling concatenated (twice the channels), as Haghanifar et al.
    AvgMax,
}

/// Where the classification head reads its features.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassifierInput {
    /// The encoder's deepest map (smp's `aux_params`).
    #[default]
    Encoder,
    /// The centre block's output (Viel & Orhan: the branch after the centre block).
    Center,
}

/// The auxiliary image-level classifier: pool, flatten, dropout, linear. Keys as smp's
/// `ClassificationHead`: `classification_head.3.{weight,bias}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierOptions {
    /// Output classes (logits). Default 1.
    pub classes: i64,
    /// Pooling. Default average.
    pub pooling: Pooling,
    /// Dropout before the linear layer (training only). Default 0.2 (smp's).
    pub dropout: f64,
    /// Which features feed it. Default the encoder's deepest map.
    pub input: ClassifierInput,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        Self {
            classes: 1,
            pooling: Pooling::Avg,
            dropout: 0.2,
            input: ClassifierInput::Encoder,
        }
    }
}

#[derive(Debug)]
pub(crate) struct ClassificationHead {
    linear: nn::Linear,
    pooling: Pooling,
    dropout: f64,
    input: ClassifierInput,
}

impl ClassificationHead {
    pub(crate) fn new(p: Path<'_>, cin: i64, opts: &ClassifierOptions) -> Self {
        let features = if opts.pooling == Pooling::AvgMax {
            2 * cin
        } else {
            cin
        };
        Self {
            linear: nn::linear(&p / "3", features, opts.classes, Default::default()),
            pooling: opts.pooling,
            dropout: opts.dropout,
            input: opts.input,
        }
    }

    /// Which features it reads.
    pub(crate) fn input(&self) -> ClassifierInput {
        self.input
    }

    /// `(N, C, H, W)` -> `(N, classes)` logits.
    pub(crate) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let avg = || xs.adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        let max = || xs.adaptive_max_pool2d([1, 1]).0.flatten(1, -1);
        let pooled = match self.pooling {
            Pooling::Avg => avg(),
            Pooling::Max => max(),
            Pooling::AvgMax => Tensor::cat(&[avg(), max()], 1),
        };
        pooled.dropout(self.dropout, train).apply(&self.linear)
    }
}

/// smp's `SegmentationHead`: a 3x3 convolution to the output channels (`0.weight`, `0.bias`).
#[derive(Debug)]
pub(crate) struct ConvHead {
    conv: nn::Conv2D,
}

impl ConvHead {
    pub(crate) fn new(p: Path<'_>, cin: i64, cout: i64) -> Self {
        Self {
            conv: conv2d(&p / "0", cin, cout, 3, 1, 1, 1, true),
        }
    }

    pub(crate) fn forward(&self, xs: &Tensor) -> Tensor {
        xs.apply(&self.conv)
    }
}
