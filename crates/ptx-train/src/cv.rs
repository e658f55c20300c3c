//! Stratified k-fold cross-validation: one run per fold, the out-of-fold probability maps
//! saved, the post-processing searched on them, and the fold models written as one ensemble
//! system.
//!
//! ```text
//! DIR/fold-0 … fold-(k-1)/   one training run each (see RunDir)
//! DIR/oof/<ImageId>.png      out-of-fold probabilities as 16-bit PNGs (p * 65535, rounded)
//! DIR/oof.csv                ImageId,fold,label,score
//! DIR/system.json            the k best checkpoints averaged, the searched post-processing
//! ```

use std::path::{Path, PathBuf};

use ptx_metrics::{grid_search, SearchGrid, SearchPoint, ValidationImage};

use crate::config::Experiment;
use crate::data::Dataset;
use crate::predict::{Ensemble, ImagePrediction};
use crate::run::{FitReport, Resume, Trainer};
use crate::system::SystemConfig;
use crate::{Error, Result};

/// A cross-validation: the experiment (its `validation_fold` is ignored), the search grid.
#[derive(Debug, Clone)]
pub struct CrossValidation {
    /// The experiment trained on every fold.
    pub experiment: Experiment,
    /// The post-processing grid searched on the out-of-fold maps.
    pub grid: SearchGrid,
    /// Horizontal-flip TTA for the out-of-fold predictions and the system.
    pub hflip: bool,
}

/// What a cross-validation measured and wrote.
#[derive(Debug, Clone)]
pub struct CvReport {
    /// Each fold's training.
    pub folds: Vec<FitReport>,
    /// Out-of-fold images (every image once).
    pub oof_images: usize,
    /// The best post-processing on the out-of-fold maps and its mean Dice.
    pub search: SearchPoint,
    /// The folder holding `system.json`, `oof/` and `oof.csv`.
    pub dir: PathBuf,
}

impl CrossValidation {
    /// Trains every fold in `dir/fold-N` (resuming each when asked), predicts each fold's
    /// held-out images with its best (or SWA) model, saves them, searches the
    /// post-processing on all of them and writes the ensemble system.
    ///
    /// # Errors
    /// As [`Trainer::new`] and [`Trainer::fit`]; [`Error::Io`] writing the maps.
    pub fn run(&self, dir: &Path, resume: Resume, threads: usize) -> Result<CvReport> {
        let exp = &self.experiment;
        exp.check()?; // before anything is read or written; each fold's trainer checks its own
        let k = exp.data.folds.count();
        let device = exp.train.device.device()?;
        let dataset = Dataset::open(&exp.data, exp.seed)?;
        let oof_dir = dir.join("oof");
        std::fs::create_dir_all(&oof_dir).map_err(|e| Error::io(&oof_dir, e))?;
        let mut folds = Vec::with_capacity(k);
        let mut models = Vec::with_capacity(k);
        let mut oof: Vec<(usize, usize, ImagePrediction)> = Vec::new(); // (sample, fold, prediction)
        for fold in 0..k {
            eprintln!("fold {}/{k}", fold + 1);
            let mut e = exp.clone();
            e.data.folds = exp.data.folds.holding_out(fold)?;
            let report = Trainer::new(e, dir.join(format!("fold-{fold}")), resume)?.fit()?;
            let best = report.final_dir.clone();
            let held_out = dataset.split(fold, true, exp.data.positives_only);
            let ensemble = Ensemble::load(std::slice::from_ref(&best), device, self.hflip)?;
            let (preds, _) = ensemble.predict(
                dataset.source(&held_out)?,
                exp.input.eval_pipeline(),
                exp.train.batch_size.get(),
                threads,
            )?;
            oof.extend(preds.into_iter().map(|p| (held_out[p.index], fold, p)));
            models.push(best);
            folds.push(report);
        }
        oof.sort_by_key(|(sample, _, _)| *sample);
        let csv = dir.join("oof.csv");
        ptx_io::write_atomic(&csv, |out| {
            writeln!(out, "ImageId,fold,label,score")?;
            for (sample, fold, p) in &oof {
                let s = &dataset.samples()[*sample];
                writeln!(
                    out,
                    "{},{fold},{},{}",
                    s.image_id,
                    u8::from(s.positive),
                    p.score()
                )?;
            }
            Ok(())
        })?;
        for (sample, _, p) in &oof {
            let id = &dataset.samples()[*sample].image_id;
            ptx_io::check_image_id_as_file_name(id)?;
            let map = p
                .probability
                .mapv(|v| (v.clamp(0.0, 1.0) * 65535.0).round() as u16);
            ptx_io::image_file::write_png_gray16(oof_dir.join(format!("{id}.png")), &map.view())?;
        }
        let images: Vec<ValidationImage<'_>> = oof
            .iter()
            .map(|(_, _, p)| ValidationImage {
                probability: p.probability.view(),
                truth: p.truth.view(),
                classifier: Some(p.score()),
            })
            .collect();
        let search = grid_search(&images, &self.grid)?;
        SystemConfig {
            classifier: Vec::new(),
            segmenter: models,
            input: exp.input.clone(),
            hflip: self.hflip,
            postprocess: search.best.params,
            batch_size: exp.train.batch_size,
        }
        .write(dir)?;
        Ok(CvReport {
            folds,
            oof_images: images.len(),
            search: search.best,
            dir: dir.to_path_buf(),
        })
    }
}
