//! The training loop.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use ptx_models::Model;
use ptx_preproc::{Batch, Batches, Loader, LoaderOptions, WeightedSampler};
use tch::Device;

use crate::config::{Checked, Experiment, Sampling};
use crate::data::{Dataset, SampleMeta, SampleSource};
use crate::metrics::{Meter, ValidationMetrics};
use crate::objective::Objective;
use crate::optim::Optimizer;
use crate::predict::{eval_loader, ImagePrediction};
use crate::run::dir::{read_optimizer, read_state, RunDir, TrainState};
use crate::run::init::apply_init;
use crate::run::log::{write_logs, EpochRecord};
use crate::run::progress::Progress;
use crate::run::{plot, swa};
use crate::schedule::Scheduler;
use crate::stopping::{EarlyStopping, Goal, KeepBest, Kept};
use crate::{Error, Result};

/// What to do with a run folder that already has checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resume {
    /// Refuse to start (the folder belongs to another run).
    #[default]
    Never,
    /// Continue from its last complete checkpoint (start afresh when there is none).
    IfPresent,
}

/// The outcome of [`Trainer::fit`].
#[derive(Debug, Clone)]
pub struct FitReport {
    /// The epoch log (all epochs, including those before a resume).
    pub history: Vec<EpochRecord>,
    /// The best epoch (1-based) by the monitored number and its value.
    pub best: Option<(usize, f64)>,
    /// Every kept checkpoint, best first.
    pub kept_dirs: Vec<PathBuf>,
    /// The stochastic-weight-averaged model's folder, when `train.swa`.
    pub swa_dir: Option<PathBuf>,
    /// The model to use after training ([`RunDir::final_checkpoint`]): the SWA model, else
    /// the best checkpoint, else the last one.
    pub final_dir: PathBuf,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Epochs run by this call (0 when the run was already complete).
    pub epochs_run: usize,
}

impl FitReport {
    /// The best epoch's checkpoint folder.
    pub fn best_dir(&self) -> Option<&Path> {
        self.kept_dirs.first().map(PathBuf::as_path)
    }
}

/// Trains one model of an [`Experiment`] in a run folder (see [`RunDir`] for the folder's
/// layout).
pub struct Trainer {
    exp: Experiment,
    objective: Box<dyn Objective>,
    run: RunDir,
    device: Device,
    model: Model,
    optimizer: Optimizer,
    scheduler: Scheduler,
    state: TrainState,
    dataset: Dataset,
    train_loader: Loader<SampleSource>,
    /// Whether each training source index is a positive image (for [`Sampling`]).
    train_positive: Vec<bool>,
    val_loader: Loader<SampleSource>,
    progress: Progress,
}

/// What one epoch's validation pass measured.
struct Validation {
    metrics: ValidationMetrics,
    skipped: usize,
    /// The first validation images (grey, at their own size) with their predictions.
    shown: Vec<(Array2<u8>, ImagePrediction)>,
}

impl Trainer {
    /// Prepares a run: checks the experiment ([`Experiment::check`]), indexes the data,
    /// builds the model (initialised under the seed) and the optimizer, and resumes from
    /// `run_dir`'s last checkpoint when asked to.
    ///
    /// # Errors
    /// [`Error::Config`]; the data's errors ([`Error::MissingInput`], [`Error::EmptySplit`],
    /// ...); [`Error::Checkpoint`] (a run folder of a different experiment, or one with
    /// checkpoints and `Resume::Never`).
    pub fn new(exp: Experiment, run_dir: impl Into<PathBuf>, resume: Resume) -> Result<Self> {
        Self::checked(exp.checked()?, run_dir.into(), resume)
    }

