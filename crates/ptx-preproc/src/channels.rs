//! Building the network's multi-channel input from one grey image.

use ndarray::{Array2, Array3, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::clahe::{Clahe, TileGrid};
use crate::equalize::equalize_hist;
use crate::error::{Error, Result};

/// One input channel made from the grey image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The image itself.
    #[default]
    Raw,
    /// Adaptive histogram equalisation (CLAHE without clipping) on the stack's tile grid.
    Ahe,
    /// CLAHE with the stack's clip limit and tile grid.
    Clahe,
    /// Global histogram equalisation ([`equalize_hist`]).
    Equalized,
}

impl std::fmt::Display for Channel {
    /// The name [`FromStr`](std::str::FromStr) reads: `raw`, `ahe`, `clahe`, `equalized`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Raw => "raw",
            Self::Ahe => "ahe",
            Self::Clahe => "clahe",
            Self::Equalized => "equalized",
        })
    }
}

impl std::str::FromStr for Channel {
    type Err = Error;

    /// `raw`, `ahe`, `clahe` or `equalized` (also `he`), as the CLI's `--channels`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "raw" => Ok(Self::Raw),
            "ahe" => Ok(Self::Ahe),
            "clahe" => Ok(Self::Clahe),
            "equalized" | "equalised" | "he" => Ok(Self::Equalized),
            _ => Err(Error::InvalidOption {
                name: "channel",
                value: s.to_owned(),
                reason: "expected raw, ahe, clahe or equalized",
            }),
        }
    }
}

/// An ordered choice of channels, e.g. Haghanifar et al.'s raw + AHE + CLAHE (the default).
///
/// ```
/// use ndarray::Array2;
/// use ptx_preproc::ChannelStack;
/// let grey = Array2::from_shape_fn((32, 32), |(y, x)| (x * 4 + y) as u8);
/// let stacked = ChannelStack::default().apply(grey.view())?;
/// assert_eq!(stacked.dim(), (3, 32, 32));
/// assert_eq!(stacked.index_axis(ndarray::Axis(0), 0), grey); // channel 0 is the raw image
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelStack {
    /// The channels, in order (at least one).
    pub channels: Vec<Channel>,
    /// Clip limit of the [`Channel::Clahe`] channel.
    pub clip_limit: f64,
    /// Tile grid of the AHE and CLAHE channels.
    pub tiles: TileGrid,
}

impl Default for ChannelStack {
    fn default() -> Self {
        Self {
            channels: vec![Channel::Raw, Channel::Ahe, Channel::Clahe],
            clip_limit: 2.0,
            tiles: TileGrid::default(),
        }
    }
}

impl ChannelStack {
    /// The grey image replicated `n` times (the usual input of an ImageNet encoder).
    pub fn replicate(n: usize) -> Self {
        Self {
            channels: vec![Channel::Raw; n],
            ..Self::default()
        }
    }

    /// Checks the options: at least one channel; a valid clip limit and tile grid where an
    /// AHE or CLAHE channel uses them.
    pub fn validate(&self) -> Result<()> {
        if self.channels.is_empty() {
            return Err(Error::InvalidOption {
                name: "channels",
                value: "[]".into(),
                reason: "needs at least one channel",
            });
        }
        if self.channels.contains(&Channel::Clahe) {
            self.clahe().validate()?;
        } else if self.channels.contains(&Channel::Ahe) {
            Clahe::ahe(self.tiles).validate()?;
        }
        Ok(())
    }

    /// The channels of `image` `(height, width)`: `(channels, height, width)`. Each
    /// equalisation is computed once even if its channel repeats.
    pub fn apply(&self, image: ArrayView2<'_, u8>) -> Result<Array3<u8>> {
        self.validate()?;
        crate::error::check_not_empty("channel input", image.dim())?;
        let (h, w) = image.dim();
        let mut out = Array3::<u8>::zeros((self.channels.len(), h, w));
        let mut computed: Vec<(Channel, Array2<u8>)> = Vec::new();
        for (c, &channel) in self.channels.iter().enumerate() {
            let mut dst = out.index_axis_mut(Axis(0), c);
            let i = match computed.iter().position(|(ch, _)| *ch == channel) {
                Some(i) => i,
                None if channel == Channel::Raw => {
                    dst.assign(&image);
                    continue;
                }
                None => {
                    computed.push((channel, self.equalised(channel, image)?));
                    computed.len() - 1
                }
            };
            dst.assign(&computed[i].1);
        }
        Ok(out)
    }

    /// The CLAHE of the [`Channel::Clahe`] channel.
    fn clahe(&self) -> Clahe {
        Clahe {
            clip_limit: self.clip_limit,
            tiles: self.tiles,
        }
    }

    /// One channel of `image` (with this stack's clip limit and tile grid).
    pub(crate) fn equalised(
        &self,
        channel: Channel,
        image: ArrayView2<'_, u8>,
    ) -> Result<Array2<u8>> {
        match channel {
            Channel::Raw => Ok(image.to_owned()),
            Channel::Ahe => Clahe::ahe(self.tiles).apply(image),
            Channel::Clahe => self.clahe().apply(image),
            Channel::Equalized => equalize_hist(image),
        }
    }
}
