//! One configurable loss, and weighted sums of them.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::bce::{Bce, ClassWeights};
use crate::error::{Error, Result};
use crate::focal::Focal;
use crate::lovasz::Lovasz;
use crate::overlap::{Overlap, Tversky};
use crate::reduction::Reduction;

/// Any of the crate's segmentation losses, chosen by configuration.
///
/// In serde formats the kind is a `"kind"` field next to the loss's own options, every
/// option defaulting as its type's `Default`: `{"kind": "dice"}`,
/// `{"kind": "focal", "gamma": 2.0, "alpha": 0.25}`,
/// `{"kind": "tversky", "alpha": 0.3, "beta": 0.7, "overlap": {"per_image": true}}`.
/// Unknown options are errors, so a typo does not silently train with a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Loss {
    /// Binary cross-entropy with logits.
    Bce(Bce),
    /// Soft Dice.
    Dice(Overlap),
    /// Soft Jaccard (IoU).
    Jaccard(Overlap),
    /// Tversky.
    Tversky(Tversky),
    /// Focal.
    Focal(Focal),
    /// Lovász hinge.
    Lovasz(Lovasz),
}

impl Loss {
    /// The loss of `logits` against `targets` (same shape, `(N, ...)` for the region losses).
    pub fn forward(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        match self {
            Self::Bce(l) => l.forward(logits, targets),
            Self::Dice(l) => l.dice(logits, targets),
            Self::Jaccard(l) => l.jaccard(logits, targets),
            Self::Tversky(l) => l.forward(logits, targets),
            Self::Focal(l) => l.forward(logits, targets),
            Self::Lovasz(l) => l.forward(logits, targets),
        }
    }

    /// The loss's name as in its serde `kind`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bce(_) => "bce",
            Self::Dice(_) => "dice",
            Self::Jaccard(_) => "jaccard",
            Self::Tversky(_) => "tversky",
            Self::Focal(_) => "focal",
            Self::Lovasz(_) => "lovasz",
        }
    }

    /// Its reduction.
    pub fn reduction(&self) -> Reduction {
        match self {
            Self::Bce(l) => l.reduction,
            Self::Dice(l) | Self::Jaccard(l) => l.reduction,
            Self::Tversky(l) => l.overlap.reduction,
            Self::Focal(l) => l.reduction,
            Self::Lovasz(l) => l.reduction,
        }
    }
}

/// One term of a [`Combined`] loss: `weight * loss`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// Its weight (finite, >= 0).
    pub weight: f64,
    /// The loss; its reduction must not be [`Reduction::None`].
    pub loss: Loss,
}

/// A weighted sum of losses, e.g. the winning solution's `3 BCE + 1 Dice + 4 focal`.
///
/// ```
/// use ptx_losses::Combined;
/// use tch::Tensor;
/// let config = r#"{"terms": [
///     {"weight": 3, "loss": {"kind": "bce"}},
///     {"weight": 1, "loss": {"kind": "dice"}},
///     {"weight": 4, "loss": {"kind": "focal", "gamma": 2}}
/// ]}"#;
/// let loss: Combined = serde_json::from_str(config)?;
/// assert_eq!(loss, Combined::winning_solution());
/// let logits = Tensor::zeros([2, 1, 8, 8], (tch::Kind::Float, tch::Device::Cpu));
/// let targets = Tensor::ones([2, 1, 8, 8], (tch::Kind::Float, tch::Device::Cpu));
/// let parts = loss.forward_terms(&logits, &targets)?;
/// let total = loss.forward(&logits, &targets)?.double_value(&[]);
/// let sum: f64 = parts.iter().map(|p| p.double_value(&[])).sum();
/// assert!((total - sum).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combined {
    /// The terms, summed in order.
    pub terms: Vec<Term>,
}

impl Combined {
    /// One loss with weight 1.
    pub fn single(loss: Loss) -> Self {
        Self {
            terms: vec![Term { weight: 1.0, loss }],
        }
    }

    /// Adds `weight * loss` and returns the combination (builder style).
    pub fn with(mut self, weight: f64, loss: Loss) -> Self {
        self.terms.push(Term { weight, loss });
        self
    }

    /// BCE + Dice with equal weights (Haghanifar et al.'s stage 2, Shannak et al.).
    pub fn bce_dice() -> Self {
        Self::single(Loss::Bce(Bce::default())).with(1.0, Loss::Dice(Overlap::default()))
    }

    /// BCE with background weight 0.01 (Haghanifar et al., see [`ClassWeights::haghanifar`]).
    pub fn weighted_bce() -> Self {
        Self::single(Loss::Bce(Bce {
            class_weights: Some(ClassWeights::haghanifar()),
            ..Bce::default()
        }))
    }

    /// Focal + Dice with equal weights (Dasic et al., Harmalkar et al.; neither gives the
    /// weights).
    pub fn focal_dice() -> Self {
        Self::single(Loss::Focal(Focal::default())).with(1.0, Loss::Dice(Overlap::default()))
    }

    /// 3 BCE + 1 Dice + 4 focal, the SIIM winning solution's combination.
    pub fn winning_solution() -> Self {
        Self::default()
            .with(3.0, Loss::Bce(Bce::default()))
            .with(1.0, Loss::Dice(Overlap::default()))
            .with(4.0, Loss::Focal(Focal::default()))
    }

    /// The per-image Lovász hinge (Viel and Orhan's Lovász experiments).
    pub fn lovasz() -> Self {
        Self::single(Loss::Lovasz(Lovasz {
            per_image: true,
            ..Lovasz::default()
        }))
    }

    /// Checks that there is at least one term, that weights are finite and >= 0, and that
    /// every term reduces to a scalar.
    pub fn validate(&self) -> Result<()> {
        if self.terms.is_empty() {
            return Err(Error::BadCombination("no terms".into()));
        }
        for (i, term) in self.terms.iter().enumerate() {
            if !(term.weight.is_finite() && term.weight >= 0.0) {
                return Err(Error::BadCombination(format!(
                    "term {i} ({}) has weight {}; weights must be finite and >= 0",
                    term.loss.name(),
                    term.weight
                )));
            }
            if term.loss.reduction() == Reduction::None {
                return Err(Error::BadCombination(format!(
                    "term {i} ({}) has reduction \"none\"; a sum needs scalar terms",
                    term.loss.name()
                )));
            }
        }
        Ok(())
    }

    /// The weighted sum, a scalar tensor.
    pub fn forward(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        let parts = self.forward_terms(logits, targets)?;
        let mut total = parts[0].shallow_clone();
        for part in &parts[1..] {
            total = total + part;
        }
        Ok(total)
    }

    /// Each term's weighted value, in order (for logging; they sum to [`Combined::forward`]).
    pub fn forward_terms(&self, logits: &Tensor, targets: &Tensor) -> Result<Vec<Tensor>> {
        self.validate()?;
        self.terms
            .iter()
            .map(|term| Ok(term.loss.forward(logits, targets)? * term.weight))
            .collect()
    }
}
