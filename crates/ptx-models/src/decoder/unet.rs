//! smp's `UnetDecoder`: `center`, then `blocks.I` = nearest upsampling to the next skip's size,
//! concatenation, `attention1`, `conv1` (3x3 conv + BN + ReLU), `conv2`, `attention2`.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Path};
use tch::Tensor;

use super::aspp::{Aspp, ASPP_CHANNELS};
use super::scse::Scse;
use crate::layers::{
    conv_bn_relu_seq, dropout2d, hw, upsample_bilinear, upsample_nearest, ConvBnAct,
};

/// Block between the encoder's deepest map and the first decoder block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Center {
    /// smp's choice: [`Center::Conv`] for VGG-like encoders (VGG, plain), none otherwise.
    #[default]
    Auto,
    /// None: the deepest map goes straight into the first block.
    None,
    /// smp's `UnetCenterBlock`: two 3x3 conv + BN + ReLU keeping the channel count.
    Conv,
    /// ASPP (1x1 + 3x3 at dilations 6/12/18 + image pooling, 256 filters), as Viel & Orhan.
    Aspp,
}

/// Attention inside decoder blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// None (smp's default).
    #[default]
    None,
    /// scSE after the skip concatenation and after the second convolution (smp's `scse`).
    Scse,
}

/// Options of the U-Net decoder; defaults equal smp's `Unet` defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecoderOptions {
    /// Output channels of the five decoder blocks, one per encoder stage. Default
    /// `[256, 128, 64, 32, 16]`.
    #[serde(deserialize_with = "five_channels")]
    pub channels: [i64; 5],
    /// Batch norm in the decoder's convolutions (smp's `decoder_use_norm="batchnorm"`). Default
    /// true; without it the convolutions get a bias.
    pub batch_norm: bool,
    /// Centre block. Default [`Center::Auto`].
    pub center: Center,
    /// Decoder attention. Default none.
    pub attention: Attention,
    /// Hypercolumns: every block's output is upsampled (bilinear) to the last block's size and
    /// all are concatenated before the head. Default false.
    pub hypercolumns: bool,
    /// `Dropout2d` probability after each decoder block (training only). Default 0.
    pub dropout: f64,
}

impl Default for DecoderOptions {
    fn default() -> Self {
        Self {
            channels: [256, 128, 64, 32, 16],
            batch_norm: true,
            center: Center::Auto,
            attention: Attention::None,
            hypercolumns: false,
            dropout: 0.0,
        }
    }
}

/// Reads `decoder.channels`: five counts, an error naming the key otherwise.
fn five_channels<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[i64; 5], D::Error> {
    let v = Vec::<i64>::deserialize(d)?;
    let found = v.len();
    v.try_into().map_err(|_| {
        serde::de::Error::custom(format!(
            "decoder.channels: expected five channel counts (one per encoder stage), found {found}"
        ))
    })
}

#[derive(Debug)]
enum CenterBlock {
    Identity,
    Conv(ConvBnAct<nn::Conv2D>, ConvBnAct<nn::Conv2D>),
    Aspp(Aspp),
}

#[derive(Debug)]
struct Block {
    conv1: ConvBnAct<nn::Conv2D>,
    conv2: ConvBnAct<nn::Conv2D>,
    attention1: Option<Scse>,
    attention2: Option<Scse>,
}

/// The decoder; built from the encoder's channels.
#[derive(Debug)]
pub(crate) struct UnetDecoder {
    center: CenterBlock,
    blocks: Vec<Block>,
    hypercolumns: bool,
    dropout: f64,
}

