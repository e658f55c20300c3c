//! Segmentation, alone or with the classifier head's term (multi-task).

use ptx_losses::{image_labels, Combined};
use ptx_models::UnetOutput;
use ptx_preproc::Batch;
use tch::{Kind, Tensor};

use super::{classifier_logits, Objective, Tensors};
use crate::config::{ClassificationTerm, Monitor};
use crate::data::SampleMeta;
use crate::metrics::Meter;
use crate::predict::{predictions, ImagePrediction};
use crate::Result;

/// Image -> mask with a segmentation loss.
#[derive(Debug)]
pub(crate) struct Segmentation {
    pub(crate) loss: Combined,
}

/// Image -> mask plus λ times the classifier head's loss on the image label.
#[derive(Debug)]
pub(crate) struct MultiTask {
    loss: ptx_losses::MultiTask,
}

impl MultiTask {
    pub(crate) fn new(segmentation: Combined, term: ClassificationTerm) -> Self {
        Self {
            loss: ptx_losses::MultiTask {
                segmentation,
                classification: term.loss().clone(),
                lambda: term.weight(),
            },
        }
    }
}

/// Validation of an objective that draws masks: each image's probability map against its
/// truth, its score (the classifier head, else the highest pixel) against its label.
fn measure_masks(
    out: &UnetOutput,
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

impl Objective for Segmentation {
    fn loss(&self, out: &UnetOutput, t: &Tensors) -> Result<Tensor> {
        Ok(self
            .loss
            .forward(&out.logits.to_kind(Kind::Float), &t.masks)?)
    }

    fn measure(
        &self,
        out: &UnetOutput,
        _: &Tensors,
        batch: &Batch<SampleMeta>,
        meter: &mut Meter,
    ) -> Result<Vec<ImagePrediction>> {
        measure_masks(out, batch, meter)
    }

    fn measures(&self, _: Monitor) -> bool {
        true
    }
}

impl Objective for MultiTask {
    fn loss(&self, out: &UnetOutput, t: &Tensors) -> Result<Tensor> {
        let value = self.loss.forward(
            &out.logits.to_kind(Kind::Float),
            &t.masks,
            &classifier_logits(out)?,
            &image_labels(&t.masks)?,
        )?;
        Ok(value.total)
    }

    fn measure(
        &self,
        out: &UnetOutput,
        _: &Tensors,
        batch: &Batch<SampleMeta>,
        meter: &mut Meter,
    ) -> Result<Vec<ImagePrediction>> {
        measure_masks(out, batch, meter)
    }

    fn measures(&self, _: Monitor) -> bool {
        true
    }
}
