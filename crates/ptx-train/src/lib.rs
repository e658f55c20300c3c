//! The training loop shared by the `ptx` command and the paper examples: optimisers,
//! schedules, checkpoints, cross-validation and the two-stage recipe, on libtorch through `tch`.
//!
//! This crate is part of the ptx workspace layout; its contents are tracked in the project's
//! issues and are not implemented yet.
