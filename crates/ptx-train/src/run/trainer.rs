//! The training loop.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use ptx_losses::{image_labels, MultiTask};
use ptx_models::{Model, UnetOutput};
use ptx_preproc::{Batches, Loader, LoaderOptions, Source, WeightedSampler};
use tch::{Device, Kind, Reduction, Tensor};

use crate::data::{Dataset, SampleSource};
use crate::experiment::{Experiment, Objective, Sampling};
use crate::optim::Optimizer;
use crate::predict::{eval_loader, predict_with, to_tensor, ImagePrediction};
use crate::run::checkpoint::{read_state, RunDir, TrainState};
use crate::run::init::apply_init;
use crate::run::log::{write_logs, EpochRecord};
use crate::run::progress::Progress;
use crate::run::validation::validation_metrics;
use crate::run::{plot, swa};
use crate::schedule::Scheduler;
use crate::stopping::{EarlyStopping, KeepBest, Kept};
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

    /// The model to use after training: the SWA model when there is one, else the best
    /// checkpoint.
    pub fn final_dir(&self) -> Option<&Path> {
        self.swa_dir.as_deref().or_else(|| self.best_dir())
    }
}

/// Trains one model of an [`Experiment`] in a run folder (see
/// [`checkpoint`](crate::run::checkpoint) for the folder's layout).
pub struct Trainer {
    exp: Experiment,
    run: RunDir,
    device: Device,
    model: Model,
    optimizer: Optimizer,
    scheduler: Scheduler,
    state: TrainState,
    dataset: Dataset,
    train_loader: Loader<SampleSource>,
    val_source: SampleSource,
    /// Class of each training / validation source index (see [`Dataset::class_of`]).
    train_classes: Vec<i64>,
    val_classes: Vec<i64>,
    /// Whether each training source index is a positive image (for [`Sampling`]).
    train_positive: Vec<bool>,
    progress: Progress,
}

/// The validation numbers of one epoch.
struct Measured {
    loss: f64,
    dice: f64,
    iou: f64,
    dice_positive: Option<f64>,
    f2: Option<(f64, f64)>,
    auc: Option<f64>,
    accuracy: Option<f64>,
    skipped: usize,
}

