//! A small convolutional auto-encoder or beta-VAE whose latent codes are clustered into
//! pseudo-labels (Harmalkar et al.: an AE trained with BCE and a beta-VAE trained with the
//! ELBO on unlabelled X-rays).
//!
//! Encoder: four 4x4 stride-2 convolutions (32, 64, 128, 256 channels, ReLU) and a linear
//! layer to the code (and to the log-variance for the VAE); decoder: the mirror image with
//! transposed convolutions, logits out. Input: one channel in [0, 1], side a multiple of 16.

use anyhow::{bail, Result};
use ndarray::Array2;
use ptx_preproc::{Loader, LoaderOptions, OnError, Pipeline};
use ptx_train::SampleSource;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

/// What to train.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LatentOptions {
    /// Code size. Default 32.
    pub latent: i64,
    /// `None`: a plain auto-encoder (BCE reconstruction); `Some(beta)`: a beta-VAE
    /// (BCE + beta KL). Default `Some(4.0)`.
    pub beta: Option<f64>,
    /// Epochs. Default 10.
    pub epochs: usize,
    /// Images per batch. Default 16.
    pub batch_size: usize,
    /// Adam learning rate. Default 1e-3.
    pub lr: f64,
    /// Seed of initialisation, shuffling and sampling.
    pub seed: u64,
}

impl Default for LatentOptions {
    fn default() -> Self {
        Self {
            latent: 32,
            beta: Some(4.0),
            epochs: 10,
            batch_size: 16,
            lr: 1e-3,
            seed: 0,
        }
    }
}

/// The trained network.
#[derive(Debug)]
pub struct LatentModel {
    encoder: nn::Sequential,
    mu: nn::Linear,
    logvar: Option<nn::Linear>,
    expand: nn::Linear,
    decoder: nn::Sequential,
    side: i64,
    device: Device,
    /// Mean loss per image of each epoch.
    pub losses: Vec<f64>,
}

const CHANNELS: [i64; 4] = [32, 64, 128, 256];

impl LatentModel {
    fn new(vs: &nn::Path<'_>, size: i64, options: &LatentOptions) -> Self {
        let conv = nn::ConvConfig {
            stride: 2,
            padding: 1,
            ..Default::default()
        };
        let deconv = nn::ConvTransposeConfig {
            stride: 2,
            padding: 1,
            ..Default::default()
        };
        let mut encoder = nn::seq();
        let mut cin = 1;
        for (i, &c) in CHANNELS.iter().enumerate() {
            encoder = encoder
                .add(nn::conv2d(vs / "enc" / i, cin, c, 4, conv))
                .add_fn(|x| x.relu());
            cin = c;
        }
        let side = size / 16;
        let flat = 256 * side * side;
        let mu = nn::linear(vs / "mu", flat, options.latent, Default::default());
        let logvar = options
            .beta
            .map(|_| nn::linear(vs / "logvar", flat, options.latent, Default::default()));
        let expand = nn::linear(vs / "expand", options.latent, flat, Default::default());
        let mut decoder = nn::seq();
        let outs = [128, 64, 32, 1];
        let mut cin = 256;
        for (i, &c) in outs.iter().enumerate() {
            decoder = decoder.add(nn::conv_transpose2d(vs / "dec" / i, cin, c, 4, deconv));
            if i + 1 < outs.len() {
                decoder = decoder.add_fn(|x| x.relu());
            }
            cin = c;
        }
        Self {
            encoder,
            mu,
            logvar,
            expand,
            decoder,
            side,
            device: vs.device(),
            losses: Vec::new(),
        }
    }

    /// The codes (the VAE's means) of a batch `(N, 1, S, S)`: `(N, latent)`.
    pub fn encode(&self, x: &Tensor) -> (Tensor, Option<Tensor>) {
        let h = self.encoder.forward(x).flatten(1, -1);
        (
            self.mu.forward(&h),
            self.logvar.as_ref().map(|l| l.forward(&h)),
        )
    }

