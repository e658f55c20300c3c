//! The per-sample pipeline: resize, augment, channels, normalise.

use ndarray::{Array2, Array3, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::augment::Augment;
use crate::channels::{Channel, ChannelStack};
use crate::error::{check_same_size, Result};
use crate::normalize::Normalize;
use crate::resize::{resize, resize_input, Interpolation};

/// What happens to one `(image, mask)` pair on its way into a batch, in this order:
///
/// 1. resize to `size` (image: area when shrinking, bilinear when growing, as OpenCV users
///    do; mask: nearest);
/// 2. prepare: replace the grey image by its `prepare` channel (none by default), in
///    training and evaluation alike — a data set's preparation that the augmentation then
///    works on, such as Dasic et al.'s CLAHE before their brightness changes;
/// 3. augment image and mask together (on the grey image, so that the CLAHE / AHE channels
///    are computed from what the network sees);
/// 4. stack the channels (raw + AHE + CLAHE by default);
/// 5. normalise to `f32`; the mask becomes `0.0` / `1.0` (any non-zero value is foreground).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pipeline {
    /// Output `(height, width)`; `None` keeps the input's size.
    pub size: Option<(usize, usize)>,
    /// The channel that replaces the grey image before the augmentation, computed with
    /// `channels`' clip limit and tile grid ([`Channel::Raw`] by default: the image as it
    /// is). Part of the input: the same in the training and the evaluation pipeline.
    pub prepare: Channel,
    /// The augmentation (none by default: validation and inference).
    pub augment: Augment,
    /// The input channels.
    pub channels: ChannelStack,
    /// The normalisation.
    pub normalize: Normalize,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self {
            size: Some((512, 512)),
            prepare: Channel::Raw,
            augment: Augment::default(),
            channels: ChannelStack::default(),
            normalize: Normalize::UnitRange,
        }
    }
}

impl Pipeline {
    /// Runs the pipeline on a grey image and its mask (same size), augmenting with stream
    /// `stream` of `seed`. Returns the image `(channels, height, width)` and the mask
    /// `(height, width)` in `{0, 1}`.
    pub fn process(
        &self,
        image: ArrayView2<'_, u8>,
        mask: ArrayView2<'_, u8>,
        seed: u64,
        stream: u64,
    ) -> Result<(Array3<f32>, Array2<f32>)> {
        check_same_size("pipeline mask", image.dim(), mask.dim())?;
        let (image, mask) = match self.size {
            Some(size) if size != image.dim() => (
                resize_input(image, size)?,
                resize(mask, size, Interpolation::Nearest)?,
            ),
            _ => (image.to_owned(), mask.to_owned()),
        };
        let image = match self.prepare {
            Channel::Raw => image,
            channel => self.channels.equalised(channel, image.view())?,
        };
        let (image, mask) = if self.augment.transforms.is_empty() {
            (image, mask)
        } else {
            let (image, mask) = self.augment.apply_seeded(
                image.insert_axis(Axis(0)).view(),
                mask.view(),
                seed,
                stream,
            )?;
            (image.index_axis_move(Axis(0), 0), mask)
        };
        let channels = self.channels.apply(image.view())?;
        let input = self.normalize.apply(channels.view())?;
        Ok((input, mask.mapv(|v| f32::from(u8::from(v != 0)))))
    }

    /// The number of output channels.
    pub fn channel_count(&self) -> usize {
        self.channels.channels.len()
    }
}
