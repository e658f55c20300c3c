//! The epoch log: one [`EpochRecord`] per epoch, written as CSV and JSON lines.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What one epoch measured. Validation numbers are on the validation fold at the training
/// size, pixel threshold 0.5; `None` where they cannot be computed (no classifier scores of
/// both classes for the AUC, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch, 1-based (the number of epochs completed).
    pub epoch: usize,
    /// The learning rate used.
    pub lr: f64,
    /// Mean training loss per image.
    pub train_loss: f64,
    /// Mean validation loss per image.
    pub val_loss: f64,
    /// The challenge's mean Dice (an empty prediction on an empty truth scores 1).
    pub val_dice: f64,
    /// Mean IoU under the same rule.
    pub val_iou: f64,
    /// Mean Dice over the validation images with a pneumothorax.
    pub val_dice_positive: Option<f64>,
    /// The best image-level F2 over thresholds of the classifier score (the classifier
    /// head's probability, or the highest pixel probability without one).
    pub val_f2: Option<f64>,
    /// The score threshold reaching `val_f2`.
    pub f2_threshold: Option<f64>,
    /// Image-level ROC AUC of the same score.
    pub val_auc: Option<f64>,
    /// Image-level accuracy: the same score at 0.5 (the arg-max class for a classifier with
    /// several classes); `None` for the reconstruction objectives.
    #[serde(default)]
    pub val_accuracy: Option<f64>,
    /// Training images seen.
    pub train_images: usize,
    /// Samples skipped because they failed to load (training and validation).
    pub skipped: usize,
    /// Wall-clock seconds of the epoch (training and validation).
    pub seconds: f64,
    /// Training images per second.
    pub images_per_second: f64,
}

impl EpochRecord {
    /// The CSV header, in field order.
    pub const CSV_HEADER: &'static str = "epoch,lr,train_loss,val_loss,val_dice,val_iou,val_dice_positive,val_f2,f2_threshold,val_auc,val_accuracy,train_images,skipped,seconds,images_per_second";

    /// One CSV row (empty cells for `None`).
    pub fn csv_row(&self) -> String {
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{:.3}",
            self.epoch,
            self.lr,
            self.train_loss,
            self.val_loss,
            self.val_dice,
            self.val_iou,
            opt(self.val_dice_positive),
            opt(self.val_f2),
            opt(self.f2_threshold),
            opt(self.val_auc),
            opt(self.val_accuracy),
            self.train_images,
            self.skipped,
            self.seconds,
            self.images_per_second
        )
    }
}

/// Writes `log.csv` and `log.jsonl` in `dir` from the whole history, each atomically (a run
/// resumed after a kill rewrites them from its checkpoint's history, so epochs that were
/// logged but not checkpointed disappear).
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_logs(dir: &Path, history: &[EpochRecord]) -> Result<()> {
    let csv = dir.join("log.csv");
    ptx_io::write_atomic(&csv, |out| {
        writeln!(out, "{}", EpochRecord::CSV_HEADER)?;
        for r in history {
            writeln!(out, "{}", r.csv_row())?;
        }
        Ok(())
    })?;
    let jsonl = dir.join("log.jsonl");
    ptx_io::write_atomic(&jsonl, |out| {
        for r in history {
            let line = serde_json::to_string(r).map_err(std::io::Error::other)?;
            writeln!(out, "{line}")?;
        }
        Ok(())
    })
    .map_err(Error::from)
}