impl Trainer {
    /// Prepares a run: indexes the data, builds the model (initialised under the seed) and
    /// the optimizer, and resumes from `run_dir`'s last checkpoint when asked to.
    ///
    /// # Errors
    /// [`Error::Config`], [`Error::Data`] (missing folder, empty split), [`Error::Model`] (an
    /// unknown encoder is already a config error), [`Error::Checkpoint`] (a run folder of a
    /// different experiment, or one with checkpoints and `Resume::Never`).
    pub fn new(exp: Experiment, run_dir: impl Into<PathBuf>, resume: Resume) -> Result<Self> {
        exp.validate()?;
        if exp.train.torch_threads > 0 {
            tch::set_num_threads(exp.train.torch_threads as i32);
        }
        let device = exp.train.device.device()?;
        let dataset = Dataset::open(&exp.data, exp.seed)?;
        let d = &exp.data;
        let train_idx = dataset.split(d.validation_fold, false, d.positives_only);
        let val_idx = dataset.split(d.validation_fold, true, d.positives_only);
        if train_idx.is_empty() || val_idx.is_empty() {
            return Err(Error::Data(format!(
                "{} training and {} validation images (fold {} of {}{}): both need at least one",
                train_idx.len(),
                val_idx.len(),
                d.validation_fold,
                d.folds,
                if d.positives_only {
                    ", positives only"
                } else {
                    ""
                }
            )));
        }
        let loader_options = LoaderOptions {
            batch_size: exp.train.batch_size,
            threads: crate::predict::thread_count(exp.train.loader_threads),
            shuffle: true,
            drop_last: train_idx.len() > exp.train.batch_size,
            seed: exp.seed,
            on_error: d.on_error,
            ..LoaderOptions::default()
        };
        let train_loader = Loader::new(
            dataset.source(&train_idx),
            exp.input.train_pipeline()?,
            loader_options,
        )?;
        let val_source = dataset.source(&val_idx);
        let train_classes = dataset.class_of(&train_idx);
        let val_classes = dataset.class_of(&val_idx);
        let train_positive: Vec<bool> = train_idx
            .iter()
            .map(|&i| dataset.samples[i].positive)
            .collect();
        check_classes(&exp, &train_classes, &val_classes)?;

        tch::manual_seed(exp.seed as i64);
        let mut model = Model::new(exp.model.clone(), device)?;
        if exp.train.channels_last {
            model.to_channels_last();
        }
        if exp.loss.classification_weight > 0.0 && !has_classifier(&exp) {
            return Err(Error::config(
                "loss.classification_weight",
                "is above 0 but the model has no classifier head ([model.classifier])",
            ));
        }
        let mut optimizer = Optimizer::for_var_store(exp.optimizer.clone(), model.var_store())?;
        let mut scheduler = Scheduler::new(exp.schedule.clone(), optimizer.lr())?;
        let monitor = exp.train.monitor;
        let mut state = TrainState {
            epochs_done: 0,
            optimizer: optimizer.state().0,
            schedule: scheduler.state().clone(),
            early_stopping: exp.train.early_stopping.map(|e| EarlyStopping {
                min_delta: e.min_delta,
                patience: e.patience,
                goal: monitor.goal(),
                ..EarlyStopping::default()
            }),
            keep_best: KeepBest::new(exp.train.keep_best, monitor.goal())?,
            stopped_early: false,
            history: Vec::new(),
        };

        let run = RunDir::create(run_dir)?;
        run.remove_partial()?;
        let saved_config = run.root().join("experiment.toml");
        if let Some(latest) = run.latest()? {
            if resume == Resume::Never {
                return Err(Error::checkpoint(
                    run.root(),
                    "the run folder already has checkpoints: resume it (--resume) or choose another folder",
                ));
            }
            check_same_experiment(&saved_config, &exp)?;
            let (saved, tensors) = read_state(&latest)?;
            model.load_weights(
                &latest.join(ptx_models::WEIGHTS_FILE),
                ptx_models::WeightSource::Model,
                true,
            )?;
            optimizer.load_state(&saved.optimizer, &tensors)?;
            scheduler.set_state(saved.schedule.clone());
            state = saved;
        }
        let progress = Progress::new(exp.train.progress);
        if state.epochs_done == 0 {
            for line in apply_init(&mut model, &exp.init, device)? {
                progress.line(&line);
            }
        }
        let toml = exp.to_toml()?;
        ptx_io::write_atomic(&saved_config, |out| out.write_all(toml.as_bytes()))?;
        Ok(Self {
            exp,
            run,
            device,
            model,
            optimizer,
            scheduler,
            state,
            dataset,
            train_loader,
            val_source,
            train_classes,
            val_classes,
            train_positive,
            progress,
        })
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
    pub fn run_dir(&self) -> &Path {
        self.run.root()
    }

    /// The validation images' source.
    pub fn validation_source(&self) -> &SampleSource {
        &self.val_source
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
        while self.state.epochs_done < self.exp.train.epochs && !self.state.stopped_early {
            self.epoch(self.state.epochs_done)?;
            epochs_run += 1;
        }
        let kept_dirs: Vec<PathBuf> = self
            .state
            .keep_best
            .kept()
            .iter()
            .map(|&(e, _)| self.run.epoch_dir(e))
            .collect();
        let swa_dir = if self.exp.train.swa && !kept_dirs.is_empty() {
            let dir = self.run.root().join("swa");
            if epochs_run > 0 || !dir.join(ptx_models::WEIGHTS_FILE).is_file() {
                let model = swa::average(&kept_dirs, self.device)?;
                swa::recompute_batch_norm(
                    &model,
                    &self.train_loader,
                    self.exp.train.channels_last,
                )?;
                swa::save(&model, &dir)?;
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
            stopped_early: self.state.stopped_early,
            epochs_run,
        })
    }

    /// The learning-rate range test (Smith 2017) on this run's model and training batches:
    /// one optimizer step per batch with the rate growing exponentially, cycling through
    /// epochs as needed, until the sweep ends or the loss diverges. The model is trained by
    /// it: use a trainer made for the test, not one whose run continues.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a bad sweep; loader and model errors.
    pub fn lr_range_test(&mut self, test: &crate::LrRangeTest) -> Result<crate::LrSweep> {
        let mut sweep = test.sweep()?;
        let mut step = 0usize;
        let bar = self.progress.bar(test.steps, "LR range test");
        'epochs: for epoch in 0.. {
            let mut any = false;
            for batch in self.train_loader.epoch(epoch) {
                let batch = batch?;
                if batch.indices.is_empty() {
                    continue;
                }
                any = true;
                self.optimizer.set_lr(sweep.lr(step));
                let (x, y) = self.batch_tensors(&batch.images, &batch.masks)?;
                let classes = self.classes(&self.train_classes, &batch.indices);
                let out =
                    tch::autocast(self.exp.train.autocast, || self.model.forward_t(&x, true))?;
                let loss = self.loss(&out, &x, &y, classes.as_ref())?;
                self.optimizer.zero_grad();
                loss.backward();
                self.optimizer.step();
                step += 1;
                bar.inc(1);
                if !sweep.record(loss.double_value(&[])) {
                    break 'epochs;
                }
            }
            if !any {
                return Err(Error::Data("no training batch".into()));
            }
        }
        bar.finish_and_clear();
        Ok(sweep)
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

        let batches = self.epoch_batches(epoch)?;
        let bar = self.progress.bar(
            batches.len(),
            &format!("epoch {}/{}", epoch + 1, self.exp.train.epochs),
        );
        let (mut loss_sum, mut seen, mut skipped) = (0.0, 0usize, 0usize);
        for (b, batch) in batches.enumerate() {
            let batch = batch?;
            for (index, reason) in &batch.skipped {
                self.progress
                    .warn(&format!("skipped training sample {index}: {reason}"));
            }
            skipped += batch.skipped.len();
            if batch.indices.is_empty() {
                continue;
            }
            let (x, y) = self.batch_tensors(&batch.images, &batch.masks)?;
            let classes = self.classes(&self.train_classes, &batch.indices);
            let out = tch::autocast(self.exp.train.autocast, || self.model.forward_t(&x, true))?;
            let loss = self.loss(&out, &x, &y, classes.as_ref())?;
            let value = loss.double_value(&[]);
            if !value.is_finite() {
                bar.finish_and_clear();
                return Err(Error::NonFiniteLoss {
                    epoch,
                    batch: b,
                    loss: value,
                    last_good: self.state.epochs_done,
                });
            }
            self.optimizer.zero_grad();
            loss.backward();
            if let Some(max) = self.exp.train.clip_grad_norm {
                self.optimizer.clip_grad_norm(max);
            }
            self.optimizer.step();
            let n = batch.indices.len();
            loss_sum += value * n as f64;
            seen += n;
            bar.inc(1);
            bar.set_message(format!(
                "loss {:.4}  {:.1} img/s",
                loss_sum / seen as f64,
                seen as f64 / t0.elapsed().as_secs_f64()
            ));
        }
        bar.finish_and_clear();
        let train_seconds = t0.elapsed().as_secs_f64();

        let (m, predictions) = if self.exp.loss.objective == Objective::Segmentation {
            let (predictions, loss, skipped) = self.validate()?;
            let v = validation_metrics(&predictions)?;
            let m = Measured {
                loss,
                dice: v.dice,
                iou: v.iou,
                dice_positive: v.dice_positive,
                f2: v.f2,
                auc: v.auc,
                accuracy: v.accuracy,
                skipped,
            };
            (m, predictions)
        } else {
            (self.validate_other()?, Vec::new())
        };
        skipped += m.skipped;
        let val_loss = m.loss;
        let record = EpochRecord {
            epoch: epoch + 1,
            lr,
            train_loss: if seen > 0 {
                loss_sum / seen as f64
            } else {
                f64::NAN
            },
            val_loss,
            val_dice: m.dice,
            val_iou: m.iou,
            val_dice_positive: m.dice_positive,
            val_f2: m.f2.map(|f| f.0),
            f2_threshold: m.f2.map(|f| f.1),
            val_auc: m.auc,
            val_accuracy: m.accuracy,
            train_images: seen,
            skipped,
            seconds: t0.elapsed().as_secs_f64(),
            images_per_second: seen as f64 / train_seconds.max(1e-9),
        };
        let monitor = self.exp.train.monitor;
        let metric = match monitor {
            crate::Monitor::ValLoss => record.val_loss,
            crate::Monitor::ValDice => record.val_dice,
            crate::Monitor::ValF2 => record.val_f2.unwrap_or(f64::NAN),
            crate::Monitor::ValAuc => record.val_auc.unwrap_or(f64::NAN),
            crate::Monitor::ValAccuracy => record.val_accuracy.unwrap_or(f64::NAN),
        };
        let signed = match monitor.goal() {
            crate::Goal::Minimize => metric,
            crate::Goal::Maximize => -metric,
        };
        self.scheduler.observe(signed);
        let kept = self.state.keep_best.offer(epoch + 1, metric);
        if let Some(early) = self.state.early_stopping.as_mut() {
            self.state.stopped_early = early.observe(metric);
        }
        self.progress.line(&format!(
            "epoch {:>3}/{}  lr {:.2e}  train loss {:.4}  val loss {:.4}  dice {:.4}  dice+ {}  F2 {}  {:.1} img/s{}{}",
            epoch + 1,
            self.exp.train.epochs,
            lr,
            record.train_loss,
            record.val_loss,
            record.val_dice,
            fmt_opt(record.val_dice_positive),
            fmt_opt(record.val_f2),
            record.images_per_second,
            if matches!(kept, Kept::Yes { .. }) { "  *" } else { "" },
            if skipped > 0 { format!("  ({skipped} skipped)") } else { String::new() },
        ));
        self.state.history.push(record);
        self.state.epochs_done = epoch + 1;
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
        write_logs(self.run.root(), &self.state.history)?;
        plot::learning_curves(
            &self.run.root().join("curves.png"),
            &self.exp.name,
            &self.state.history,
        )?;
        if !predictions.is_empty() {
            self.write_montage(&predictions)?;
        }
        Ok(())
    }

