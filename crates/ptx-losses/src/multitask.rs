//! Segmentation plus image classification: `seg + lambda * BCE(cls)`.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::bce::Bce;
use crate::combined::Combined;
use crate::error::{Error, Result};
use crate::input::{check_logits, check_non_negative};

/// The multi-task loss of a U-Net with a classification head: `segmentation(masks) +
/// lambda * classification(labels)`, Viel and Orhan's `lambda_cls` (0.1 with BCE, 0.01 with
/// the Lovász loss) and Haghanifar et al.'s stage 1.
///
/// ```
/// use ptx_losses::{image_labels, Combined, MultiTask};
/// use tch::{Device, Kind, Tensor};
/// let seg_logits = Tensor::zeros([2, 1, 8, 8], (Kind::Float, Device::Cpu));
/// let masks = Tensor::zeros([2, 1, 8, 8], (Kind::Float, Device::Cpu));
/// let cls_logits = Tensor::zeros([2, 1], (Kind::Float, Device::Cpu));
/// let loss = MultiTask::viel(Combined::bce_dice(), 0.1);
/// let parts = loss.forward(&seg_logits, &masks, &cls_logits, &image_labels(&masks)?)?;
/// let ln2 = std::f64::consts::LN_2;
/// assert!((parts.total.double_value(&[]) - (ln2 + 0.1 * ln2)).abs() < 1e-6);
/// # Ok::<(), ptx_losses::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiTask {
    /// The segmentation loss.
    pub segmentation: Combined,
    /// The classification loss on the image logits.
    #[serde(default)]
    pub classification: Bce,
    /// Weight of the classification loss (>= 0).
    pub lambda: f64,
}

/// The parts of a [`MultiTask`] loss, scalar tensors.
#[derive(Debug)]
pub struct MultiTaskValue {
    /// `segmentation + lambda * classification`: the one to call `backward` on.
    pub total: Tensor,
    /// The segmentation loss.
    pub segmentation: Tensor,
    /// The classification loss, before the weight.
    pub classification: Tensor,
}

impl MultiTask {
    /// `segmentation + lambda * BCE`, e.g. `MultiTask::viel(Combined::lovasz(), 0.01)`.
    pub fn viel(segmentation: Combined, lambda: f64) -> Self {
        Self {
            segmentation,
            classification: Bce::default(),
            lambda,
        }
    }

    /// The loss of segmentation logits `(N, 1, H, W)` against masks of the same shape and of
    /// classification logits against labels of the same shape (`(N)` or `(N, 1)`; see
    /// [`image_labels`]).
    pub fn forward(
        &self,
        seg_logits: &Tensor,
        masks: &Tensor,
        cls_logits: &Tensor,
        labels: &Tensor,
    ) -> Result<MultiTaskValue> {
        check_non_negative("multitask.lambda", self.lambda)?;
        check_logits(cls_logits, "classification logits", 1)?;
        let n = seg_logits.size().first().copied().unwrap_or(0);
        if cls_logits.size().first().copied() != Some(n) {
            return Err(Error::ShapeMismatch {
                what: "classification logits (one row per image)",
                expected: vec![n],
                found: cls_logits.size(),
            });
        }
        let segmentation = self.segmentation.forward(seg_logits, masks)?;
        let classification = self.classification.forward(cls_logits, labels)?;
        if classification.dim() != 0 {
            return Err(Error::BadCombination(
                "the classification loss has reduction \"none\"; it must be a scalar".into(),
            ));
        }
        let total = &segmentation + &classification * self.lambda;
        Ok(MultiTaskValue {
            total,
            segmentation,
            classification,
        })
    }
}

/// Image labels from masks `(N, ...)`: `(N, 1)` in the masks' floating kind (float for
/// integer masks), 1 where the image has a pixel > 0.5.
pub fn image_labels(masks: &Tensor) -> Result<Tensor> {
    if masks.dim() < 2 || masks.numel() == 0 {
        return Err(Error::BadShape {
            what: "masks",
            shape: masks.size(),
            reason: "needs a batch dimension and pixels: (N, ...)",
        });
    }
    let kind = if masks.is_floating_point() {
        masks.kind()
    } else {
        Kind::Float
    };
    let n = masks.size()[0];
    Ok(masks
        .reshape([n, -1])
        .to_kind(kind)
        .gt(0.5)
        .any_dim(1, true)
        .to_kind(kind))
}
