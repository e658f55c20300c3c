//! The U-Net of segmentation_models_pytorch with the papers' encoders and options.

use ptx_preproc::PadMode;
use serde::{Deserialize, Serialize};
use tch::nn::Path;
use tch::Tensor;

use crate::decoder::{Center, DecoderOptions, UnetDecoder, ASPP_CHANNELS};
use crate::encoder::{Encoder, EncoderName, PlainOptions};
use crate::heads::{ClassificationHead, ClassifierInput, ClassifierOptions, ConvHead};
use crate::input::{crop, prepare};
use crate::{Error, Result};

/// What the pixel-level head predicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Segmentation logits, `classes` channels (`segmentation_head.0`).
    #[default]
    Segmentation,
    /// Auto-encoder pre-training (Shannak et al.): a `reconstruction_head.0` 3x3 convolution
    /// with `classes` output channels and no activation, trained with MSE against the input
    /// X-ray (set `classes` to the input channels) or against the mask (`classes` 1). Encoder
    /// and decoder keys are those of the segmentation model, so the weights transfer.
    Reconstruction,
}

/// A U-Net configuration; the defaults are smp's `Unet()` (ResNet34, 3 input channels,
/// 1 class, decoder 256/128/64/32/16, no auxiliary head).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnetConfig {
    /// Encoder. Default ResNet34.
    pub encoder: EncoderName,
    /// Input channels (3 for raw+AHE+CLAHE stacks, 1 for grey). Default 3.
    pub in_channels: i64,
    /// Output channels of the pixel head. Default 1.
    pub classes: i64,
    /// Decoder options.
    pub decoder: DecoderOptions,
    /// The auxiliary image-level classifier, if any. Default none.
    pub classifier: Option<ClassifierOptions>,
    /// Segmentation or reconstruction head. Default segmentation.
    pub task: Task,
    /// Shape of the plain encoder (used when `encoder` is `plain`).
    pub plain: PlainOptions,
    /// Inputs whose height or width is not a multiple of 32: `None` (default) rejects them with
    /// [`Error::InputSize`]; `Some(mode)` pads (centred, as `ptx_preproc::pad_to_multiple`)
    /// and crops the outputs back.
    pub pad_input: Option<PadMode>,
}

impl Default for UnetConfig {
    fn default() -> Self {
        Self {
            encoder: EncoderName::Resnet34,
            in_channels: 3,
            classes: 1,
            decoder: DecoderOptions::default(),
            classifier: None,
            task: Task::Segmentation,
            plain: PlainOptions::default(),
            pad_input: None,
        }
    }
}

impl UnetConfig {
    /// A default configuration with `encoder`.
    pub fn with_encoder(encoder: EncoderName) -> Self {
        Self {
            encoder,
            ..Self::default()
        }
    }

    /// The centre block actually built ([`Center::Auto`] resolved).
    pub fn resolved_center(&self) -> Center {
        match self.decoder.center {
            Center::Auto if self.encoder.is_vgg_like() => Center::Conv,
            Center::Auto => Center::None,
            other => other,
        }
    }

    /// Rejects values no model can be built with.
    pub fn validate(&self) -> Result<()> {
        if self.in_channels < 1 {
            return Err(Error::config(
                "in_channels",
                self.in_channels,
                "must be at least 1",
            ));
        }
        if self.classes < 1 {
            return Err(Error::config("classes", self.classes, "must be at least 1"));
        }
        let ch = &self.decoder.channels;
        if ch.iter().any(|&c| c < 1) {
            return Err(Error::config(
                "decoder.channels",
                format!("{ch:?}"),
                "channel counts must be positive",
            ));
        }
        if !(0.0..1.0).contains(&self.decoder.dropout) {
            return Err(Error::config(
                "decoder.dropout",
                self.decoder.dropout,
                "must be in [0, 1)",
            ));
        }
        if self.decoder.attention == crate::Attention::Scse && ch.iter().any(|&c| c < 16) {
            return Err(Error::config(
                "decoder.channels",
                format!("{ch:?}"),
                "scSE needs at least 16 channels per block (reduction 16)",
            ));
        }
        if let Some(c) = &self.classifier {
            if c.classes < 1 {
                return Err(Error::config(
                    "classifier.classes",
                    c.classes,
                    "must be at least 1",
                ));
            }
            if !(0.0..1.0).contains(&c.dropout) {
                return Err(Error::config(
                    "classifier.dropout",
                    c.dropout,
                    "must be in [0, 1)",
                ));
            }
        }
        let p = &self.plain;
        if self.encoder == EncoderName::Plain
            && (!(1..=8).contains(&p.convs_per_block) || p.base_channels < 1)
        {
            return Err(Error::config(
                "plain",
                format!("{p:?}"),
                "needs 1..=8 convolutions per block and at least one channel",
            ));
        }
        Ok(())
    }
}

