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
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
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
