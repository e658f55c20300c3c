//! Training runs: the loop, its checkpoints, logs, plots and weight averaging.

pub(crate) mod dir;
mod init;
pub(crate) mod log;
pub(crate) mod plot;
mod progress;
pub mod swa;
mod trainer;

pub use trainer::{FitReport, Resume, Trainer};
