//! The papers' augmentation lists (`../shared/papers`), with the choices the papers leave open
//! stated.

use super::{
    Augment, BrightnessContrast, CoarseDropout, ElasticTransform, Flip, Gamma, GridDistortion,
    Limit, OneOf, OpticalDistortion, Rotate, ShiftScaleRotate, Transform,
};

/// The papers' lists by name, for configs and command lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// No augmentation.
    None,
    /// [`Augment::haghanifar`].
    Haghanifar,
    /// [`Augment::shannak`].
    Shannak,
    /// [`Augment::viel`].
    Viel,
    /// [`Augment::dasic`].
    Dasic,
    /// [`Augment::harmalkar`].
    Harmalkar,
}

impl Preset {
    /// Every preset, in the order above.
    pub const ALL: [Preset; 6] = [
        Preset::None,
        Preset::Haghanifar,
        Preset::Shannak,
        Preset::Viel,
        Preset::Dasic,
        Preset::Harmalkar,
    ];

    /// The preset's name as configs write it.
    pub fn name(self) -> &'static str {
        match self {
            Preset::None => "none",
            Preset::Haghanifar => "haghanifar",
            Preset::Shannak => "shannak",
            Preset::Viel => "viel",
            Preset::Dasic => "dasic",
            Preset::Harmalkar => "harmalkar",
        }
    }

    /// The pipeline.
    pub fn augment(self) -> Augment {
        match self {
            Preset::None => Augment::default(),
            Preset::Haghanifar => Augment::haghanifar(),
            Preset::Shannak => Augment::shannak(),
            Preset::Viel => Augment::viel(),
            Preset::Dasic => Augment::dasic(),
            Preset::Harmalkar => Augment::harmalkar(),
        }
    }
}

/// A preset name that is none of [`Preset::ALL`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown augmentation preset {0:?} (known: {known})", known = Preset::ALL.map(|p| p.name()).join(", "))]
pub struct UnknownPreset(pub String);

impl std::str::FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(s: &str) -> Result<Self, UnknownPreset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPreset(s.to_owned()))
    }
}

impl Augment {
    /// Haghanifar et al.'s "aggressive" list: coarse dropout, horizontal flip, one of
    /// brightness / contrast / gamma, one of grid / optical / elastic distortion, rotation
    /// and zoom. The paper names the transforms, not their parameters; these are the
    /// parameters of the public SIIM albumentations pipeline its list follows (one-of groups
    /// at p = 0.3, `ElasticTransform(alpha=120, sigma=120*0.05)`,
    /// `OpticalDistortion(distort_limit=2)`, `ShiftScaleRotate()` defaults for rotation and
    /// zoom, `CoarseDropout()` defaults). The heaviest list, used by the pipeline benchmark.
    pub fn haghanifar() -> Self {
        let weight_one = 1.0;
        Self::new(vec![
            Transform::CoarseDropout(CoarseDropout::default()),
            Transform::HorizontalFlip(Flip::default()),
            Transform::OneOf(OneOf {
                transforms: vec![
                    Transform::RandomBrightnessContrast(BrightnessContrast::contrast(
                        0.2, weight_one,
                    )),
                    Transform::RandomGamma(Gamma {
                        p: weight_one,
                        ..Gamma::default()
                    }),
                    Transform::RandomBrightnessContrast(BrightnessContrast::brightness(
                        0.2, weight_one,
                    )),
                ],
                p: 0.3,
            }),
            Transform::OneOf(OneOf {
                transforms: vec![
                    Transform::ElasticTransform(ElasticTransform {
                        alpha: 120.0,
                        sigma: 120.0 * 0.05,
                        p: weight_one,
                        ..ElasticTransform::default()
                    }),
                    Transform::GridDistortion(GridDistortion {
                        p: weight_one,
                        ..GridDistortion::default()
                    }),
                    Transform::OpticalDistortion(OpticalDistortion {
                        distort_limit: Limit::Value(2.0),
                        p: weight_one,
                        ..OpticalDistortion::default()
                    }),
                ],
                p: 0.3,
            }),
            Transform::ShiftScaleRotate(ShiftScaleRotate::default()),
        ])
    }

    /// Shannak et al.'s positive-class augmentation done on the fly: a horizontal flip and a
    /// rotation by 3 to 7 degrees either way with black corners, each with probability 0.5.
    /// (The paper writes one flipped and one rotated copy of each positive;
    /// [`oversample_positives`](crate::oversample_positives) with this preset is the
    /// equivalent.)
    pub fn shannak() -> Self {
        let rotate = |low: f64, high: f64| {
            Transform::Rotate(Rotate {
                limit: Limit::range(low, high),
                p: 1.0,
                ..Rotate::default()
            })
        };
        Self::new(vec![
            Transform::HorizontalFlip(Flip::default()),
            Transform::OneOf(OneOf {
                transforms: vec![rotate(3.0, 7.0), rotate(-7.0, -3.0)],
                p: 0.5,
            }),
        ])
    }

    /// Viel and Orhan: horizontal flip with probability 0.5, nothing else.
    pub fn viel() -> Self {
        Self::new(vec![Transform::HorizontalFlip(Flip::default())])
    }

    /// Dasic et al.: rotation by up to 20 degrees, brightness +-15 %, zoom +-10 % and a
    /// horizontal flip. The paper gives ranges, not probabilities: the three continuous ones
    /// are always drawn (a draw near zero is a small change), the flip has p = 0.5.
    pub fn dasic() -> Self {
        Self::new(vec![
            Transform::Rotate(Rotate {
                limit: Limit::Value(20.0),
                p: 1.0,
                ..Rotate::default()
            }),
            Transform::RandomBrightnessContrast(BrightnessContrast::brightness(0.15, 1.0)),
            Transform::ShiftScaleRotate(ShiftScaleRotate {
                shift_limit: Limit::Value(0.0),
                scale_limit: Limit::Value(0.1),
                keep_ratio: true,
                rotate_limit: Limit::Value(0.0),
                p: 1.0,
                ..ShiftScaleRotate::default()
            }),
            Transform::HorizontalFlip(Flip::default()),
        ])
    }

    /// Harmalkar et al.: "random flipping and affine transforms": a horizontal flip and
    /// albumentations' `ShiftScaleRotate()` defaults, each with probability 0.5.
    pub fn harmalkar() -> Self {
        Self::new(vec![
            Transform::HorizontalFlip(Flip::default()),
            Transform::ShiftScaleRotate(ShiftScaleRotate::default()),
        ])
    }
}
