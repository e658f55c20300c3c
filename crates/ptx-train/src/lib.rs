//! The training machinery shared by the `ptx` command and the paper examples, on libtorch
//! through `tch`: optimizers with checkpointable state (Adam, AdamW, SGD, RAdam, equal to
//! PyTorch's step by step), per-epoch learning-rate schedules (cosine, warm restarts,
//! reduce-on-plateau, linear warm-up, equal to PyTorch's schedulers), early stopping,
//! keep-best-k bookkeeping and the learning-rate range test.
//!
//! ```
//! use ptx_train::{Optimizer, OptimizerConfig, ScheduleConfig, ScheduleKind, Scheduler};
//! use tch::{Kind, Tensor};
//!
//! let w = Tensor::ones([3], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
//! let config = OptimizerConfig::Radam { lr: 1e-2, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.0, decoupled_weight_decay: false };
//! let mut opt = Optimizer::new(config, vec![("w".into(), w.shallow_clone())])?;
//! let schedule = ScheduleConfig { kind: ScheduleKind::Cosine { epochs: 10, eta_min: 0.0 }, ..Default::default() };
//! let scheduler = Scheduler::new(schedule, opt.lr())?;
//! for epoch in 0..3 {
//!     opt.set_lr(scheduler.lr(epoch));
//!     let loss = (&w * &w).sum(Kind::Float);
//!     opt.backward_step(&loss);
//! }
//! assert!(w.double_value(&[0]) < 1.0);
//! # Ok::<(), ptx_train::Error>(())
//! ```
//!
//! The training loop itself, cross-validation, SWA, TTA and the two-stage recipe are tracked in
//! the project's issues and not implemented yet.

mod error;
mod lr_find;
mod optim;
mod schedule;
mod stopping;

pub use error::{Error, Result};
pub use lr_find::{LrPoint, LrRangeTest, LrSweep};
pub use optim::{Optimizer, OptimizerConfig, OptimizerState};
pub use schedule::{ScheduleConfig, ScheduleKind, ScheduleState, Scheduler};
pub use stopping::{EarlyStopping, Goal, KeepBest, Kept};
