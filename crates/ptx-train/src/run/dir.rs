//! Run folders: the one place their layout is known (see [`RunDir`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::config::{Experiment, Select};
use crate::optim::OptimizerState;
use crate::run::log::EpochRecord;
use crate::schedule::ScheduleState;
use crate::stopping::{EarlyStopping, KeepBest};
use crate::{Error, Result};

/// The state of a run besides the weights, saved with each checkpoint as `state.json`.
///
/// There is no random state to save: random streams derive from the experiment's seed and
/// the epoch (the loader's shuffling and augmentation, and libtorch's generator reseeded at
/// each epoch's start), so `epochs_done` with `experiment.toml` is the whole of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrainState {
    /// Epochs completed.
    pub epochs_done: usize,
    /// The optimizer's scalars (its tensors are in `optimizer.safetensors`).
    pub optimizer: OptimizerState,
    /// The scheduler's state (reduce-on-plateau's counters).
    pub schedule: ScheduleState,
    /// Early stopping's state, when used.
    pub early_stopping: Option<EarlyStopping>,
    /// The best epochs kept.
    pub keep_best: KeepBest,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// The epoch log so far.
    pub history: Vec<EpochRecord>,
}

const EXPERIMENT_FILE: &str = "experiment.toml";
const CHECKPOINTS: &str = "checkpoints";
const LATEST: &str = "latest";
const SWA: &str = "swa";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const STATE_FILE: &str = "state.json";
const LOG_CSV: &str = "log.csv";
const LOG_JSONL: &str = "log.jsonl";
const CURVES: &str = "curves.png";
const MONTAGE: &str = "montage.png";

