//! The crate's one error type.

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong preprocessing an image: inputs or options that do not fit.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The image has no pixels.
    #[error("{what}: the image is empty ({height} x {width})")]
    EmptyImage {
        /// Which input.
        what: &'static str,
        /// Its height in pixels.
        height: usize,
        /// Its width in pixels.
        width: usize,
    },
    /// An option is out of its range.
    #[error("option {name} = {value}: {reason}")]
    InvalidOption {
        /// The option's name, e.g. `clahe.clip_limit`.
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// The allowed range.
        reason: &'static str,
    },
    /// Two inputs that must have the same size do not.
    #[error("{what}: expected {expected:?} (height, width), found {found:?}")]
    ShapeMismatch {
        /// Which input.
        what: &'static str,
        /// The size it must have.
        expected: (usize, usize),
        /// The size it has.
        found: (usize, usize),
    },
    /// A sample failed to load or process in the [`Loader`](crate::Loader). The message
    /// includes the cause's, which is kept typed in `cause` (downcast it to the
    /// [`Source`](crate::Source)'s error, or to this crate's when processing failed).
    #[error("sample {}: {cause}", index.map_or_else(|| "?".to_owned(), |i| i.to_string()))]
    Load {
        /// The source index, when known.
        index: Option<usize>,
        /// What went wrong.
        cause: std::sync::Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A sample index past the end of an in-memory source.
    #[error("no sample {index} (the source has {len})")]
    NoSample {
        /// The index asked for.
        index: usize,
        /// The number of samples.
        len: usize,
    },
    /// The loader's threads stopped before the epoch's batches were all delivered (a worker
    /// panicked).
    #[error("the loader's threads stopped before the epoch was complete")]
    LoaderStopped,
}

/// Checks that `found` (a mask's size) equals `expected` (its image's).
pub(crate) fn check_same_size(
    what: &'static str,
    expected: (usize, usize),
    found: (usize, usize),
) -> Result<()> {
    if expected == found {
        return Ok(());
    }
    Err(Error::ShapeMismatch {
        what,
        expected,
        found,
    })
}

/// Checks that an image is not empty.
pub(crate) fn check_not_empty(what: &'static str, (height, width): (usize, usize)) -> Result<()> {
    if height == 0 || width == 0 {
        return Err(Error::EmptyImage {
            what,
            height,
            width,
        });
    }
    Ok(())
}
