//! `ptx model summary`: parameter counts per block and output shapes of a configuration.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use tch::{Device, Kind, Tensor};

use crate::freeze::is_buffer;
use crate::model::{Model, ModelConfig};
use crate::Result;

/// One row: a block (the first two or three components of its variables' names).
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// Block name, e.g. `encoder.layer1` or `decoder.blocks.0`.
    pub name: String,
    /// Parameters (weights and biases; not running statistics).
    pub parameters: i64,
}

/// Parameter counts and shapes of a model for one input size.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The configuration.
    pub config: ModelConfig,
    /// Blocks in name order.
    pub rows: Vec<SummaryRow>,
    /// All parameters.
    pub parameters: i64,
    /// Input shape used, `(1, C, H, W)`.
    pub input: Vec<i64>,
    /// Encoder feature shapes, fine to coarse (U-Net only).
    pub features: Vec<Vec<i64>>,
    /// Pixel output shape.
    pub output: Vec<i64>,
    /// Classifier output shape, when there is one.
    pub labels: Option<Vec<i64>>,
}

fn block_name(var: &str) -> String {
    let parts: Vec<&str> = var.split('.').collect();
    let depth = match parts.first().copied() {
        Some("encoder") if parts.get(1) == Some(&"model") => 3,
        Some("encoder")
            if parts.get(1) == Some(&"features") || parts.get(1) == Some(&"_blocks") =>
        {
            3
        }
        Some("decoder") if parts.get(1) == Some(&"blocks") => 3,
        _ => 2,
    };
    parts[..depth.min(parts.len().saturating_sub(1)).max(1)].join(".")
}

impl Summary {
    /// Builds `config` on the CPU and runs one `(1, C, height, width)` zero input through it.
    pub fn of(config: &ModelConfig, height: i64, width: i64) -> Result<Self> {
        let model = Model::new(config.clone(), Device::Cpu)?;
        let mut blocks: BTreeMap<String, i64> = BTreeMap::new();
        let mut total = 0;
        for (name, t) in model.var_store().variables() {
            if is_buffer(&name) {
                continue;
            }
            let n = t.numel() as i64;
            *blocks.entry(block_name(&name)).or_default() += n;
            total += n;
        }
        let input = vec![1, config.in_channels(), height, width];
        let x = Tensor::zeros(input.as_slice(), (Kind::Float, Device::Cpu));
        let (features, out) = match model.unet() {
            // one pass gives both the feature shapes and the outputs
            Some(u) => tch::no_grad(|| u.forward_with_features(&x, false))?,
            None => (Vec::new(), tch::no_grad(|| model.forward_t(&x, false))?),
        };
        let features = features.iter().map(|f| f.size()).collect();
        Ok(Self {
            config: config.clone(),
            rows: blocks
                .into_iter()
                .map(|(name, parameters)| SummaryRow { name, parameters })
                .collect(),
            parameters: total,
            input,
            features,
            output: out.logits.size(),
            labels: out.labels.map(|l| l.size()),
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(f, "{:<width$}  {:>12}", "block", "parameters")?;
        for r in &self.rows {
            writeln!(f, "{:<width$}  {:>12}", r.name, r.parameters)?;
        }
        writeln!(f, "{:<width$}  {:>12}", "total", self.parameters)?;
        writeln!(f, "input    {:?}", self.input)?;
        for (i, s) in self.features.iter().enumerate() {
            writeln!(f, "feature{i} {s:?}")?;
        }
        write!(f, "output   {:?}", self.output)?;
        if let Some(l) = &self.labels {
            write!(f, "\nlabels   {l:?}")?;
        }
        Ok(())
    }
}