    /// [`Trainer::new`] for an experiment already checked.
    pub(crate) fn checked(checked: Checked, run_dir: PathBuf, resume: Resume) -> Result<Self> {
        let Checked { exp, objective } = checked;
        if exp.train.torch_threads > 0 {
            tch::set_num_threads(exp.train.torch_threads as i32);
        }
        let device = exp.train.device.device()?;
        let dataset = Dataset::open(&exp.data, exp.seed)?;
        let (train_loader, train_positive, val_loader) = loaders(&exp, &*objective, &dataset)?;
        tch::manual_seed(exp.seed as i64);
        let mut model = Model::new(exp.model.clone(), device)?;
        if exp.train.channels_last {
            model.to_channels_last();
        }
        let optimizer = Optimizer::for_var_store(exp.optimizer.clone(), model.var_store())?;
        let scheduler = Scheduler::new(exp.schedule.clone(), optimizer.lr())?;
        let state = fresh_state(&exp, &optimizer, &scheduler)?;
        let mut trainer = Self {
            run: RunDir::create(run_dir)?,
            progress: Progress::new(exp.train.progress),
            exp,
            objective,
            device,
            model,
            optimizer,
            scheduler,
            state,
            dataset,
            train_loader,
            train_positive,
            val_loader,
        };
        trainer.restore(resume)?;
        trainer.run.write_experiment(&trainer.exp)?;
        Ok(trainer)
    }

    /// Continues from the run folder's last checkpoint (when allowed), or applies the
    /// experiment's initial weights to a fresh run.
    fn restore(&mut self, resume: Resume) -> Result<()> {
        self.run.remove_partial()?;
        if let Some(latest) = self.run.latest()? {
            if resume == Resume::Never {
                return Err(Error::checkpoint(
                    self.run.root(),
                    "the run folder already has checkpoints: resume it (--resume) or choose another folder",
                ));
            }
            check_same_experiment(&self.run, &self.exp)?;
            let saved = read_state(&latest)?;
            self.model.load_weights(
                &latest.join(ptx_models::WEIGHTS_FILE),
                ptx_models::WeightSource::Model,
                true,
            )?;
            self.optimizer
                .load_state(&saved.optimizer, &read_optimizer(&latest)?)?;
            self.scheduler.set_state(saved.schedule.clone());
            self.state = saved;
        }
        if self.state.epochs_done == 0 {
            for line in apply_init(&mut self.model, &self.exp.init, self.device)? {
                self.progress.line(&line);
            }
        }
        Ok(())
    }

    /// The model being trained.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The dataset and its folds.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The experiment.
    pub fn experiment(&self) -> &Experiment {
        &self.exp
    }

    /// The run folder.
    pub fn run_dir(&self) -> &RunDir {
        &self.run
    }

    /// The training loader (what SWA's batch-norm pass and the LR range test iterate).
    pub fn train_loader(&self) -> &Loader<SampleSource> {
        &self.train_loader
    }

    /// Trains the remaining epochs: each epoch trains, validates, logs, checkpoints, then
    /// checks early stopping. A non-finite loss stops the run with
    /// [`Error::NonFiniteLoss`], leaving the last checkpoint as it was.
    ///
    /// # Errors
    /// As described; [`Error::Preproc`] when a sample fails with `on_error = "fail"`.
    pub fn fit(&mut self) -> Result<FitReport> {
        let mut epochs_run = 0;
        while self.state.epochs_done < self.exp.train.epochs.get() && !self.state.stopped_early {
            self.epoch(self.state.epochs_done)?;
            epochs_run += 1;
        }
        let kept_dirs = self.run.kept(&self.state);
        let swa_dir = if self.exp.train.swa && !kept_dirs.is_empty() {
            let dir = self.run.swa_dir();
            if epochs_run > 0 || !dir.join(ptx_models::WEIGHTS_FILE).is_file() {
                let model = swa::average(&kept_dirs, self.device)?;
                swa::recompute_batch_norm(
                    &model,
                    &self.train_loader,
                    self.exp.train.channels_last,
                )?;
                self.run.write_swa(&model)?;
            }
            Some(dir)
        } else {
            None
        };
        Ok(FitReport {
            history: self.state.history.clone(),
            best: self.state.keep_best.kept().first().copied(),
            kept_dirs,
            swa_dir,
            final_dir: self.run.final_checkpoint()?,
            stopped_early: self.state.stopped_early,
            epochs_run,
        })
    }

