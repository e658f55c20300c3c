//! Learning-rate schedules, per epoch: cosine annealing, cosine with warm restarts,
//! reduce-on-plateau, linear warm-up before any of them. Values equal PyTorch's schedulers
//! (`CosineAnnealingLR`, `CosineAnnealingWarmRestarts`, `ReduceLROnPlateau`, `LinearLR`,
//! `SequentialLR`).

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The schedule after the optional warm-up. Serialised with a `kind` tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleKind {
    /// The base rate throughout.
    Constant,
    /// `eta_min + (base - eta_min) (1 + cos(pi n / N)) / 2` for epoch `n` of `N` (the papers'
    /// `alpha0/2 (cos(pi n/N) + 1)` with `eta_min` 0); `eta_min` after epoch `N`.
    Cosine {
        /// `N`, epochs of the annealing (after the warm-up).
        epochs: usize,
        /// Floor. Default 0.
        #[serde(default)]
        eta_min: f64,
    },
    /// SGDR: cosine over `t0` epochs, then over `t0 * t_mult`, ... restarting at the base rate.
    CosineRestarts {
        /// First cycle's length in epochs.
        t0: usize,
        /// Growth of each cycle. Default 1.
        #[serde(default = "one")]
        t_mult: usize,
        /// Floor. Default 0.
        #[serde(default)]
        eta_min: f64,
    },
    /// Multiply by `factor` when the monitored metric (lower is better) has not improved by a
    /// relative `threshold` for more than `patience` epochs.
    Plateau {
        /// Default 0.1.
        #[serde(default = "tenth")]
        factor: f64,
        /// Default 5.
        #[serde(default = "five")]
        patience: usize,
        /// Relative improvement that counts. Default 1e-4.
        #[serde(default = "threshold")]
        threshold: f64,
        /// Epochs to wait after a reduction. Default 0.
        #[serde(default)]
        cooldown: usize,
        /// Floor. Default 0.
        #[serde(default)]
        min_lr: f64,
    },
}

fn one() -> usize {
    1
}
fn five() -> usize {
    5
}
fn tenth() -> f64 {
    0.1
}
fn threshold() -> f64 {
    1e-4
}

/// A schedule: optional linear warm-up (`LinearLR`), then `kind`. Written flat:
/// `{kind = "cosine", epochs = 40, warmup_epochs = 2}`; unknown keys are rejected by the kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleConfig {
    /// What follows the warm-up.
    #[serde(flatten)]
    pub kind: ScheduleKind,
    /// Warm-up epochs (rate rising linearly from `warmup_start_factor` x base). Default 0.
    #[serde(default)]
    pub warmup_epochs: usize,
    /// Default 0.1.
    #[serde(default = "tenth")]
    pub warmup_start_factor: f64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Constant,
            warmup_epochs: 0,
            warmup_start_factor: 0.1,
        }
    }
}

/// Mutable state of a schedule (for checkpoints): only reduce-on-plateau has any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// Current plateau rate (None before the first observation).
    pub plateau_lr: Option<f64>,
    /// Best metric so far.
    pub best: Option<f64>,
    /// Epochs without improvement.
    pub bad_epochs: usize,
    /// Cooldown epochs left.
    pub cooldown_left: usize,
}

/// A schedule bound to a base rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduler {
    config: ScheduleConfig,
    base: f64,
    state: ScheduleState,
}

impl Scheduler {
    /// A scheduler for base rate `base`.
    pub fn new(config: ScheduleConfig, base: f64) -> Result<Self> {
        match &config.kind {
            ScheduleKind::Cosine { epochs: 0, .. } => {
                return Err(Error::option(
                    "epochs",
                    0,
                    "the cosine needs at least one epoch",
                ))
            }
            ScheduleKind::CosineRestarts { t0, t_mult, .. } if *t0 == 0 || *t_mult == 0 => {
                return Err(Error::option(
                    "t0/t_mult",
                    format!("{t0}/{t_mult}"),
                    "must be at least 1",
                ))
            }
            ScheduleKind::Plateau { factor, .. } if !(0.0..1.0).contains(factor) => {
                return Err(Error::option("factor", factor, "must be in [0, 1)"))
            }
            _ => {}
        }
        if !(config.warmup_start_factor > 0.0 && config.warmup_start_factor <= 1.0) {
            return Err(Error::option(
                "warmup_start_factor",
                config.warmup_start_factor,
                "must be in (0, 1]",
            ));
        }
        Ok(Self {
            config,
            base,
            state: ScheduleState::default(),
        })
    }

    /// The learning rate for epoch `epoch` (0-based). For reduce-on-plateau, the rate after
    /// the metrics observed so far.
    pub fn lr(&self, epoch: usize) -> f64 {
        let w = self.config.warmup_epochs;
        if epoch < w {
            let f = self.config.warmup_start_factor;
            return self.base * (f + (1.0 - f) * epoch as f64 / w as f64);
        }
        let n = epoch - w;
        match &self.config.kind {
            ScheduleKind::Constant => self.base,
            ScheduleKind::Cosine { epochs, eta_min } => {
                let n = n.min(*epochs);
                eta_min
                    + (self.base - eta_min) * (1.0 + (PI * n as f64 / *epochs as f64).cos()) / 2.0
            }
            ScheduleKind::CosineRestarts {
                t0,
                t_mult,
                eta_min,
            } => {
                let (mut t_i, mut t_cur) = (*t0, n);
                while t_cur >= t_i {
                    t_cur -= t_i;
                    t_i *= t_mult;
                }
                eta_min
                    + (self.base - eta_min) * (1.0 + (PI * t_cur as f64 / t_i as f64).cos()) / 2.0
            }
            ScheduleKind::Plateau { .. } => self.state.plateau_lr.unwrap_or(self.base),
        }
    }

    /// Reports the epoch's monitored metric (lower is better; pass a negated score for
    /// "higher is better"). Only reduce-on-plateau uses it; warm-up epochs are not observed.
    pub fn observe(&mut self, metric: f64) {
        let ScheduleKind::Plateau {
            factor,
            patience,
            threshold,
            cooldown,
            min_lr,
        } = self.config.kind
        else {
            return;
        };
        let s = &mut self.state;
        let better = s.best.is_none_or(|best| metric < best * (1.0 - threshold));
        if better {
            s.best = Some(metric);
            s.bad_epochs = 0;
        } else {
            s.bad_epochs += 1;
        }
        if s.cooldown_left > 0 {
            s.cooldown_left -= 1;
            s.bad_epochs = 0;
        }
        if s.bad_epochs > patience {
            let old = s.plateau_lr.unwrap_or(self.base);
            let new = (old * factor).max(min_lr);
            if old - new > 1e-8 {
                s.plateau_lr = Some(new);
            }
            s.cooldown_left = cooldown;
            s.bad_epochs = 0;
        }
    }

    /// State for checkpoints.
    pub fn state(&self) -> &ScheduleState {
        &self.state
    }

    /// Restores [`Scheduler::state`].
    pub fn set_state(&mut self, state: ScheduleState) {
        self.state = state;
    }
}
