//! The learning-rate range test (Smith 2017): the rate grows exponentially from `start` to
//! `end` over `steps` mini-batches while the loss is recorded; the suggestion is the rate where
//! the smoothed loss falls fastest.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Options of the sweep (fastai's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LrRangeTest {
    /// First rate. Default 1e-7.
    pub start: f64,
    /// Last rate. Default 10.
    pub end: f64,
    /// Mini-batches. Default 100.
    pub steps: usize,
    /// Exponential smoothing of the loss (with bias correction). Default 0.98.
    pub smoothing: f64,
    /// Stop once the smoothed loss exceeds this multiple of its minimum. Default 4.
    pub divergence: f64,
}

impl Default for LrRangeTest {
    fn default() -> Self {
        Self {
            start: 1e-7,
            end: 10.0,
            steps: 100,
            smoothing: 0.98,
            divergence: 4.0,
        }
    }
}

/// One recorded point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrPoint {
    /// Rate used for the step.
    pub lr: f64,
    /// Raw loss of the step.
    pub loss: f64,
    /// Smoothed, bias-corrected loss.
    pub smoothed: f64,
}

/// A running sweep: ask [`LrSweep::lr`] for each step's rate, feed the loss to
/// [`LrSweep::record`] until it returns false.
#[derive(Debug, Clone)]
pub struct LrSweep {
    options: LrRangeTest,
    avg: f64,
    best: f64,
    points: Vec<LrPoint>,
}

impl LrRangeTest {
    /// Starts a sweep.
    pub fn sweep(&self) -> Result<LrSweep> {
        if !(self.start > 0.0 && self.end > self.start && self.steps >= 2) {
            return Err(Error::option(
                "lr range",
                format!("{} .. {} in {} steps", self.start, self.end, self.steps),
                "needs 0 < start < end and at least 2 steps",
            ));
        }
        if !(0.0..1.0).contains(&self.smoothing) || self.divergence <= 1.0 {
            return Err(Error::option(
                "smoothing/divergence",
                format!("{}/{}", self.smoothing, self.divergence),
                "smoothing in [0, 1), divergence above 1",
            ));
        }
        Ok(LrSweep {
            options: self.clone(),
            avg: 0.0,
            best: f64::INFINITY,
            points: Vec::new(),
        })
    }
}

impl LrSweep {
    /// Rate for step `i` (0-based): `start (end / start)^(i / (steps - 1))`.
    pub fn lr(&self, i: usize) -> f64 {
        let o = &self.options;
        o.start * (o.end / o.start).powf(i as f64 / (o.steps - 1) as f64)
    }

    /// Records the loss of the step that used `self.lr(points so far)`; false when the sweep is
    /// over (all steps done, the loss diverged or is not finite).
    pub fn record(&mut self, loss: f64) -> bool {
        let i = self.points.len();
        let beta = self.options.smoothing;
        self.avg = beta * self.avg + (1.0 - beta) * loss;
        let smoothed = self.avg / (1.0 - beta.powi(i as i32 + 1));
        self.points.push(LrPoint {
            lr: self.lr(i),
            loss,
            smoothed,
        });
        if !smoothed.is_finite() {
            return false;
        }
        self.best = self.best.min(smoothed);
        smoothed <= self.options.divergence * self.best && self.points.len() < self.options.steps
    }

    /// Writes `lr-find.png` (loss against rate, the suggestion marked) and `lr-find.csv`
    /// (`lr,loss,smoothed`, one row per step) into `dir`, each atomically; returns the
    /// picture's path.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let picture = dir.join("lr-find.png");
        crate::run::plot::lr_curve(&picture, &self.points, self.suggestion())?;
        ptx_io::write_atomic(dir.join("lr-find.csv"), |w| {
            writeln!(w, "lr,loss,smoothed")?;
            for p in &self.points {
                writeln!(w, "{},{},{}", p.lr, p.loss, p.smoothed)?;
            }
            Ok(())
        })?;
        Ok(picture)
    }

    /// A tenth of the rate at the lowest smoothed loss (fastai's "minimum" suggestion): one
    /// order of magnitude below where the loss stopped falling, the first tenth of the points
    /// left out as fastai does (a sweep's first losses are single, noisy batches). Safer than
    /// [`Self::suggestion`] when a short sweep's loss falls fastest just before it diverges;
    /// `None` without a finite point after the first tenth.
    pub fn minimum_tenth(&self) -> Option<f64> {
        let skip = (self.points.len() / 10).max(1);
        self.points
            .iter()
            .skip(skip)
            .filter(|p| p.smoothed.is_finite())
            .min_by(|a, b| a.smoothed.total_cmp(&b.smoothed))
            .map(|p| p.lr / 10.0)
    }

    /// The points recorded.
    pub fn points(&self) -> &[LrPoint] {
        &self.points
    }

    /// The rate at the steepest fall of the smoothed loss against log10(rate), over finite
    /// points before divergence (fastai's "steep" suggestion); `None` with fewer than 3 points.
    pub fn suggestion(&self) -> Option<f64> {
        let p: Vec<&LrPoint> = self
            .points
            .iter()
            .filter(|p| p.smoothed.is_finite())
            .collect();
        if p.len() < 3 {
            return None;
        }
        (1..p.len())
            .map(|i| {
                let slope =
                    (p[i].smoothed - p[i - 1].smoothed) / (p[i].lr.log10() - p[i - 1].lr.log10());
                (slope, p[i].lr)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, lr)| lr)
    }
}
