//! [`Model`]: a network with its own var store and configuration, saved as a self-describing
//! checkpoint (`config.json` + `model.safetensors`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Tensor};

use crate::checkpoint::{load_weights, LoadReport, WeightSource};
use crate::encoder::EncoderName;
use crate::freeze::{Freeze, Part};
use crate::plain_unet::{PlainUnet, PlainUnetConfig};
use crate::unet::{Task, Unet, UnetConfig, UnetOutput};
use crate::{Error, Result};

/// The file names of a checkpoint folder.
pub const CONFIG_FILE: &str = "config.json";
/// Weights file of a checkpoint folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Which network, with its options. Serialised with an `arch` tag:
/// `{"arch": "unet", "encoder": "resnet34", ...}` or `{"arch": "plain_unet", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "snake_case")]
pub enum ModelConfig {
    /// smp's U-Net with an encoder ([`UnetConfig`]).
    Unet(UnetConfig),
    /// The plain U-Net ([`PlainUnetConfig`]).
    PlainUnet(PlainUnetConfig),
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig::Unet(UnetConfig::default())
    }
}

impl ModelConfig {
    /// Reads a configuration from JSON or TOML (by extension; `.toml` is TOML, anything else
    /// JSON). Unknown keys are errors naming the key.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let parsed = if path.extension().is_some_and(|e| e == "toml") {
            toml::from_str(&text).map_err(|e| e.to_string())
        } else {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        };
        parsed.map_err(|reason| Error::checkpoint(path, reason))
    }

    /// The encoder (the plain encoder for the plain U-Net).
    pub fn encoder(&self) -> EncoderName {
        match self {
            ModelConfig::Unet(c) => c.encoder,
            ModelConfig::PlainUnet(_) => EncoderName::Plain,
        }
    }

    /// Input channels.
    pub fn in_channels(&self) -> i64 {
        match self {
            ModelConfig::Unet(c) => c.in_channels,
            ModelConfig::PlainUnet(c) => c.in_channels,
        }
    }

    /// What the pixel head predicts.
    pub fn task(&self) -> Task {
        match self {
            ModelConfig::Unet(c) => c.task,
            ModelConfig::PlainUnet(c) => c.task,
        }
    }

    /// Output channels of the pixel head.
    pub fn classes(&self) -> i64 {
        match self {
            ModelConfig::Unet(c) => c.classes,
            ModelConfig::PlainUnet(c) => c.classes,
        }
    }

    /// Outputs of the image-level classifier head, `None` without one.
    pub fn classifier_classes(&self) -> Option<i64> {
        match self {
            ModelConfig::Unet(c) => c.classifier.as_ref().map(|h| h.classes),
            ModelConfig::PlainUnet(_) => None,
        }
    }

    /// Required multiple of the input height and width.
    pub fn stride(&self) -> i64 {
        match self {
            ModelConfig::Unet(c) => c.encoder.output_stride(),
            ModelConfig::PlainUnet(c) => c.stride(),
        }
    }
}

#[allow(clippy::large_enum_variant)] // built once per model
#[derive(Debug)]
enum Net {
    Unet(Unet),
    Plain(PlainUnet),
}

/// A model that owns its variables.
///
/// ```no_run
/// use ptx_models::{Model, ModelConfig, UnetConfig, EncoderName, WeightSource};
/// let config = ModelConfig::Unet(UnetConfig::with_encoder(EncoderName::Resnet34));
/// let mut model = Model::new(config, tch::Device::Cpu)?;
/// // weights saved from segmentation_models_pytorch: torch.save(model.state_dict(), "unet.pth")
/// let report = model.load_weights("unet.pth".as_ref(), WeightSource::Auto, true)?;
/// println!("{report}");
/// let x = tch::Tensor::zeros([1, 3, 512, 512], (tch::Kind::Float, tch::Device::Cpu));
/// let out = tch::no_grad(|| model.forward_t(&x, false))?;
/// assert_eq!(out.logits.size(), [1, 1, 512, 512]);
/// # Ok::<(), ptx_models::Error>(())
/// ```
#[derive(Debug)]
pub struct Model {
    vs: VarStore,
    net: Net,
    config: ModelConfig,
}

