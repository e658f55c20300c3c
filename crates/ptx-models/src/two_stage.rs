//! The two-stage system of Haghanifar et al.: a classifier decides which images contain a
//! pneumothorax, a segmenter draws it on those only.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::model::Model;
use crate::{Error, Result};

/// How the first stage scores an image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    /// Sigmoid of the classification head's first logit (stage 1 is a U-Net with a classifier).
    #[default]
    Label,
    /// Largest pixel probability of the classifier model's segmentation output.
    MaxPixel,
}

/// Options of [`TwoStage`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwoStageOptions {
    /// Images scoring at least this are segmented. Default 0.5.
    pub threshold: f64,
    /// Pixel probability at or above which a pixel is in the mask. Default 0.5.
    pub mask_threshold: f64,
    /// Images per forward pass. Default 8.
    pub batch_size: usize,
    /// How stage 1 scores. Default the classification head.
    pub score: ScoreSource,
}

impl Default for TwoStageOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            mask_threshold: 0.5,
            batch_size: 8,
            score: ScoreSource::Label,
        }
    }
}

/// What [`TwoStage::predict`] returns for a batch of N images.
#[derive(Debug)]
pub struct TwoStageOutput {
    /// Stage-1 probability per image, `N` values in `[0, 1]`.
    pub scores: Vec<f64>,
    /// Whether each image went to stage 2.
    pub positive: Vec<bool>,
    /// Stage-2 pixel probabilities `(N, 1, H, W)` float32; zero for negative images.
    pub probabilities: Tensor,
    /// Binary masks `(N, 1, H, W)` uint8 (0/1); empty for negative images.
    pub masks: Tensor,
}

/// A classifier model and a segmenter model run as one system (in eval mode, no gradients).
#[derive(Debug)]
pub struct TwoStage {
    /// Stage 1.
    pub classifier: Model,
    /// Stage 2.
    pub segmenter: Model,
    /// Thresholds and batching.
    pub options: TwoStageOptions,
}

impl TwoStage {
    /// Combines two models; errors when their input channels differ, when the classifier has no
    /// classification head and the score source needs one, or on options out of range.
    pub fn new(classifier: Model, segmenter: Model, options: TwoStageOptions) -> Result<Self> {
        let (a, b) = (
            classifier.config().in_channels(),
            segmenter.config().in_channels(),
        );
        if a != b {
            return Err(Error::config(
                "segmenter.in_channels",
                b,
                format!("differs from the classifier's {a}"),
            ));
        }
        let has_head = classifier
            .unet()
            .is_some_and(|u| u.config().classifier.is_some());
        if options.score == ScoreSource::Label && !has_head {
            return Err(Error::config(
                "score",
                "label",
                "the classifier model has no classification head (use max_pixel or add one)",
            ));
        }
        if options.batch_size == 0 {
            return Err(Error::config("batch_size", 0, "must be at least 1"));
        }
        for (name, v) in [
            ("threshold", options.threshold),
            ("mask_threshold", options.mask_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::config(name, v, "must be in [0, 1]"));
            }
        }
        Ok(Self {
            classifier,
            segmenter,
            options,
        })
    }

    /// Stage-1 probabilities of `(N, C, H, W)` images.
    pub fn scores(&self, images: &Tensor) -> Result<Vec<f64>> {
        let mut scores = Vec::new();
        for batch in images.split(self.options.batch_size as i64, 0) {
            let out = tch::no_grad(|| self.classifier.forward_t(&batch, false))?;
            let s = match (self.options.score, out.labels) {
                (ScoreSource::Label, Some(l)) => l.select(1, 0).sigmoid(),
                _ => out
                    .logits
                    .sigmoid()
                    .flatten(1, -1)
                    .amax([1].as_slice(), false),
            };
            scores.extend(Vec::<f64>::try_from(
                s.to_kind(Kind::Double).to_device(tch::Device::Cpu),
            )?);
        }
        Ok(scores)
    }

    /// Runs both stages on `(N, C, H, W)` images; only positives reach the segmenter.
    pub fn predict(&self, images: &Tensor) -> Result<TwoStageOutput> {
        let size = images.size();
        if size.len() != 4 {
            return Err(Error::InputShape {
                expected: "(N, C, H, W)".into(),
                found: size,
            });
        }
        let scores = self.scores(images)?;
        let positive: Vec<bool> = scores
            .iter()
            .map(|&s| s >= self.options.threshold)
            .collect();
        let (n, h, w) = (size[0], size[2], size[3]);
        let mut probabilities = Tensor::zeros([n, 1, h, w], (Kind::Float, images.device()));
        let chosen: Vec<i64> = (0..n).filter(|&i| positive[i as usize]).collect();
        for ids in chosen.chunks(self.options.batch_size) {
            let index = Tensor::from_slice(ids).to_device(images.device());
            let batch = images.index_select(0, &index);
            let out = tch::no_grad(|| self.segmenter.forward_t(&batch, false))?;
            let p = out.logits.narrow(1, 0, 1).sigmoid().to_kind(Kind::Float);
            let _ = tch::no_grad(|| probabilities.index_copy_(0, &index, &p));
        }
        let masks = probabilities
            .ge(self.options.mask_threshold)
            .to_kind(Kind::Uint8);
        Ok(TwoStageOutput {
            scores,
            positive,
            probabilities,
            masks,
        })
    }
}
