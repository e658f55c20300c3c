//! Run folders and their checkpoints.
//!
//! ```text
//! RUN/
//!   experiment.toml        the configuration of the run
//!   log.csv, log.jsonl     one row per completed epoch
//!   curves.png, montage.png
//!   checkpoints/
//!     latest               the name of the last complete checkpoint ("epoch-0007")
//!     epoch-0007/          config.json, model.safetensors (a ptx_models::Model checkpoint),
//!                          optimizer.safetensors, state.json
//!     epoch-0004/          kept as one of the best (train.keep_best)
//!   swa/                   the averaged model, when train.swa
//! ```
//!
//! A checkpoint is written into a temporary folder which is renamed into place once complete;
//! `latest` is then replaced atomically. A process killed at any moment leaves either the
//! previous `latest` or the new one, each complete; leftover temporary folders are removed
//! by the next run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::Tensor;

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
pub struct TrainState {
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

/// The optimizer's tensors file in a checkpoint folder.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// The state file in a checkpoint folder.
pub const STATE_FILE: &str = "state.json";

/// A run folder (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// A run folder at `root` (created when missing).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn create(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("checkpoints")).map_err(|e| Error::io(&root, e))?;
        Ok(Self { root })
    }

    /// A run folder at `root` that is only read (nothing is created).
    pub fn open(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The checkpoint folder of epoch `epoch` (1-based).
    pub fn epoch_dir(&self, epoch: usize) -> PathBuf {
        self.root
            .join("checkpoints")
            .join(format!("epoch-{epoch:04}"))
    }

    /// The last complete checkpoint, if any.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when `latest` names a folder that is not there.
    pub fn latest(&self) -> Result<Option<PathBuf>> {
        let pointer = self.root.join("checkpoints").join("latest");
        let name = match std::fs::read_to_string(&pointer) {
            Ok(name) => name.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(pointer, e)),
        };
        let dir = self.root.join("checkpoints").join(&name);
        if !dir.join(STATE_FILE).is_file() {
            return Err(Error::checkpoint(
                &pointer,
                format!("names {name}, which is not a complete checkpoint"),
            ));
        }
        Ok(Some(dir))
    }

    /// Removes temporary folders left by a killed run.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn remove_partial(&self) -> Result<()> {
        let dir = self.root.join("checkpoints");
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let path = entry.path();
                std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        Ok(())
    }

    /// Writes the checkpoint of epoch `state.epochs_done` and makes it `latest`.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Model`], [`Error::Torch`].
    pub fn write(
        &self,
        model: &ptx_models::Model,
        optimizer_tensors: &[(String, Tensor)],
        state: &TrainState,
    ) -> Result<PathBuf> {
        let name = format!("epoch-{:04}", state.epochs_done);
        let checkpoints = self.root.join("checkpoints");
        let tmp = checkpoints.join(format!(".tmp-{name}"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        model.save(&tmp)?;
        Tensor::write_safetensors(optimizer_tensors, tmp.join(OPTIMIZER_FILE))?;
        let json =
            serde_json::to_vec_pretty(state).map_err(|e| Error::checkpoint(&tmp, e.to_string()))?;
        ptx_io::write_atomic(tmp.join(STATE_FILE), |out| out.write_all(&json))?;
        let dir = checkpoints.join(&name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, e))?;
        ptx_io::write_atomic(checkpoints.join("latest"), |out| {
            out.write_all(name.as_bytes())
        })?;
        Ok(dir)
    }

    /// Deletes every epoch checkpoint except `keep` (1-based epochs) and `latest`.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn prune(&self, keep: &[usize]) -> Result<()> {
        let latest = self.latest()?;
        let dir = self.root.join("checkpoints");
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

/// Reads a checkpoint folder's state and optimizer tensors.
///
/// # Errors
/// [`Error::Checkpoint`] for a missing or malformed file.
pub fn read_state(dir: &Path) -> Result<(TrainState, Vec<(String, Tensor)>)> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let state: TrainState =
        serde_json::from_slice(&text).map_err(|e| Error::checkpoint(&path, e.to_string()))?;
    let path = dir.join(OPTIMIZER_FILE);
    let tensors =
        Tensor::read_safetensors(&path).map_err(|e| Error::checkpoint(&path, e.to_string()))?;
    Ok((state, tensors))
}