    /// The learning-rate range test (Smith 2017) on this run's model and training batches:
    /// one training step per batch ([`Trainer::fit`]'s step, gradient clipping included)
    /// with the rate growing exponentially, cycling through epochs as needed, until the sweep
    /// ends or the loss diverges. The model is trained by it: use a trainer made for the test, not one whose
    /// run continues.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a bad sweep; loader and model errors.
    pub fn lr_range_test(&mut self, test: &crate::LrRangeTest) -> Result<crate::LrSweep> {
        let mut sweep = test.sweep()?;
        let bar = self.progress.bar(test.steps, "LR range test");
        'epochs: for epoch in 0.. {
            let mut any = false;
            for batch in self.train_loader.epoch(epoch) {
                let batch = batch?;
                if batch.indices.is_empty() {
                    continue;
                }
                any = true;
                self.optimizer.set_lr(sweep.lr(sweep.points().len()));
                let loss = self.step(&batch)?;
                bar.inc(1);
                if !sweep.record(loss) {
                    break 'epochs;
                }
            }
            if !any {
                return Err(Error::NoTrainingBatch("the learning-rate range test"));
            }
        }
        bar.finish_and_clear();
        Ok(sweep)
    }

    /// One training step on a batch: the objective's tensors and loss of a training-mode
    /// forward pass, then (for a finite loss) backward, clipping and the optimizer's step.
    /// Returns the loss; a non-finite one changes nothing.
    fn step(&mut self, batch: &Batch<SampleMeta>) -> Result<f64> {
        let t = self
            .objective
            .tensors(batch, self.device, self.exp.train.channels_last)?;
        let out = tch::autocast(self.exp.train.autocast, || {
            self.model.forward_t(&t.input, true)
        })?;
        let loss = self.objective.loss(&out, &t)?;
        let value = loss.double_value(&[]);
        if value.is_finite() {
            self.optimizer.zero_grad();
            loss.backward();
            if let Some(max) = self.exp.train.clip_grad_norm {
                self.optimizer.clip_grad_norm(max);
            }
            self.optimizer.step();
        }
        Ok(value)
    }

    /// One epoch (0-based `epoch`): train, validate, record, checkpoint.
    fn epoch(&mut self, epoch: usize) -> Result<()> {
        let t0 = Instant::now();
        tch::manual_seed(self.exp.seed.wrapping_add(epoch as u64 + 1) as i64);
        if let Some(schedule) = &self.exp.train.freeze {
            self.model.unfreeze();
            self.model.freeze(schedule.at(epoch));
        }
        let lr = self.scheduler.lr(epoch);
        self.optimizer.set_lr(lr);
        let trained = self.train_epoch(epoch, t0)?;
        let train_seconds = t0.elapsed().as_secs_f64();
        let validation = self.validate()?;
        let m = &validation.metrics;
        let record = EpochRecord {
            epoch: epoch + 1,
            lr,
            train_loss: if trained.images > 0 {
                trained.loss_sum / trained.images as f64
            } else {
                f64::NAN
            },
            val_loss: m.loss.unwrap_or(f64::NAN),
            val_dice: m.dice,
            val_iou: m.iou,
            val_dice_positive: m.dice_positive,
            val_f2: m.f2.map(|f| f.0),
            f2_threshold: m.f2.map(|f| f.1),
            val_auc: m.auc,
            val_accuracy: m.accuracy,
            train_images: trained.images,
            skipped: trained.skipped + validation.skipped,
            seconds: t0.elapsed().as_secs_f64(),
            images_per_second: trained.images as f64 / train_seconds.max(1e-9),
        };
        let kept = self.observe(&record);
        self.progress.line(&record.summary(
            self.exp.train.epochs.get(),
            matches!(kept, Kept::Yes { .. }),
        ));
        self.state.history.push(record);
        self.state.epochs_done = epoch + 1;
        self.checkpoint()?;
        if !validation.shown.is_empty() {
            self.write_montage(&validation.shown)?;
        }
        Ok(())
    }

    /// The training pass of epoch `epoch`.
    fn train_epoch(&mut self, epoch: usize, t0: Instant) -> Result<Trained> {
        let batches = self.epoch_batches(epoch)?;
        let bar = self.progress.bar(
            batches.len(),
            &format!("epoch {}/{}", epoch + 1, self.exp.train.epochs),
        );
        let mut trained = Trained::default();
        for (b, batch) in batches.enumerate() {
            let batch = batch?;
            for skip in &batch.skipped {
                self.warn_skipped("training", skip);
            }
            trained.skipped += batch.skipped.len();
            if batch.indices.is_empty() {
                continue;
            }
            let loss = self.step(&batch)?;
            if !loss.is_finite() {
                bar.finish_and_clear();
                return Err(Error::NonFiniteLoss {
                    epoch,
                    batch: b,
                    loss,
                    last_good: self.state.epochs_done,
                });
            }
            let n = batch.indices.len();
            trained.loss_sum += loss * n as f64;
            trained.images += n;
            bar.inc(1);
            bar.set_message(format!(
                "loss {:.4}  {:.1} img/s",
                trained.loss_sum / trained.images as f64,
                trained.images as f64 / t0.elapsed().as_secs_f64()
            ));
        }
        bar.finish_and_clear();
        Ok(trained)
    }

    /// The batches of epoch `epoch` in the order [`Sampling`] asks for.
    fn epoch_batches(&self, epoch: usize) -> Result<Batches<SampleMeta>> {
        let seed = self.exp.seed;
        let epoch_seed = seed.wrapping_add(epoch as u64);
        let positive = &self.train_positive;
        let order = match self.exp.data.sampling {
            Sampling::All => return Ok(self.train_loader.epoch(epoch)),
            Sampling::OversamplePositives { copies } => {
                ptx_preproc::oversample_positives(positive, copies.get(), epoch_seed)
            }
            Sampling::UndersampleNegatives { ratio } => {
                ptx_preproc::undersample_negatives(positive, ratio, epoch_seed)?
            }
            Sampling::ClassBalanced => {
                WeightedSampler::class_balanced(positive)?.sample(positive.len(), seed, epoch)
            }
        };
        Ok(self.train_loader.epoch_with_order(epoch, order))
    }

    /// The validation pass: the objective's numbers, the loss, and the first images with
    /// their predictions for the montage.
    fn validate(&self) -> Result<Validation> {
        let _guard = tch::no_grad_guard();
        let mut meter = Meter::default();
        let (mut skipped, mut shown) = (0, Vec::new());
        for batch in self.val_loader.epoch(0) {
            let mut batch = batch?;
            for skip in &batch.skipped {
                self.warn_skipped("validation", skip);
            }
            skipped += batch.skipped.len();
            if batch.indices.is_empty() {
                continue;
            }
            let t = self
                .objective
                .tensors(&batch, self.device, self.exp.train.channels_last)?;
            let out = tch::autocast(self.exp.train.autocast, || {
                self.model.forward_t(&t.input, false)
            })?;
            let loss = self.objective.loss(&out, &t)?;
            meter.add_loss(loss.double_value(&[]), batch.indices.len());
            let predictions = self.objective.measure(&out, &t, &batch, &mut meter)?;
            let room = self.exp.train.montage.saturating_sub(shown.len());
            for (meta, p) in batch.metas.iter_mut().zip(predictions).take(room) {
                if let Some(pixels) = meta.pixels.take() {
                    shown.push((pixels, p));
                }
            }
        }
        Ok(Validation {
            metrics: meter.finish()?,
            skipped,
            shown,
        })
    }

    /// Feeds the monitored number of `record` to the scheduler, keep-best and early
    /// stopping.
    fn observe(&mut self, record: &EpochRecord) -> Kept {
        let monitor = self.exp.train.monitor;
        let metric = record.monitored(monitor);
        self.scheduler.observe(match monitor.goal() {
            Goal::Minimize => metric,
            Goal::Maximize => -metric,
        });
        let kept = self.state.keep_best.offer(record.epoch, metric);
        if let Some(early) = self.state.early_stopping.as_mut() {
            self.state.stopped_early = early.observe(metric);
        }
        kept
    }

    /// Writes the epoch's checkpoint, prunes the others and rewrites the logs and curves.
    fn checkpoint(&mut self) -> Result<()> {
        let (opt_state, tensors) = self.optimizer.state();
        self.state.optimizer = opt_state;
        self.state.schedule = self.scheduler.state().clone();
        self.run.write(&self.model, &tensors, &self.state)?;
        let keep: Vec<usize> = self
            .state
            .keep_best
            .kept()
            .iter()
            .map(|&(e, _)| e)
            .collect();
        self.run.prune(&keep)?;
        write_logs(&self.run, &self.state.history)?;
        plot::learning_curves(&self.run.curves_file(), &self.exp.name, &self.state.history)
    }

    fn warn_skipped(&self, what: &str, (index, error): &(usize, ptx_preproc::Error)) {
        self.progress
            .warn(&format!("skipped {what} sample {index}: {error}"));
    }

    /// `montage.png`: the first validation images with truth (green) and prediction (red).
    fn write_montage(&self, shown: &[(Array2<u8>, ImagePrediction)]) -> Result<()> {
        let size = self.exp.input.size();
        let mut tiles = Vec::with_capacity(shown.len());
        for (image, p) in shown {
            let image = ptx_preproc::resize_input(image.view(), size)?;
            let pred: Array2<u8> = p.probability.mapv(|v| u8::from(v > 0.5));
            tiles.push(ptx_preproc::overlay_tile(
                image.view(),
                Some(p.truth.view()),
                Some(pred.view()),
                192,
            )?);
        }
        let picture = ptx_preproc::montage(&tiles)?;
        ptx_io::image_file::write_png_rgb8(self.run.montage_file(), &picture.view())?;
        Ok(())
    }
}