impl Model {
    /// Builds a freshly initialised model on `device` (PyTorch's default initialisations).
    pub fn new(config: ModelConfig, device: Device) -> Result<Self> {
        let vs = VarStore::new(device);
        let net = match &config {
            ModelConfig::Unet(c) => Net::Unet(Unet::new(vs.root(), c)?),
            ModelConfig::PlainUnet(c) => Net::Plain(PlainUnet::new(vs.root(), c)?),
        };
        Ok(Self { vs, net, config })
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The variables (for optimizers, `set_kind`, device moves).
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// The variables, mutably.
    pub fn var_store_mut(&mut self) -> &mut VarStore {
        &mut self.vs
    }

    /// The U-Net, when this is one (for its encoder).
    pub fn unet(&self) -> Option<&Unet> {
        match &self.net {
            Net::Unet(u) => Some(u),
            Net::Plain(_) => None,
        }
    }

    /// Forward pass on `(N, C, H, W)`; see [`Unet::forward_t`].
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Result<UnetOutput> {
        match &self.net {
            Net::Unet(u) => u.forward_t(xs, train),
            Net::Plain(p) => p.forward_t(xs, train),
        }
    }

    /// Stores every 4-d weight in channels-last (NHWC) memory order, as PyTorch's
    /// `model.to(memory_format=torch.channels_last)`; feed inputs through [`channels_last`] too.
    /// Values and names do not change; on CUDA with cuDNN convolutions then run in NHWC.
    pub fn to_channels_last(&mut self) {
        tch::no_grad(|| {
            for (_, mut var) in self.vs.variables() {
                if var.dim() == 4 {
                    let nhwc = channels_last(&var);
                    var.set_data(&nhwc);
                }
            }
        });
    }

    /// Loads weights from a `.safetensors` or `torch.save` file (see [`WeightSource`]).
    pub fn load_weights(
        &mut self,
        path: &Path,
        source: WeightSource,
        strict: bool,
    ) -> Result<LoadReport> {
        let encoder = self.config.encoder();
        load_weights(&mut self.vs, encoder, path, source, strict)
    }

    /// Writes `dir/config.json` and `dir/model.safetensors` (creating `dir`), each through
    /// [`ptx_io::write_atomic_with`] (a temporary file flushed to disk, then renamed), so an
    /// interrupted save never leaves a torn file.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut named: Vec<(String, Tensor)> = self.vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        ptx_io::write_atomic_with(dir.join(WEIGHTS_FILE), |tmp| {
            Tensor::write_safetensors(&named, tmp).map_err(std::io::Error::other)
        })?;
        let config = dir.join(CONFIG_FILE);
        let text = serde_json::to_string_pretty(&self.config)
            .map_err(|e| Error::checkpoint(&config, e.to_string()))?;
        ptx_io::write_atomic(&config, |out| out.write_all(text.as_bytes()))?;
        Ok(())
    }

    /// Opens a checkpoint folder written by [`Model::save`] (strict: every key must be there).
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let config = ModelConfig::from_file(&dir.join(CONFIG_FILE))?;
        let mut model = Self::new(config, device)?;
        model.load_weights(&dir.join(WEIGHTS_FILE), WeightSource::Model, true)?;
        Ok(model)
    }

    /// Stops gradients for a part of the model (see [`Freeze`]); returns how many variables
    /// changed. Batch-norm statistics still update in training mode, as in PyTorch when only
    /// `requires_grad` is switched off.
    pub fn freeze(&self, policy: Freeze) -> usize {
        crate::freeze::apply(&self.vs, self.config.encoder(), policy)
    }

    /// Makes every trainable variable trainable again.
    pub fn unfreeze(&self) -> usize {
        crate::freeze::apply(&self.vs, self.config.encoder(), Freeze::Nothing)
    }

    /// Copies the variables of `parts` from `other` (same architecture for those parts), e.g.
    /// the encoder and decoder of an auto-encoder pre-trained with [`crate::Task::Reconstruction`]
    /// into a segmentation model. Returns how many variables were copied.
    pub fn transfer_from(&mut self, other: &Model, parts: &[Part]) -> Result<usize> {
        let last_stage = self.config.encoder().last_stage_prefixes();
        let source = other.vs.variables();
        let mut copied = 0;
        tch::no_grad(|| -> Result<()> {
            for (name, mut var) in self.vs.variables() {
                if !parts.iter().any(|p| p.contains_with(&name, &last_stage)) {
                    continue;
                }
                let src = source.get(&name).ok_or_else(|| Error::MissingKeys {
                    path: PathBuf::from("<transfer source>"),
                    missing: vec![name.clone()],
                })?;
                if src.size() != var.size() {
                    return Err(Error::ShapeMismatch {
                        key: name,
                        expected: var.size(),
                        found: src.size(),
                        path: PathBuf::from("<transfer source>"),
                    });
                }
                var.f_copy_(src)?;
                copied += 1;
            }
            Ok(())
        })?;
        Ok(copied)
    }
}

/// The same NCHW tensor stored in channels-last (NHWC) memory order (PyTorch's
/// `x.contiguous(memory_format=torch.channels_last)`); other ranks are returned as they are.
pub fn channels_last(xs: &Tensor) -> Tensor {
    if xs.dim() != 4 {
        return xs.shallow_clone();
    }
    xs.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}
