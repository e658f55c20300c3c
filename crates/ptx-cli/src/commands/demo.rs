//! `ptx demo`: the whole path on a synthetic dataset, on the CPU in minutes — generate
//! training and held-out sets, train the two-stage system, choose its thresholds on
//! validation, predict the held-out images and score them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use ptx_io::synth::{write_dataset, SynthOptions};
use ptx_train::{Experiment, Resume, TwoStageRecipe};

use super::size::Size;
use super::{emit, evaluate, predict, RleArg};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The output folder (data, configs, runs, submission, overlays, report).
    #[arg(long, default_value = "out/ptx-demo")]
    pub out: PathBuf,
    /// Synthetic training images (split into 5 folds; fold 0 validates).
    #[arg(long, default_value_t = 300)]
    pub train: usize,
    /// Synthetic held-out images, scored at the end.
    #[arg(long, default_value_t = 100)]
    pub test: usize,
    /// Size of the synthetic images in pixels: N or NxN (they are square).
    #[arg(long, default_value = "256")]
    pub size: Size,
    /// Size of the network input in pixels: N or HEIGHTxWIDTH (multiples of 32).
    #[arg(long, default_value = "128")]
    pub input: Size,
    /// Epochs of stage 1 (the classifier).
    #[arg(long, default_value_t = 14)]
    pub epochs1: usize,
    /// Epochs of stage 2 (the segmenter).
    #[arg(long, default_value_t = 30)]
    pub epochs2: usize,
    /// Share of synthetic images with a pneumothorax.
    #[arg(long, default_value_t = 0.25)]
    pub positive_share: f64,
    /// Seed of the data and the training.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Keep an existing output folder and resume its runs.
    #[arg(long)]
    pub resume: bool,
    /// Loader threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// The experiment of stage 1 (`classifier`: a small U-Net with a classifier head and the
/// multi-task loss) or stage 2 (the same network without the head, on positive images).
fn stage_toml(a: &Args, classifier: bool) -> String {
    let (name, epochs, batch, monitor) = if classifier {
        ("demo-stage1-classifier", a.epochs1, 8, "val_f2")
    } else {
        ("demo-stage2-segmenter", a.epochs2, 4, "val_dice")
    };
    let (positives, head, loss) = if classifier {
        (
            "",
            "classifier = { pooling = \"avg\", dropout = 0.2 }\n",
            "\n[loss]\nclassification_weight = 1.0\n",
        )
    } else {
        ("positives_only = true\n", "", "")
    };
    format!(
        r#"name = "{name}"
seed = {seed}

[data]
images = "data/train/dicom-images-train"
annotations = "data/train/train-rle.csv"
folds = 5
validation_fold = 0
{positives}
[input]
size = [{height}, {width}]
preset = "viel"

[model]
arch = "unet"
encoder = "resnet18"
decoder = {{ channels = [128, 64, 32, 16, 8] }}
{head}{loss}
[optimizer]
kind = "adam"
lr = 1e-3

[schedule]
kind = "cosine"
epochs = {epochs}
eta_min = 1e-5

[train]
epochs = {epochs}
batch_size = {batch}
device = "cpu"
monitor = "{monitor}"
keep_best = 1
montage = 16
"#,
        seed = a.seed,
        height = a.input.height,
        width = a.input.width,
    )
}

fn synth(dir: &Path, count: usize, size: usize, seed: u64, positive_share: f64) -> Result<()> {
    if dir.join("train-rle.csv").is_file() {
        return Ok(());
    }
    let summary = write_dataset(
        dir,
        &SynthOptions {
            count,
            size,
            seed,
            positive_share,
            ..SynthOptions::default()
        },
    )?;
    emit(format!(
        "synthetic set {}: {} images, {} with a pneumothorax",
        dir.display(),
        summary.images,
        summary.positives
    ));
    Ok(())
}

pub fn run(args: Args) -> Result<()> {
    let t0 = Instant::now();
    let out = &args.out;
    if out.exists() && !args.resume {
        std::fs::remove_dir_all(out)
            .with_context(|| format!("{}: cannot clear the output folder", out.display()))?;
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("{}: cannot create the folder", out.display()))?;
    if !(0.0..=1.0).contains(&args.positive_share) {
        anyhow::bail!(
            "--positive-share {}: must be in [0, 1]",
            args.positive_share
        );
    }
    let share = args.positive_share;
    let side = args.size.square("--size")?;
    synth(&out.join("data/train"), args.train, side, args.seed, share)?;
    synth(
        &out.join("data/test"),
        args.test,
        side,
        args.seed + 1_000_000,
        share,
    )?;
    let (s1, s2) = (out.join("stage1.toml"), out.join("stage2.toml"));
    std::fs::write(&s1, stage_toml(&args, true))?;
    std::fs::write(&s2, stage_toml(&args, false))?;
    let recipe = TwoStageRecipe {
        stage1: Experiment::from_file(&s1)?,
        stage2: Experiment::from_file(&s2)?,
        grid: Default::default(),
        hflip: true,
    };
    let run_dir = out.join("run");
    let report = recipe.run(
        &run_dir,
        if args.resume {
            Resume::IfPresent
        } else {
            Resume::Never
        },
        args.threads,
    )?;
    let train_seconds = t0.elapsed().as_secs_f64();
    emit(format!("validation: {}", report.summary()));
    let submission = out.join("submission.csv");
    let line = predict::predict(&predict::Args {
        checkpoint: run_dir.clone(),
        input: vec![out.join("data/test/dicom-images-train")],
        out: submission.clone(),
        rle: RleArg::Relative,
        overlays: Some(out.join("overlays")),
        report: Some(out.join("report.json")),
        hflip: None,
        threads: args.threads,
        device: ptx_train::DeviceChoice::Cpu,
    })?;
    emit(format!("held-out prediction: {line}"));
    emit("held-out evaluation (ptx evaluate):");
    evaluate::run(evaluate::Args {
        truth: out.join("data/test/train-rle.csv"),
        pred: submission,
        rle: RleArg::Relative,
        pred_rle: None,
        size: args.size,
        json: false,
        per_image: Some(out.join("evaluation-per-image.csv")),
        missing_as_empty: false,
    })?;
    emit(format!(
        "demo finished in {:.0} s (training and validation {:.0} s); everything is in {}",
        t0.elapsed().as_secs_f64(),
        train_seconds,
        out.display()
    ));
    Ok(())
}
