//! The model options shared by `ptx forward` and `ptx model summary`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use ptx_models::{
    Attention, Center, ClassifierOptions, EncoderName, ModelConfig, PadMode, PlainUnetConfig,
    Pooling, UnetConfig,
};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ArchArg {
    /// segmentation_models_pytorch's U-Net with an encoder.
    Unet,
    /// The papers' plain U-Net (transposed convolutions).
    PlainUnet,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CenterArg {
    Auto,
    None,
    Conv,
    Aspp,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AttentionArg {
    None,
    Scse,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PoolingArg {
    Avg,
    Max,
    AvgMax,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PadArg {
    Zero,
    Reflect,
}

/// A model configuration from flags or from a JSON/TOML file.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Model configuration (JSON or TOML, as `config.json` of a checkpoint); overrides the flags
    /// below.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Architecture.
    #[arg(long, value_enum, default_value = "unet")]
    arch: ArchArg,
    /// Encoder, as segmentation_models_pytorch names it (resnet34, densenet121,
    /// se_resnext50_32x4d, vgg16_bn, efficientnet-b0, inceptionv3, plain, ...).
    #[arg(long, default_value = "resnet34")]
    encoder: String,
    /// Centre block (auto: conv for VGG and plain encoders, none otherwise, as smp).
    #[arg(long, value_enum, default_value = "auto")]
    center: CenterArg,
    /// Decoder attention.
    #[arg(long, value_enum, default_value = "none")]
    attention: AttentionArg,
    /// Concatenate every decoder block's output before the head.
    #[arg(long)]
    hypercolumns: bool,
    /// Output channels of the segmentation head.
    #[arg(long, default_value_t = 1)]
    classes: i64,
    /// Input channels (default: the input's, or 3).
    #[arg(long)]
    in_channels: Option<i64>,
    /// Add the auxiliary image-level classifier (one logit).
    #[arg(long)]
    aux: bool,
    /// Pooling of the auxiliary classifier.
    #[arg(long, value_enum, default_value = "avg")]
    aux_pooling: PoolingArg,
    /// Pad inputs that are not a multiple of the stride instead of failing.
    #[arg(long, value_enum)]
    pad: Option<PadArg>,
}

impl ModelArgs {
    /// The configuration; `channels` is the input's channel count when known.
    pub fn config(&self, channels: Option<i64>) -> Result<ModelConfig> {
        if let Some(path) = &self.config {
            return ModelConfig::from_file(path).context("reading the model configuration");
        }
        let in_channels = self.in_channels.or(channels).unwrap_or(3);
        let pad_input = self.pad.map(|p| match p {
            PadArg::Zero => PadMode::Zero,
            PadArg::Reflect => PadMode::Reflect,
        });
        match self.arch {
            ArchArg::PlainUnet => Ok(ModelConfig::PlainUnet(PlainUnetConfig {
                in_channels,
                classes: self.classes,
                pad_input,
                ..PlainUnetConfig::default()
            })),
            ArchArg::Unet => {
                let mut c = UnetConfig {
                    encoder: self.encoder.parse::<EncoderName>()?,
                    in_channels,
                    classes: self.classes,
                    pad_input,
                    ..UnetConfig::default()
                };
                c.decoder.center = match self.center {
                    CenterArg::Auto => Center::Auto,
                    CenterArg::None => Center::None,
                    CenterArg::Conv => Center::Conv,
                    CenterArg::Aspp => Center::Aspp,
                };
                c.decoder.attention = match self.attention {
                    AttentionArg::None => Attention::None,
                    AttentionArg::Scse => Attention::Scse,
                };
                c.decoder.hypercolumns = self.hypercolumns;
                if self.aux {
                    c.classifier = Some(ClassifierOptions {
                        pooling: match self.aux_pooling {
                            PoolingArg::Avg => Pooling::Avg,
                            PoolingArg::Max => Pooling::Max,
                            PoolingArg::AvgMax => Pooling::AvgMax,
                        },
                        ..ClassifierOptions::default()
                    });
                }
                Ok(ModelConfig::Unet(c))
            }
        }
    }
}
