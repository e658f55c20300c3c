//! Region losses on soft overlaps: Dice, Jaccard (IoU) and Tversky.

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::Result;
use crate::input::{check_non_negative, check_range, targets_like};
use crate::reduction::Reduction;

/// What a region loss does with an image (or batch) whose target has no positive pixel,
/// where Dice and Jaccard are undefined without smoothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyTargets {
    /// Its loss is 0, with no gradient, and it still counts in the mean (as
    /// segmentation_models_pytorch). With the batch form the loss is 0 only when the whole
    /// batch is empty.
    #[default]
    Zero,
    /// Its loss is computed like any other (as MONAI): `1 - smooth / (sum(p) / 2 + smooth)`
    /// for Dice, which pushes its predictions towards 0 when `smooth > 0`. With `smooth = 0`
    /// the loss is 1 with no gradient.
    Keep,
}

/// How the soft intersection `I`, false positives and false negatives are summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intersection {
    /// segmentation_models_pytorch 0.6: `I = (sum p + sum t - sum |p - t|) / 2`,
    /// `FP = sum p - I`, `FN = sum t - I`, which stays a true overlap for soft targets. The
    /// subtraction cancels large sums: in float32 over the 4 x 256 x 256 test batch `I`
    /// kept about 4 significant digits, and on empty targets its rounding noise (not
    /// `smooth`) set the gradient, ~460x MONAI's.
    #[default]
    SoftLabel,
    /// MONAI and earlier smp: `I = sum p t`, `FP = sum p - I`, `FN = sum t - I`, exact
    /// for binary targets and one pass cheaper.
    Product,
}

/// Options shared by the overlap losses ([`Overlap::dice`], [`Overlap::jaccard`],
/// [`Tversky`]). The default is segmentation_models_pytorch 0.6's `DiceLoss("binary")`:
/// batch form, `smooth = 0`, `eps = 1e-7`, empty batches score 0.
///
/// The losses take **logits** `(N, ...)` (any number of dimensions after the batch,
/// typically `(N, 1, H, W)`) and targets of the same shape. Probabilities are
/// `p = sigmoid(x)` (smp computes `exp(logsigmoid(x))`, equal to rounding). Over an image
/// (or the whole batch), with soft counts `I`, `FP`, `FN` summed as [`Intersection`] says,
/// the Tversky score is `(I + smooth) / max(I + alpha FP + beta FN + smooth, eps)`
/// (Dice: alpha = beta = 1/2, i.e. `(2I + 2 smooth) / (sum p + sum t + 2 smooth)`;
/// Jaccard: alpha = beta = 1) and the loss `1 - score` (or `-log(max(score, eps))`).
///
/// ```
/// use ptx_losses::{Overlap, Reduction};
/// use tch::Tensor;
/// let logits = Tensor::from_slice(&[4.0f32, 4.0, -4.0, -4.0, 4.0, -4.0, -4.0, -4.0])
///     .reshape([2, 1, 2, 2]);
/// let targets = Tensor::from_slice(&[1.0f32, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
///     .reshape([2, 1, 2, 2]);
/// // Batch form (the default): one Dice over both images.
/// let batch = Overlap::default().dice(&logits, &targets)?.double_value(&[]);
/// assert!(batch > 0.0 && batch < 0.4);
/// // Per image, MONAI's way: the empty second image is penalised for its false positive.
/// let per_image = Overlap { reduction: Reduction::None, ..Overlap::monai() };
/// let losses = per_image.dice(&logits, &targets)?;
/// assert_eq!(losses.size(), [2]);
/// assert!(losses.double_value(&[1]) > 0.99);
/// # Ok::<(), ptx_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Overlap {
    /// Added to the numerator and the denominator (smp's `smooth`), in pixels. MONAI's
    /// `smooth_nr = smooth_dr = s` for Dice equals `smooth = s / 2` here.
    pub smooth: f64,
    /// How the overlap is summed.
    pub intersection: Intersection,
    /// Lower bound of the denominator (and of the score for `log_loss`); 0 = none.
    pub eps: f64,
    /// `true`: one score per image, then the reduction over images (MONAI's default).
    /// `false`: one score over the whole batch (smp's `DiceLoss`).
    pub per_image: bool,
    /// What images (or batches) with an empty target contribute.
    pub empty_targets: EmptyTargets,
    /// `-log(score)` in place of `1 - score`.
    pub log_loss: bool,
    /// Reduction over the per-image losses (the batch form has one).
    pub reduction: Reduction,
}

impl Default for Overlap {
    fn default() -> Self {
        Self {
            smooth: 0.0,
            intersection: Intersection::SoftLabel,
            eps: 1e-7,
            per_image: false,
            empty_targets: EmptyTargets::Zero,
            log_loss: false,
            reduction: Reduction::Mean,
        }
    }
}

