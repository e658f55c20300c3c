//! The epoch log: one [`EpochRecord`] per epoch, written as CSV and JSON lines.

use serde::{Deserialize, Deserializer, Serialize};

use crate::config::Monitor;
use crate::run::dir::RunDir;
use crate::{Error, Result};

/// What one epoch measured. Validation numbers are on the validation fold at the training
/// size, pixel threshold 0.5; `None` where they cannot be computed (no classifier scores of
/// both classes for the AUC, say). A number that is NaN (the Dice of an objective that draws
/// no masks) is `null` in JSON, and `null` reads back as NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch, 1-based (the number of epochs completed).
    pub epoch: usize,
    /// The learning rate used.
    #[serde(deserialize_with = "nan_when_null")]
    pub lr: f64,
    /// Mean training loss per image.
    #[serde(deserialize_with = "nan_when_null")]
    pub train_loss: f64,
    /// Mean validation loss per image.
    #[serde(deserialize_with = "nan_when_null")]
    pub val_loss: f64,
    /// The challenge's mean Dice (an empty prediction on an empty truth scores 1).
    #[serde(deserialize_with = "nan_when_null")]
    pub val_dice: f64,
    /// Mean IoU under the same rule.
    #[serde(deserialize_with = "nan_when_null")]
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
    #[serde(deserialize_with = "nan_when_null")]
    pub seconds: f64,
    /// Training images per second.
    #[serde(deserialize_with = "nan_when_null")]
    pub images_per_second: f64,
}

/// JSON has no NaN: serde_json writes it as `null`, which reads back as NaN here.
fn nan_when_null<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl EpochRecord {
    /// The value of `monitor` (NaN where it was not measured).
    pub fn monitored(&self, monitor: Monitor) -> f64 {
        match monitor {
            Monitor::ValLoss => self.val_loss,
            Monitor::ValDice => self.val_dice,
            Monitor::ValF2 => self.val_f2.unwrap_or(f64::NAN),
            Monitor::ValAuc => self.val_auc.unwrap_or(f64::NAN),
            Monitor::ValAccuracy => self.val_accuracy.unwrap_or(f64::NAN),
        }
    }

    /// The epoch's progress line, of `epochs` in all; `kept` marks a new best checkpoint.
    pub(crate) fn summary(&self, epochs: usize, kept: bool) -> String {
        // Only what the objective measures: masks (dice, dice+), image scores (F2, accuracy).
        let mut measured = String::new();
        let mut add = |name: &str, v: Option<f64>| {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                measured.push_str(&format!("  {name} {v:.4}"));
            }
        };
        add("dice", Some(self.val_dice));
        add("dice+", self.val_dice_positive);
        add("F2", self.val_f2);
        add("accuracy", self.val_accuracy);
        format!(
            "epoch {:>3}/{epochs}  lr {:.2e}  train loss {:.4}  val loss {:.4}{measured}  {:.1} img/s{}{}",
            self.epoch,
            self.lr,
            self.train_loss,
            self.val_loss,
            self.images_per_second,
            if kept { "  *" } else { "" },
            if self.skipped > 0 {
                format!("  ({} skipped)", self.skipped)
            } else {
                String::new()
            },
        )
    }

    /// The CSV header, in field order.
    pub(crate) const CSV_HEADER: &'static str = "epoch,lr,train_loss,val_loss,val_dice,val_iou,val_dice_positive,val_f2,f2_threshold,val_auc,val_accuracy,train_images,skipped,seconds,images_per_second";

    /// One CSV row (empty cells for `None`).
    pub(crate) fn csv_row(&self) -> String {
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

/// Writes `run`'s `log.csv` and `log.jsonl` from the whole history, each atomically (a run
/// resumed after a kill rewrites them from its checkpoint's history, so epochs that were
/// logged but not checkpointed disappear).
///
/// # Errors
/// [`Error::Io`] naming the file.
pub(crate) fn write_logs(run: &RunDir, history: &[EpochRecord]) -> Result<()> {
    let (csv, jsonl) = run.log_files();
    ptx_io::write_atomic(&csv, |out| {
        writeln!(out, "{}", EpochRecord::CSV_HEADER)?;
        for r in history {
            writeln!(out, "{}", r.csv_row())?;
        }
        Ok(())
    })?;
    ptx_io::write_atomic(&jsonl, |out| {
        for r in history {
            let line = serde_json::to_string(r).map_err(std::io::Error::other)?;
            writeln!(out, "{line}")?;
        }
        Ok(())
    })
    .map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_are_nan_survive_json() -> serde_json::Result<()> {
        let record = EpochRecord {
            epoch: 1,
            lr: 1e-3,
            train_loss: 0.5,
            val_loss: 0.25,
            val_dice: f64::NAN,
            val_iou: f64::NAN,
            val_dice_positive: None,
            val_f2: Some(0.5),
            f2_threshold: Some(0.3),
            val_auc: None,
            val_accuracy: Some(0.75),
            train_images: 8,
            skipped: 0,
            seconds: 1.5,
            // Parsed one unit in the last place off without serde_json's float_roundtrip.
            images_per_second: 21.889534496995218,
        };
        let json = serde_json::to_string(&record)?;
        assert!(json.contains("\"val_dice\":null"), "{json}");
        let back: EpochRecord = serde_json::from_str(&json)?;
        assert!(back.val_dice.is_nan() && back.val_iou.is_nan());
        assert_eq!(back.val_loss, 0.25);
        assert_eq!(back.val_accuracy, Some(0.75));
        assert_eq!(
            back.images_per_second.to_bits(),
            record.images_per_second.to_bits(),
            "every number reads back bit for bit (resumed logs equal uninterrupted ones)"
        );
        Ok(())
    }
}
