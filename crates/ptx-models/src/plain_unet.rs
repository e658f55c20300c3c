//! The papers' plain U-Net (Ronneberger et al. 2015; Shannak et al. with three convolutions per
//! block): convolution blocks with max-pooling down, 2x2 transposed convolutions up, skip
//! concatenation, a 1x1 convolution head.
//!
//! Keys: `encoder.blocks.I.J.{weight,bias}` (I = 0..=depth, the last one the bottleneck),
//! `decoder.up.K.{weight,bias}` (`ConvTranspose2d(c, c/2, 2, stride=2)`),
//! `decoder.blocks.K.J.{weight,bias}`, `segmentation_head.0` or `reconstruction_head.0`.

use ptx_preproc::PadMode;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Path};
use tch::Tensor;

use crate::encoder::{block_channels, ConvBlock, PlainEncoder, PlainOptions};
use crate::input::{crop, prepare};
use crate::layers::conv2d;
use crate::unet::{Task, UnetOutput};
use crate::{Error, Result};

/// Configuration of [`PlainUnet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlainUnetConfig {
    /// Input channels. Default 1 (grey X-rays, as Shannak et al.).
    pub in_channels: i64,
    /// Output channels. Default 1.
    pub classes: i64,
    /// Blocks: convolutions per block, first block's channels, batch norm.
    pub blocks: PlainOptions,
    /// Number of poolings (the bottleneck is at 1/2^depth). Default 4 (Ronneberger's).
    pub depth: usize,
    /// Segmentation or reconstruction head (auto-encoder pre-training).
    pub task: Task,
    /// Padding for inputs that are not a multiple of 2^depth (see [`crate::UnetConfig`]).
    pub pad_input: Option<PadMode>,
}

impl Default for PlainUnetConfig {
    fn default() -> Self {
        Self {
            in_channels: 1,
            classes: 1,
            blocks: PlainOptions::default(),
            depth: 4,
            task: Task::Segmentation,
            pad_input: None,
        }
    }
}

impl PlainUnetConfig {
    /// Rejects values no model can be built with.
    pub fn validate(&self) -> Result<()> {
        if self.in_channels < 1 || self.classes < 1 {
            return Err(Error::config(
                "in_channels/classes",
                format!("{}/{}", self.in_channels, self.classes),
                "must be at least 1",
            ));
        }
        if !(1..=6).contains(&self.depth) {
            return Err(Error::config("depth", self.depth, "must be 1..=6"));
        }
        let b = &self.blocks;
        if !(1..=8).contains(&b.convs_per_block) || b.base_channels < 2 {
            return Err(Error::config(
                "blocks",
                format!("{b:?}"),
                "needs 1..=8 convolutions per block and at least 2 channels",
            ));
        }
        Ok(())
    }

    /// Required multiple of the input size: `2^depth`.
    pub fn stride(&self) -> i64 {
        1 << self.depth
    }
}

/// The plain U-Net.
#[derive(Debug)]
pub struct PlainUnet {
    config: PlainUnetConfig,
    encoder: PlainEncoder,
    up: Vec<nn::ConvTranspose2D>,
    blocks: Vec<ConvBlock>,
    head: nn::Conv2D,
}

impl PlainUnet {
    /// Builds the model under `p`.
    pub fn new(p: Path<'_>, config: &PlainUnetConfig) -> Result<Self> {
        config.validate()?;
        let opts = &config.blocks;
        let depth = config.depth;
        let encoder = PlainEncoder::new(&p / "encoder", config.in_channels, opts, depth + 1);
        let d = &p / "decoder";
        let (mut up, mut blocks) = (Vec::new(), Vec::new());
        let mut cin = block_channels(opts.base_channels, depth);
        for k in 0..depth {
            let skip = block_channels(opts.base_channels, depth - 1 - k);
            let cfg = nn::ConvTransposeConfig {
                stride: 2,
                ..Default::default()
            };
            up.push(nn::conv_transpose2d(&d / "up" / k, cin, cin / 2, 2, cfg));
            blocks.push(ConvBlock::new(
                &d / "blocks" / k,
                cin / 2 + skip,
                skip,
                opts,
            ));
            cin = skip;
        }
        let head_name = match config.task {
            Task::Segmentation => "segmentation_head",
            Task::Reconstruction => "reconstruction_head",
        };
        let head = conv2d(&p / head_name / "0", cin, config.classes, 1, 1, 0, 1, true);
        Ok(Self {
            config: config.clone(),
            encoder,
            up,
            blocks,
            head,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &PlainUnetConfig {
        &self.config
    }

    /// Runs the model on `(N, in_channels, H, W)`; `labels` is always `None`.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Result<UnetOutput> {
        let (xs, padding) = prepare(
            xs,
            self.config.in_channels,
            self.config.stride(),
            self.config.pad_input,
        )?;
        let mut skips = self.encoder.block_outputs(&xs, train);
        let mut x = skips.pop().unwrap_or_else(|| xs.shallow_clone());
        for (up, block) in self.up.iter().zip(&self.blocks) {
            let skip = skips.pop().unwrap_or_else(|| x.shallow_clone());
            x = block.forward_t(&Tensor::cat(&[x.apply(up), skip], 1), train);
        }
        Ok(UnetOutput {
            logits: crop(x.apply(&self.head), padding),
            labels: None,
        })
    }
}
