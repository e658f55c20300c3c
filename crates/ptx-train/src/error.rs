//! The crate's error type.

use std::path::PathBuf;

/// Errors of the training crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option out of range.
    #[error("invalid training option `{name}` = {value}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// The value given.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
    /// Optimizer state that does not fit the parameters it is loaded into.
    #[error("optimizer state `{key}`: {reason}")]
    State {
        /// The state entry.
        key: String,
        /// What does not fit.
        reason: String,
    },
    /// An error from libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// An experiment configuration that cannot be used.
    #[error("config [{section}]: {reason}")]
    Config {
        /// The section or key, e.g. `data.folds`.
        section: String,
        /// What is wrong.
        reason: String,
    },
    /// A file or folder that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A folder or file the data names that does not exist.
    #[error("{what} {} does not exist", path.display())]
    MissingInput {
        /// What it should be (`image folder`, `annotation file`, ...).
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// No image file has a truth.
    #[error("no image under {} has an annotation ({image_files} image files, {annotations_without_files} annotated ImageIds without a file)", images.display())]
    NoImages {
        /// The image folder.
        images: PathBuf,
        /// Image files found without a truth.
        image_files: usize,
        /// Annotated ImageIds without an image file.
        annotations_without_files: usize,
    },
    /// A split of the folds with no image on one side.
    #[error("{training} training and {validation} validation images (fold {fold} of {folds}{}): both need at least one", if *positives_only { ", positives only" } else { "" })]
    EmptySplit {
        /// Training images.
        training: usize,
        /// Validation images.
        validation: usize,
        /// The held-out fold.
        fold: usize,
        /// The number of folds.
        folds: usize,
        /// Whether only positive images were kept.
        positives_only: bool,
    },
    /// A malformed row of a labels file.
    #[error("{} line {line}: {problem}", file.display())]
    Row {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// An image that a labels or folds file does not list.
    #[error("{} has no {what} for image {image_id}", file.display())]
    NotListed {
        /// The file.
        file: PathBuf,
        /// The image.
        image_id: String,
        /// What is missing (`class`, `fold`).
        what: &'static str,
    },
    /// A folds file putting an image in a fold that does not exist.
    #[error("{}: image {image_id} is in fold {fold}, not below folds = {folds}", file.display())]
    FoldOutOfRange {
        /// The file.
        file: PathBuf,
        /// The image.
        image_id: String,
        /// Its fold.
        fold: usize,
        /// The number of folds.
        folds: usize,
    },
    /// An index past the samples of a dataset or source.
    #[error("no sample {0}")]
    NoSample(usize),
    /// A pass that needs training batches found none.
    #[error("{0} needs a training batch, and the training images gave none")]
    NoTrainingBatch(&'static str),
    /// A run folder without a checkpoint to use.
    #[error("run {}: no checkpoint (the run has not completed an epoch)", run.display())]
    NoCheckpoint {
        /// The run folder.
        run: PathBuf,
    },
    /// A checkpoint or run folder that cannot be used.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The loss became NaN or infinite; the last complete epoch's checkpoint is kept.
    #[error("the loss is {loss} at epoch {epoch}, batch {batch}: training stopped; the last good checkpoint (epoch {last_good}) is kept")]
    NonFiniteLoss {
        /// The epoch (0-based).
        epoch: usize,
        /// The batch within the epoch (0-based).
        batch: usize,
        /// The value.
        loss: f64,
        /// Epochs completed and checkpointed before (0: none).
        last_good: usize,
    },
    /// From `ptx-io` (DICOM, CSV, RLE, PNG).
    #[error(transparent)]
    PtxIo(#[from] ptx_io::Error),
    /// From `ptx-preproc` (the pipeline and loader).
    #[error(transparent)]
    Preproc(#[from] ptx_preproc::Error),
    /// From `ptx-models`.
    #[error(transparent)]
    Model(#[from] ptx_models::Error),
    /// From `ptx-losses`.
    #[error(transparent)]
    Loss(#[from] ptx_losses::Error),
    /// From `ptx-metrics`.
    #[error(transparent)]
    Metrics(#[from] ptx_metrics::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn config(section: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config {
            section: section.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn checkpoint(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Checkpoint {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn option(
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidOption {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
