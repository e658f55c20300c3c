//! Segmentation, alone or with the classifier head's term (multi-task).

use ptx_losses::{image_labels, Combined};
use ptx_models::UnetOutput;
use tch::{Kind, Tensor};

use super::{classifier_logits, Objective, Tensors};
use crate::config::ClassificationTerm;
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

impl Objective for Segmentation {
    fn loss(&self, out: &UnetOutput, t: &Tensors) -> Result<Tensor> {
        Ok(self
            .loss
            .forward(&out.logits.to_kind(Kind::Float), &t.masks)?)
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
}
