//! Inference: probabilities from one model or an average of several (checkpoints, folds,
//! SWA), with optional horizontal-flip test-time augmentation, over a loader of images.

use std::path::PathBuf;

use ndarray::{Array2, ArrayView2, Axis};
use ptx_models::Model;
use ptx_preproc::{Batch, Loader, LoaderOptions, OnError, Pipeline};
use tch::{Device, Kind, Tensor};

use crate::data::{SampleMeta, SampleSource, Skipped};
use crate::{Error, Result};

/// The image-level score of a probability map: the classifier head's probability when the
/// model has one, else the map's highest pixel probability (0 for an empty map). The one
/// rule every score in ptx-train follows.
pub fn image_score(probability: ArrayView2<'_, f32>, classifier: Option<f64>) -> f64 {
    classifier.unwrap_or_else(|| f64::from(probability.iter().copied().fold(0.0, f32::max)))
}

/// One image's prediction at the model's input size.
#[derive(Debug, Clone)]
pub struct ImagePrediction {
    /// Index in the source.
    pub index: usize,
    /// Pixel probabilities `(height, width)`.
    pub probability: Array2<f32>,
    /// The classifier's probability, when there is one.
    pub classifier: Option<f64>,
    /// The truth mask resized to the same size (nearest), 0/1; empty for unlabelled images.
    pub truth: Array2<u8>,
}

impl ImagePrediction {
    /// The image-level score ([`image_score`]).
    pub fn score(&self) -> f64 {
        image_score(self.probability.view(), self.classifier)
    }

    /// Whether the truth has a pixel.
    pub fn positive(&self) -> bool {
        self.truth.iter().any(|&v| v != 0)
    }
}

/// The input batch `(N, C, H, W)` on `device`, channels-last when asked.
pub(crate) fn input_tensor(
    batch: &Batch<SampleMeta>,
    device: Device,
    channels_last: bool,
) -> Result<Tensor> {
    let x = Tensor::try_from(&batch.images)?.to_device(device);
    Ok(if channels_last {
        ptx_models::channels_last(&x)
    } else {
        x
    })
}

/// Sigmoid pixel probabilities `(N, 1, H, W)` and, when the model has a classifier head, its
/// sigmoid probabilities `(N)` of one eval-mode forward pass.
pub(crate) fn forward_probabilities(
    model: &Model,
    images: &Tensor,
    autocast: bool,
) -> Result<(Tensor, Option<Tensor>)> {
    let out = tch::autocast(autocast, || model.forward_t(images, false))?;
    let probs = out.logits.to_kind(Kind::Float).sigmoid();
    let head = out
        .labels
        .map(|l| l.to_kind(Kind::Float).sigmoid().select(1, 0));
    Ok((probs, head))
}

/// Several models whose probabilities are averaged (equal weights).
pub struct Ensemble {
    models: Vec<Model>,
    hflip: bool,
    autocast: bool,
}

impl Ensemble {
    /// An ensemble of loaded models, averaging in the horizontally flipped image's prediction
    /// when `hflip`.
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

    /// The same ensemble with libtorch's CUDA autocast around its forward passes.
    pub fn with_autocast(self, autocast: bool) -> Self {
        Self { autocast, ..self }
    }

    /// The models.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The device of the first model.
    pub fn device(&self) -> Device {
        self.models[0].var_store().device()
    }

    /// Averaged probabilities `(N, 1, H, W)` and classifier probabilities `(N)` (only when
    /// every model has a classifier head) of `images` `(N, C, H, W)`.
    ///
    /// # Errors
    /// [`Error::Model`].
    pub fn forward(&self, images: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let (first, rest) = self
            .models
            .split_first()
            .ok_or_else(|| Error::config("ensemble", "no model"))?;
        let (mut probs, mut heads) = self.model_forward(first, images)?;
        for model in rest {
            let (p, h) = self.model_forward(model, images)?;
            probs += p;
            heads = heads.zip(h).map(|(a, b)| a + b);
        }
        let k = self.models.len() as f64;
        Ok((probs / k, heads.map(|h| h / k)))
    }

