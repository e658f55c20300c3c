//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong building, running or loading a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An encoder name that is not one of [`crate::EncoderName`]'s.
    #[error("unknown encoder `{name}` (known: {known})")]
    UnknownEncoder {
        /// The name given.
        name: String,
        /// The accepted names.
        known: String,
    },
    /// A configuration value out of range.
    #[error("invalid model option `{name}` = {value}: {reason}")]
    InvalidConfig {
        /// The option's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
    /// An input smaller than the encoder can take (InceptionV3's unpadded convolutions need
    /// at least 96 x 96 among multiples of 32).
    #[error(
        "input {height}x{width} is too small for {encoder}: it needs at least {minimum}x{minimum}"
    )]
    InputTooSmall {
        /// Input height (after padding).
        height: i64,
        /// Input width (after padding).
        width: i64,
        /// The encoder.
        encoder: String,
        /// The smallest side it takes.
        minimum: i64,
    },
    /// Input height or width not a multiple of the encoder's stride.
    #[error(
        "input {height}x{width} is not a multiple of the encoder's stride {stride}: use \
         {lower_height}x{lower_width} or {upper_height}x{upper_width}, or enable padding \
         (`pad_input`)"
    )]
    InputSize {
        /// Input height.
        height: i64,
        /// Input width.
        width: i64,
        /// Required multiple.
        stride: i64,
        /// Nearest valid height at or below the input's (at least `stride`).
        lower_height: i64,
        /// Nearest valid width at or below.
        lower_width: i64,
        /// Nearest valid height at or above.
        upper_height: i64,
        /// Nearest valid width at or above.
        upper_width: i64,
    },
    /// An input tensor of the wrong rank or channel count.
    #[error("input has shape {found:?}, expected {expected}")]
    InputShape {
        /// What was expected, in words.
        expected: String,
        /// The shape found.
        found: Vec<i64>,
    },
    /// A weight whose shape differs between the file and the model.
    #[error("`{key}`: shape {found:?} in {path}, the model expects {expected:?}")]
    ShapeMismatch {
        /// The model's key.
        key: String,
        /// Shape the model expects.
        expected: Vec<i64>,
        /// Shape in the file.
        found: Vec<i64>,
        /// File it came from.
        path: PathBuf,
    },
    /// Keys the model needs that the file lacks (strict loading).
    #[error("{path}: {} missing key(s), first: {}", missing.len(), missing.first().map(String::as_str).unwrap_or(""))]
    MissingKeys {
        /// The file.
        path: PathBuf,
        /// The model's keys not found.
        missing: Vec<String>,
    },
    /// Keys in the file the model has no variable for (strict loading).
    #[error("{path}: {} unexpected key(s), first: {}", unexpected.len(), unexpected.first().map(String::as_str).unwrap_or(""))]
    UnexpectedKeys {
        /// The file.
        path: PathBuf,
        /// The file's keys (after name mapping) the model lacks.
        unexpected: Vec<String>,
    },
    /// A checkpoint file that could not be parsed.
    #[error("{path}: {reason}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file that could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint file that could not be written (from `ptx-io`'s atomic write, naming
    /// the file).
    #[error(transparent)]
    Write(#[from] ptx_io::Error),
    /// An error from libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn checkpoint(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Error::Checkpoint {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn config(
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidConfig {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
