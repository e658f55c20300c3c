//! `ptx evaluate --truth CSV --pred CSV [--rle F] [--pred-rle F] [--size 1024|HxW] [--json]
//! [--per-image OUT.csv] [--missing-as-empty]`: the challenge's score of a submission.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ptx_io::annotations::Annotations;
use ptx_io::rle::RleForm;
use ptx_metrics::{Confusion, EmptyPolicy, ImageScore, SegmentationMeter, SegmentationSummary};
use serde::Serialize;

use super::size::Size;
use super::RleArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Truth CSV; several rows of one image are united.
    #[arg(long)]
    pub truth: PathBuf,
    /// Prediction CSV (a submission); several rows of one image are united too.
    #[arg(long)]
    pub pred: PathBuf,
    /// Run-length form of the truth (and of the prediction unless --pred-rle is given).
    #[arg(long, value_enum, default_value_t = RleArg::Relative)]
    pub rle: RleArg,
    /// Run-length form of the prediction, when it differs from the truth's.
    #[arg(long, value_enum)]
    pub pred_rle: Option<RleArg>,
    /// Image size in pixels: N (square) or HEIGHTxWIDTH.
    #[arg(long, default_value = "1024")]
    pub size: Size,
    /// Print the results as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also write one CSV row of counts and scores per image.
    #[arg(long, value_name = "OUT.csv")]
    pub per_image: Option<PathBuf>,
    /// Score truth images missing from the prediction as empty predictions instead of
    /// failing.
    #[arg(long)]
    pub missing_as_empty: bool,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Report {
    images: usize,
    positive_images: u64,
    /// Mean Dice under the challenge's rule (empty on empty scores 1).
    mean_dice: f64,
    /// Mean IoU under the same rule.
    mean_iou: f64,
    /// Mean Dice over images with a pneumothorax only.
    mean_dice_positive: Option<f64>,
    /// Dice of all pixels pooled.
    pooled_dice: Option<f64>,
    /// Image level: an image is positive when its mask has any pixel.
    image_confusion: Confusion,
    precision: f64,
    recall: f64,
    specificity: f64,
    accuracy: f64,
    f2: f64,
    missing_in_prediction: usize,
    extra_in_prediction: usize,
}

/// How many ImageIds an error or warning lists.
const SHOWN: usize = 5;

fn first_few(ids: &[&str]) -> String {
    let mut s = ids
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

pub fn run(args: Args) -> Result<()> {
    let pixels = ptx_io::rle::image_pixels(args.size.hw())
        .map_err(|_| anyhow::anyhow!("--size {}: too many pixels", args.size))?;
    let truth_form = RleForm::from(args.rle);
    let pred_form = RleForm::from(args.pred_rle.unwrap_or(args.rle));
    let truth = Annotations::read(&args.truth)?;
    let pred = Annotations::read(&args.pred)?;

    let missing: Vec<&str> = truth.image_ids().filter(|id| !pred.contains(id)).collect();
    if !missing.is_empty() && !args.missing_as_empty {
        anyhow::bail!(
            "{} of {} truth images are not in the prediction {} ({}); pass --missing-as-empty to score them as empty",
            missing.len(),
            truth.len(),
            args.pred.display(),
            first_few(&missing)
        );
    }
    let extra: Vec<&str> = pred.image_ids().filter(|id| !truth.contains(id)).collect();
    if !extra.is_empty() {
        eprintln!(
            "ptx: warning: {} images of the prediction are not in the truth and are ignored ({})",
            extra.len(),
            first_few(&extra)
        );
    }

    let mut dice = SegmentationMeter::new(EmptyPolicy::Kaggle).keep_per_image(true);
    let mut dice_positive = SegmentationMeter::new(EmptyPolicy::Skip);
    let mut images = Confusion::default();
    for id in truth.image_ids() {
        let t = truth.runs(id, pixels, truth_form)?.unwrap_or_default();
        let p = pred.runs(id, pixels, pred_form)?.unwrap_or_default();
        let counts = Confusion::from_runs(&t, &p, pixels).with_context(|| format!("image {id}"))?;
        dice.update_counts(counts);
        dice_positive.update_counts(counts);
        images.add_one(
            counts.truth_positives() > 0,
            counts.predicted_positives() > 0,
        );
    }
    let summary = dice.compute();
    let report = Report {
        images: summary.images,
        positive_images: images.truth_positives(),
        mean_dice: summary.mean_dice.unwrap_or(0.0),
        mean_iou: summary.mean_iou.unwrap_or(0.0),
        mean_dice_positive: dice_positive.compute().mean_dice,
        pooled_dice: summary.pooled_dice(),
        image_confusion: images,
        precision: images.precision(),
        recall: images.recall(),
        specificity: images.specificity(),
        accuracy: images.accuracy(),
        f2: images.f_beta(2.0),
        missing_in_prediction: missing.len(),
        extra_in_prediction: extra.len(),
    };
    if let Some(out) = &args.per_image {
        write_per_image(out, truth.image_ids(), dice.per_image())?;
    }
    if args.json {
        super::emit(serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report, &summary);
    }
    Ok(())
}

fn write_per_image<'a>(
    out: &Path,
    ids: impl Iterator<Item = &'a str>,
    scores: &[ImageScore],
) -> Result<()> {
    let rows: Vec<(&str, &ImageScore)> = ids.zip(scores).collect();
    ptx_io::write_atomic(out, |w: &mut dyn Write| {
        writeln!(w, "ImageId,truth_pixels,pred_pixels,intersection,dice,iou")?;
        for (id, s) in &rows {
            let c = s.counts;
            writeln!(
                w,
                "{id},{},{},{},{},{}",
                c.truth_positives(),
                c.predicted_positives(),
                c.true_pos,
                s.dice.unwrap_or(f64::NAN),
                s.iou.unwrap_or(f64::NAN)
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

fn print_text(r: &Report, summary: &SegmentationSummary) {
    let opt = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.6}"));
    let c = r.image_confusion;
    super::emit(format_args!(
        "images             {} ({} with pneumothorax)",
        r.images, r.positive_images
    ));
    super::emit(format_args!(
        "mean Dice          {:.6}   (challenge rule: empty prediction on empty truth = 1)",
        r.mean_dice
    ));
    super::emit(format_args!("mean IoU           {:.6}", r.mean_iou));
    super::emit(format_args!(
        "mean Dice, positive images only  {}",
        opt(r.mean_dice_positive)
    ));
    super::emit(format_args!(
        "pooled pixel Dice  {}   ({} true, {} predicted, {} overlapping pixels)",
        opt(r.pooled_dice),
        summary.pixels.truth_positives(),
        summary.pixels.predicted_positives(),
        summary.pixels.true_pos
    ));
    super::emit(format_args!(
        "image level        tp {}  fp {}  fn {}  tn {}",
        c.true_pos, c.false_pos, c.false_neg, c.true_neg
    ));
    super::emit(format_args!(
        "precision {:.6}  recall {:.6}  specificity {:.6}  accuracy {:.6}  F2 {:.6}",
        r.precision, r.recall, r.specificity, r.accuracy, r.f2
    ));
    if r.missing_in_prediction > 0 {
        super::emit(format_args!(
            "{} truth images missing from the prediction were scored as empty",
            r.missing_in_prediction
        ));
    }
}
