//! U-Net segmentation models for pneumothorax on chest X-rays, on libtorch through `tch`.
//!
//! The model zoo of the papers (U-Net with ResNet, DenseNet121/CheXNet, SE-ResNeXt50, VGG,
//! EfficientNet, InceptionV3 and plain encoders, ASPP, hypercolumns, scSE, classification and
//! reconstruction heads, the two-stage system, checkpoint import) is tracked in the project's
//! issues and lands here. What the crate has today is [`RuntimeInfo`]: which libtorch the
//! binary runs on and whether it sees CUDA.
//!
//! ```
//! let info = ptx_models::RuntimeInfo::detect();
//! println!("{info}");
//! assert!(!info.libtorch_version.is_empty());
//! ```

mod runtime;

pub use runtime::RuntimeInfo;
