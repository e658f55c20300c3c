//! `ptx forward`: one eval-mode forward pass on an `.npy` input, to check converted weights
//! against PyTorch.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use ptx_models::{Model, ModelConfig, WeightSource};
use tch::{Kind, Tensor};

use super::emit;
use super::model_args::ModelArgs;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SourceArg {
    /// Model keys when any starts with `encoder.` / `decoder.`, a classifier otherwise.
    Auto,
    /// A whole model (ptx or segmentation_models_pytorch).
    Model,
    /// An image classifier (torchvision, timm, CheXNet) loaded into the encoder.
    Classifier,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Weights: `.safetensors`, a `torch.save` file (`.pth`, `.pt`, `.bin`), or a checkpoint
    /// folder written by ptx (its `config.json` then gives the configuration).
    #[arg(long)]
    weights: PathBuf,
    /// How weight names map (a classifier fills only the encoder).
    #[arg(long, value_enum, default_value = "auto")]
    source: SourceArg,
    /// Input: float32 `.npy`, shape (N, C, H, W).
    #[arg(long)]
    input: PathBuf,
    /// Output: the logits as float32 `.npy`, (N, classes, H, W).
    #[arg(long)]
    output: PathBuf,
    /// Where to write the classifier's logits (N, classes) when the model has one.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: ptx_train::DeviceChoice,
    /// Load what matches and report missing / unexpected keys instead of failing on them
    /// (shapes must still agree).
    #[arg(long)]
    lenient: bool,
    /// CPU threads for libtorch (default: libtorch's choice). PyTorch matches ptx bit for bit
    /// when both run with the same count (`torch.set_num_threads`).
    #[arg(long)]
    threads: Option<i32>,
}

pub fn run(args: Args) -> Result<()> {
    let device = args.device.device()?;
    if let Some(n) = args.threads {
        if n < 1 {
            bail!("--threads {n}: must be at least 1");
        }
        tch::set_num_threads(n);
    }
    let x = Tensor::read_npy(&args.input)
        .with_context(|| format!("{}: not a readable .npy", args.input.display()))?;
    if x.dim() != 4 {
        bail!(
            "{}: shape {:?}, expected (N, C, H, W)",
            args.input.display(),
            x.size()
        );
    }
    let x = x.to_kind(Kind::Float).to_device(device);
    let model = if args.weights.is_dir() {
        Model::load(&args.weights, device)?
    } else {
        let config: ModelConfig = args.model.config(Some(x.size()[1]))?;
        let mut model = Model::new(config, device)?;
        let source = match args.source {
            SourceArg::Auto => WeightSource::Auto,
            SourceArg::Model => WeightSource::Model,
            SourceArg::Classifier => WeightSource::Classifier,
        };
        let report = model.load_weights(&args.weights, source, !args.lenient)?;
        eprintln!("weights: {report}");
        model
    };
    let has_classifier = model
        .unet()
        .is_some_and(|u| u.config().classifier.is_some());
    if let (Some(path), false) = (&args.labels, has_classifier) {
        bail!(
            "{}: the model has no classifier (add --aux)",
            path.display()
        );
    }
    let out = tch::no_grad(|| model.forward_t(&x, false))?;
    let logits = out.logits.to_device(tch::Device::Cpu).contiguous();
    logits
        .write_npy(&args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    emit(format!(
        "{}: logits {:?}",
        args.output.display(),
        logits.size()
    ));
    if let (Some(labels), Some(path)) = (out.labels, &args.labels) {
        let labels = labels.to_device(tch::Device::Cpu).contiguous();
        labels
            .write_npy(path)
            .with_context(|| format!("writing {}", path.display()))?;
        emit(format!("{}: labels {:?}", path.display(), labels.size()));
    }
    Ok(())
}
