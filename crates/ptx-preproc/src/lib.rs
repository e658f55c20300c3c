//! Preprocessing for chest X-ray segmentation, pure Rust (no libtorch).
//!
//! - [`Clahe`]: CLAHE and AHE (no clipping) on 8- and 16-bit images, equal to OpenCV's
//!   `createCLAHE(clipLimit, tileGridSize).apply` (sizes not divisible by the grid included);
//! - [`equalize_hist`]: global histogram equalisation, equal to OpenCV's `equalizeHist`;
//! - [`ChannelStack`]: any ordered choice of raw / AHE / CLAHE / equalised channels
//!   (Haghanifar et al.'s raw + AHE + CLAHE by default), or the grey image replicated;
//! - [`resize`]: area (shrinking), bilinear and nearest (masks), equal to OpenCV's
//!   `cv2.resize`;
//! - [`pad_to_multiple`]: padding to a multiple of 32 (zero or reflection), and
//!   [`Padding::crop`] back;
//! - [`PatchGrid`]: overlapping patches (Dasic et al.'s 128 x 128), and a [`Stitcher`] that
//!   averages predicted patches back into a full map;
//! - sampling: [`undersample_negatives`], [`oversample_positives`], [`WeightedSampler`]
//!   and the winning solution's [`PositiveShare`] schedule, all seeded;
//! - [`Normalize`]: to [0, 1], by one mean and std (Shannak et al.'s 0.4828 / 0.2488) or per
//!   channel (ImageNet);
//! - [`augment`]: flips, rotation, shift-scale-rotate, brightness / contrast / gamma, grid /
//!   optical / elastic distortion, coarse dropout, CLAHE, random crop, one-of groups, applied to
//!   image and mask together under a seed, configured in TOML / JSON with albumentations'
//!   parameter names, each paper's list a [`Preset`];
//! - [`Pipeline`] (resize, augment, channels, normalise one sample) and [`Loader`] (samples of a
//!   [`Source`] into `f32` NCHW [`Batch`]es on worker threads, bounded prefetch, the same
//!   batches whatever the thread count);
//! - [`overlay`], [`overlay_tile`], [`montage`]: masks tinted over images (truth green,
//!   prediction red) for people to look at.
//!
//! Images are `ndarray` arrays: `(height, width)` grey images, `(channels, height, width)`
//! stacks, as `ptx-io` decodes them. Bad input is an [`Error`], never a panic.
//!
//! ```
//! use ndarray::Array2;
//! use ptx_preproc::{ChannelStack, Normalize};
//! let grey = Array2::from_shape_fn((64, 64), |(y, x)| (x + 2 * y) as u8);
//! let channels = ChannelStack::default().apply(grey.view())?; // raw, AHE, CLAHE
//! let input = Normalize::imagenet().apply(channels.view())?;  // f32, (3, 64, 64)
//! assert_eq!(input.dim(), (3, 64, 64));
//! # Ok::<(), ptx_preproc::Error>(())
//! ```

pub mod augment;
mod channels;
mod clahe;
mod equalize;
mod error;
mod histogram;
mod loader;
mod normalize;
mod pad;
mod patches;
mod pipeline;
mod pixel;
mod resize;
mod sampling;
mod visual;
mod warp;

pub use augment::{Augment, Preset, UnknownPreset};
pub use channels::{Channel, ChannelStack};
pub use clahe::{Clahe, TileGrid};
pub use equalize::equalize_hist;
pub use error::{Error, Result};
pub use loader::{Batch, Batches, Loaded, Loader, LoaderOptions, OnError, Source};
pub use normalize::Normalize;
pub use pad::{pad_to_multiple, PadMode, Padding};
pub use patches::{Patch, PatchGrid, Stitcher};
pub use pipeline::Pipeline;
pub use pixel::Pixel;
pub use resize::{resize, resize_input, Interpolation};
pub use sampling::{oversample_positives, undersample_negatives, PositiveShare, WeightedSampler};
pub use visual::{montage, overlay, overlay_tile};
pub use warp::BorderMode;