/// What a training pass saw.
#[derive(Debug, Default)]
struct Trained {
    loss_sum: f64,
    images: usize,
    skipped: usize,
}

/// The training loader (shuffled, augmented), whether each of its samples is positive, and
/// the validation loader (in order, not augmented; keeping the images the montage shows).
/// The objective checks the classes of both splits first.
fn loaders(
    exp: &Experiment,
    objective: &dyn Objective,
    dataset: &Dataset,
) -> Result<(Loader<SampleSource>, Vec<bool>, Loader<SampleSource>)> {
    let d = &exp.data;
    let fold = d.folds.validation();
    let train_idx = dataset.split(fold, false, d.positives_only);
    let val_idx = dataset.split(fold, true, d.positives_only);
    if train_idx.is_empty() || val_idx.is_empty() {
        return Err(Error::EmptySplit {
            training: train_idx.len(),
            validation: val_idx.len(),
            fold,
            folds: d.folds.count(),
            positives_only: d.positives_only,
        });
    }
    objective.check_classes(dataset, &[&train_idx[..], &val_idx[..]].concat())?;
    let batch_size = exp.train.batch_size.get();
    let train = Loader::new(
        dataset.source(&train_idx)?,
        exp.input.train_pipeline(),
        LoaderOptions {
            batch_size,
            threads: exp.train.loader_threads,
            shuffle: true,
            drop_last: train_idx.len() > batch_size,
            seed: exp.seed,
            on_error: d.on_error,
            ..LoaderOptions::default()
        },
    )?;
    let positive = train_idx
        .iter()
        .map(|&i| dataset.samples()[i].positive)
        .collect();
    let val = eval_loader(
        dataset
            .source(&val_idx)?
            .keeping_pixels_of_first(exp.train.montage),
        exp.input.eval_pipeline(),
        batch_size,
        exp.train.loader_threads,
    )?;
    Ok((train, positive, val))
}

