//! Image classification with the classifier head only.

use ptx_losses::Bce;
use ptx_models::UnetOutput;
use ptx_preproc::Batch;
use tch::{Device, Kind, Tensor};

use super::{classifier_logits, images_and_masks, Objective, Tensors};
use crate::config::Monitor;
use crate::data::{Dataset, SampleMeta};
use crate::metrics::Meter;
use crate::predict::{values, ImagePrediction};
use crate::{Error, Result};

/// Each image's class ([`SampleMeta::class`]) from the classifier head: binary
/// cross-entropy with one output, cross-entropy over the classes with more.
#[derive(Debug)]
pub(crate) struct Classification {
    pub(crate) loss: Bce,
    /// The classifier head's outputs.
    pub(crate) outputs: i64,
    /// Whether the classes are the images' labels (positive or not) rather than a labels
    /// file's.
    pub(crate) binary_labels: bool,
}

impl Objective for Classification {
    fn tensors(
        &self,
        batch: &Batch<SampleMeta>,
        device: Device,
        channels_last: bool,
    ) -> Result<Tensors> {
        let classes: Vec<i64> = batch.metas.iter().map(|m| m.class).collect();
        Ok(Tensors {
            classes: Some(Tensor::from_slice(&classes).to_device(device)),
            ..images_and_masks(batch, device, channels_last)?
        })
    }

    fn loss(&self, out: &UnetOutput, t: &Tensors) -> Result<Tensor> {
        let logits = classifier_logits(out)?;
        let classes = t
            .classes
            .as_ref()
            .ok_or_else(|| Error::config("loss", "classification without image classes"))?;
        if self.outputs == 1 {
            let targets = classes.to_kind(Kind::Float).view([-1, 1]);
            Ok(self.loss.forward(&logits, &targets)?)
        } else {
            Ok(logits.cross_entropy_for_logits(classes))
        }
    }

    fn measure(
        &self,
        out: &UnetOutput,
        _: &Tensors,
        batch: &Batch<SampleMeta>,
        meter: &mut Meter,
    ) -> Result<Vec<ImagePrediction>> {
        let logits = classifier_logits(out)?;
        if self.outputs == 1 {
            let p = values(&logits.sigmoid().view([-1]))?;
            for (m, &p) in batch.metas.iter().zip(&p) {
                meter.add_score(m.class == 1, p);
            }
        } else {
            let predicted = Vec::<i64>::try_from(logits.argmax(1, false).to_device(Device::Cpu))?;
            for (m, &k) in batch.metas.iter().zip(&predicted) {
                meter.add_class(m.class, k);
            }
        }
        Ok(Vec::new())
    }

    /// Classes must fit the classifier: `0..outputs` (0 and 1 for one output).
    fn check_classes(&self, dataset: &Dataset, samples: &[usize]) -> Result<()> {
        let limit = self.outputs.max(2);
        match samples.iter().copied().find(|&i| dataset.class(i) >= limit) {
            Some(i) => Err(Error::config(
                "data.labels",
                format!(
                    "image {} has class {}, which does not fit a classifier with {} output(s)",
                    dataset.samples()[i].image_id,
                    dataset.class(i),
                    self.outputs
                ),
            )),
            None => Ok(()),
        }
    }

    /// The loss and the accuracy always; F2 and AUC of a binary classifier of the images'
    /// labels.
    fn measures(&self, monitor: Monitor) -> bool {
        match monitor {
            Monitor::ValLoss | Monitor::ValAccuracy => true,
            Monitor::ValF2 | Monitor::ValAuc => self.outputs == 1 && self.binary_labels,
            Monitor::ValDice => false,
        }
    }
}