    /// The batches of epoch `epoch` in the order [`Sampling`] asks for.
    fn epoch_batches(&self, epoch: usize) -> Result<Batches> {
        let seed = self.exp.seed;
        let epoch_seed = seed.wrapping_add(epoch as u64);
        let order = match self.exp.data.sampling {
            Sampling::All => return Ok(self.train_loader.epoch(epoch)),
            Sampling::OversamplePositives { copies } => {
                ptx_preproc::oversample_positives(&self.train_positive, copies, epoch_seed)
            }
            Sampling::UndersampleNegatives { ratio } => {
                ptx_preproc::undersample_negatives(&self.train_positive, ratio, epoch_seed)?
            }
            Sampling::ClassBalanced => WeightedSampler::class_balanced(&self.train_positive)?
                .sample(self.train_positive.len(), seed, epoch),
        };
        Ok(self.train_loader.epoch_with_order(epoch, order))
    }

    /// The classes of a batch's rows as an int64 tensor `(N)` on the device, for the
    /// classification objective only (the other losses do not use them).
    fn classes(&self, classes: &[i64], indices: &[usize]) -> Option<Tensor> {
        (self.exp.loss.objective == Objective::Classification).then(|| {
            let rows: Vec<i64> = indices.iter().map(|&i| classes[i]).collect();
            Tensor::from_slice(&rows).to_device(self.device)
        })
    }

