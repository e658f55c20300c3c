//! Augmentations of an image and its mask together, seeded, composable and described in
//! serde config (TOML or JSON), with the papers' lists as presets.
//!
//! Parameter names and meanings follow albumentations 2.0 where it has the same transform
//! (`A.HorizontalFlip`, `A.Rotate`, `A.ShiftScaleRotate`, `A.RandomBrightnessContrast`,
//! `A.RandomGamma`, `A.GridDistortion`, `A.OpticalDistortion`, `A.ElasticTransform`,
//! `A.CoarseDropout`, `A.CLAHE`, `A.RandomCrop`, `A.OneOf`, `A.Compose`), so a config
//! translates field by field. Geometric transforms move the mask with nearest-neighbour
//! sampling; intensity transforms leave it.
//!
//! Randomness: [`Augment::apply_seeded`] draws everything from a ChaCha8 stream chosen by
//! `(seed, stream)`, so one sample's augmentation does not depend on which thread runs it or
//! on the samples before it. The draws are not albumentations' (its outputs under a seed are
//! not reproduced); the parameter distributions are.

mod distortion;
mod dropout;
mod geometric;
mod intensity;
mod limit;
mod presets;

pub use presets::{Preset, UnknownPreset};

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use distortion::{ElasticTransform, GridDistortion, LensModel, OpticalDistortion};
pub use dropout::CoarseDropout;
pub use geometric::{Flip, RandomCrop, Rotate, ShiftScaleRotate};
pub use intensity::{BrightnessContrast, Gamma, RandomClahe};
pub use limit::Limit;

use crate::error::{check_not_empty, check_same_size, Error, Result};
use crate::warp::{remap, BorderMode, Maps, Plane, Sampling};
use limit::{check_probability, fires};

/// One transform or group, as written in a config: `kind = "horizontal_flip"` etc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Transform {
    /// Mirror left-right (`A.HorizontalFlip`).
    HorizontalFlip(Flip),
    /// Mirror top-bottom (`A.VerticalFlip`).
    VerticalFlip(Flip),
    /// Rotation (`A.Rotate`).
    Rotate(Rotate),
    /// Shift, zoom and rotation (`A.ShiftScaleRotate`).
    ShiftScaleRotate(ShiftScaleRotate),
    /// Brightness and contrast (`A.RandomBrightnessContrast`).
    RandomBrightnessContrast(BrightnessContrast),
    /// Gamma (`A.RandomGamma`).
    RandomGamma(Gamma),
    /// Grid distortion (`A.GridDistortion`).
    GridDistortion(GridDistortion),
    /// Optical distortion (`A.OpticalDistortion`).
    OpticalDistortion(OpticalDistortion),
    /// Elastic deformation (`A.ElasticTransform`).
    ElasticTransform(ElasticTransform),
    /// Rectangles blanked (`A.CoarseDropout`).
    CoarseDropout(CoarseDropout),
    /// CLAHE with a random clip limit (`A.CLAHE`).
    Clahe(RandomClahe),
    /// A random crop (`A.RandomCrop`).
    RandomCrop(RandomCrop),
    /// One member chosen (`A.OneOf`).
    OneOf(OneOf),
    /// All members in order (`A.Compose` / `A.Sequential`).
    Sequence(Sequence),
}

/// With probability `p`, one of `transforms`, chosen with weights equal to their own `p`,
/// then applied regardless of its `p` (`A.OneOf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneOf {
    /// The candidates.
    pub transforms: Vec<Transform>,
    /// Probability that one is applied (albumentations: 0.5).
    #[serde(default = "half")]
    pub p: f64,
}

/// With probability `p`, every transform in order, each with its own probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequence {
    /// The members.
    pub transforms: Vec<Transform>,
    /// Probability of the group (default 1).
    #[serde(default = "one")]
    pub p: f64,
}

fn half() -> f64 {
    0.5
}

fn one() -> f64 {
    1.0
}