/// The outputs of a forward pass.
#[derive(Debug)]
pub struct UnetOutput {
    /// Pixel logits (or reconstruction), `(N, classes, H, W)`, same H and W as the input.
    pub logits: Tensor,
    /// Image-level logits `(N, classifier classes)` when the model has a classifier.
    pub labels: Option<Tensor>,
}

/// A U-Net built under a `tch` path with smp's parameter names (`encoder.*`, `decoder.*`,
/// `segmentation_head.*`, `classification_head.*`).
#[derive(Debug)]
pub struct Unet {
    config: UnetConfig,
    encoder: Encoder,
    decoder: UnetDecoder,
    head: ConvHead,
    classifier: Option<ClassificationHead>,
}

impl Unet {
    /// Builds the model's variables under `p` (use `vs.root()` for smp's key names).
    pub fn new(p: Path<'_>, config: &UnetConfig) -> Result<Self> {
        config.validate()?;
        let encoder = Encoder::new(
            &p / "encoder",
            config.encoder,
            config.in_channels,
            &config.plain,
        );
        let center = config.resolved_center();
        let decoder = UnetDecoder::new(
            &p / "decoder",
            encoder.out_channels(),
            &config.decoder,
            center,
        );
        let head_name = match config.task {
            Task::Segmentation => "segmentation_head",
            Task::Reconstruction => "reconstruction_head",
        };
        let head = ConvHead::new(
            &p / head_name,
            UnetDecoder::out_channels(&config.decoder),
            config.classes,
        );
        let classifier = config.classifier.as_ref().map(|c| {
            let deepest = encoder.out_channels()[5];
            let cin = match (c.input, center) {
                (ClassifierInput::Center, Center::Aspp) => ASPP_CHANNELS,
                _ => deepest,
            };
            ClassificationHead::new(&p / "classification_head", cin, c)
        });
        Ok(Self {
            config: config.clone(),
            encoder,
            decoder,
            head,
            classifier,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &UnetConfig {
        &self.config
    }

    /// The encoder (for feature extraction or freezing).
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Runs the model on `xs` `(N, in_channels, H, W)` (float32, or the var store's kind).
    /// `train` selects batch statistics and dropout. Errors on a wrong shape, and on H or W not
    /// a multiple of 32 unless `pad_input` is set.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Result<UnetOutput> {
        self.forward_with_features(xs, train).map(|(_, out)| out)
    }

    /// [`Unet::forward_t`] that also returns the encoder's feature maps (of the padded input
    /// when `pad_input` padded it).
    pub(crate) fn forward_with_features(
        &self,
        xs: &Tensor,
        train: bool,
    ) -> Result<(Vec<Tensor>, UnetOutput)> {
        let stride = self.config.encoder.output_stride();
        let (xs, padding) = prepare(xs, self.config.in_channels, stride, self.config.pad_input)?;
        let minimum = self.config.encoder.min_input();
        let (h, w) = (xs.size()[2], xs.size()[3]);
        if h < minimum || w < minimum {
            return Err(Error::InputTooSmall {
                height: h,
                width: w,
                encoder: self.config.encoder.to_string(),
                minimum,
            });
        }
        let features = self.encoder.forward_t(&xs, train);
        let deepest = &features[features.len() - 1];
        let center = self.decoder.center_t(deepest, train);
        let labels = self.classifier.as_ref().map(|c| {
            let source = match c.input() {
                ClassifierInput::Center => &center,
                ClassifierInput::Encoder => deepest,
            };
            c.forward_t(source, train)
        });
        let decoded = self
            .decoder
            .forward_t(&features, center.shallow_clone(), train);
        let logits = crop(self.head.forward(&decoded), padding);
        Ok((features, UnetOutput { logits, labels }))
    }
}
