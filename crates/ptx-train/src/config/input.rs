//! `[input]`: what the network sees.

use std::num::NonZeroUsize;

use ptx_preproc::{Augment, Channel, ChannelStack, Normalize, Pipeline, Preset};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The input size, channels, normalisation and augmentation.
///
/// In TOML the augmentation is `preset = "viel"` (a paper's list by name) or an
/// `[input.augment]` table (an explicit list), not both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawInput", into = "RawInput")]
pub struct InputConfig {
    /// `[height, width]` the images are resized to, in pixels. Default `[512, 512]`.
    pub size: [NonZeroUsize; 2],
    /// The channel that replaces the grey image before the augmentation, in training,
    /// validation and inference alike (computed with `channels`' clip limit and tiles): a
    /// data set's preparation, such as a CLAHE that the augmentation's brightness changes
    /// then work on. `prepare = "raw"` (the default) leaves the image as it is.
    pub prepare: Channel,
    /// The input channels (raw + AHE + CLAHE by default).
    pub channels: ChannelStack,
    /// The normalisation (to [0, 1] by default).
    pub normalize: Normalize,
    /// The training augmentation. Default none.
    pub augmentation: Augmentation,
}

/// The training augmentation: a paper's list by name, or an explicit list.
#[derive(Debug, Clone, PartialEq)]
pub enum Augmentation {
    /// A paper's list ([`Preset::None`]: no augmentation).
    Preset(Preset),
    /// An explicit list (albumentations' parameter names).
    List(Augment),
}

impl Default for InputConfig {
    fn default() -> Self {
        Self {
            size: [super::nonzero(512); 2],
            prepare: Channel::Raw,
            channels: ChannelStack::default(),
            normalize: Normalize::default(),
            augmentation: Augmentation::Preset(Preset::None),
        }
    }
}

impl InputConfig {
    /// `(height, width)` in pixels.
    pub fn size(&self) -> (usize, usize) {
        (self.size[0].get(), self.size[1].get())
    }

    /// Squares of `side` pixels.
    ///
    /// # Errors
    /// [`Error::Config`] for a side of 0.
    pub fn square(side: usize) -> Result<[NonZeroUsize; 2]> {
        let side = NonZeroUsize::new(side)
            .ok_or_else(|| Error::config("input.size", "sizes must be positive"))?;
        Ok([side, side])
    }

    /// The training pipeline (with augmentation).
    pub fn train_pipeline(&self) -> Pipeline {
        Pipeline {
            augment: match &self.augmentation {
                Augmentation::Preset(p) => p.augment(),
                Augmentation::List(a) => a.clone(),
            },
            ..self.eval_pipeline()
        }
    }

    /// The validation and inference pipeline (no augmentation).
    pub fn eval_pipeline(&self) -> Pipeline {
        Pipeline {
            size: Some(self.size()),
            prepare: self.prepare,
            augment: Augment::default(),
            channels: self.channels.clone(),
            normalize: self.normalize.clone(),
        }
    }

    /// Whether `other` gives the network the same inputs in validation and inference (size,
    /// preparation, channels, normalisation; the augmentation may differ).
    pub fn same_eval_input(&self, other: &InputConfig) -> bool {
        self.size == other.size
            && self.prepare == other.prepare
            && self.channels == other.channels
            && self.normalize == other.normalize
    }
}

/// `[input]` as written in TOML.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    #[serde(default = "default_size")]
    size: [NonZeroUsize; 2],
    #[serde(default, skip_serializing_if = "is_raw")]
    prepare: Channel,
    #[serde(default)]
    channels: ChannelStack,
    #[serde(default)]
    normalize: Normalize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preset: Option<Preset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    augment: Option<Augment>,
}

fn is_raw(c: &Channel) -> bool {
    *c == Channel::Raw
}

fn default_size() -> [NonZeroUsize; 2] {
    InputConfig::default().size
}

impl TryFrom<RawInput> for InputConfig {
    type Error = Error;

    fn try_from(raw: RawInput) -> Result<Self> {
        let augmentation = match (raw.preset, raw.augment) {
            (Some(p), None) => Augmentation::Preset(p),
            // Run folders written before the augmentation was one key hold `preset = "none"`
            // beside a list: it says nothing, and is accepted.
            (None | Some(Preset::None), Some(a)) => Augmentation::List(a),
            (None, None) => Augmentation::Preset(Preset::None),
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "input",
                    "give `preset` or `augment`, not both",
                ))
            }
        };
        Ok(Self {
            size: raw.size,
            prepare: raw.prepare,
            channels: raw.channels,
            normalize: raw.normalize,
            augmentation,
        })
    }
}

impl From<InputConfig> for RawInput {
    fn from(c: InputConfig) -> Self {
        let (preset, augment) = match c.augmentation {
            Augmentation::Preset(p) => (Some(p), None),
            Augmentation::List(a) => (None, Some(a)),
        };
        Self {
            size: c.size,
            prepare: c.prepare,
            channels: c.channels,
            normalize: c.normalize,
            preset,
            augment,
        }
    }
}
