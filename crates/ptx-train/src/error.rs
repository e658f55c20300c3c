//! The crate's error type.

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
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The data of a run: no images, a fold without images, an image that does not load.
    #[error("data: {0}")]
    Data(String),
    /// A checkpoint or run folder that cannot be used.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The folder or file.
        path: std::path::PathBuf,
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

    pub(crate) fn io(path: impl Into<std::path::PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn checkpoint(
        path: impl Into<std::path::PathBuf>,
        reason: impl Into<String>,
    ) -> Self {
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