/// The state of a run before its first epoch.
fn fresh_state(
    exp: &Experiment,
    optimizer: &Optimizer,
    scheduler: &Scheduler,
) -> Result<TrainState> {
    let goal = exp.train.monitor.goal();
    Ok(TrainState {
        epochs_done: 0,
        optimizer: optimizer.state().0,
        schedule: scheduler.state().clone(),
        early_stopping: exp.train.early_stopping.map(|e| EarlyStopping {
            min_delta: e.min_delta,
            patience: e.patience,
            goal,
            ..EarlyStopping::default()
        }),
        keep_best: KeepBest::new(exp.train.keep_best.get(), goal)?,
        stopped_early: false,
        history: Vec::new(),
    })
}

/// A resumed run must be the experiment that made the folder (only `train.epochs` and
/// `train.progress` may change).
fn check_same_experiment(run: &RunDir, exp: &Experiment) -> Result<()> {
    if !run.experiment_file().is_file() {
        return Ok(()); // killed before its first write
    }
    let mut before = run.experiment()?;
    before.train.epochs = exp.train.epochs;
    before.train.progress = exp.train.progress;
    if &before != exp {
        return Err(Error::checkpoint(
            run.experiment_file(),
            "the run folder was made by a different experiment (only train.epochs may change on resume)",
        ));
    }
    Ok(())
}