    /// Validation of the objectives other than segmentation: the loss, and for
    /// classification the accuracy (and F2 / AUC with one class).
    fn validate_other(&self) -> Result<Measured> {
        let loader = eval_loader(
            self.val_source.clone(),
            self.exp.input.eval_pipeline(),
            self.exp.train.batch_size,
            self.exp.train.loader_threads,
        )?;
        let _guard = tch::no_grad_guard();
        let (mut sum, mut n, mut skipped, mut correct) = (0.0, 0usize, 0usize, 0usize);
        let (mut truths, mut scores) = (Vec::new(), Vec::new());
        for batch in loader.epoch(0) {
            let batch = batch?;
            skipped += batch.skipped.len();
            if batch.indices.is_empty() {
                continue;
            }
            let (x, y) = self.batch_tensors(&batch.images, &batch.masks)?;
            let classes = self.classes(&self.val_classes, &batch.indices);
            let out = tch::autocast(self.exp.train.autocast, || self.model.forward_t(&x, false))?;
            let rows = batch.indices.len();
            sum += self.loss(&out, &x, &y, classes.as_ref())?.double_value(&[]) * rows as f64;
            n += rows;
            if let Some(logits) = &out.labels {
                let logits = logits.to_kind(Kind::Float).to_device(Device::Cpu);
                let truth: Vec<i64> = batch.indices.iter().map(|&i| self.val_classes[i]).collect();
                if logits.size()[1] == 1 {
                    let p =
                        Vec::<f64>::try_from(logits.sigmoid().view([-1]).to_kind(Kind::Double))?;
                    for (&t, &p) in truth.iter().zip(&p) {
                        correct += usize::from((p >= 0.5) == (t == 1));
                        truths.push(t == 1);
                        scores.push(p);
                    }
                } else {
                    let arg = Vec::<i64>::try_from(logits.argmax(1, false))?;
                    correct += truth.iter().zip(&arg).filter(|(t, a)| t == a).count();
                }
            }
        }
        let classification = self.exp.loss.objective == Objective::Classification;
        let both = truths.iter().any(|&t| t) && truths.iter().any(|&t| !t);
        let (f2, auc) = if both {
            let (point, f2) = ptx_metrics::best_threshold(
                &truths,
                &scores,
                &[],
                ptx_metrics::ClassMetric::FBeta(2.0),
            )?;
            (
                Some((f2, point.threshold)),
                Some(ptx_metrics::roc_auc(&truths, &scores)?),
            )
        } else {
            (None, None)
        };
        Ok(Measured {
            loss: sum / n.max(1) as f64,
            dice: f64::NAN,
            iou: f64::NAN,
            dice_positive: None,
            f2,
            auc,
            accuracy: (classification && n > 0).then(|| correct as f64 / n as f64),
            skipped,
        })
    }

