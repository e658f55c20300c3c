//! The Lovász hinge (Berman, Rannen Triki and Blaschko, CVPR 2018) for binary segmentation.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::input::{per_image_rows, targets_like};
use crate::reduction::Reduction;

/// The function applied to the sorted hinge errors before the dot product with the Lovász
/// gradient of the Jaccard loss.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hinge {
    /// `max(e, 0)`, Berman et al.'s definition.
    #[default]
    Relu,
    /// `elu(e) + 1`, smooth and positive, used in Kaggle solutions (and Viel and Orhan's
    /// code) in place of the ReLU.
    EluPlusOne,
}

/// Binary Lovász hinge loss on logits: per image (or for the whole batch), with
/// `e_i = 1 - x_i s_i` (`s = 2t - 1`) sorted in decreasing order and `g` the Lovász
/// extension's gradient of the Jaccard loss at the sorted labels,
/// `loss = sum_i hinge(e_(i)) g_i` (Berman et al., Alg. 1).
///
/// The default is segmentation_models_pytorch's `LovaszLoss("binary")`, batch form;
/// Berman's reference `lovasz_hinge` defaults to `per_image = true`. `symmetric` averages the
/// loss on `(x, t)` and on `(-x, 1 - t)`, treating background as a class too.
///
/// Takes **logits** `(N, ...)` and binary targets of the same shape. Ties between errors
/// are ordered by libtorch's sort, as in PyTorch.
///
/// ```
/// use ptx_losses::Lovasz;
/// use tch::Tensor;
/// let targets = Tensor::from_slice(&[1.0f32, 1.0, 0.0, 0.0]).reshape([1, 1, 2, 2]);
/// let good = Tensor::from_slice(&[5.0f32, 5.0, -5.0, -5.0]).reshape([1, 1, 2, 2]);
/// let bad = -&good;
/// let lovasz = Lovasz::default();
/// assert_eq!(lovasz.forward(&good, &targets)?.double_value(&[]), 0.0);
/// assert!(lovasz.forward(&bad, &targets)?.double_value(&[]) > 1.0);
/// # Ok::<(), ptx_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lovasz {
    /// One loss per image, then the reduction; `false` = one loss over the batch.
    pub per_image: bool,
    /// Average with the loss of the negated logits against the inverted targets.
    pub symmetric: bool,
    /// ReLU or ELU + 1 on the errors.
    pub hinge: Hinge,
    /// Reduction over the per-image losses.
    pub reduction: Reduction,
}

impl Lovasz {
    /// The symmetric, per-image, ELU + 1 variant of Kaggle solutions and Viel and Orhan.
    pub fn symmetric_elu() -> Self {
        Self {
            per_image: true,
            symmetric: true,
            hinge: Hinge::EluPlusOne,
            reduction: Reduction::Mean,
        }
    }

    /// The loss of `logits` against `targets` (same shape, `(N, ...)`).
    pub fn forward(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        let t = targets_like(logits, targets, 2)?;
        let (x, t) = if self.per_image {
            (per_image_rows(logits), per_image_rows(&t))
        } else {
            (logits.reshape([1, -1]), t.reshape([1, -1]))
        };
        let mut loss = hinge_rows(&x, &t, self.hinge);
        if self.symmetric {
            loss = (loss + hinge_rows(&-&x, &(1.0 - &t), self.hinge)) / 2.0;
        }
        Ok(self.reduction.apply(&loss))
    }
}

/// The Lovász hinge of each row of `(G, P)` logits and labels: `(G)`.
fn hinge_rows(logits: &Tensor, labels: &Tensor, hinge: Hinge) -> Tensor {
    let signs = labels * 2.0 - 1.0;
    let errors: Tensor = 1.0f64 - logits * signs;
    let (sorted, perm) = errors.sort(1, true);
    let gt_sorted = labels.gather(1, &perm, false);
    let grad = lovasz_grad(&gt_sorted);
    let activated = match hinge {
        Hinge::Relu => sorted.relu(),
        Hinge::EluPlusOne => sorted.elu() + 1.0,
    };
    (activated * grad).sum_dim_intlist(&[1i64][..], false, None)
}

/// Gradient of the Lovász extension of the Jaccard loss for each row of sorted labels
/// `(G, P)`: the successive differences of `1 - I_k / U_k`.
fn lovasz_grad(gt_sorted: &Tensor) -> Tensor {
    let p = gt_sorted.size()[1];
    let gts = gt_sorted.sum_dim_intlist(&[1i64][..], true, None);
    let intersection = &gts - gt_sorted.cumsum(1, None);
    let union = &gts + (1.0f64 - gt_sorted).cumsum(1, None);
    let jaccard: Tensor = 1.0f64 - intersection / union;
    if p == 1 {
        return jaccard;
    }
    let head = jaccard.narrow(1, 0, 1);
    let tail = jaccard.narrow(1, 1, p - 1) - jaccard.narrow(1, 0, p - 1);
    Tensor::cat(&[head, tail], 1)
}
