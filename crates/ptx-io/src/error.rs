//! The crate's one error type.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong reading or writing SIIM-ACR data.
///
/// Every variant names what a user needs to find the problem: the file path, the ImageId,
/// the offending token, or the expected and found sizes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a DICOM file dicom-rs can parse (truncated, bad VR, no meta group…).
    #[error("{path}: not a readable DICOM file: {message}", path = path.display())]
    DicomParse {
        /// The file (`<memory>` for bytes).
        path: PathBuf,
        /// dicom-rs's description.
        message: String,
    },
    /// A DICOM attribute needed for the pixels is missing or holds an unusable value.
    #[error("{path}: attribute {attribute}: {message}", path = path.display())]
    DicomAttribute {
        /// The file.
        path: PathBuf,
        /// Keyword of the attribute, e.g. `Rows`.
        attribute: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The file has no Pixel Data element.
    #[error("{path}: no Pixel Data element", path = path.display())]
    NoPixelData {
        /// The file.
        path: PathBuf,
    },
    /// The transfer syntax is known but no decoder for it is built in.
    #[error("{path}: transfer syntax {uid} ({name}) cannot be decoded by this build", path = path.display())]
    UnsupportedTransferSyntax {
        /// The file.
        path: PathBuf,
        /// Transfer Syntax UID.
        uid: String,
        /// Its name, or `unknown`.
        name: String,
    },
    /// The pixel data could not be decoded (corrupt codestream, codec failure).
    #[error("{path}: pixel data cannot be decoded: {message}", path = path.display())]
    PixelDecode {
        /// The file.
        path: PathBuf,
        /// The codec's description.
        message: String,
    },
    /// The pixel data is shorter than rows x columns x samples x frames requires.
    #[error("{path}: pixel data holds {found} bytes, {expected} expected", path = path.display())]
    PixelDataLength {
        /// The file.
        path: PathBuf,
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// A pixel layout this crate does not turn into arrays (e.g. 12 bits allocated, float pixels).
    #[error("{path}: unsupported pixel layout: {message}", path = path.display())]
    UnsupportedPixels {
        /// The file.
        path: PathBuf,
        /// What is unsupported.
        message: String,
    },
    /// A requested frame does not exist.
    #[error("frame {frame} requested, the image has {frames}")]
    FrameOutOfRange {
        /// Requested index (0-based).
        frame: usize,
        /// Number of frames.
        frames: usize,
    },
    /// A run-length encoded mask is malformed.
    #[error("ImageId {image_id}: {source}")]
    Rle {
        /// The image the row belongs to.
        image_id: String,
        /// The precise problem.
        #[source]
        source: crate::rle::RleError,
    },
    /// A CSV file is malformed.
    #[error("{path}, line {line}: {message}", path = path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// An ImageId that cannot safely become a file name (it would leave the output folder).
    #[error("ImageId {image_id:?} cannot be used as a file name: {reason}")]
    UnsafeImageId {
        /// The ImageId as read.
        image_id: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Two things that must have the same size do not.
    #[error("{what}: expected {expected:?} (height, width), found {found:?}")]
    ShapeMismatch {
        /// What was being compared (often a path or ImageId).
        what: String,
        /// Expected `(height, width)` in pixels.
        expected: (usize, usize),
        /// Found `(height, width)` in pixels.
        found: (usize, usize),
    },
    /// A PNG file cannot be read or written.
    #[error("{path}: PNG: {message}", path = path.display())]
    Png {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file that is neither DICOM nor PNG where an image was expected.
    #[error(
        "{path}: not a DICOM or PNG image (expected .dcm, .dicom or .png, or a DICM preamble)"
    )]
    UnsupportedImageFile {
        /// The file.
        path: PathBuf,
    },
    /// An argument is out of its domain (e.g. fewer than two folds).
    #[error("invalid argument {name}: {message}")]
    InvalidArgument {
        /// The argument.
        name: &'static str,
        /// Why it was refused.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
