//! Binary cross-entropy on logits, with per-pixel weights, `pos_weight`, class weights and
//! label smoothing.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::input::{check_non_negative, check_range, scalar_like, targets_like, weights_like};
use crate::reduction::Reduction;

/// Weights of the two classes, applied per pixel as `positive * t + negative * (1 - t)` from
/// the target `t` (before any label smoothing).
///
/// Haghanifar et al. weight the binary cross-entropy with "class weight 0.01" to offset
/// the ~1% of positive pixels; [`ClassWeights::haghanifar`] reads that as a background weight
/// of 0.01 against 1 for the pneumothorax, which equals `pos_weight = 100` divided by 100.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassWeights {
    /// Weight of pixels whose target is 1.
    pub positive: f64,
    /// Weight of pixels whose target is 0.
    pub negative: f64,
}

impl ClassWeights {
    /// Background 0.01, pneumothorax 1 (Haghanifar et al.).
    pub fn haghanifar() -> Self {
        Self {
            positive: 1.0,
            negative: 0.01,
        }
    }
}

/// Binary cross-entropy with logits, PyTorch's `binary_cross_entropy_with_logits` (the
/// stable form `max(x, 0) - x t + log(1 + exp(-|x|))`, computed by libtorch's fused kernel)
/// with the options of segmentation_models_pytorch's `SoftBCEWithLogitsLoss`.
///
/// Takes **logits** of any shape (at least one dimension) and targets in [0, 1] of the same
/// shape (any numeric kind; converted to the logits' kind). The default is plain mean BCE.
///
/// ```
/// use ptx_losses::{Bce, Reduction};
/// use tch::Tensor;
/// let logits = Tensor::from_slice(&[2.0f32, -1.0, 0.5, -3.0]).reshape([1, 1, 2, 2]);
/// let targets = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 0.0]).reshape([1, 1, 2, 2]);
/// let loss = Bce::default().forward(&logits, &targets)?;
/// // torch.nn.functional.binary_cross_entropy_with_logits(logits, targets) = 0.240714
/// assert!((loss.double_value(&[]) - 0.240714).abs() < 1e-6);
/// let weighted = Bce { pos_weight: Some(10.0), reduction: Reduction::Sum, ..Bce::default() };
/// assert!(weighted.forward(&logits, &targets)?.double_value(&[]) > loss.double_value(&[]));
/// # Ok::<(), ptx_losses::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bce {
    /// Weight of the positive term, `-pos_weight * t * log(sigmoid(x))` (PyTorch's
    /// `pos_weight`); `None` = 1.
    pub pos_weight: Option<f64>,
    /// Per-class pixel weights; `None` = 1 for both.
    pub class_weights: Option<ClassWeights>,
    /// Label smoothing `s` in [0, 1): targets become `(1 - t) s + t (1 - s)`, as
    /// segmentation_models_pytorch's `smooth_factor`. 0 = off.
    pub label_smoothing: f64,
    /// Reduction over pixels.
    pub reduction: Reduction,
}

impl Bce {
    /// The loss of `logits` against `targets` (same shape).
    pub fn forward(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        self.compute(logits, targets, None)
    }

    /// The loss with per-pixel `weights`, which must broadcast to the logits' shape (e.g.
    /// `[N, 1, H, W]` or `[H, W]`). They multiply the class weights when both are set; the
    /// mean divides by the number of pixels, as PyTorch's `weight=`.
    pub fn forward_weighted(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        weights: &Tensor,
    ) -> Result<Tensor> {
        self.compute(logits, targets, Some(weights))
    }

    /// Checks the options' ranges.
    pub fn validate(&self) -> Result<()> {
        if let Some(p) = self.pos_weight {
            check_non_negative("bce.pos_weight", p)?;
        }
        if let Some(w) = self.class_weights {
            check_non_negative("bce.class_weights.positive", w.positive)?;
            check_non_negative("bce.class_weights.negative", w.negative)?;
        }
        check_range(
            "bce.label_smoothing",
            self.label_smoothing,
            0.0,
            0.999_999,
            "must be in [0, 1)",
        )
    }

    fn compute(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        pixels: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.validate()?;
        let t = targets_like(logits, targets, 1)?;
        let mut weight = match pixels {
            Some(w) => Some(weights_like(logits, w)?),
            None => None,
        };
        if let Some(cw) = self.class_weights {
            let class = &t * cw.positive + (1.0 - &t) * cw.negative;
            weight = Some(match weight {
                Some(w) => class * w,
                None => class,
            });
        }
        let soft = if self.label_smoothing > 0.0 {
            let s = self.label_smoothing;
            (1.0 - &t) * s + &t * (1.0 - s)
        } else {
            t
        };
        let pos_weight = self.pos_weight.map(|p| scalar_like(logits, p));
        Ok(logits.binary_cross_entropy_with_logits(
            &soft,
            weight.as_ref(),
            pos_weight.as_ref(),
            self.reduction.to_tch(),
        ))
    }
}
