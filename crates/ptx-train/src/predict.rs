//! Inference: probabilities from one model or an average of several (checkpoints, folds,
//! SWA), with optional horizontal-flip test-time augmentation, over a loader of images.

use std::path::PathBuf;

use ndarray::{Array2, ArrayView2};
use ptx_models::Model;
use ptx_preproc::{Loader, LoaderOptions, OnError, Pipeline};
use tch::{Device, Kind, Tensor};

use crate::data::SampleSource;
use crate::{Error, Result};

/// An input batch `(N, C, H, W)` from the loader's `f32` array, on `device`.
///
/// # Errors
/// [`Error::Data`] for a non-contiguous array.
pub fn to_tensor(array: &ndarray::Array4<f32>, device: Device) -> Result<Tensor> {
    let (n, c, h, w) = array.dim();
    let data = array
        .as_slice()
        .ok_or_else(|| Error::Data("loader batch is not contiguous".into()))?;
    Ok(Tensor::from_slice(data)
        .view([n as i64, c as i64, h as i64, w as i64])
        .to_device(device))
}

/// `threads`, or one per core when 0.
pub fn thread_count(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}

/// One model's forward pass for inference: sigmoid pixel probabilities `(N, 1, H, W)` and,
/// when the model has a classifier head, sigmoid image probabilities `(N)`. With `hflip` the
/// flipped image's output, flipped back, is averaged in.
///
/// # Errors
/// [`Error::Model`].
pub fn probabilities(
    model: &Model,
    images: &Tensor,
    hflip: bool,
    autocast: bool,
) -> Result<(Tensor, Option<Tensor>)> {
    let run = |x: &Tensor| -> Result<(Tensor, Option<Tensor>)> {
        let out = tch::autocast(autocast, || model.forward_t(x, false))?;
        let probs = out.logits.to_kind(Kind::Float).sigmoid();
        let labels = out
            .labels
            .map(|l| l.to_kind(Kind::Float).sigmoid().select(1, 0));
        Ok((probs, labels))
    };
    let _guard = tch::no_grad_guard();
    let (probs, labels) = run(images)?;
    if !hflip {
        return Ok((probs, labels));
    }
    let (fp, fl) = run(&images.flip([3]))?;
    let probs = (probs + fp.flip([3])) / 2.0;
    let labels = match (labels, fl) {
        (Some(a), Some(b)) => Some((a + b) / 2.0),
        _ => None,
    };
    Ok((probs, labels))
}

/// Several models whose probabilities are averaged (equal weights).
pub struct Ensemble {
    models: Vec<Model>,
    /// Average in the horizontally flipped image's prediction.
    pub hflip: bool,
    /// libtorch's CUDA autocast around forward passes.
    pub autocast: bool,
}

impl Ensemble {
    /// An ensemble of loaded models.
    ///
    /// # Errors
    /// [`Error::Config`] for an empty list.
    pub fn new(models: Vec<Model>, hflip: bool) -> Result<Self> {
        if models.is_empty() {
            return Err(Error::config("ensemble", "no model"));
        }
        Ok(Self {
            models,
            hflip,
            autocast: false,
        })
    }

    /// Loads checkpoint folders (`config.json` + `model.safetensors` each) onto `device`.
    ///
    /// # Errors
    /// [`Error::Model`] naming the folder.
    pub fn load(dirs: &[PathBuf], device: Device, hflip: bool) -> Result<Self> {
        let models = dirs
            .iter()
            .map(|d| Model::load(d, device))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Self::new(models, hflip)
    }

    /// The models.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The device of the first model.
    pub fn device(&self) -> Device {
        self.models[0].var_store().device()
    }

    /// Averaged probabilities `(N, 1, H, W)` and image scores `(N)` (only when every model
    /// has a classifier head).
    ///
    /// # Errors
    /// [`Error::Model`].
    pub fn forward(&self, images: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let (first, rest) = self
            .models
            .split_first()
            .ok_or_else(|| Error::config("ensemble", "no model"))?;
        let (mut probs, mut labels) = probabilities(first, images, self.hflip, self.autocast)?;
        for model in rest {
            let (p, l) = probabilities(model, images, self.hflip, self.autocast)?;
            probs += p;
            labels = labels.zip(l).map(|(a, b)| a + b);
        }
        let k = self.models.len() as f64;
        Ok((probs / k, labels.map(|l| l / k)))
    }
}

/// Samples left out because they failed to load: (source index, reason).
pub type Skipped = Vec<(usize, String)>;

