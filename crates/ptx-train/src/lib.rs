//! The training machinery shared by the `ptx` command and the paper examples, on libtorch
//! through `tch`:
//!
//! - [`Experiment`]: a run's configuration in TOML (data, input, model, loss, optimizer,
//!   schedule, training options), unknown keys rejected by name;
//! - [`Trainer`]: the loop over a [`ptx_preproc::Loader`] of a [`SampleSource`] (SIIM DICOM
//!   trees with `train-rle.csv`, or PNG images and masks; corrupt files skipped and counted, or
//!   an error), stratified folds, freezing phases, gradient clipping, early stopping,
//!   keep-best-k checkpoints, [stochastic weight averaging](swa) with batch-norm
//!   statistics recomputed, atomic checkpoints with optimizer / scheduler / epoch state and
//!   exact resume, a stop on a non-finite loss, CSV / JSON-lines logs, learning-curve and
//!   validation-montage PNGs, progress bars;
//! - [`Ensemble`]: probabilities averaged over checkpoints or folds, with horizontal-flip
//!   test-time augmentation;
//! - [`System`]: the one predictor (a classifier gate, a segmenter, post-processing), loaded
//!   from `system.json` or a run folder;
//! - [`CrossValidation`]: stratified k-fold runs, out-of-fold maps saved, post-processing
//!   searched on them, the fold models written as one ensemble system;
//! - [`TwoStageRecipe`]: a classifier with the multi-task segmentation branch (threshold for
//!   F2), a segmenter on positive images, the post-processing searched on validation, saved as
//!   a [`System`];
//! - optimizers with checkpointable state (Adam, AdamW, SGD, RAdam, equal to PyTorch's step by
//!   step), per-epoch schedules (cosine, warm restarts, reduce-on-plateau, linear warm-up,
//!   equal to PyTorch's), early stopping, keep-best-k, the learning-rate range test.
//!
//! Determinism: on the CPU a run is a function of its experiment (seed included) and the
//! thread count; a resumed run equals an uninterrupted one bit for bit. libtorch's random
//! generator is global to the process, so two runs training at the same time in one process
//! disturb each other's initialisation and dropout.
//!
//! ```
//! use ptx_train::{Optimizer, OptimizerConfig, ScheduleConfig, ScheduleKind, Scheduler};
//! use tch::{Kind, Tensor};
//!
//! let w = Tensor::ones([3], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
//! let config = OptimizerConfig::Radam { lr: 1e-2, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.0, decoupled_weight_decay: false };
//! let mut opt = Optimizer::new(config, vec![("w".into(), w.shallow_clone())])?;
//! let schedule = ScheduleConfig { kind: ScheduleKind::Cosine { epochs: 10, eta_min: 0.0 }, ..Default::default() };
//! let scheduler = Scheduler::new(schedule, opt.lr())?;
//! for epoch in 0..3 {
//!     opt.set_lr(scheduler.lr(epoch));
//!     let loss = (&w * &w).sum(Kind::Float);
//!     opt.backward_step(&loss);
//! }
//! assert!(w.double_value(&[0]) < 1.0);
//! # Ok::<(), ptx_train::Error>(())
//! ```
//!
//! A training run from a configuration (the data folder must exist):
//!
//! ```no_run
//! use ptx_train::{Experiment, Resume, Trainer};
//! let exp = Experiment::from_file("stage1.toml")?;
//! let report = Trainer::new(exp, "runs/stage1", Resume::IfPresent)?.fit()?;
//! println!("best epoch {:?}; use {}", report.best, report.final_dir.display());
//! # Ok::<(), ptx_train::Error>(())
//! ```
//!
//! Prediction with a trained system or run folder: each image in with what its file says,
//! its mask out at the image's own size.
//!
//! ```no_run
//! use ptx_train::{Dataset, System};
//! let system = System::load("runs/demo".as_ref(), tch::Device::Cpu, None)?;
//! let images = Dataset::unlabelled(vec!["chest.dcm".into()]);
//! let skipped = system.predict_each(images.source(&[0])?, 0, |p| {
//!     println!("{}: score {:.3}, mask {:?}, spacing {:?}", p.meta.image_id, p.score,
//!              p.mask.dim(), p.meta.pixel_spacing());
//!     Ok(())
//! })?;
//! # Ok::<(), ptx_train::Error>(())
//! ```
//!
//! The two data paths, each in one direction:
//!
//! - a configuration: TOML → [`Experiment`] (each section's values checked as it is read)
//!   → the objective and the cross-section checks ([`Experiment::check`], once per run) →
//!   [`Trainer`] → run folder ([`RunDir`]);
//! - an image: file → [`SampleSource`] (pixels, mask and [`SampleMeta`] from one read) →
//!   loader batch → model → probabilities at the input size → post-processing → mask at the
//!   image's own size ([`Prediction`]) → outputs.

mod config;
mod cv;
mod data;
mod error;
mod lr_find;
mod metrics;
mod objective;
mod optim;
mod predict;
mod recipe;
mod run;
mod schedule;
mod stopping;
mod system;

pub use config::{
    Augmentation, ClassificationTerm, DataConfig, DeviceChoice, EarlyStop, Experiment, Folds,
    Holdout, InitFrom, InputConfig, LossConfig, Monitor, Sampling, Select, Subset, TrainOptions,
    Truth, UnknownDevice,
};
pub use cv::{CrossValidation, CvReport};
pub use data::{Dataset, SampleMeta, SampleSource, Skipped};
pub use error::{Error, Result};
pub use lr_find::{LrPoint, LrRangeTest, LrSweep};
pub use metrics::{best_f2_threshold, validation_metrics, ValidationMetrics};
pub use optim::{Optimizer, OptimizerConfig, OptimizerState};
pub use predict::{image_score, Ensemble, ImagePrediction};
pub use recipe::{RecipeReport, TwoStageRecipe};
pub use run::dir::RunDir;
pub use run::log::EpochRecord;
pub use run::swa;
pub use run::{FitReport, Resume, Trainer};
pub use schedule::{ScheduleConfig, ScheduleKind, ScheduleState, Scheduler};
pub use stopping::Goal;
pub use system::{Prediction, System, SystemConfig, SYSTEM_FILE};