    fn loss(&self, x: &Tensor, beta: Option<f64>) -> Tensor {
        let (mu, logvar) = self.encode(x);
        let z = match &logvar {
            Some(lv) => &mu + (lv * 0.5).exp() * mu.randn_like(),
            None => mu.shallow_clone(),
        };
        let n = x.size()[0] as f64;
        let h = self
            .expand
            .forward(&z)
            .relu()
            .view([-1, 256, self.side, self.side]);
        let logits = self.decoder.forward(&h);
        let bce =
            logits.binary_cross_entropy_with_logits::<Tensor>(x, None, None, Reduction::Sum) / n;
        match (logvar, beta) {
            (Some(lv), Some(beta)) => {
                let kl = (lv.exp() + mu.square() - 1.0 - &lv).sum(Kind::Float) * 0.5 / n;
                bce + kl * beta
            }
            _ => bce,
        }
    }
}

/// Trains an auto-encoder / beta-VAE on the images of `source` (masks unused) through
/// `pipeline`, which must give one channel in [0, 1] at a side that is a multiple of 16.
///
/// # Errors
/// A bad pipeline size; loader errors.
pub fn train(
    source: SampleSource,
    pipeline: Pipeline,
    options: &LatentOptions,
    device: Device,
    threads: usize,
) -> Result<(LatentModel, nn::VarStore)> {
    let Some((h, w)) = pipeline.size else {
        bail!("the latent model needs a fixed input size");
    };
    if h != w || h % 16 != 0 || h == 0 {
        bail!("the latent model needs a square side that is a multiple of 16, not {h}x{w}");
    }
    tch::manual_seed(options.seed as i64);
    let vs = nn::VarStore::new(device);
    let mut model = LatentModel::new(&vs.root(), h as i64, options);
    let mut opt = nn::Adam::default().build(&vs, options.lr)?;
    let loader = Loader::new(
        source,
        pipeline,
        LoaderOptions {
            batch_size: options.batch_size,
            threads,
            seed: options.seed,
            on_error: OnError::Skip,
            ..LoaderOptions::default()
        },
    )?;
    for epoch in 0..options.epochs {
        let (mut sum, mut n) = (0.0, 0usize);
        for batch in loader.epoch(epoch) {
            let batch = batch?;
            if batch.indices.is_empty() {
                continue;
            }
            let x = Tensor::try_from(&batch.images)?.to_device(device);
            let loss = model.loss(&x, options.beta);
            opt.backward_step(&loss);
            let rows = batch.indices.len();
            sum += loss.double_value(&[]) * rows as f64;
            n += rows;
        }
        model.losses.push(sum / n.max(1) as f64);
    }
    Ok((model, vs))
}

/// The codes of every image of `source`, in source order: `(N, latent)`; images that fail
/// to load are left out and their indices returned.
///
/// # Errors
/// Loader errors.
pub fn encode_all(
    model: &LatentModel,
    source: SampleSource,
    pipeline: Pipeline,
    threads: usize,
) -> Result<(Array2<f64>, Vec<usize>)> {
    let loader = Loader::new(
        source,
        pipeline,
        LoaderOptions {
            batch_size: 16,
            threads,
            shuffle: false,
            on_error: OnError::Skip,
            ..LoaderOptions::default()
        },
    )?;
    let _guard = tch::no_grad_guard();
    let (mut rows, mut kept) = (Vec::new(), Vec::new());
    let mut width = 0;
    for batch in loader.epoch(0) {
        let batch = batch?;
        if batch.indices.is_empty() {
            continue;
        }
        let x = Tensor::try_from(&batch.images)?.to_device(model.device);
        let (mu, _) = model.encode(&x);
        width = mu.size()[1] as usize;
        rows.extend(Vec::<f64>::try_from(
            mu.to_device(Device::Cpu).to_kind(Kind::Double).view([-1]),
        )?);
        kept.extend(batch.indices.iter().copied());
    }
    let codes = Array2::from_shape_vec((kept.len(), width), rows)?;
    Ok((codes, kept))
}
