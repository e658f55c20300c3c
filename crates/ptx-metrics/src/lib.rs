//! The SIIM-ACR challenge's metrics, pure Rust: per-image Dice and IoU with the challenge's
//! empty-mask rule, image-level F2 and ROC-AUC, post-processing search and lesion measurements.
//!
//! This crate is part of the ptx workspace layout; its contents are tracked in the project's
//! issues and are not implemented yet.
