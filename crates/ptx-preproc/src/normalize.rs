//! From 8-bit channels to the network's `f32` input.

use ndarray::{Array3, ArrayView3, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How `(channels, height, width)` 8-bit images become `f32`: first `x / 255`, then
/// `(x - mean[c]) / std[c]` per channel (albumentations' `Normalize` with
/// `max_pixel_value = 255`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Normalize {
    /// `x / 255`, in [0, 1].
    #[default]
    UnitRange,
    /// One mean and standard deviation for every channel (of the [0, 1] values).
    MeanStd {
        /// Mean, in [0, 1] units.
        mean: f32,
        /// Standard deviation, > 0.
        std: f32,
    },
    /// A mean and standard deviation per channel; their length must equal the channel count.
    PerChannel {
        /// Means, in [0, 1] units.
        mean: Vec<f32>,
        /// Standard deviations, > 0.
        std: Vec<f32>,
    },
}

impl Normalize {
    /// ImageNet's per-channel statistics (RGB order), for pretrained encoders.
    pub fn imagenet() -> Self {
        Self::PerChannel {
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
        }
    }

    /// Shannak et al.'s dataset statistics: mean 0.4828, std 0.2488.
    pub fn shannak() -> Self {
        Self::MeanStd {
            mean: 0.4828,
            std: 0.2488,
        }
    }

    /// The `f32` image, same shape.
    pub fn apply(&self, image: ArrayView3<'_, u8>) -> Result<Array3<f32>> {
        let channels = image.dim().0;
        let (mean, std) = match self {
            Self::UnitRange => (vec![0.0; channels], vec![1.0; channels]),
            Self::MeanStd { mean, std } => (vec![*mean; channels], vec![*std; channels]),
            Self::PerChannel { mean, std } => {
                if mean.len() != channels || std.len() != channels {
                    return Err(Error::InvalidOption {
                        name: "normalize.mean/std",
                        value: format!("{} means, {} stds", mean.len(), std.len()),
                        reason: "needs one per channel of the image",
                    });
                }
                (mean.clone(), std.clone())
            }
        };
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidOption {
                name: "normalize.std",
                value: s.to_string(),
                reason: "must be finite and > 0",
            });
        }
        let mut out = Array3::<f32>::zeros(image.dim());
        let planes = out.axis_iter_mut(Axis(0)).zip(image.axis_iter(Axis(0)));
        for ((mut dst, src), (&m, &s)) in planes.zip(mean.iter().zip(&std)) {
            dst.zip_mut_with(&src, |o, &p| *o = (f32::from(p) / 255.0 - m) / s);
        }
        Ok(out)
    }
}
