//! The SIIM-ACR challenge's metrics in pure Rust (no libtorch): per-image Dice and IoU with
//! an explicit empty-mask rule, image-level precision/recall/F2/ROC-AUC, post-processing of
//! probability maps with a fast exact parameter search, and lesion measurements for reports.
//!
//! - [`Confusion`]: tp/fp/fn/tn counts, from masks, flat buffers, run lists or labels; every
//!   ratio (precision, recall, specificity, accuracy, F1, F-beta) is a method.
//! - [`EmptyPolicy`], [`Confusion::dice`], [`Confusion::iou`], [`SegmentationMeter`]
//!   (streaming, for training loops), [`score_images`] (parallel).
//! - [`roc_auc`], [`sweep_thresholds`], [`best_threshold`] for image-level scores.
//! - [`PostProcess`] (threshold, small-component removal, the winning solution's triplet
//!   rule, classifier gate) and [`grid_search`] over a [`SearchGrid`].
//! - [`label_components`], [`remove_small_components`].
//! - [`measure_lesions`]: areas, sides, bounding boxes, rim width and the BTS size class;
//!   [`distance_to_outside`], the exact Euclidean distance transform it uses.
//!
//! Masks are `ndarray` views of shape `(height, width)` where any non-zero byte is set;
//! probability maps are `f32` views of the same shape. Any memory layout is accepted
//! (ptx-io's decoded masks are column-major). Functions return [`Error`] on inputs that do
//! not fit together and never panic on them.
//!
//! ```
//! use ndarray::array;
//! use ptx_metrics::{Confusion, EmptyPolicy, PostProcess};
//!
//! let truth = array![[0u8, 1, 1], [0, 1, 0]];
//! let prob = array![[0.1f32, 0.8, 0.4], [0.2, 0.9, 0.7]];
//! let pred = PostProcess::threshold(0.5).apply(prob.view(), None)?;
//! let counts = Confusion::from_masks(truth.view(), pred.view())?;
//! assert_eq!((counts.true_pos, counts.false_pos, counts.false_neg), (2, 1, 1));
//! assert_eq!(counts.dice(EmptyPolicy::Kaggle), Some(4.0 / 6.0));
//! # Ok::<(), ptx_metrics::Error>(())
//! ```

mod classification;
mod components;
mod confusion;
mod distance;
mod error;
pub mod lesion;
pub mod postprocess;
mod segmentation;

pub use classification::{best_threshold, roc_auc, sweep_thresholds, ClassMetric, ThresholdPoint};
pub use components::{label_components, remove_small_components, Components, Connectivity};
pub use confusion::Confusion;
pub use distance::distance_to_outside;
pub use error::{Error, Result};
pub use lesion::{
    measure_lesions, BoundingBox, BtsSize, ImageSide, Lesion, LesionOptions, LesionReport,
    PatientSide, PixelSpacing,
};
pub use postprocess::{
    grid_search, PostProcess, SearchGrid, SearchPoint, SearchResult, Triplet, ValidationImage,
};
pub use segmentation::{
    score_images, EmptyPolicy, ImageScore, SegmentationMeter, SegmentationSummary,
};
