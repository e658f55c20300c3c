//! Training runs: the loop, its checkpoints, logs, plots and weight averaging.

pub mod checkpoint;
mod init;
pub mod log;
pub mod plot;
mod progress;
pub mod swa;
mod trainer;
mod validation;

pub use init::apply_init;
pub use progress::Progress;
pub use trainer::{FitReport, Resume, Trainer};
pub use validation::{validation_metrics, ValidationMetrics};
