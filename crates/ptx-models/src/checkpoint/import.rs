//! Loading named tensors into a model: name mapping per source, first-convolution adaptation,
//! missing / unexpected key reports, shape checks.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::Tensor;

use crate::encoder::EncoderName;
use crate::{Error, Result};

/// Where a weight file comes from, which decides how its names map onto the model's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightSource {
    /// [`WeightSource::Model`] when any key starts with `encoder.` or `decoder.`,
    /// [`WeightSource::Classifier`] otherwise.
    #[default]
    Auto,
    /// A whole model: ptx's own checkpoints and segmentation_models_pytorch `Unet` state dicts.
    /// Names are used as they are (a DataParallel `module.` prefix is stripped).
    Model,
    /// An image classifier whose trunk becomes the encoder: torchvision (ResNet, DenseNet, VGG,
    /// InceptionV3), timm (`inception_v3`, `seresnext50_32x4d`, ResNets), `pretrainedmodels`
    /// (`se_resnext50_32x4d`), `efficientnet_pytorch`, and the CheXNet checkpoint. Prefixes
    /// `module.` and `densenet121.` are stripped, DenseNet's old `norm.1` / `conv.1` names are
    /// renamed, classifier layers (`fc`, `classifier`, `last_linear`, `_fc`, `AuxLogits`) are
    /// ignored, timm's SE-ResNeXt names are mapped, then everything goes under `encoder.`.
    /// timm's own EfficientNets (`conv_stem`, `blocks.I.J.conv_pw`) are a different
    /// implementation and are not mapped: use `efficientnet_pytorch` or smp weights.
    Classifier,
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// Model variables set from the file.
    pub loaded: usize,
    /// Model variables the file did not provide (kept as they were), in the part the source
    /// covers: the whole model for [`WeightSource::Model`], the encoder for classifiers.
    /// `num_batches_tracked` counters are not listed (old checkpoints have none).
    pub missing: Vec<String>,
    /// File keys with no model variable (after mapping).
    pub unexpected: Vec<String>,
    /// File keys deliberately skipped (classifier layers).
    pub ignored: Vec<String>,
    /// First-convolution weights adapted to another input channel count, as smp's
    /// `patch_first_conv` does (sum for 1 channel, cyclic repetition scaled by 3/C otherwise).
    pub adapted: Vec<String>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} loaded, {} missing, {} unexpected, {} ignored, {} adapted",
            self.loaded,
            self.missing.len(),
            self.unexpected.len(),
            self.ignored.len(),
            self.adapted.len()
        )?;
        for (what, keys) in [("missing", &self.missing), ("unexpected", &self.unexpected)] {
            if let Some(k) = keys.first() {
                write!(f, "; first {what}: {k}")?;
            }
        }
        Ok(())
    }
}

/// Reads the named tensors of a `.safetensors` file or a `torch.save` file (`.pth`, `.pt`,
/// `.bin`, `.tar`, or any other extension: the content decides), in file order.
pub fn read_weights(path: &Path) -> Result<Vec<(String, Tensor)>> {
    if !path.is_file() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    if path.extension().is_some_and(|e| e == "safetensors") {
        return Tensor::read_safetensors(path).map_err(|e| Error::checkpoint(path, e.to_string()));
    }
    super::torch_file::read(path)
}

const HEAD_PREFIXES: [&str; 6] = [
    "fc.",
    "classifier.",
    "last_linear.",
    "_fc.",
    "AuxLogits.",
    "head.",
];

fn strip_wrappers(mut key: &str) -> &str {
    while let Some(rest) = key.strip_prefix("module.") {
        key = rest;
    }
    key
}

/// Maps a classifier key to the model's name, `None` for classifier layers: wrappers
/// (`module.`, CheXNet's `densenet121.`) and heads are removed here, what is particular to an
/// encoder family is the encoder's ([`EncoderName::classifier_key`]).
fn classifier_key(encoder: EncoderName, key: &str) -> Option<String> {
    let mut key = strip_wrappers(key);
    if let Some(rest) = key.strip_prefix("densenet121.") {
        key = rest;
    }
    if HEAD_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return None;
    }
    Some(format!("encoder.{}", encoder.classifier_key(key)))
}

/// smp's `patch_first_conv` for pretrained weights: `(O, 3, k, k)` -> `(O, C, k, k)`.
fn adapt_first_conv(w: &Tensor, channels: i64) -> Tensor {
    let source = w.size()[1];
    if channels == 1 {
        return w.sum_dim_intlist(1, true, w.kind());
    }
    let idx: Vec<i64> = (0..channels).map(|i| i % source).collect();
    let idx = Tensor::from_slice(&idx).to_device(w.device());
    w.index_select(1, &idx) * (source as f64 / channels as f64)
}

