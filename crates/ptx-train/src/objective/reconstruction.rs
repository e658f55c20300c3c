//! Auto-encoders: the image, or the mask, reconstructed with mean squared error.

use ptx_models::UnetOutput;
use ptx_preproc::Batch;
use tch::{Device, Kind, Reduction, Tensor};

use super::{Objective, Tensors};
use crate::config::Monitor;
use crate::data::SampleMeta;
use crate::metrics::Meter;
use crate::predict::ImagePrediction;
use crate::Result;

/// Image -> the same image (Shannak et al.'s X-ray auto-encoder).
#[derive(Debug)]
pub(crate) struct ReconstructImage;

/// Mask -> the same mask (Shannak et al.'s mask auto-encoder).
#[derive(Debug)]
pub(crate) struct ReconstructMask;

/// Mean squared error between the output and the input.
fn mse(out: &UnetOutput, t: &Tensors) -> Tensor {
    out.logits
        .to_kind(Kind::Float)
        .mse_loss(&t.input.to_kind(Kind::Float), Reduction::Mean)
}

impl Objective for ReconstructImage {
    fn loss(&self, out: &UnetOutput, t: &Tensors) -> Result<Tensor> {
        Ok(mse(out, t))
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
}

impl Objective for ReconstructMask {
    fn tensors(
        &self,
        batch: &Batch<SampleMeta>,
        device: Device,
        channels_last: bool,
    ) -> Result<Tensors> {
        let masks = Tensor::try_from(&batch.masks)?.to_device(device);
        let input = if channels_last {
            ptx_models::channels_last(&masks)
        } else {
            masks.shallow_clone()
        };
        Ok(Tensors {
            input,
            masks,
            classes: None,
        })
    }

    fn loss(&self, out: &UnetOutput, t: &Tensors) -> Result<Tensor> {
        Ok(mse(out, t))
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
        false
    }
}
