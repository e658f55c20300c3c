//! Early stopping and keep-best-k bookkeeping (which checkpoints to keep by a metric).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Whether a larger or a smaller metric is better.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Smaller is better (losses).
    #[default]
    Minimize,
    /// Larger is better (Dice, IoU, F2).
    Maximize,
}

impl Goal {
    /// Whether `value` improves on `best` by more than `min_delta`.
    pub fn improves(self, value: f64, best: f64, min_delta: f64) -> bool {
        match self {
            Goal::Minimize => value < best - min_delta,
            Goal::Maximize => value > best + min_delta,
        }
    }
}

/// Stop when the metric has not improved by more than `min_delta` for `patience` epochs
/// (Keras' `EarlyStopping`, the papers' 0.001 over 5 epochs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    /// Default 0.001.
    #[serde(default = "min_delta")]
    pub min_delta: f64,
    /// Default 5.
    #[serde(default = "patience")]
    pub patience: usize,
    /// Default minimise.
    #[serde(default)]
    pub goal: Goal,
    /// Best value so far.
    #[serde(default)]
    pub best: Option<f64>,
    /// Epochs since the last improvement.
    #[serde(default)]
    pub waited: usize,
}

fn min_delta() -> f64 {
    0.001
}
fn patience() -> usize {
    5
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self {
            min_delta: min_delta(),
            patience: patience(),
            goal: Goal::Minimize,
            best: None,
            waited: 0,
        }
    }
}

impl EarlyStopping {
    /// Records one epoch's metric; true when training should stop. A NaN never improves.
    pub fn observe(&mut self, value: f64) -> bool {
        let improved = !value.is_nan()
            && self
                .best
                .is_none_or(|best| self.goal.improves(value, best, self.min_delta));
        if improved {
            self.best = Some(value);
            self.waited = 0;
        } else {
            self.waited += 1;
        }
        self.waited >= self.patience
    }
}

/// Keeps the `k` best epochs by a metric: tells which new checkpoint to write and which old
/// one to delete (Haghanifar et al. average the best 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeepBest {
    k: usize,
    goal: Goal,
    /// `(epoch, metric)`, best first.
    kept: Vec<(usize, f64)>,
}

/// What [`KeepBest::offer`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Not among the best: write nothing.
    No,
    /// Keep this epoch; `evict` is an epoch whose checkpoint can now be deleted.
    Yes {
        /// Epoch pushed out of the best `k`, if any.
        evict: Option<usize>,
    },
}

impl KeepBest {
    /// Keeps `k >= 1` epochs.
    pub fn new(k: usize, goal: Goal) -> Result<Self> {
        if k == 0 {
            return Err(Error::option("keep_best", 0, "must be at least 1"));
        }
        Ok(Self {
            k,
            goal,
            kept: Vec::new(),
        })
    }

    /// Offers epoch `epoch` with `metric` (NaN is never kept). Ties keep the earlier epoch.
    pub fn offer(&mut self, epoch: usize, metric: f64) -> Kept {
        if metric.is_nan() {
            return Kept::No;
        }
        let better = |a: f64, b: f64| self.goal.improves(a, b, 0.0);
        let at = self
            .kept
            .iter()
            .position(|&(_, m)| better(metric, m))
            .unwrap_or(self.kept.len());
        if at >= self.k {
            return Kept::No;
        }
        self.kept.insert(at, (epoch, metric));
        let evict = (self.kept.len() > self.k)
            .then(|| self.kept.pop().map(|(e, _)| e))
            .flatten();
        Kept::Yes { evict }
    }

    /// The kept epochs and metrics, best first.
    pub fn kept(&self) -> &[(usize, f64)] {
        &self.kept
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn early_stopping_waits_patience_epochs_beyond_min_delta() {
        let mut e = EarlyStopping::default();
        // improvements of 0.002 count, of 0.0005 do not
        let losses = [1.0, 0.998, 0.9975, 0.9972, 0.9971, 0.9974, 0.9973];
        let stops: Vec<bool> = losses.iter().map(|&l| e.observe(l)).collect();
        assert_eq!(stops, [false, false, false, false, false, false, true]);
        assert_eq!(e.best, Some(0.998));
        let mut e = EarlyStopping {
            goal: Goal::Maximize,
            patience: 2,
            ..Default::default()
        };
        assert!(!e.observe(0.5));
        assert!(!e.observe(f64::NAN));
        assert!(e.observe(0.5005));
    }

    #[test]
    fn keep_best_reports_evictions() {
        let mut k = KeepBest::new(3, Goal::Maximize).unwrap();
        let offers = [
            (0, 0.5),
            (1, 0.7),
            (2, 0.6),
            (3, 0.4),
            (4, 0.8),
            (5, 0.7),
            (6, f64::NAN),
            (7, 0.9),
        ];
        let got: Vec<Kept> = offers.iter().map(|&(e, m)| k.offer(e, m)).collect();
        assert_eq!(
            got,
            [
                Kept::Yes { evict: None },
                Kept::Yes { evict: None },
                Kept::Yes { evict: None },
                Kept::No,
                Kept::Yes { evict: Some(0) },
                Kept::Yes { evict: Some(2) },
                Kept::No,
                Kept::Yes { evict: Some(5) },
            ]
        );
        assert_eq!(k.kept(), [(7, 0.9), (4, 0.8), (1, 0.7)]);
        assert!(KeepBest::new(0, Goal::Minimize).is_err());
    }
}
