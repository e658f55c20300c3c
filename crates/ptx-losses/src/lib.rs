//! Segmentation losses for pneumothorax models on libtorch through `tch`: BCE with logits,
//! soft Dice, focal, Lovász hinge, soft Jaccard, Tversky and weighted combinations.
//!
//! This crate is part of the ptx workspace layout; its losses are tracked in the project's
//! issues and are not implemented yet.
