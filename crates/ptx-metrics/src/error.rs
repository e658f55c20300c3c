//! The crate's one error type.

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong computing a metric: inputs that do not fit together.
///
/// Metrics never panic on user data; a mismatch is reported with what was expected and found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two arrays that must have the same shape do not (`(height, width)` for masks and
    /// probability maps, `(n, 1)` for label and score vectors).
    #[error("{what}: shapes differ, expected {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// Which input (for example `"prediction"` or `"scores"`).
        what: &'static str,
        /// The shape of the reference input.
        expected: (usize, usize),
        /// The shape of this input.
        found: (usize, usize),
    },
    /// Run lists must be sorted, disjoint and inside the image.
    #[error("{what}: run {index} ({start}, {len}) is {problem} (image of {pixels} pixels)")]
    BadRuns {
        /// Which input (`"truth"` or `"prediction"`).
        what: &'static str,
        /// Index of the offending run.
        index: usize,
        /// Its start.
        start: usize,
        /// Its length.
        len: usize,
        /// `"out of order or overlapping"` or `"past the end"`.
        problem: &'static str,
        /// The image's pixel count.
        pixels: usize,
    },
    /// A metric that needs both classes (ROC-AUC) got only one.
    #[error("{metric} needs both positive and negative images; found {positives} positive and {negatives} negative")]
    OneClass {
        /// The metric's name.
        metric: &'static str,
        /// Number of positive labels.
        positives: usize,
        /// Number of negative labels.
        negatives: usize,
    },
    /// A score or probability is NaN where an order is needed.
    #[error("{what}: value {index} is NaN")]
    NaN {
        /// Which input.
        what: &'static str,
        /// Index of the NaN.
        index: usize,
    },
    /// A post-processing rule gates on the classifier but the image has no classifier score.
    #[error("{}the post-processing gates on a classifier score and none was given",
            image.map(|i| format!("image {i}: ")).unwrap_or_default())]
    MissingClassifierScore {
        /// Index of the image in the input, where there is a list.
        image: Option<usize>,
    },
    /// An option or argument is out of its range.
    #[error("invalid {name}: {message}")]
    InvalidArgument {
        /// The option's name.
        name: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// `Ok` when `found == expected`, else [`Error::ShapeMismatch`] naming `what`. Lengths of
/// vectors are passed as `(len, 1)`.
pub(crate) fn check_shape(
    what: &'static str,
    expected: (usize, usize),
    found: (usize, usize),
) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what,
            expected,
            found,
        })
    }
}