    /// Input and mask tensors of a batch on the device.
    fn batch_tensors(
        &self,
        images: &ndarray::Array4<f32>,
        masks: &ndarray::Array4<f32>,
    ) -> Result<(Tensor, Tensor)> {
        let y = to_tensor(masks, self.device)?;
        let mut x = if self.exp.loss.objective == Objective::ReconstructMask {
            y.shallow_clone()
        } else {
            to_tensor(images, self.device)?
        };
        if self.exp.train.channels_last {
            x = ptx_models::channels_last(&x);
        }
        Ok((x, y))
    }

    /// The configured loss of a forward pass on inputs `x` with `masks` and, for the
    /// classification objective, image `classes` (see [`Self::classes`]).
    fn loss(
        &self,
        out: &UnetOutput,
        x: &Tensor,
        masks: &Tensor,
        classes: Option<&Tensor>,
    ) -> Result<Tensor> {
        let logits = out.logits.to_kind(Kind::Float);
        let l = &self.exp.loss;
        let class_logits = || {
            out.labels
                .as_ref()
                .map(|l| l.to_kind(Kind::Float))
                .ok_or_else(|| Error::config("loss", "the model returned no classifier output"))
        };
        match l.objective {
            Objective::Segmentation => {}
            Objective::ReconstructImage | Objective::ReconstructMask => {
                return Ok(logits.mse_loss(&x.to_kind(Kind::Float), Reduction::Mean))
            }
            Objective::Classification => {
                let c = class_logits()?;
                let classes = classes
                    .ok_or_else(|| Error::config("loss", "classification without image classes"))?;
                return if c.size()[1] == 1 {
                    let targets = classes.to_kind(Kind::Float).view([-1, 1]);
                    Ok(l.classification.forward(&c, &targets)?)
                } else {
                    Ok(c.cross_entropy_for_logits(classes))
                };
            }
        }
        if l.classification_weight > 0.0 {
            let labels = out
                .labels
                .as_ref()
                .ok_or_else(|| Error::config("loss", "the model returned no classifier output"))?;
            let multitask = MultiTask {
                segmentation: l.segmentation.clone(),
                classification: l.classification.clone(),
                lambda: l.classification_weight,
            };
            let value = multitask.forward(
                &logits,
                masks,
                &labels.to_kind(Kind::Float),
                &image_labels(masks)?,
            )?;
            Ok(value.total)
        } else {
            Ok(l.segmentation.forward(&logits, masks)?)
        }
    }