impl UnetDecoder {
    /// `encoder_channels`: the six encoder maps' channels; `center` already resolved (not Auto).
    pub(crate) fn new(
        p: Path<'_>,
        encoder_channels: &[i64; 6],
        opts: &DecoderOptions,
        center: Center,
    ) -> Self {
        let bn = opts.batch_norm;
        // The deepest map first, then the skips from coarse to fine (the input's channels,
        // `encoder_channels[0]`, are not a skip).
        let [_, c1, c2, c3, c4, c5] = *encoder_channels;
        let mut reversed = [c5, c4, c3, c2, c1];
        let cp = &p / "center";
        let center_block = match center {
            Center::Conv => CenterBlock::Conv(
                conv_bn_relu_seq(&cp / 0, reversed[0], reversed[0], 3, 1, bn),
                conv_bn_relu_seq(&cp / 1, reversed[0], reversed[0], 3, 1, bn),
            ),
            Center::Aspp => {
                let a = Aspp::new(cp, reversed[0]);
                reversed[0] = ASPP_CHANNELS;
                CenterBlock::Aspp(a)
            }
            Center::None | Center::Auto => CenterBlock::Identity,
        };
        let head = reversed[0];
        let mut cin = head;
        let bp = &p / "blocks";
        let blocks = opts
            .channels
            .iter()
            .enumerate()
            .map(|(i, &cout)| {
                let skip = reversed.get(i + 1).copied().unwrap_or(0);
                let q = &bp / i;
                let scse = |name: &str, c: i64| {
                    (opts.attention == Attention::Scse)
                        .then(|| Scse::new(&q / name / "attention", c))
                };
                let block = Block {
                    conv1: conv_bn_relu_seq(&q / "conv1", cin + skip, cout, 3, 1, bn),
                    conv2: conv_bn_relu_seq(&q / "conv2", cout, cout, 3, 1, bn),
                    attention1: scse("attention1", cin + skip),
                    attention2: scse("attention2", cout),
                };
                cin = cout;
                block
            })
            .collect();
        Self {
            center: center_block,
            blocks,
            hypercolumns: opts.hypercolumns,
            dropout: opts.dropout,
        }
    }

    /// Channels of [`UnetDecoder::forward_t`]'s output.
    pub(crate) fn out_channels(opts: &DecoderOptions) -> i64 {
        if opts.hypercolumns {
            opts.channels.iter().sum()
        } else {
            opts.channels[4]
        }
    }

    /// The centre block's output (the deepest map after the centre).
    pub(crate) fn center_t(&self, deepest: &Tensor, train: bool) -> Tensor {
        match &self.center {
            CenterBlock::Identity => deepest.shallow_clone(),
            CenterBlock::Conv(a, b) => b.forward_t(&a.forward_t(deepest, train), train),
            CenterBlock::Aspp(a) => a.forward_t(deepest, train),
        }
    }

    /// Decodes from the encoder maps and the centre's output.
    pub(crate) fn forward_t(&self, features: &[Tensor], center: Tensor, train: bool) -> Tensor {
        let shapes: Vec<(i64, i64)> = features.iter().rev().map(hw).collect();
        let skips: Vec<&Tensor> = features[1..features.len() - 1].iter().rev().collect();
        let mut x = center;
        let mut outputs = Vec::new();
        for (i, block) in self.blocks.iter().enumerate() {
            let (h, w) = shapes.get(i + 1).copied().unwrap_or_else(|| hw(&x));
            x = upsample_nearest(&x, h, w);
            if let Some(skip) = skips.get(i) {
                x = Tensor::cat(&[&x, *skip], 1);
                if let Some(a) = &block.attention1 {
                    x = a.forward(&x);
                }
            }
            x = block
                .conv2
                .forward_t(&block.conv1.forward_t(&x, train), train);
            if let Some(a) = &block.attention2 {
                x = a.forward(&x);
            }
            x = dropout2d(x, self.dropout, train);
            if self.hypercolumns {
                outputs.push(x.shallow_clone());
            }
        }
        if self.hypercolumns {
            let (h, w) = hw(&x);
            let maps: Vec<Tensor> = outputs.iter().map(|m| upsample_bilinear(m, h, w)).collect();
            Tensor::cat(&maps, 1)
        } else {
            x
        }
    }
}
