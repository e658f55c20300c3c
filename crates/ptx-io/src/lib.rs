//! Reading and writing the SIIM-ACR Pneumothorax data, in pure Rust (no libtorch).
//!
//! - [`dicom`]: open a DICOM file, decode its pixels for every transfer syntax dicom-rs
//!   decodes (the SIIM files are JPEG baseline), apply Modality LUT / VOI, make an 8-bit
//!   display image, read the metadata the papers use.
//! - [`rle`]: the challenge's run-length encoded masks, relative and absolute forms.
//! - [`annotations`]: `train-rle.csv`-style files (several rows per image united) and
//!   submissions.
//! - [`index`] and [`folds`]: match images to annotations, stratified seeded k-fold splits.
//! - [`image_file`]: grey PNGs, mask PNGs and NumPy `.npy` files.
//!
//! Every fallible function returns [`Error`], whose variants carry the path, ImageId or
//! token at fault; malformed input never panics.
//!
//! ```
//! use ptx_io::annotations::{Annotations, Submission};
//! use ptx_io::rle::RleForm;
//!
//! // Two rows for image "a" (two pneumothoraces) are united; "b" has none.
//! let csv = "ImageId, EncodedPixels\na, 0 3\na, 5 1\nb, -1\n";
//! let ann = Annotations::from_reader(csv.as_bytes(), "train-rle.csv")?;
//! let mask = ann.mask("a", (4, 4), RleForm::Relative)?.expect("a is annotated"); // (height, width)
//! assert_eq!(mask.iter().filter(|&&v| v == 1).count(), 4);
//!
//! // Re-encode as a submission in the absolute (1-based) form.
//! let mut sub = Submission::new(RleForm::Absolute);
//! sub.push_mask("a", &mask.view());
//! assert_eq!(sub.rows()[0].1, "1 3 6 1");
//! # Ok::<(), ptx_io::Error>(())
//! ```

pub mod annotations;
pub mod dicom;
mod error;
pub mod folds;
mod fsutil;
pub mod image_file;
pub mod index;
pub mod nih;
pub mod rle;
pub mod synth;

pub use error::{Error, Result};
pub use fsutil::{check_image_id_as_file_name, write_atomic, write_atomic_with};
