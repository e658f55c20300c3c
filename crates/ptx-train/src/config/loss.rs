//! `[loss]`: what the network learns and the loss it learns it with.

use ptx_losses::{Bce, Combined};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What the network learns, with its loss. Each objective has its own keys:
///
/// ```toml
/// [loss]                             # segmentation (the default), multi-task when
/// segmentation = { terms = [...] }   # classification_weight > 0
/// classification_weight = 0.5
///
/// [loss]
/// objective = "classification"       # the classifier head only
/// classification = { pos_weight = 2.0 }
///
/// [loss]
/// objective = "reconstruct_image"    # or "reconstruct_mask": auto-encoders, MSE
/// ```
///
/// A key that does not apply to the objective is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawLoss", into = "RawLoss")]
pub enum LossConfig {
    /// Image -> mask with `loss`; with `classification` the multi-task form (the segmentation
    /// loss plus λ times the classifier head's loss on the image label: a mask with any pixel
    /// is positive).
    Segmentation {
        /// The segmentation loss. Default BCE + Dice.
        loss: Combined,
        /// The classification term, when the model's classifier head learns too.
        classification: Option<ClassificationTerm>,
    },
    /// Image classification with the classifier head only (the pixel head is not trained):
    /// the label is `data.labels`' class when given, else whether the mask has a pixel. One
    /// classifier output: binary cross-entropy with `loss`; more: cross-entropy over the
    /// classes (Harmalkar et al.'s pre-training).
    Classification {
        /// The binary loss (one classifier output). Default BCE.
        loss: Bce,
    },
    /// Auto-encoder: image -> the same image, mean squared error (Shannak et al.). The model
    /// needs `task = "reconstruction"` and as many classes as input channels.
    ReconstructImage,
    /// Auto-encoder on the masks: mask -> mask, mean squared error (Shannak et al.'s mask
    /// auto-encoder). The model needs `task = "reconstruction"`, 1 input channel and 1 class.
    ReconstructMask,
}

/// The classification term of the multi-task loss: the classifier head's loss on the image
/// label, weighted by λ > 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationTerm {
    loss: Bce,
    weight: f64,
}

impl ClassificationTerm {
    /// `weight` times `loss`.
    ///
    /// # Errors
    /// [`Error::Config`] naming `loss.classification_weight` unless `weight` is a finite
    /// number above 0.
    pub fn new(loss: Bce, weight: f64) -> Result<Self> {
        if !(weight.is_finite() && weight > 0.0) {
            return Err(Error::config(
                "loss.classification_weight",
                format!("{weight}: the multi-task weight must be a number > 0"),
            ));
        }
        Ok(Self { loss, weight })
    }

    /// The classifier head's loss.
    pub fn loss(&self) -> &Bce {
        &self.loss
    }

    /// λ.
    pub fn weight(&self) -> f64 {
        self.weight
    }
}

impl Default for LossConfig {
    /// Segmentation with BCE + Dice, no classification term.
    fn default() -> Self {
        LossConfig::Segmentation {
            loss: Combined::bce_dice(),
            classification: None,
        }
    }
}

impl LossConfig {
    /// Segmentation with `loss`, plus `weight` times BCE on the classifier head when `weight`
    /// is above 0 (the multi-task form).
    ///
    /// # Errors
    /// [`Error::Config`] for a weight that is not a number >= 0.
    pub fn segmentation(loss: Combined, weight: f64) -> Result<Self> {
        Ok(LossConfig::Segmentation {
            loss,
            classification: match weight {
                0.0 => None,
                w => Some(ClassificationTerm::new(Bce::default(), w)?),
            },
        })
    }

    /// The name of the objective as `loss.objective` writes it.
    pub fn objective(&self) -> &'static str {
        match self {
            LossConfig::Segmentation { .. } => ObjectiveName::Segmentation,
            LossConfig::Classification { .. } => ObjectiveName::Classification,
            LossConfig::ReconstructImage => ObjectiveName::ReconstructImage,
            LossConfig::ReconstructMask => ObjectiveName::ReconstructMask,
        }
        .name()
    }
}

/// The objectives as `loss.objective` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ObjectiveName {
    #[default]
    Segmentation,
    ReconstructImage,
    ReconstructMask,
    Classification,
}

impl ObjectiveName {
    fn name(self) -> &'static str {
        match self {
            ObjectiveName::Segmentation => "segmentation",
            ObjectiveName::ReconstructImage => "reconstruct_image",
            ObjectiveName::ReconstructMask => "reconstruct_mask",
            ObjectiveName::Classification => "classification",
        }
    }
}