    /// One model's probabilities, the flipped image's flipped back and averaged in with
    /// `hflip`.
    fn model_forward(&self, model: &Model, images: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let _guard = tch::no_grad_guard();
        let (probs, head) = forward_probabilities(model, images, self.autocast)?;
        if !self.hflip {
            return Ok((probs, head));
        }
        let (fp, fh) = forward_probabilities(model, &images.flip([3]), self.autocast)?;
        let probs = (probs + fp.flip([3])) / 2.0;
        let head = match (head, fh) {
            (Some(a), Some(b)) => Some((a + b) / 2.0),
            _ => None,
        };
        Ok((probs, head))
    }

    /// Runs the ensemble over every image of `source` through `pipeline` (no augmentation
    /// should be in it), `batch_size` at a time on `threads` loader threads (0: one per
    /// core). Images that fail to load are returned in the second list.
    ///
    /// # Errors
    /// [`Error::Preproc`], [`Error::Model`].
    pub fn predict(
        &self,
        source: SampleSource,
        pipeline: Pipeline,
        batch_size: usize,
        threads: usize,
    ) -> Result<(Vec<ImagePrediction>, Vec<Skipped>)> {
        let mut out = Vec::new();
        let skipped = each_batch(source, pipeline, batch_size, threads, |batch| {
            let x = input_tensor(&batch, self.device(), false)?;
            let (probs, head) = self.forward(&x)?;
            out.extend(predictions(&batch, &probs, head.as_ref())?);
            Ok(())
        })?;
        Ok((out, skipped))
    }
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
        threads,
        shuffle: false,
        drop_last: false,
        on_error: OnError::Skip,
        ..LoaderOptions::default()
    };
    Ok(Loader::new(source, pipeline, options)?)
}

/// Runs `each` on every non-empty batch of an evaluation pass over `source` (see
/// [`eval_loader`]); returns the samples that did not load.
pub(crate) fn each_batch(
    source: SampleSource,
    pipeline: Pipeline,
    batch_size: usize,
    threads: usize,
    mut each: impl FnMut(Batch<SampleMeta>) -> Result<()>,
) -> Result<Vec<Skipped>> {
    let loader = eval_loader(source, pipeline, batch_size, threads)?;
    let mut skipped = Vec::new();
    for batch in loader.epoch(0) {
        let mut batch = batch?;
        let source = loader.source();
        skipped.extend(batch.skipped.drain(..).map(|s| source.skipped(s)));
        if !batch.indices.is_empty() {
            each(batch)?;
        }
    }
    Ok(skipped)
}

/// Pixel probability maps `(N, 1, H, W)` as one array per image, on the CPU.
pub(crate) fn maps(probs: &Tensor) -> Result<Vec<Array2<f32>>> {
    let size = probs.size();
    let shape_error = || {
        Error::from(ptx_models::Error::InputShape {
            expected: "(N, 1, H, W) probabilities".into(),
            found: size.clone(),
        })
    };
    let [n, 1, h, w] = size[..] else {
        return Err(shape_error());
    };
    let flat = Vec::<f32>::try_from(
        probs
            .to_kind(Kind::Float)
            .to_device(Device::Cpu)
            .contiguous()
            .view([-1]),
    )?;
    let all = ndarray::Array3::from_shape_vec((n as usize, h as usize, w as usize), flat)
        .map_err(|_| shape_error())?;
    Ok(all.outer_iter().map(|m| m.to_owned()).collect())
}

/// Per-row values of an `(N)` tensor, on the CPU.
pub(crate) fn values(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(
        t.to_device(Device::Cpu).to_kind(Kind::Double).view([-1]),
    )?)
}

/// The predictions of a batch: its probabilities `(N, 1, H, W)`, the classifier's
/// probabilities `(N)` when there are some, and the batch's masks as truths.
pub(crate) fn predictions(
    batch: &Batch<SampleMeta>,
    probs: &Tensor,
    classifier: Option<&Tensor>,
) -> Result<Vec<ImagePrediction>> {
    let scores = classifier.map(values).transpose()?;
    Ok(maps(probs)?
        .into_iter()
        .enumerate()
        .map(|(k, probability)| ImagePrediction {
            index: batch.indices[k],
            probability,
            classifier: scores.as_ref().map(|s| s[k]),
            truth: batch
                .masks
                .index_axis(Axis(0), k)
                .index_axis(Axis(0), 0)
                .mapv(|v| u8::from(v > 0.5)),
        })
        .collect())
}