    /// Predictions on the validation images, the mean validation loss per image and the
    /// number of images skipped.
    fn validate(&self) -> Result<(Vec<ImagePrediction>, f64, usize)> {
        let (mut sum, mut n) = (0.0, 0usize);
        let autocast = self.exp.train.autocast;
        let (predictions, skipped) = predict_with(
            self.val_source.clone(),
            self.exp.input.eval_pipeline(),
            self.exp.train.batch_size,
            self.exp.train.loader_threads,
            self.device,
            |x, y| {
                let _guard = tch::no_grad_guard();
                let x = if self.exp.train.channels_last {
                    ptx_models::channels_last(x)
                } else {
                    x.shallow_clone()
                };
                let out = tch::autocast(autocast, || self.model.forward_t(&x, false))?;
                let batch = x.size()[0] as usize;
                sum += self.loss(&out, &x, y, None)?.double_value(&[]) * batch as f64;
                n += batch;
                let labels = out
                    .labels
                    .map(|l| l.to_kind(Kind::Float).sigmoid().select(1, 0));
                Ok((out.logits.to_kind(Kind::Float).sigmoid(), labels))
            },
        )?;
        for (index, reason) in &skipped {
            self.progress
                .warn(&format!("skipped validation sample {index}: {reason}"));
        }
        Ok((predictions, sum / n.max(1) as f64, skipped.len()))
    }

    /// `montage.png`: the first validation images with truth (green) and prediction (red).
    fn write_montage(&self, predictions: &[ImagePrediction]) -> Result<()> {
        let count = self.exp.train.montage;
        if count == 0 {
            return Ok(());
        }
        let size = (self.exp.input.size[0], self.exp.input.size[1]);
        let mut tiles = Vec::new();
        for p in predictions.iter().take(count) {
            let Ok((image, _)) = self.val_source.load(p.index) else {
                continue;
            };
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
        ptx_io::image_file::write_png_rgb8(self.run.root().join("montage.png"), &picture.view())?;
        Ok(())
    }
}

fn has_classifier(exp: &Experiment) -> bool {
    match &exp.model {
        ptx_models::ModelConfig::Unet(u) => u.classifier.is_some(),
        _ => false,
    }
}

fn check_same_experiment(saved: &Path, exp: &Experiment) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(saved) else {
        return Ok(());
    };
    let mut before = Experiment::from_toml(&text)?;
    before.train.epochs = exp.train.epochs;
    before.train.progress = exp.train.progress;
    if &before != exp {
        return Err(Error::checkpoint(
            saved,
            "the run folder was made by a different experiment (only train.epochs may change on resume)",
        ));
    }
    Ok(())
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.4}"))
}

/// Classes must fit the classifier: `0..classes` (0 and 1 for one output).
fn check_classes(exp: &Experiment, train: &[i64], val: &[i64]) -> Result<()> {
    if exp.loss.objective != Objective::Classification {
        return Ok(());
    }
    let (_, _, outputs) = exp.head();
    let limit = outputs.max(2);
    if let Some(&bad) = train.iter().chain(val).find(|&&c| c >= limit) {
        return Err(Error::config(
            "data.labels",
            format!("class {bad} does not fit a classifier with {outputs} output(s)"),
        ));
    }
    Ok(())
}