/// `[loss]` as written in TOML.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoss {
    #[serde(default)]
    objective: ObjectiveName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    segmentation: Option<Combined>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classification: Option<Bce>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classification_weight: Option<f64>,
}

impl RawLoss {
    /// Run folders written before each objective had its own keys hold every key, at its
    /// default where the objective does not use it: such keys say nothing and are dropped
    /// (a key that does not apply and is not at its default stays, and is refused).
    fn drop_unused_defaults(&mut self) {
        let weightless = matches!(self.classification_weight, None | Some(0.0));
        let default_classification = self.classification.as_ref() == Some(&Bce::default());
        match self.objective {
            ObjectiveName::Segmentation => {
                if weightless && default_classification {
                    self.classification = None;
                }
            }
            other => {
                if self.segmentation.as_ref() == Some(&Combined::bce_dice()) {
                    self.segmentation = None;
                }
                if self.classification_weight == Some(0.0) {
                    self.classification_weight = None;
                }
                if other != ObjectiveName::Classification && default_classification {
                    self.classification = None;
                }
            }
        }
    }
}

impl RawLoss {
    /// Refuses the keys of the segmentation objective (`segmentation`,
    /// `classification_weight`), for the others.
    fn refuse_segmentation_keys(&self, not_for: &impl Fn(&str) -> Error) -> Result<()> {
        if self.segmentation.is_some() {
            return Err(not_for("segmentation"));
        }
        if self.classification_weight.is_some() {
            return Err(not_for("classification_weight"));
        }
        Ok(())
    }

    /// Refuses every loss key, for the reconstruction objectives (mean squared error).
    fn refuse_all_keys(&self, not_for: &impl Fn(&str) -> Error) -> Result<()> {
        self.refuse_segmentation_keys(not_for)?;
        match self.classification {
            Some(_) => Err(not_for("classification")),
            None => Ok(()),
        }
    }
}

impl TryFrom<RawLoss> for LossConfig {
    type Error = Error;

    fn try_from(mut raw: RawLoss) -> Result<Self> {
        raw.drop_unused_defaults();
        let objective = raw.objective.name();
        let not_for = |key: &str| {
            Error::config(
                format!("loss.{key}"),
                format!("does not apply to objective = \"{objective}\""),
            )
        };
        match raw.objective {
            ObjectiveName::Segmentation => {
                let classification = match raw.classification_weight.unwrap_or(0.0) {
                    0.0 if raw.classification.is_some() => {
                        return Err(Error::config(
                            "loss.classification",
                            "needs classification_weight > 0 (the multi-task form)",
                        ))
                    }
                    0.0 => None,
                    w => Some(ClassificationTerm::new(
                        raw.classification.unwrap_or_default(),
                        w,
                    )?),
                };
                Ok(LossConfig::Segmentation {
                    loss: raw.segmentation.unwrap_or_else(Combined::bce_dice),
                    classification,
                })
            }
            ObjectiveName::Classification => {
                raw.refuse_segmentation_keys(&not_for)?;
                Ok(LossConfig::Classification {
                    loss: raw.classification.unwrap_or_default(),
                })
            }
            ObjectiveName::ReconstructImage => {
                raw.refuse_all_keys(&not_for)?;
                Ok(LossConfig::ReconstructImage)
            }
            ObjectiveName::ReconstructMask => {
                raw.refuse_all_keys(&not_for)?;
                Ok(LossConfig::ReconstructMask)
            }
        }
    }
}

impl From<LossConfig> for RawLoss {
    fn from(c: LossConfig) -> Self {
        match c {
            LossConfig::Segmentation {
                loss,
                classification,
            } => RawLoss {
                objective: ObjectiveName::Segmentation,
                segmentation: Some(loss),
                classification_weight: classification.as_ref().map(|t| t.weight),
                classification: classification.map(|t| t.loss),
            },
            LossConfig::Classification { loss } => RawLoss {
                objective: ObjectiveName::Classification,
                classification: Some(loss),
                ..RawLoss::default()
            },
            LossConfig::ReconstructImage => RawLoss {
                objective: ObjectiveName::ReconstructImage,
                ..RawLoss::default()
            },
            LossConfig::ReconstructMask => RawLoss {
                objective: ObjectiveName::ReconstructMask,
                ..RawLoss::default()
            },
        }
    }
}
