//! Encoders that return the feature map of every stage, with PyTorch's parameter names.
//!
//! Each encoder follows segmentation_models_pytorch's convention: [`Encoder::forward_t`] returns
//! six maps ordered from fine to coarse, the first at the input's resolution (the input itself,
//! or for VGG and the plain encoder the first block's output), then strides 2, 4, 8, 16 and 32.
//! Variable names inside the encoder are those of smp's encoder module (`conv1.weight`,
//! `layer1.0.bn1.running_mean`, `features.denseblock1.denselayer1.conv1.weight`,
//! `_blocks.3._depthwise_conv.weight`, `model.Mixed_5b.branch1x1.conv.weight`, ...).

mod densenet;
mod efficientnet;
mod inception;
mod plain;
mod resnet;
mod senet;
mod vgg;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tch::nn::Path;
use tch::Tensor;

pub use plain::PlainOptions;
pub(crate) use plain::{block_channels, ConvBlock, PlainEncoder};

use crate::Error;

/// A trunk that returns its stage outputs.
pub(crate) trait Features: fmt::Debug + Send {
    /// Six NCHW maps, fine to coarse (see the module docs).
    fn features(&self, xs: &Tensor, train: bool) -> Vec<Tensor>;
}

macro_rules! encoder_names {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// The encoders of the papers, named as segmentation_models_pytorch names them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum EncoderName {
            $(
                #[doc = $doc]
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl EncoderName {
            /// Every encoder, in documentation order.
            pub const ALL: &'static [EncoderName] = &[$(EncoderName::$variant),*];

            /// smp's name (`resnet34`, `efficientnet-b0`, `inceptionv3`, ...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EncoderName::$variant => $name,)*
                }
            }
        }
    };
}

encoder_names! {
    Resnet18 => "resnet18", "ResNet18 (torchvision).";
    Resnet34 => "resnet34", "ResNet34 (torchvision).";
    Resnet50 => "resnet50", "ResNet50 (torchvision, stride on the 3x3 convolution).";
    Densenet121 => "densenet121", "DenseNet121 (torchvision); CheXNet's encoder.";
    SeResnext50 => "se_resnext50_32x4d", "SE-ResNeXt50 32x4d (`pretrainedmodels`' SENet, as in smp).";
    Vgg16 => "vgg16", "VGG16 without batch norm.";
    Vgg16Bn => "vgg16_bn", "VGG16 with batch norm.";
    Vgg19 => "vgg19", "VGG19 without batch norm.";
    Vgg19Bn => "vgg19_bn", "VGG19 with batch norm.";
    EfficientnetB0 => "efficientnet-b0", "EfficientNet-B0 (smp's `efficientnet_pytorch` port).";
    EfficientnetB1 => "efficientnet-b1", "EfficientNet-B1.";
    EfficientnetB2 => "efficientnet-b2", "EfficientNet-B2.";
    EfficientnetB3 => "efficientnet-b3", "EfficientNet-B3.";
    EfficientnetB4 => "efficientnet-b4", "EfficientNet-B4.";
    EfficientnetB5 => "efficientnet-b5", "EfficientNet-B5.";
    EfficientnetB6 => "efficientnet-b6", "EfficientNet-B6.";
    EfficientnetB7 => "efficientnet-b7", "EfficientNet-B7.";
    InceptionV3 => "inceptionv3", "InceptionV3 (timm's `inception_v3`, smp's `tu-inception_v3`).";
    Plain => "plain", "The papers' plain encoder (see [`PlainOptions`]).";
}

impl EncoderName {
    /// The smallest input side the encoder takes: 96 for InceptionV3 (its stem and
    /// reduction blocks use unpadded convolutions; 64 leaves a 1x1 map for a 3x3 kernel),
    /// else its output stride.
    pub fn min_input(self) -> i64 {
        match self {
            EncoderName::InceptionV3 => 96,
            other => other.output_stride(),
        }
    }
}

impl fmt::Display for EncoderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EncoderName {
    type Err = Error;