/// A run folder: read by [`RunDir::open`], written by the [`crate::Trainer`].
///
/// ```text
/// RUN/
///   experiment.toml        the configuration of the run
///   log.csv, log.jsonl     one row per completed epoch
///   curves.png, montage.png
///   checkpoints/
///     latest               the name of the last complete checkpoint ("epoch-0007")
///     epoch-0007/          config.json, model.safetensors (a ptx_models::Model checkpoint),
///                          optimizer.safetensors, state.json
///     epoch-0004/          kept as one of the best (train.keep_best)
///   swa/                   the averaged model, when train.swa
/// ```
///
/// A checkpoint is written into a temporary folder which is renamed into place once complete;
/// `latest` is then replaced atomically. A process killed at any moment leaves either the
/// previous `latest` or the new one, each complete; leftover temporary folders are removed
/// by the next run.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// A run folder at `root`, to read (nothing is created).
    pub fn open(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// A run folder at `root`, created when missing, for a run to write.
    pub(crate) fn create(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let checkpoints = root.join(CHECKPOINTS);
        std::fs::create_dir_all(&checkpoints).map_err(|e| Error::io(&checkpoints, e))?;
        Ok(Self { root })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the folder holds a training run (its `experiment.toml`).
    pub fn is_run(&self) -> bool {
        self.experiment_file().is_file()
    }

    /// The experiment the run was made with (its paths as the run had them).
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Config`].
    pub fn experiment(&self) -> Result<Experiment> {
        let path = self.experiment_file();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Experiment::from_toml(&text)
    }

    pub(crate) fn experiment_file(&self) -> PathBuf {
        self.root.join(EXPERIMENT_FILE)
    }

    /// The checkpoint folder of epoch `epoch` (1-based).
    pub fn epoch_dir(&self, epoch: usize) -> PathBuf {
        self.root
            .join(CHECKPOINTS)
            .join(format!("epoch-{epoch:04}"))
    }

    /// The averaged model's folder (written when `train.swa`).
    pub fn swa_dir(&self) -> PathBuf {
        self.root.join(SWA)
    }

    /// The epoch log, `(log.csv, log.jsonl)`.
    pub(crate) fn log_files(&self) -> (PathBuf, PathBuf) {
        (self.root.join(LOG_CSV), self.root.join(LOG_JSONL))
    }

    /// The learning-curve picture.
    pub(crate) fn curves_file(&self) -> PathBuf {
        self.root.join(CURVES)
    }

    /// The validation montage.
    pub(crate) fn montage_file(&self) -> PathBuf {
        self.root.join(MONTAGE)
    }

    /// Removes the weights (`checkpoints/` and `swa/`) and keeps the configuration, the logs
    /// and the pictures: for a finished run whose numbers are already reported. The run can
    /// then no longer be resumed or predicted with.
    ///
    /// # Errors
    /// [`Error::Io`] naming a folder that cannot be removed.
    pub fn discard_weights(&self) -> Result<()> {
        for dir in [self.root.join(CHECKPOINTS), self.swa_dir()] {
            if dir.is_dir() {
                std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            }
        }
        Ok(())
    }

    /// The last complete checkpoint, if any.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when `latest` names a folder that is not there.
    pub fn latest(&self) -> Result<Option<PathBuf>> {
        let pointer = self.root.join(CHECKPOINTS).join(LATEST);
        let name = match std::fs::read_to_string(&pointer) {
            Ok(name) => name.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(pointer, e)),
        };
        let dir = self.root.join(CHECKPOINTS).join(&name);
        if !dir.join(STATE_FILE).is_file() {
            return Err(Error::checkpoint(
                &pointer,
                format!("names {name}, which is not a complete checkpoint"),
            ));
        }
        Ok(Some(dir))
    }

    /// The epoch log of the last complete checkpoint (empty before the first).
    ///
    /// # Errors
    /// As [`RunDir::latest`]; [`Error::Checkpoint`] for a malformed state file.
    pub fn history(&self) -> Result<Vec<EpochRecord>> {
        match self.latest()? {
            Some(dir) => Ok(read_state(&dir)?.history),
            None => Ok(Vec::new()),
        }
    }

    /// The kept checkpoints, best first (by the monitored number).
    ///
    /// # Errors
    /// As [`RunDir::history`].
    pub fn best(&self) -> Result<Vec<PathBuf>> {
        match self.latest()? {
            Some(dir) => Ok(self.kept(&read_state(&dir)?)),
            None => Ok(Vec::new()),
        }
    }

    /// The kept checkpoints of `state`, best first.
    pub(crate) fn kept(&self, state: &TrainState) -> Vec<PathBuf> {
        state
            .keep_best
            .kept()
            .iter()
            .map(|&(e, _)| self.epoch_dir(e))
            .collect()
    }

    /// The model a run ended with: the SWA model when there is one; else, as
    /// `train.select` says, the best kept checkpoint (the last one when no epoch had a
    /// finite monitored number) or the last one.
    ///
    /// # Errors
    /// [`Error::NoCheckpoint`] before the first epoch's checkpoint; as [`RunDir::best`] and
    /// [`RunDir::experiment`].
    pub fn final_checkpoint(&self) -> Result<PathBuf> {
        let latest = self.latest()?.ok_or_else(|| Error::NoCheckpoint {
            run: self.root.clone(),
        })?;
        let swa = self.swa_dir();
        if swa.join(ptx_models::WEIGHTS_FILE).is_file() {
            return Ok(swa);
        }
        if self.experiment()?.train.select == Select::Last {
            return Ok(latest);
        }
        let state = read_state(&latest)?;
        Ok(self.kept(&state).into_iter().next().unwrap_or(latest))
    }

    /// Removes temporary folders left by a killed run.
    pub(crate) fn remove_partial(&self) -> Result<()> {
        let dir = self.root.join(CHECKPOINTS);
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let path = entry.path();
                std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        Ok(())
    }

    /// Writes the experiment the run is made with.
    pub(crate) fn write_experiment(&self, exp: &Experiment) -> Result<()> {
        let toml = exp.to_toml()?;
        ptx_io::write_atomic(self.experiment_file(), |out| out.write_all(toml.as_bytes()))?;
        Ok(())
    }

    /// Writes the checkpoint of epoch `state.epochs_done` and makes it `latest`.
    pub(crate) fn write(
        &self,
        model: &ptx_models::Model,
        optimizer_tensors: &[(String, Tensor)],
        state: &TrainState,
    ) -> Result<PathBuf> {
        let name = format!("epoch-{:04}", state.epochs_done);
        let checkpoints = self.root.join(CHECKPOINTS);
        let tmp = checkpoints.join(format!(".tmp-{name}"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        model.save(&tmp)?;
        ptx_io::write_atomic_with(tmp.join(OPTIMIZER_FILE), |path| {
            Tensor::write_safetensors(optimizer_tensors, path).map_err(std::io::Error::other)
        })?;
        let json =
            serde_json::to_vec_pretty(state).map_err(|e| Error::checkpoint(&tmp, e.to_string()))?;
        ptx_io::write_atomic(tmp.join(STATE_FILE), |out| out.write_all(&json))?;
        let dir = checkpoints.join(&name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, e))?;
        ptx_io::write_atomic(checkpoints.join(LATEST), |out| {
            out.write_all(name.as_bytes())
        })?;
        Ok(dir)
    }

    /// Writes the averaged model: into a temporary folder renamed into place once complete,
    /// as the checkpoints.
    pub(crate) fn write_swa(&self, model: &ptx_models::Model) -> Result<PathBuf> {
        let dir = self.swa_dir();
        let tmp = self.root.join(CHECKPOINTS).join(format!(".tmp-{SWA}"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        model.save(&tmp)?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, e))?;
        Ok(dir)
    }

    /// Deletes every epoch checkpoint except `keep` (1-based epochs) and `latest`.
    pub(crate) fn prune(&self, keep: &[usize]) -> Result<()> {
        let latest = self.latest()?;
        let dir = self.root.join(CHECKPOINTS);
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(epoch) = name.strip_prefix("epoch-").and_then(|e| e.parse().ok()) else {
                continue;
            };
            let path = entry.path();
            if keep.contains(&epoch) || latest.as_deref() == Some(path.as_path()) {
                continue;
            }
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }
}

/// Reads a checkpoint folder's state.
pub(crate) fn read_state(dir: &Path) -> Result<TrainState> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_slice(&text).map_err(|e| Error::checkpoint(&path, e.to_string()))
}

/// Reads a checkpoint folder's optimizer tensors.
pub(crate) fn read_optimizer(dir: &Path) -> Result<Vec<(String, Tensor)>> {
    let path = dir.join(OPTIMIZER_FILE);
    Tensor::read_safetensors(&path).map_err(|e| Error::checkpoint(&path, e.to_string()))
}
