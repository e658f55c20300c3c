//! Auto-encoders: the image, or the mask, reconstructed with mean squared error.

use ptx_models::UnetOutput;
use ptx_preproc::Batch;
use tch::{Device, Kind, Reduction, Tensor};

use super::{images_and_masks, Objective, Tensors};
use crate::config::Monitor;
use crate::data::SampleMeta;
use crate::metrics::Meter;
use crate::predict::ImagePrediction;
use crate::Result;

/// What an auto-encoder reconstructs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The image (Shannak et al.'s X-ray auto-encoder).
    Image,
    /// The mask (Shannak et al.'s mask auto-encoder).
    Mask,
}

/// Input -> the same input, mean squared error; validation measures the loss only.
#[derive(Debug)]
pub(crate) struct Reconstruction {
    pub(crate) target: Target,
}

impl Objective for Reconstruction {
    fn tensors(
        &self,
        batch: &Batch<SampleMeta>,
        device: Device,
        channels_last: bool,
    ) -> Result<Tensors> {
        let t = images_and_masks(batch, device, channels_last)?;
        Ok(match self.target {
            Target::Image => t,
            Target::Mask => Tensors {
                input: if channels_last {
                    ptx_models::channels_last(&t.masks)
                } else {
                    t.masks.shallow_clone()
                },
                ..t
            },
        })
    }

    fn loss(&self, out: &UnetOutput, t: &Tensors) -> Result<Tensor> {
        Ok(out
            .logits
            .to_kind(Kind::Float)
            .mse_loss(&t.input.to_kind(Kind::Float), Reduction::Mean))
    }

    fn measure(
        &self,
        _: &UnetOutput,
        _: &Tensors,
        _: &Batch<SampleMeta>,
        _: &mut Meter,
    ) -> Result<Vec<ImagePrediction>> {
        Ok(Vec::new())
    }

    fn measures(&self, monitor: Monitor) -> bool {
        monitor == Monitor::ValLoss
    }

    fn feeds_images(&self) -> bool {
        self.target == Target::Image
    }
}