/// Image scores `(N)` from one forward pass: the classifier head's probabilities when there
/// are some, else each image's highest pixel probability of `probs` `(N, 1, H, W)`.
pub(crate) fn image_scores(probs: &Tensor, labels: Option<Tensor>) -> Tensor {
    labels.unwrap_or_else(|| probs.amax([1i64, 2, 3].as_slice(), false))
}

/// One image's prediction at the model's input size.
#[derive(Debug, Clone)]
pub struct ImagePrediction {
    /// Index in the source.
    pub index: usize,
    /// Pixel probabilities `(height, width)`.
    pub probability: Array2<f32>,
    /// The classifier head's probability, when the models have one.
    pub classifier: Option<f64>,
    /// The truth mask resized to the same size (nearest), 0/1; empty for unlabelled images.
    pub truth: Array2<u8>,
}

impl ImagePrediction {
    /// The image-level score: the classifier's probability, else the highest pixel
    /// probability.
    pub fn score(&self) -> f64 {
        self.classifier
            .unwrap_or_else(|| f64::from(max_probability(self.probability.view())))
    }
}

/// The highest value of a probability map (0 for an empty one).
pub fn max_probability(p: ArrayView2<'_, f32>) -> f32 {
    p.iter().copied().fold(0.0, f32::max)
}

/// Runs `ensemble` over every image of `source` through `pipeline` (no augmentation should
/// be in it), `batch_size` at a time on `threads` loader threads. Images that fail to load
/// are reported in the second list (source index, reason) and left out.
///
/// # Errors
/// [`Error::Preproc`], [`Error::Model`].
pub fn predict_source(
    ensemble: &Ensemble,
    source: SampleSource,
    pipeline: Pipeline,
    batch_size: usize,
    threads: usize,
) -> Result<(Vec<ImagePrediction>, Skipped)> {
    predict_with(
        source,
        pipeline,
        batch_size,
        threads,
        ensemble.device(),
        |x, _| ensemble.forward(x),
    )
}

/// A loader over `source` for evaluation: in order, every image once (no dropped last
/// batch), images that fail to load skipped and reported.
pub(crate) fn eval_loader(
    source: SampleSource,
    pipeline: Pipeline,
    batch_size: usize,
    threads: usize,
) -> Result<Loader<SampleSource>> {
    let options = LoaderOptions {
        batch_size,
        threads: thread_count(threads),
        shuffle: false,
        drop_last: false,
        on_error: OnError::Skip,
        ..LoaderOptions::default()
    };
    Ok(Loader::new(source, pipeline, options)?)
}

/// As [`predict_source`] with any forward function: `forward(images, masks)` gets the batch
/// on `device` (`(N, C, H, W)` and `(N, 1, H, W)`) and returns pixel probabilities
/// `(N, 1, H, W)` and optional image probabilities `(N)`.
///
/// # Errors
/// [`Error::Preproc`]; what `forward` returns.
pub fn predict_with(
    source: SampleSource,
    pipeline: Pipeline,
    batch_size: usize,
    threads: usize,
    device: Device,
    mut forward: impl FnMut(&Tensor, &Tensor) -> Result<(Tensor, Option<Tensor>)>,
) -> Result<(Vec<ImagePrediction>, Skipped)> {
    let loader = eval_loader(source, pipeline, batch_size, threads)?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for batch in loader.epoch(0) {
        let batch = batch?;
        skipped.extend(batch.skipped.iter().cloned());
        if batch.indices.is_empty() {
            continue;
        }
        let x = to_tensor(&batch.images, device)?;
        let y = to_tensor(&batch.masks, device)?;
        let (probs, labels) = forward(&x, &y)?;
        let probs = probs
            .to_kind(Kind::Float)
            .to_device(Device::Cpu)
            .contiguous();
        let (n, _, h, w) = batch.images.dim();
        let flat = Vec::<f32>::try_from(probs.view([-1]))?;
        let scores: Option<Vec<f64>> = labels
            .map(|l| {
                Vec::<f64>::try_from(l.to_device(Device::Cpu).to_kind(Kind::Double).view([-1]))
            })
            .transpose()?;
        for k in 0..n {
            let probability =
                Array2::from_shape_vec((h, w), flat[k * h * w..(k + 1) * h * w].to_vec())
                    .map_err(|e| Error::Data(e.to_string()))?;
            let truth = batch
                .masks
                .index_axis(ndarray::Axis(0), k)
                .index_axis(ndarray::Axis(0), 0)
                .mapv(|v| u8::from(v > 0.5));
            out.push(ImagePrediction {
                index: batch.indices[k],
                probability,
                classifier: scores.as_ref().map(|s| s[k]),
                truth,
            });
        }
    }
    Ok((out, skipped))
}
