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

/// Total stride of the deepest feature map of every encoder here.
const OUTPUT_STRIDE: i64 = 32;

/// What an encoder knows about itself, as smp's `EncoderMixin`: the channels of its maps,
/// the names a weight import and freezing need, and how to build it. One implementation per
/// family, beside its trunk; [`EncoderName`] picks it in one exhaustive `match`.
pub(crate) trait EncoderSpec: Sync {
    /// Channels of the six feature maps for `in_channels` input channels (smp's
    /// `encoder.out_channels`).
    fn out_channels(&self, in_channels: i64, plain: &PlainOptions) -> [i64; 6];

    /// Name of the first convolution's weight inside the encoder, the one adapted for input
    /// channel counts other than 3.
    fn first_conv_key(&self) -> &'static str;

    /// Prefixes (inside the encoder) of the last stage, the part left trainable by
    /// [`crate::Freeze::AllButLastBlock`].
    fn last_stage_prefixes(&self) -> Vec<String>;

    /// A classifier checkpoint's key (wrappers and classifier layers already removed) as
    /// this encoder names it.
    fn classifier_key(&self, key: &str) -> String {
        key.to_owned()
    }

    /// The smallest input side the encoder takes.
    fn min_input(&self) -> i64 {
        OUTPUT_STRIDE
    }

    /// Whether the first feature map is computed rather than the input (VGG, plain); smp
    /// adds a centre block to the U-Net decoder for these.
    fn first_feature_computed(&self) -> bool {
        false
    }

    /// Builds the trunk under `p`.
    fn build(&self, p: Path<'_>, in_channels: i64, plain: &PlainOptions) -> Box<dyn Features>;
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
    /// What the encoder knows about itself.
    fn spec(self) -> &'static dyn EncoderSpec {
        use EncoderName::*;
        match self {
            Resnet18 => &resnet::RESNET18,
            Resnet34 => &resnet::RESNET34,
            Resnet50 => &resnet::RESNET50,
            Densenet121 => &densenet::DenseNetSpec,
            SeResnext50 => &senet::SeResNeXtSpec,
            Vgg16 => &vgg::VGG16,
            Vgg16Bn => &vgg::VGG16_BN,
            Vgg19 => &vgg::VGG19,
            Vgg19Bn => &vgg::VGG19_BN,
            EfficientnetB0 => &efficientnet::EFFICIENTNETS[0],
            EfficientnetB1 => &efficientnet::EFFICIENTNETS[1],
            EfficientnetB2 => &efficientnet::EFFICIENTNETS[2],
            EfficientnetB3 => &efficientnet::EFFICIENTNETS[3],
            EfficientnetB4 => &efficientnet::EFFICIENTNETS[4],
            EfficientnetB5 => &efficientnet::EFFICIENTNETS[5],
            EfficientnetB6 => &efficientnet::EFFICIENTNETS[6],
            EfficientnetB7 => &efficientnet::EFFICIENTNETS[7],
            InceptionV3 => &inception::InceptionV3Spec,
            Plain => &plain::PlainSpec,
        }
    }

    /// The smallest input side the encoder takes: 96 for InceptionV3 (its stem and
    /// reduction blocks use unpadded convolutions; 64 leaves a 1x1 map for a 3x3 kernel),
    /// else its output stride.
    pub fn min_input(self) -> i64 {
        self.spec().min_input()
    }

    /// Whether the first feature is a computed map rather than the input (VGG, plain); smp
    /// adds a centre block to the U-Net decoder for these.
    pub fn is_vgg_like(self) -> bool {
        self.spec().first_feature_computed()
    }

    /// Channels of the six feature maps for `in_channels` input channels (smp's
    /// `encoder.out_channels`).
    pub fn out_channels(self, in_channels: i64, plain: &PlainOptions) -> [i64; 6] {
        self.spec().out_channels(in_channels, plain)
    }

    /// Total stride of the deepest feature map (32 for every encoder here).
    pub fn output_stride(self) -> i64 {
        OUTPUT_STRIDE
    }

    /// Name of the first convolution's weight inside the encoder, the one adapted for input
    /// channels other than 3.
    pub fn first_conv_key(self) -> &'static str {
        self.spec().first_conv_key()
    }

    /// Prefixes (inside the encoder) of the last stage, the part left trainable by
    /// [`crate::Freeze::AllButLastBlock`].
    pub fn last_stage_prefixes(self) -> Vec<String> {
        self.spec().last_stage_prefixes()
    }

    /// A classifier checkpoint's key (wrappers and classifier layers removed) as this
    /// encoder names it (timm's SE-ResNeXt stem, old DenseNet layer names, InceptionV3's
    /// `model.` level).
    pub(crate) fn classifier_key(self, key: &str) -> String {
        self.spec().classifier_key(key)
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

/// An encoder trunk built under a `tch` path, returning six feature maps.
#[derive(Debug)]
pub struct Encoder {
    name: EncoderName,
    trunk: Box<dyn Features>,
    out_channels: [i64; 6],
}

impl Encoder {
    /// Builds `name` with `in_channels` input channels under `p` (e.g. `&root / "encoder"`).
    pub fn new(p: Path<'_>, name: EncoderName, in_channels: i64, plain: &PlainOptions) -> Self {
        let spec = name.spec();
        Self {
            name,
            trunk: spec.build(p, in_channels, plain),
            out_channels: spec.out_channels(in_channels, plain),
        }
    }

    /// Which encoder this is.
    pub fn name(&self) -> EncoderName {
        self.name
    }

    /// Channels of the six maps [`Encoder::forward_t`] returns.
    pub fn out_channels(&self) -> &[i64; 6] {
        &self.out_channels
    }

    /// The six feature maps of `xs` (N, C, H, W), fine to coarse. `train` selects batch
    /// statistics in batch norm and drop-connect in EfficientNet.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        self.trunk.features(xs, train)
    }
}
