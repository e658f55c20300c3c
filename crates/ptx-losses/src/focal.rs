//! Binary focal loss on logits.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::input::{check_non_negative, check_range, targets_like};
use crate::reduction::Reduction;

/// Binary focal loss (Lin et al.) on logits, as segmentation_models_pytorch's
/// `focal_loss_with_logits`: with `ce = bce_with_logits(x, t)` and `pt = exp(-ce)`, the
/// loss is `(1 - pt)^gamma * ce`, times `alpha t + (1 - alpha)(1 - t)` when `alpha` is set.
///
/// The default is smp's `FocalLoss("binary")` (no `alpha`, `gamma = 2`, mean);
/// `Focal { alpha: Some(0.25), .. }` is torchvision's `sigmoid_focal_loss` with its
/// defaults (and `reduction="mean"`). Takes **logits** of any shape and targets of the same
/// shape.
///
/// ```
/// use ptx_losses::{Bce, Focal};
/// use tch::Tensor;
/// let logits = Tensor::from_slice(&[3.0f32, -2.0, 0.1, 0.2]);
/// let targets = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 0.0]);
/// let focal = Focal::default().forward(&logits, &targets)?.double_value(&[]);
/// let bce = Bce::default().forward(&logits, &targets)?.double_value(&[]);
/// // Confident, correct pixels are down-weighted: focal < BCE.
/// assert!(focal < bce);
/// # Ok::<(), ptx_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Focal {
    /// Weight of positive pixels in [0, 1] (negatives get `1 - alpha`); `None` = no
    /// class weighting.
    pub alpha: Option<f64>,
    /// Focusing exponent >= 0 (0 = BCE).
    pub gamma: f64,
    /// Divide by the sum of the focal terms `(1 - pt)^gamma` (at least 1e-6), the normalised
    /// focal loss of smp.
    pub normalized: bool,
    /// Reduced focal loss: where `pt < threshold` the focal term is 1, elsewhere
    /// `((1 - pt) / threshold)^gamma` (smp's `reduced_threshold`; meant with `Sum`).
    pub reduced_threshold: Option<f64>,
    /// Reduction over pixels.
    pub reduction: Reduction,
}

impl Default for Focal {
    fn default() -> Self {
        Self {
            alpha: None,
            gamma: 2.0,
            normalized: false,
            reduced_threshold: None,
            reduction: Reduction::Mean,
        }
    }
}

impl Focal {
    /// The loss of `logits` against `targets` (same shape).
    pub fn forward(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        self.validate()?;
        let t = targets_like(logits, targets, 1)?;
        let logpt =
            logits.binary_cross_entropy_with_logits::<Tensor>(&t, None, None, tch::Reduction::None);
        let pt = (-&logpt).exp();
        let focal_term = match self.reduced_threshold {
            None => (1.0f64 - &pt).pow_tensor_scalar(self.gamma),
            Some(r) => ((1.0f64 - &pt) / r)
                .pow_tensor_scalar(self.gamma)
                .where_scalarother(&pt.ge(r), 1.0),
        };
        let mut loss = &focal_term * logpt;
        if let Some(a) = self.alpha {
            loss = loss * (&t * a + (1.0 - &t) * (1.0 - a));
        }
        if self.normalized {
            loss = loss / focal_term.sum(None).clamp_min(1e-6);
        }
        Ok(self.reduction.apply(&loss))
    }

    /// Checks the options' ranges.
    pub fn validate(&self) -> Result<()> {
        if let Some(a) = self.alpha {
            check_range("focal.alpha", a, 0.0, 1.0, "must be in [0, 1]")?;
        }
        check_non_negative("focal.gamma", self.gamma)?;
        if let Some(r) = self.reduced_threshold {
            check_range(
                "focal.reduced_threshold",
                r,
                f64::MIN_POSITIVE,
                1.0,
                "must be in (0, 1]",
            )?;
        }
        Ok(())
    }
}
