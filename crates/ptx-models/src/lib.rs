//! U-Net segmentation models for pneumothorax on chest X-rays, on libtorch through `tch`.
//!
//! - [`Encoder`]s with PyTorch's parameter names: ResNet18/34/50, DenseNet121 (CheXNet),
//!   SE-ResNeXt50 32x4d, VGG16/19 with and without batch norm, EfficientNet-B0..B7, InceptionV3
//!   and the papers' plain encoder ([`EncoderName`]).
//! - [`Unet`]: segmentation_models_pytorch's U-Net decoder (nearest upsampling, batch norm,
//!   256/128/64/32/16) with a [`Center`] block (none / conv / ASPP), scSE [`Attention`],
//!   hypercolumns and dropout; an auxiliary classification head ([`ClassifierOptions`]); a
//!   reconstruction head for auto-encoder pre-training ([`Task::Reconstruction`]).
//! - [`PlainUnet`]: the papers' plain U-Net (transposed convolutions, skip concatenation).
//! - [`Model`]: a network with its variables; self-describing checkpoints (`config.json` +
//!   `model.safetensors`), import of smp / torchvision / timm / CheXNet weights from
//!   `.safetensors` and `torch.save` files ([`WeightSource`], [`LoadReport`]), freezing
//!   ([`Freeze`], [`FreezeSchedule`]), weight transfer between models.
//!
//! Two-stage prediction (a classifier gating a segmenter), ensembles and post-processing are
//! `ptx-train`'s `System`, the one predictor of the workspace.
//!
//! Variable names equal PyTorch's `state_dict()` keys, so a model exported from Python loads
//! without renaming, and the reverse: `model.safetensors` loads into smp with
//! `load_state_dict(safetensors.torch.load_file(...))`.
//!
//! ```
//! use ptx_models::{EncoderName, Model, ModelConfig, UnetConfig};
//! use tch::{Device, Kind, Tensor};
//!
//! let config = UnetConfig {
//!     encoder: EncoderName::Resnet18,
//!     classifier: Some(Default::default()),
//!     ..UnetConfig::default()
//! };
//! let model = Model::new(ModelConfig::Unet(config), Device::Cpu)?;
//! let x = Tensor::zeros([2, 3, 64, 64], (Kind::Float, Device::Cpu));
//! let out = tch::no_grad(|| model.forward_t(&x, false))?;
//! assert_eq!(out.logits.size(), [2, 1, 64, 64]);
//! assert_eq!(out.labels.map(|l| l.size()), Some(vec![2, 1]));
//!
//! // 100 is not a multiple of 32: the error names the valid sizes around it.
//! let bad = Tensor::zeros([1, 3, 100, 64], (Kind::Float, Device::Cpu));
//! let err = model.forward_t(&bad, false).unwrap_err();
//! assert!(err.to_string().contains("96x64 or 128x64"));
//! # Ok::<(), ptx_models::Error>(())
//! ```

mod checkpoint;
mod decoder;
mod encoder;
mod error;
mod freeze;
mod heads;
mod input;
mod layers;
mod model;
mod plain_unet;
mod runtime;
mod summary;
mod unet;

pub use checkpoint::{load_weights, read_weights, LoadReport, WeightSource};
pub use decoder::{Attention, Center, DecoderOptions};
pub use encoder::{Encoder, EncoderName, PlainOptions};
pub use error::{Error, Result};
pub use freeze::{Freeze, FreezeSchedule, Part};
pub use heads::{ClassifierInput, ClassifierOptions, Pooling};
pub use model::{channels_last, Model, ModelConfig, CONFIG_FILE, WEIGHTS_FILE};
pub use plain_unet::{PlainUnet, PlainUnetConfig};
pub use ptx_preproc::PadMode;
pub use runtime::RuntimeInfo;
pub use summary::{Summary, SummaryRow};
pub use unet::{Task, Unet, UnetConfig, UnetOutput};
