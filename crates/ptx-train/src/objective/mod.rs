//! What the network learns: one type per objective behind [`Objective`], which turns a
//! batch into tensors, a forward pass into a loss and a validation batch into numbers. The
//! trainer's step, its validation and the learning-rate range test go through it; nothing
//! else branches on the objective.

mod classification;
mod reconstruction;
mod segmentation;

use ptx_models::{Task, UnetOutput};
use ptx_preproc::Batch;
use tch::{Device, Kind, Tensor};

use crate::config::{Experiment, LossConfig, Monitor};
use crate::data::{Dataset, SampleMeta};
use crate::metrics::Meter;
use crate::predict::{input_tensor, predictions, ImagePrediction};
use crate::{Error, Result};

use classification::Classification;
use reconstruction::{Reconstruction, Target};
use segmentation::{MultiTask, Segmentation};

/// A batch on the device.
pub(crate) struct Tensors {
    /// The network's input `(N, C, H, W)`: the images, or the masks for the mask
    /// auto-encoder.
    pub input: Tensor,
    /// The masks `(N, 1, H, W)` in {0, 1}.
    pub masks: Tensor,
    /// Each row's class `(N)` (int64), for the objectives that learn classes.
    pub classes: Option<Tensor>,
}

/// One training objective.
pub(crate) trait Objective: Send + Sync + std::fmt::Debug {
    /// The batch on `device` (the input channels-last when asked).
    ///
    /// # Errors
    /// libtorch's.
    fn tensors(
        &self,
        batch: &Batch<SampleMeta>,
        device: Device,
        channels_last: bool,
    ) -> Result<Tensors> {
        images_and_masks(batch, device, channels_last)
    }

    /// The loss of a forward pass on `t.input`.
    ///
    /// # Errors
    /// A loss that does not fit the output.
    fn loss(&self, out: &UnetOutput, t: &Tensors) -> Result<Tensor>;

    /// Adds a validation batch's output to `meter` (its loss is added by the caller);
    /// returns the batch's predictions when the objective draws masks. By default: each
    /// image's probability map against its truth, its score (the classifier head, else the
    /// highest pixel) against its label.
    ///
    /// # Errors
    /// Mismatched shapes.
    fn measure(
        &self,
        out: &UnetOutput,
        _t: &Tensors,
        batch: &Batch<SampleMeta>,
        meter: &mut Meter,
    ) -> Result<Vec<ImagePrediction>> {
        let probs = out.logits.to_kind(Kind::Float).sigmoid();
        let head = out
            .labels
            .as_ref()
            .map(|l| l.to_kind(Kind::Float).sigmoid().select(1, 0));
        let predictions = predictions(batch, &probs, head.as_ref())?;
        for p in &predictions {
            meter.add_prediction(p)?;
        }
        Ok(predictions)
    }

    /// Checks the classes of the samples (dataset indices) a run uses before anything
    /// trains.
    ///
    /// # Errors
    /// [`Error::Config`] naming an image whose class the objective cannot learn.
    fn check_classes(&self, _dataset: &Dataset, _samples: &[usize]) -> Result<()> {
        Ok(())
    }

    /// Whether validation measures `monitor` (by default every one).
    fn measures(&self, _monitor: Monitor) -> bool {
        true
    }

    /// Whether the network's input is the image (the batch-norm pass of SWA feeds images).
    fn feeds_images(&self) -> bool {
        true
    }
}

/// The objective of `exp`, checked against its model and data.
///
/// # Errors
/// [`Error::Config`] naming the key that does not fit.
pub(crate) fn for_experiment(exp: &Experiment) -> Result<Box<dyn Objective>> {
    let model = &exp.model;
    let reconstructs = matches!(
        exp.loss,
        LossConfig::ReconstructImage | LossConfig::ReconstructMask
    );
    if reconstructs != (model.task() == Task::Reconstruction) {
        return Err(Error::config(
            "loss.objective",
            format!("{} does not go with the model's task {:?} (reconstruction objectives need task = \"reconstruction\", and only they)", exp.loss.objective(), model.task()),
        ));
    }
    if exp.data.labels.is_some() && !matches!(exp.loss, LossConfig::Classification { .. }) {
        return Err(Error::config(
            "data.labels",
            "class labels are used by objective = \"classification\" only",
        ));
    }
    let head = model.classifier_classes();
    Ok(match &exp.loss {
        LossConfig::Segmentation {
            loss,
            classification: None,
        } => Box::new(Segmentation { loss: loss.clone() }),
        LossConfig::Segmentation {
            loss,
            classification: Some(term),
        } => {
            if head.is_none() {
                return Err(Error::config(
                    "loss.classification_weight",
                    "is above 0 but the model has no classifier head ([model.classifier])",
                ));
            }
            Box::new(MultiTask::new(loss.clone(), term.clone()))
        }
        LossConfig::Classification { loss } => {
            let outputs = head.ok_or_else(|| {
                Error::config(
                    "loss.objective",
                    "classification needs a classifier head ([model.classifier])",
                )
            })?;
            Box::new(Classification {
                loss: loss.clone(),
                outputs,
                binary_labels: exp.data.labels.is_none(),
            })
        }
        LossConfig::ReconstructImage => {
            if model.classes() != model.in_channels() {
                return Err(Error::config(
                    "model.classes",
                    format!(
                        "reconstructing the image needs as many output classes as input channels ({})",
                        model.in_channels()
                    ),
                ));
            }
            Box::new(Reconstruction {
                target: Target::Image,
            })
        }
        LossConfig::ReconstructMask => {
            if model.classes() != 1 || model.in_channels() != 1 {
                return Err(Error::config(
                    "model",
                    "reconstructing the mask needs in_channels = 1 and classes = 1",
                ));
            }
            Box::new(Reconstruction {
                target: Target::Mask,
            })
        }
    })
}

/// The batch's images as the input and its masks, no classes.
fn images_and_masks(
    batch: &Batch<SampleMeta>,
    device: Device,
    channels_last: bool,
) -> Result<Tensors> {
    Ok(Tensors {
        input: input_tensor(batch, device, channels_last)?,
        masks: Tensor::try_from(&batch.masks)?.to_device(device),
        classes: None,
    })
}

/// The classifier head's logits as float32, or an error when the model has none.
fn classifier_logits(out: &UnetOutput) -> Result<Tensor> {
    out.labels
        .as_ref()
        .map(|l| l.to_kind(Kind::Float))
        .ok_or_else(|| Error::config("loss", "the model returned no classifier output"))
}