/// An image `(channels, height, width)` and its mask `(height, width)` in flight.
pub(crate) struct Sample {
    image: Array3<u8>,
    mask: Array2<u8>,
}

impl Sample {
    fn dim(&self) -> (usize, usize) {
        self.mask.dim()
    }

    /// Resamples every image channel bilinearly and the mask by nearest neighbour.
    fn remap(self, maps: &Maps, border: BorderMode, fill: u8, fill_mask: u8) -> Sample {
        let (h, w) = maps.dim();
        let mut image = Array3::zeros((self.image.len_of(Axis(0)), h, w));
        let mut mask = Array2::zeros((h, w));
        let mut planes: Vec<Plane<'_>> = self
            .image
            .outer_iter()
            .zip(image.outer_iter_mut())
            .map(|(src, out)| Plane {
                src,
                out,
                sampling: Sampling::Bilinear,
                fill,
            })
            .collect();
        planes.push(Plane {
            src: self.mask.view(),
            out: mask.view_mut(),
            sampling: Sampling::Nearest,
            fill: fill_mask,
        });
        remap(&mut planes, maps, border);
        drop(planes);
        Sample { image, mask }
    }
}

impl Transform {
    /// The transform's own probability (its weight inside a [`OneOf`]).
    pub fn probability(&self) -> f64 {
        match self {
            Self::HorizontalFlip(t) | Self::VerticalFlip(t) => t.p,
            Self::Rotate(t) => t.p,
            Self::ShiftScaleRotate(t) => t.p,
            Self::RandomBrightnessContrast(t) => t.p,
            Self::RandomGamma(t) => t.p,
            Self::GridDistortion(t) => t.p,
            Self::OpticalDistortion(t) => t.p,
            Self::ElasticTransform(t) => t.p,
            Self::CoarseDropout(t) => t.p,
            Self::Clahe(t) => t.p,
            Self::RandomCrop(t) => t.p,
            Self::OneOf(t) => t.p,
            Self::Sequence(t) => t.p,
        }
    }

    /// Checks the options (ranges ordered, probabilities in `[0, 1]`, ...).
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::HorizontalFlip(t) | Self::VerticalFlip(t) => check_probability("flip.p", t.p),
            Self::Rotate(t) => t.validate(),
            Self::ShiftScaleRotate(t) => t.validate(),
            Self::RandomBrightnessContrast(t) => t.validate(),
            Self::RandomGamma(t) => t.validate(),
            Self::GridDistortion(t) => t.validate(),
            Self::OpticalDistortion(t) => t.validate(),
            Self::ElasticTransform(t) => t.validate(),
            Self::CoarseDropout(t) => t.validate(),
            Self::Clahe(t) => t.validate(),
            Self::RandomCrop(t) => t.validate(),
            Self::OneOf(group) => {
                check_probability("one_of.p", group.p)?;
                group.transforms.iter().try_for_each(Transform::validate)
            }
            Self::Sequence(group) => {
                check_probability("sequence.p", group.p)?;
                group.transforms.iter().try_for_each(Transform::validate)
            }
        }
    }

    /// Applies the transform with its probability.
    fn maybe_apply(&self, s: Sample, rng: &mut ChaCha8Rng) -> Result<Sample> {
        if fires(rng, self.probability()) {
            self.apply(s, rng)
        } else {
            Ok(s)
        }
    }

    /// Applies the transform unconditionally.
    fn apply(&self, s: Sample, rng: &mut ChaCha8Rng) -> Result<Sample> {
        Ok(match self {
            Self::HorizontalFlip(_) => geometric::flip(s, 2),
            Self::VerticalFlip(_) => geometric::flip(s, 1),
            Self::Rotate(t) => t.apply(s, rng),
            Self::ShiftScaleRotate(t) => t.apply(s, rng),
            Self::RandomBrightnessContrast(t) => t.apply(s, rng),
            Self::RandomGamma(t) => t.apply(s, rng),
            Self::GridDistortion(t) => t.apply(s, rng),
            Self::OpticalDistortion(t) => t.apply(s, rng),
            Self::ElasticTransform(t) => t.apply(s, rng),
            Self::CoarseDropout(t) => t.apply(s, rng),
            Self::Clahe(t) => t.apply(s, rng)?,
            Self::RandomCrop(t) => t.apply(s, rng)?,
            Self::OneOf(group) => {
                let total: f64 = group.transforms.iter().map(Transform::probability).sum();
                if total <= 0.0 {
                    return Ok(s);
                }
                let mut u = rand::Rng::random::<f64>(rng) * total;
                let last = group.transforms.len() - 1;
                for (i, t) in group.transforms.iter().enumerate() {
                    u -= t.probability();
                    if u < 0.0 || i == last {
                        return t.apply(s, rng);
                    }
                }
                s
            }
            Self::Sequence(group) => {
                let mut s = s;
                for t in &group.transforms {
                    s = t.maybe_apply(s, rng)?;
                }
                s
            }
        })
    }
}

