//! Preprocessing for chest X-ray segmentation, pure Rust: CLAHE/AHE three-channel input,
//! resizing, normalisation, the papers' augmentations, patches, samplers and a parallel loader.
//!
//! This crate is part of the ptx workspace layout; its contents are tracked in the project's
//! issues and are not implemented yet.
