//! The papers' plain encoder: blocks of two or three 3x3 convolutions + ReLU (optionally with
//! batch norm), max-pooling between blocks, channels doubling: `blocks.I.J.{weight,bias}` (conv)
//! and `blocks.I.J.bn.*` when batch norm is on.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Path};
use tch::Tensor;

use super::{EncoderSpec, Features};
use crate::layers::{conv2d, max_pool, relu_, BatchNorm2d};

/// Shape of the plain encoder (and of [`crate::PlainUnet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlainOptions {
    /// 3x3 convolutions per block: 2 (Ronneberger's U-Net) or 3 (Shannak et al.). Default 3.
    pub convs_per_block: usize,
    /// Channels of the first block, doubled after every pooling (capped at 16x). Default 64.
    pub base_channels: i64,
    /// Batch norm after every convolution (the vanilla U-Net has none). Default false.
    pub batch_norm: bool,
}

impl Default for PlainOptions {
    fn default() -> Self {
        Self {
            convs_per_block: 3,
            base_channels: 64,
            batch_norm: false,
        }
    }
}

/// A block of 3x3 convolutions with ReLU.
#[derive(Debug)]
pub(crate) struct ConvBlock {
    convs: Vec<(nn::Conv2D, Option<BatchNorm2d>)>,
}

impl ConvBlock {
    pub(crate) fn new(p: Path<'_>, cin: i64, cout: i64, opts: &PlainOptions) -> Self {
        let convs = (0..opts.convs_per_block)
            .map(|j| {
                let q = &p / j;
                let c = if j == 0 { cin } else { cout };
                (
                    conv2d(q.clone(), c, cout, 3, 1, 1, 1, true),
                    opts.batch_norm.then(|| BatchNorm2d::new(&q / "bn", cout)),
                )
            })
            .collect();
        Self { convs }
    }

    pub(crate) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = xs.shallow_clone();
        for (conv, bn) in &self.convs {
            x = x.apply(conv);
            if let Some(bn) = bn {
                x = bn.forward_t(&x, train);
            }
            x = relu_(x);
        }
        x
    }
}

/// Five blocks at full resolution, 1/2 .. 1/16, plus the pooled last block (1/32), as VGG's
/// features in smp: channels `[b, 2b, 4b, 8b, 16b, 16b]`.
#[derive(Debug)]
pub(crate) struct PlainEncoder {
    blocks: Vec<ConvBlock>,
}

/// Channels of block `i` (doubling from `base`).
pub(crate) fn block_channels(base: i64, i: usize) -> i64 {
    base << i.min(4)
}

impl PlainEncoder {
    pub(crate) fn new(p: Path<'_>, in_channels: i64, opts: &PlainOptions, blocks: usize) -> Self {
        let bp = &p / "blocks";
        let mut cin = in_channels;
        let blocks = (0..blocks)
            .map(|i| {
                let cout = block_channels(opts.base_channels, i);
                let b = ConvBlock::new(&bp / i, cin, cout, opts);
                cin = cout;
                b
            })
            .collect();
        Self { blocks }
    }

    /// Output of every block (before its pooling), the last one unpooled.
    pub(crate) fn block_outputs(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        let mut out = Vec::with_capacity(self.blocks.len());
        let mut x = xs.shallow_clone();
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                x = max_pool(&x, 2, 2, 0, false);
            }
            x = block.forward_t(&x, train);
            out.push(x.shallow_clone());
        }
        out
    }
}

impl Features for PlainEncoder {
    fn features(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        let mut out = self.block_outputs(xs, train);
        if let Some(last) = out.last() {
            let pooled = max_pool(last, 2, 2, 0, false);
            out.push(pooled);
        }
        out
    }
}

/// The papers' plain encoder as it knows itself: five blocks and a pooled sixth map.
#[derive(Debug)]
pub(crate) struct PlainSpec;

impl EncoderSpec for PlainSpec {
    fn out_channels(&self, _: i64, plain: &PlainOptions) -> [i64; 6] {
        let b = plain.base_channels;
        [
            block_channels(b, 0),
            block_channels(b, 1),
            block_channels(b, 2),
            block_channels(b, 3),
            block_channels(b, 4),
            b << 4,
        ]
    }

    fn first_conv_key(&self) -> &'static str {
        "blocks.0.0.weight"
    }

    fn last_stage_prefixes(&self) -> Vec<String> {
        vec!["blocks.4.".into()]
    }

    fn first_feature_computed(&self) -> bool {
        true
    }

    fn build(&self, p: Path<'_>, in_channels: i64, plain: &PlainOptions) -> Box<dyn Features> {
        Box::new(PlainEncoder::new(p, in_channels, plain, 5))
    }
}
