//! Segmentation losses for pneumothorax models on libtorch through `tch`, equal in value and
//! gradient to the PyTorch references (segmentation_models_pytorch, torchvision, MONAI,
//! Berman et al.'s Lovász code):
//!
//! | loss | type | reference |
//! |---|---|---|
//! | BCE with logits, pixel / class weights, `pos_weight`, label smoothing | [`Bce`] | `F.binary_cross_entropy_with_logits`, smp `SoftBCEWithLogitsLoss` |
//! | soft Dice, batch or per image | [`Overlap::dice`] | smp `DiceLoss`, MONAI `DiceLoss` ([`Overlap::monai`]) |
//! | soft Jaccard | [`Overlap::jaccard`] | smp `JaccardLoss` |
//! | Tversky (focal Tversky with `gamma`) | [`Tversky`] | smp `TverskyLoss` |
//! | focal | [`Focal`] | smp `FocalLoss`, torchvision `sigmoid_focal_loss` |
//! | Lovász hinge, symmetric, ELU + 1 | [`Lovasz`] | smp `LovaszLoss`, Berman's `lovasz_hinge` |
//! | weighted sums, from serde | [`Loss`], [`Combined`] | |
//! | segmentation + lambda classification | [`MultiTask`] | |
//!
//! Every loss takes **logits** (never probabilities) as a floating-point tensor that may
//! require gradients, and targets of the same shape in any numeric kind (0/1 masks, or soft
//! targets in [0, 1]). Region losses need a batch dimension first, `(N, ...)`; the usual
//! shape is `(N, 1, H, W)`. Bad shapes, kinds, devices and options are [`Error`]s, not
//! panics.
//!
//! ```
//! use ptx_losses::{Combined, Loss, Overlap, Bce};
//! use tch::{Device, Kind, Tensor};
//! let logits = Tensor::randn([2, 1, 32, 32], (Kind::Float, Device::Cpu)).set_requires_grad(true);
//! let masks = Tensor::zeros([2, 1, 32, 32], (Kind::Uint8, Device::Cpu));
//! let _ = masks.narrow(2, 8, 8).narrow(3, 8, 8).fill_(1);
//! let loss = Combined::bce_dice().forward(&logits, &masks)?;
//! loss.backward();
//! assert_eq!(logits.grad().size(), [2, 1, 32, 32]);
//! // The same loss from configuration.
//! let config: Combined = serde_json::from_str(
//!     r#"{"terms": [{"weight": 1, "loss": {"kind": "bce"}},
//!                   {"weight": 1, "loss": {"kind": "dice"}}]}"#)?;
//! assert_eq!(config, Combined::bce_dice());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Numerics: computed in the logits' kind with the same libtorch operations as the
//! references, so results agree to rounding (the tests hold value and gradient to 1e-5
//! relative on real SIIM masks, see `tests/pytorch_reference.rs`). Extreme logits (±100)
//! give finite values and gradients.

// tch's `*=` and `+=` are in-place, which autograd can reject when a value is needed for a
// gradient: the losses keep to out-of-place arithmetic.
#![allow(clippy::assign_op_pattern)]

mod bce;
mod combined;
mod error;
mod focal;
mod input;
mod lovasz;
mod multitask;
mod overlap;
mod reduction;

pub use bce::{Bce, ClassWeights};
pub use combined::{Combined, Loss, Term};
pub use error::{Error, Result};
pub use focal::Focal;
pub use lovasz::{Hinge, Lovasz};
pub use multitask::{image_labels, MultiTask, MultiTaskValue};
pub use overlap::{EmptyTargets, Intersection, Overlap, Tversky};
pub use reduction::Reduction;
