//! The crate's error type.

/// What can go wrong when computing a loss: bad input shapes or kinds, or bad options.
///
/// Every variant names the argument or option at fault so that a training loop can report
/// it without a backtrace.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two tensors that must have the same shape (logits and targets, or a weight map that
    /// must broadcast to the logits) do not.
    #[error("{what}: expected shape {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// Which argument has the wrong shape.
        what: &'static str,
        /// The shape it must have (or broadcast to).
        expected: Vec<i64>,
        /// The shape it has.
        found: Vec<i64>,
    },
    /// A tensor has too few dimensions, or no elements.
    #[error("{what}: shape {shape:?} {reason}")]
    BadShape {
        /// Which argument.
        what: &'static str,
        /// Its shape.
        shape: Vec<i64>,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The logits are not a floating-point tensor (autograd needs one).
    #[error("{what}: expected a floating-point tensor, found {kind}")]
    NotFloat {
        /// Which argument.
        what: &'static str,
        /// Its kind, e.g. `Int64`.
        kind: String,
    },
    /// Two tensors live on different devices.
    #[error("{what}: expected a tensor on {expected}, found one on {found}")]
    DeviceMismatch {
        /// Which argument.
        what: &'static str,
        /// The logits' device.
        expected: String,
        /// The argument's device.
        found: String,
    },
    /// An option is out of its range (e.g. a negative weight, `alpha` outside [0, 1]).
    #[error("option {name} = {value}: {reason}")]
    InvalidOption {
        /// The option's name as in the serde configuration, e.g. `focal.gamma`.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range.
        reason: &'static str,
    },
    /// A combination was configured with no terms, or a term that does not reduce to a scalar.
    #[error("combined loss: {0}")]
    BadCombination(String),
    /// libtorch reported an error.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