    /// Accepts smp's names, case-insensitively, and `tu-inception_v3` / `inception_v3` for
    /// InceptionV3.
    fn from_str(s: &str) -> Result<Self, Error> {
        let lower = s.trim().to_ascii_lowercase();
        let lower = match lower.as_str() {
            "tu-inception_v3" | "inception_v3" => "inceptionv3",
            other => other,
        };
        EncoderName::ALL
            .iter()
            .copied()
            .find(|e| e.as_str() == lower)
            .ok_or_else(|| Error::UnknownEncoder {
                name: s.to_owned(),
                known: EncoderName::ALL
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl EncoderName {
    fn efficientnet_variant(self) -> Option<usize> {
        use EncoderName::*;
        Some(match self {
            EfficientnetB0 => 0,
            EfficientnetB1 => 1,
            EfficientnetB2 => 2,
            EfficientnetB3 => 3,
            EfficientnetB4 => 4,
            EfficientnetB5 => 5,
            EfficientnetB6 => 6,
            EfficientnetB7 => 7,
            _ => return None,
        })
    }

    /// VGG's convolutions per stage and batch norm flag.
    fn vgg_shape(self) -> ([usize; 5], bool) {
        use EncoderName::*;
        match self {
            Vgg16 => ([2, 2, 3, 3, 3], false),
            Vgg16Bn => ([2, 2, 3, 3, 3], true),
            Vgg19 => ([2, 2, 4, 4, 4], false),
            _ => ([2, 2, 4, 4, 4], true),
        }
    }

    /// Whether the first feature is a computed map rather than the input (VGG, plain); smp adds
    /// a centre block to the U-Net decoder for these.
    pub fn is_vgg_like(self) -> bool {
        use EncoderName::*;
        matches!(self, Vgg16 | Vgg16Bn | Vgg19 | Vgg19Bn | Plain)
    }

    /// Channels of the six feature maps for `in_channels` input channels (smp's
    /// `encoder.out_channels`).
    pub fn out_channels(self, in_channels: i64, plain: &PlainOptions) -> Vec<i64> {
        use EncoderName::*;
        let mut c = match self {
            Resnet18 | Resnet34 => vec![3, 64, 64, 128, 256, 512],
            Resnet50 | SeResnext50 => vec![3, 64, 256, 512, 1024, 2048],
            Densenet121 => vec![3, 64, 256, 512, 1024, 1024],
            Vgg16 | Vgg16Bn | Vgg19 | Vgg19Bn => return vec![64, 128, 256, 512, 512, 512],
            InceptionV3 => vec![3, 64, 192, 288, 768, 2048],
            Plain => {
                let b = plain.base_channels;
                return (0..5)
                    .map(|i| block_channels(b, i))
                    .chain([b << 4])
                    .collect();
            }
            other => efficientnet::out_channels(other.efficientnet_variant().unwrap_or(0)),
        };
        c[0] = in_channels;
        c
    }

    /// Total stride of the deepest feature map (32 for every encoder here).
    pub fn output_stride(self) -> i64 {
        32
    }

    /// Name of the first convolution's weight inside the encoder, the one adapted for input
    /// channels other than 3.
    pub fn first_conv_key(self) -> &'static str {
        use EncoderName::*;
        match self {
            Resnet18 | Resnet34 | Resnet50 => "conv1.weight",
            SeResnext50 => "layer0.conv1.weight",
            Densenet121 => "features.conv0.weight",
            Vgg16 | Vgg16Bn | Vgg19 | Vgg19Bn => "features.0.weight",
            InceptionV3 => "model.Conv2d_1a_3x3.conv.weight",
            Plain => "blocks.0.0.weight",
            _ => "_conv_stem.weight",
        }
    }

    /// Prefixes (inside the encoder) of the last stage, the part left trainable by
    /// [`crate::Freeze::AllButLastBlock`].
    pub fn last_stage_prefixes(self) -> Vec<String> {
        use EncoderName::*;
        match self {
            Resnet18 | Resnet34 | Resnet50 | SeResnext50 => vec!["layer4.".into()],
            Densenet121 => vec!["features.denseblock4.".into(), "features.norm5.".into()],
            Vgg16 | Vgg16Bn | Vgg19 | Vgg19Bn => {
                let (convs, bn) = self.vgg_shape();
                let per_conv = if bn { 3 } else { 2 };
                let start: usize = convs[..4].iter().map(|n| n * per_conv + 1).sum();
                (start..start + convs[4] * per_conv)
                    .map(|i| format!("features.{i}."))
                    .collect()
            }
            InceptionV3 => ["Mixed_7a.", "Mixed_7b.", "Mixed_7c."]
                .iter()
                .map(|m| format!("model.{m}"))
                .collect(),
            Plain => vec!["blocks.4.".into()],
            other => {
                let v = other.efficientnet_variant().unwrap_or(0);
                efficientnet::EfficientNet::last_stage_blocks(v)
                    .map(|i| format!("_blocks.{i}."))
                    .collect()
            }
        }
    }
}

/// An encoder trunk built under a `tch` path, returning six feature maps.
#[derive(Debug)]
pub struct Encoder {
    name: EncoderName,
    trunk: Box<dyn Features>,
    out_channels: Vec<i64>,
}

impl Encoder {
    /// Builds `name` with `in_channels` input channels under `p` (e.g. `&root / "encoder"`).
    pub fn new(p: Path<'_>, name: EncoderName, in_channels: i64, plain: &PlainOptions) -> Self {
        use EncoderName::*;
        let trunk: Box<dyn Features> = match name {
            Resnet18 => Box::new(resnet::ResNet::new(
                p,
                in_channels,
                resnet::BlockKind::Basic,
                [2, 2, 2, 2],
            )),
            Resnet34 => Box::new(resnet::ResNet::new(
                p,
                in_channels,
                resnet::BlockKind::Basic,
                [3, 4, 6, 3],
            )),
            Resnet50 => Box::new(resnet::ResNet::new(
                p,
                in_channels,
                resnet::BlockKind::Bottleneck,
                [3, 4, 6, 3],
            )),
            SeResnext50 => Box::new(senet::SeResNeXt::new(p, in_channels, [3, 4, 6, 3], 32)),
            Densenet121 => Box::new(densenet::DenseNet::new(p, in_channels, [6, 12, 24, 16])),
            Vgg16 | Vgg16Bn | Vgg19 | Vgg19Bn => {
                let (convs, bn) = name.vgg_shape();
                Box::new(vgg::Vgg::new(p, in_channels, convs, bn))
            }
            InceptionV3 => Box::new(inception::InceptionV3::new(&p / "model", in_channels)),
            Plain => Box::new(PlainEncoder::new(p, in_channels, plain, 5)),
            other => Box::new(efficientnet::EfficientNet::new(
                p,
                in_channels,
                other.efficientnet_variant().unwrap_or(0),
            )),
        };
        Self {
            name,
            trunk,
            out_channels: name.out_channels(in_channels, plain),
        }
    }

    /// Which encoder this is.
    pub fn name(&self) -> EncoderName {
        self.name
    }

    /// Channels of the six maps [`Encoder::forward_t`] returns.
    pub fn out_channels(&self) -> &[i64] {
        &self.out_channels
    }

    /// The six feature maps of `xs` (N, C, H, W), fine to coarse. `train` selects batch
    /// statistics in batch norm and drop-connect in EfficientNet.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        self.trunk.features(xs, train)
    }
}