impl Overlap {
    /// MONAI's `DiceLoss(sigmoid=True)`: per image, `smooth_nr = smooth_dr = 1e-5`, product
    /// intersection, no lower bound, empty targets kept.
    pub fn monai() -> Self {
        Self {
            smooth: 0.5e-5,
            intersection: Intersection::Product,
            eps: 0.0,
            per_image: true,
            empty_targets: EmptyTargets::Keep,
            log_loss: false,
            reduction: Reduction::Mean,
        }
    }

    /// Soft Dice loss (segmentation_models_pytorch's `DiceLoss("binary")` with the default
    /// options). Shapes as the type's docs.
    pub fn dice(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        region_loss(logits, targets, 0.5, 0.5, 1.0, self)
    }

    /// Soft Jaccard (IoU) loss (segmentation_models_pytorch's `JaccardLoss("binary")` with
    /// the default options).
    pub fn jaccard(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        region_loss(logits, targets, 1.0, 1.0, 1.0, self)
    }

    /// Checks the options' ranges.
    pub fn validate(&self) -> Result<()> {
        check_non_negative("smooth", self.smooth)?;
        check_non_negative("eps", self.eps)
    }
}

/// Tversky loss: Dice with false positives weighted by `alpha` and false negatives by
/// `beta`, raised to `gamma` (segmentation_models_pytorch's `TverskyLoss("binary")`, where
/// the batch loss is `(1 - score)^gamma`; per image, each image's loss is raised before the
/// reduction, the focal Tversky loss of Abraham and Khan).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tversky {
    /// Weight of false positives (smp: 0.5).
    pub alpha: f64,
    /// Weight of false negatives (smp: 0.5).
    pub beta: f64,
    /// Exponent of the loss, > 0 (smp: 1). Below 1 the gradient is infinite where the loss
    /// is 0.
    pub gamma: f64,
    /// Smoothing, bounds, batch or per image, empty targets, reduction.
    pub overlap: Overlap,
}

impl Default for Tversky {
    fn default() -> Self {
        Self {
            alpha: 0.5,
            beta: 0.5,
            gamma: 1.0,
            overlap: Overlap::default(),
        }
    }
}

impl Tversky {
    /// The loss of `logits` against `targets`, shapes as [`Overlap`].
    pub fn forward(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        self.validate()?;
        region_loss(
            logits,
            targets,
            self.alpha,
            self.beta,
            self.gamma,
            &self.overlap,
        )
    }

    /// Checks the options' ranges.
    pub fn validate(&self) -> Result<()> {
        check_non_negative("tversky.alpha", self.alpha)?;
        check_non_negative("tversky.beta", self.beta)?;
        check_range(
            "tversky.gamma",
            self.gamma,
            f64::MIN_POSITIVE,
            f64::MAX,
            "must be finite and > 0",
        )?;
        self.overlap.validate()
    }
}

/// `(1 - tversky)^gamma` (or `-log`) per image or for the batch, then reduced.
fn region_loss(
    logits: &Tensor,
    targets: &Tensor,
    alpha: f64,
    beta: f64,
    gamma: f64,
    o: &Overlap,
) -> Result<Tensor> {
    o.validate()?;
    let t = targets_like(logits, targets, 2)?;
    let p = logits.sigmoid();
    // (N, 1, P) summed over the pixels, or over the batch and the pixels, as smp does: the
    // soft intersection below cancels large sums, so the summation order must be the same
    // as the reference's for float32 results to agree.
    let n = t.size()[0];
    let (p, t) = (p.reshape([n, 1, -1]), t.reshape([n, 1, -1]));
    let dims: &[i64] = if o.per_image { &[2] } else { &[0, 2] };
    let sum = |x: &Tensor| x.sum_dim_intlist(dims, false, None).reshape([-1]);
    let p_sum = sum(&p);
    let t_sum = sum(&t);
    let intersection = match o.intersection {
        Intersection::SoftLabel => {
            // smp takes the L1 norm (`linalg.vector_norm(ord=1)`); `norm` runs that kernel.
            let difference = (&p - &t).norm_scalaropt_dim(1, dims, false).reshape([-1]);
            (&p_sum + &t_sum - difference) / 2.0
        }
        Intersection::Product => sum(&(&p * &t)),
    };
    let fp = p_sum - &intersection;
    let fn_ = &t_sum - &intersection;
    let denominator = (&intersection + fp * alpha + fn_ * beta + o.smooth).clamp_min(o.eps);
    let score = (intersection + o.smooth) / denominator;
    let mut loss = if o.log_loss {
        -score.clamp_min(o.eps).log()
    } else {
        1.0 - score
    };
    if o.empty_targets == EmptyTargets::Zero {
        let kind = loss.kind();
        loss = loss * t_sum.gt(0.0).to_kind(kind);
    }
    Ok(if gamma == 1.0 {
        o.reduction.apply(&loss)
    } else if o.per_image {
        o.reduction.apply(&loss.pow_tensor_scalar(gamma))
    } else {
        // smp raises the reduced loss; with one batch value the order does not matter.
        o.reduction.apply(&loss).pow_tensor_scalar(gamma)
    })
}