/// A list of transforms applied in order, each with its probability (`A.Compose`).
///
/// ```
/// use ndarray::{Array2, Array3};
/// use ptx_preproc::augment::{Augment, Flip, Transform};
/// let augment = Augment::new(vec![Transform::HorizontalFlip(Flip { p: 1.0 })]);
/// let image = Array3::from_shape_fn((1, 4, 6), |(_, y, x)| (10 * y + x) as u8);
/// let mask = Array2::from_shape_fn((4, 6), |(_, x)| u8::from(x < 2));
/// let (image2, mask2) = augment.apply_seeded(image.view(), mask.view(), 7, 0)?;
/// assert_eq!(image2[[0, 0, 0]], 5);
/// assert_eq!(mask2[[0, 5]], 1);
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
///
/// In a config (TOML):
///
/// ```toml
/// [[transforms]]
/// kind = "horizontal_flip"
/// p = 0.5
///
/// [[transforms]]
/// kind = "one_of"
/// p = 0.3
/// transforms = [
///   { kind = "random_gamma", gamma_limit = [80, 120] },
///   { kind = "random_brightness_contrast", brightness_limit = 0.2, contrast_limit = 0 },
/// ]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augment {
    /// The transforms, in order.
    pub transforms: Vec<Transform>,
}

impl Augment {
    /// A pipeline of `transforms`.
    pub fn new(transforms: Vec<Transform>) -> Self {
        Self { transforms }
    }

    /// Checks every transform's options.
    pub fn validate(&self) -> Result<()> {
        self.transforms.iter().try_for_each(Transform::validate)
    }

    /// Augments `image` `(channels, height, width)` and `mask` `(height, width)` with the
    /// random stream `stream` of `seed` (use the sample's index, or a hash of epoch and
    /// index): the same arguments give the same output. Returns the new image and mask (a
    /// random crop changes their size).
    pub fn apply_seeded(
        &self,
        image: ArrayView3<'_, u8>,
        mask: ArrayView2<'_, u8>,
        seed: u64,
        stream: u64,
    ) -> Result<(Array3<u8>, Array2<u8>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        self.apply(image, mask, &mut rng)
    }

    /// Augments `image` `(channels, height, width)` and `mask` `(height, width)` drawing
    /// from `rng`.
    pub fn apply(
        &self,
        image: ArrayView3<'_, u8>,
        mask: ArrayView2<'_, u8>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Array3<u8>, Array2<u8>)> {
        self.validate()?;
        let (_, h, w) = image.dim();
        check_not_empty("augment input", (h, w))?;
        if image.len_of(Axis(0)) == 0 {
            return Err(Error::EmptyImage {
                what: "augment input (no channels)",
                height: h,
                width: w,
            });
        }
        check_same_size("augment mask", (h, w), mask.dim())?;
        let mut s = Sample {
            image: image.as_standard_layout().into_owned(),
            mask: mask.as_standard_layout().into_owned(),
        };
        for t in &self.transforms {
            s = t.maybe_apply(s, rng)?;
        }
        Ok((s.image, s.mask))
    }
}