/// Loads `path` into `vs`, whose variables were built for `encoder`.
///
/// Shapes must match exactly (else [`Error::ShapeMismatch`] naming the key), except the
/// encoder's first convolution, adapted from 3 input channels to the model's as smp does. With
/// `strict` (PyTorch's `load_state_dict(strict=True)`), keys the model needs and the file lacks
/// ([`Error::MissingKeys`]) and file keys the model lacks ([`Error::UnexpectedKeys`]) are
/// errors and nothing is loaded; without, both are reported in the [`LoadReport`].
pub fn load_weights(
    vs: &mut VarStore,
    encoder: EncoderName,
    path: &Path,
    source: WeightSource,
    strict: bool,
) -> Result<LoadReport> {
    let named = read_weights(path)?;
    let source = match source {
        WeightSource::Auto => {
            let model_like = named.iter().any(|(k, _)| {
                let k = strip_wrappers(k);
                k.starts_with("encoder.") || k.starts_with("decoder.")
            });
            if model_like {
                WeightSource::Model
            } else {
                WeightSource::Classifier
            }
        }
        s => s,
    };
    let mut report = LoadReport::default();
    let mut file: HashMap<String, Tensor> = HashMap::with_capacity(named.len());
    for (k, t) in named {
        let mapped = match source {
            WeightSource::Classifier => classifier_key(encoder, &k),
            _ => Some(strip_wrappers(&k).to_owned()),
        };
        match mapped {
            Some(m) => {
                file.insert(m, t);
            }
            None => report.ignored.push(k),
        }
    }
    let first_conv = format!("encoder.{}", encoder.first_conv_key());
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let covered = |k: &str| source != WeightSource::Classifier || k.starts_with("encoder.");
    let mut used = HashSet::new();
    let mut updates = Vec::new();
    for (name, var) in &vars {
        let Some(src) = file.get(name) else {
            if covered(name) && !name.ends_with("num_batches_tracked") {
                report.missing.push(name.clone());
            }
            continue;
        };
        used.insert(name.clone());
        let (want, have) = (var.size(), src.size());
        let value = if want == have {
            src.shallow_clone()
        } else if *name == first_conv
            && want.len() == 4
            && have.len() == 4
            && want[0] == have[0]
            && want[2..] == have[2..]
        {
            report.adapted.push(name.clone());
            adapt_first_conv(src, want[1])
        } else {
            return Err(Error::ShapeMismatch {
                key: name.clone(),
                expected: want,
                found: have,
                path: path.to_path_buf(),
            });
        };
        updates.push((var.shallow_clone(), value));
    }
    let mut unexpected: Vec<String> = file.into_keys().filter(|k| !used.contains(k)).collect();
    unexpected.sort();
    if strict && !report.missing.is_empty() {
        return Err(Error::MissingKeys {
            path: path.to_path_buf(),
            missing: report.missing,
        });
    }
    if strict && !unexpected.is_empty() {
        return Err(Error::UnexpectedKeys {
            path: path.to_path_buf(),
            unexpected,
        });
    }
    tch::no_grad(|| -> Result<()> {
        for (mut var, value) in updates {
            let value = value.to_device(var.device()).to_kind(var.kind());
            var.f_copy_(&value)?;
            report.loaded += 1;
        }
        Ok(())
    })?;
    report.unexpected = unexpected;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chexnet_keys() {
        let k = classifier_key(
            EncoderName::Densenet121,
            "module.densenet121.features.denseblock2.denselayer3.conv.2.weight",
        );
        assert_eq!(
            k.as_deref(),
            Some("encoder.features.denseblock2.denselayer3.conv2.weight")
        );
        assert_eq!(
            classifier_key(
                EncoderName::Densenet121,
                "module.densenet121.classifier.0.weight"
            ),
            None
        );
    }

    #[test]
    fn timm_seresnext_keys() {
        let k = |s| classifier_key(EncoderName::SeResnext50, s);
        assert_eq!(
            k("conv1.weight").as_deref(),
            Some("encoder.layer0.conv1.weight")
        );
        assert_eq!(
            k("layer2.0.se.fc1.bias").as_deref(),
            Some("encoder.layer2.0.se_module.fc1.bias")
        );
        assert_eq!(
            k("layer2.0.bn1.bias").as_deref(),
            Some("encoder.layer2.0.bn1.bias")
        );
    }
}
