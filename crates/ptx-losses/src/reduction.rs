//! How a loss turns per-element (or per-image) values into its result.

use serde::{Deserialize, Serialize};
use tch::Tensor;

/// The reduction applied to a loss's per-element or per-image values, as PyTorch's
/// `reduction=` argument.
///
/// Element-wise losses ([`Bce`](crate::Bce), [`Focal`](crate::Focal)) reduce over every
/// pixel; region losses ([`Overlap`](crate::Overlap), [`Tversky`](crate::Tversky),
/// [`Lovasz`](crate::Lovasz)) over their per-image values (one value when they pool the
/// batch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// The mean (PyTorch's default). With weights, the sum of weighted values divided by the
    /// number of values, as PyTorch does, not a weighted mean.
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: the values themselves (same shape as the logits for element-wise
    /// losses, `[N]` per image or `[1]` for the batch for region losses).
    None,
}

impl Reduction {
    /// Applies the reduction to `values`.
    pub fn apply(self, values: &Tensor) -> Tensor {
        match self {
            Self::Mean => values.mean(None),
            Self::Sum => values.sum(None),
            Self::None => values.shallow_clone(),
        }
    }

    /// The same reduction for libtorch's fused kernels.
    pub(crate) fn to_tch(self) -> tch::Reduction {
        match self {
            Self::Mean => tch::Reduction::Mean,
            Self::Sum => tch::Reduction::Sum,
            Self::None => tch::Reduction::None,
        }
    }
}
