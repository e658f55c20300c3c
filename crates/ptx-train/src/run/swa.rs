//! Stochastic weight averaging of checkpoints (Izmailov et al. 2018, as
//! `torch.optim.swa_utils`): the parameters of several checkpoints of one model averaged with
//! equal weights, then batch-norm statistics recomputed on training batches, since averaged
//! weights do not fit any checkpoint's statistics.

use std::path::PathBuf;

use ptx_models::Model;
use ptx_preproc::Loader;
use tch::{Device, Kind, Tensor};

use crate::data::SampleSource;
use crate::predict::input_tensor;
use crate::{Error, Result};

/// The equal-weight average of the checkpoints in `dirs` (same configuration each), on
/// `device`. Batch-norm statistics are averaged too; call [`recompute_batch_norm`] after.
///
/// # Errors
/// [`Error::Model`] for a folder that does not load; [`Error::Checkpoint`] for folders of
/// different models.
pub fn average(dirs: &[PathBuf], device: Device) -> Result<Model> {
    let first = dirs
        .first()
        .ok_or_else(|| Error::config("swa", "no checkpoint to average"))?;
    let model = Model::load(first, device)?;
    let mut sums: Vec<(String, Tensor)> = model
        .var_store()
        .variables()
        .into_iter()
        .map(|(k, v)| (k, v.to_kind(Kind::Double)))
        .collect();
    sums.sort_by(|a, b| a.0.cmp(&b.0));
    for dir in &dirs[1..] {
        let other = Model::load(dir, device)?;
        if other.config() != model.config() {
            return Err(Error::checkpoint(
                dir,
                "a different model than the first checkpoint",
            ));
        }
        let vars = other.var_store().variables();
        for (name, sum) in &mut sums {
            let v = vars
                .get(name)
                .ok_or_else(|| Error::checkpoint(dir, format!("no tensor {name}")))?;
            *sum = &*sum + v.to_kind(Kind::Double);
        }
    }
    let k = dirs.len() as f64;
    let vars = model.var_store().variables();
    tch::no_grad(|| -> Result<()> {
        for (name, sum) in &sums {
            if let Some(v) = vars.get(name) {
                let mut v = v.shallow_clone();
                let avg = if name.ends_with("num_batches_tracked") {
                    (sum / k).round()
                } else {
                    sum / k
                };
                v.copy_(&avg.to_kind(v.kind()));
            }
        }
        Ok(())
    })?;
    Ok(model)
}

/// Recomputes every batch-norm layer's running mean and variance as the plain average over
/// one pass of `loader`'s epoch 0 in training mode (PyTorch's `update_bn`, momentum `None`).
/// Weights are not changed; returns the number of batches used.
///
/// Each layer keeps its momentum `m` (0.1, or 0.01 in EfficientNet); `m` is measured on the
/// first batch, and each batch's statistic is recovered from the update `r' = (1 - m) r + m b`
/// and averaged. The first batch costs two extra forward passes.
///
/// # Errors
/// [`Error::Preproc`], [`Error::Model`].
pub fn recompute_batch_norm(
    model: &Model,
    loader: &Loader<SampleSource>,
    channels_last: bool,
) -> Result<usize> {
    let vars = model.var_store().variables();
    let mut stats: Vec<(Tensor, Tensor)> = Vec::new(); // (running statistic, sum of batch statistics)
    for (name, t) in &vars {
        if name.ends_with("running_mean") || name.ends_with("running_var") {
            stats.push((t.shallow_clone(), t.zeros_like()));
        }
    }
    if stats.is_empty() {
        return Ok(0);
    }
    let device = model.var_store().device();
    let mut momenta: Option<Vec<f64>> = None;
    let mut batches = 0usize;
    for batch in loader.epoch(0) {
        let batch = batch?;
        if batch.indices.len() < 2 {
            continue;
        }
        let x = input_tensor(&batch, device, channels_last)?;
        let forward = || tch::no_grad(|| model.forward_t(&x, true)).map(drop);
        if momenta.is_none() {
            // Each layer's momentum m from one batch seen from two starting points:
            // from r = 0, r1 = m b; from r = 1, r2 = (1 - m) + m b; so m = 1 - (r2 - r1).
            tch::no_grad(|| stats.iter_mut().for_each(|(r, _)| drop(r.fill_(0.0))));
            forward()?;
            let first: Vec<Tensor> = stats.iter().map(|(r, _)| r.copy()).collect();
            tch::no_grad(|| stats.iter_mut().for_each(|(r, _)| drop(r.fill_(1.0))));
            forward()?;
            momenta = Some(
                stats
                    .iter()
                    .zip(&first)
                    .map(|((r, _), r1)| 1.0 - (r - r1).mean(Kind::Double).double_value(&[]))
                    .collect(),
            );
            tch::no_grad(|| stats.iter_mut().for_each(|(r, _)| drop(r.fill_(0.0))));
        }
        let before: Vec<Tensor> = stats.iter().map(|(r, _)| r.copy()).collect();
        forward()?;
        let m = momenta.as_deref().unwrap_or_default();
        tch::no_grad(|| {
            for (((running, sum), old), &m) in stats.iter_mut().zip(&before).zip(m) {
                // The batch statistic from the update r' = (1 - m) r + m b.
                let b = (&*running - old * (1.0 - m)) / m;
                *sum = &*sum + b;
            }
        });
        batches += 1;
    }
    if batches == 0 {
        return Err(Error::NoTrainingBatch(
            "batch-norm recomputation (a batch of at least 2 images)",
        ));
    }
    tch::no_grad(|| {
        for (running, sum) in &mut stats {
            running.copy_(&(&*sum / batches as f64));
        }
    });
    Ok(batches)
}
