//! Shannak et al., "Pneumothorax segmentation and classification using U-Net: transfer
//! learning": a plain U-Net (three convolutions per block) pre-trained as an auto-encoder on
//! the X-rays and on the masks, its weights transferred to segmentation in four scenarios,
//! against random initialisation and a U-Net with an ImageNet ResNet50 encoder (Table 4: Dice
//! and IoU).
//!
//! The protocol as the paper's: every positive image written with one flipped and one 3-7
//! degree rotated copy (black corners) before training, no augmentation on the fly; the test
//! part in the paper's sizes (Table 2: 870 positive and 1,082 negative images of 17,385),
//! drawn by original image so that no test image is a copy of a training one (the paper drew
//! it from the copies, `--split paper` does the same); the epoch chosen by the loss of a
//! validation fold (a tenth of the training part) with early stopping, and the averaged
//! per-image Dice and IoU reported on the test part. Training as the paper: grey 512 px
//! images normalised with mean 0.4828 / std 0.2488, batch 32, Adam 1e-4, MSE for the
//! auto-encoders and BCE + Dice for segmentation, at most 50 epochs with early stopping when
//! the validation loss improves by less than 0.001 over 5 epochs.

use std::time::Duration;

use anyhow::Result;
use ptx_models::{
    EncoderName, Freeze, FreezeSchedule, ModelConfig, Part, PlainOptions, PlainUnetConfig, Task,
    UnetConfig,
};
use ptx_preproc::{ChannelStack, Normalize, Preset};
use ptx_train::{Augmentation, EarlyStop, Experiment, InitFrom, LossConfig, Monitor};

use crate::args::{CommonArgs, Scale, Scales, Settings};
use crate::augmented::{self, SplitMode};
use crate::eval::Part as Scored;
use crate::papers::{base_experiment, discard, Plan, Run};
use crate::table::{num, Results, Table};

/// The paper's scale: 512 px, batch 32, at most 50 epochs.
pub const FULL: Scale = Scale {
    epochs: 50,
    size: 512,
    batch_size: 32,
    images: 0,
};

/// The default synthetic run: 96 images (SIIM-shaped lesions four times larger), 64 px,
/// batch 8, at most 8 epochs, 16 base channels.
pub const SMALL: Scale = Scale {
    epochs: 8,
    size: 64,
    batch_size: 8,
    images: 96,
};

/// The `--quick` run: 64 images, 64 px, batch 8, 3 epochs, 16 base channels.
pub const QUICK: Scale = Scale {
    epochs: 3,
    size: 64,
    batch_size: 8,
    images: 64,
};

/// The three scales.
pub const SCALES: Scales = Scales {
    full: FULL,
    small: SMALL,
    quick: QUICK,
};

/// The example's name, scales and the measured time per training run of its default
/// synthetic run (`cargo run --release -p ptx-examples --example shannak_autoencoder`: 339 s for
/// 16 training runs on 2 cores, README).
pub const PLAN: Plan<'static> = Plan {
    example: "shannak_autoencoder",
    scales: &SCALES,
    per_run: Duration::from_millis(21188),
};

/// Table 4's rows, in its order, with the paper's Dice and IoU.
pub const ROWS: [(&str, f64, f64); 6] = [
    ("ResNet-50 Encoder", 0.60, 0.44),
    ("Pretrained encoder only", 0.53, 0.38),
    ("Pretrained encoder and decoder", 0.53, 0.38),
    ("Randomly initialized", 0.50, 0.36),
    ("Autoencoder weights", 0.48, 0.34),
    ("Autoencoder weights (frozen encoder)", 0.23, 0.13),
];

const COLUMNS: [&str; 3] = ["Model", "DICE Coefficient", "IoU Coefficient"];

/// The paper's Table 4.
pub fn paper_table() -> Table {
    let mut t = Table::new(
        "Table 4: Research models' performance measures summary (paper)",
        &COLUMNS,
    );
    for (name, d, i) in ROWS {
        t.row(vec![name.into(), format!("{d:.2}"), format!("{i:.2}")]);
    }
    t
}

/// The plain U-Net of the paper (3 convolutions per block; 64 base channels, 16 at small
/// scale) with a segmentation or reconstruction head.
pub fn plain_unet(task: Task, synthetic: bool) -> ModelConfig {
    ModelConfig::PlainUnet(PlainUnetConfig {
        blocks: PlainOptions {
            convs_per_block: 3,
            base_channels: if synthetic { 16 } else { 64 },
            ..PlainOptions::default()
        },
        task,
        ..PlainUnetConfig::default()
    })
}

fn experiment(
    name: &str,
    data: &ptx_train::DataConfig,
    model: ModelConfig,
    s: &Settings,
    args: &CommonArgs,
) -> Experiment {
    let mut exp = base_experiment(name, data, model, s, args);
    exp.input.channels = ChannelStack::replicate(1);
    exp.input.normalize = Normalize::MeanStd {
        mean: 0.4828,
        std: 0.2488,
    };
    // The positives' copies are on disk; nothing more on the fly.
    exp.input.augmentation = Augmentation::Preset(Preset::None);
    exp.train.monitor = Monitor::ValLoss;
    exp.train.early_stopping = Some(EarlyStop {
        patience: 5,
        min_delta: 0.001,
    });
    exp
}

fn from(run: &Run, parts: Vec<Part>) -> InitFrom {
    InitFrom {
        parts,
        ..InitFrom::new(&run.dir)
    }
}

/// The protocol's data and runs.
#[derive(Debug, Clone)]
pub struct Protocol {
    /// The original images (the augmented dataset is written from them).
    pub original: ptx_train::DataConfig,
    /// The auto-encoders the chosen rows need.
    pub pretraining: Vec<Run>,
    /// The segmentation model of each chosen row of Table 4, with the row's index.
    pub segmentation: Vec<(usize, Run)>,
}

/// The runs of the protocol: the two auto-encoders, then the segmentation models of Table
/// 4's rows (`only` restricts them, by [`ROWS`] index; an auto-encoder runs only when a
/// chosen row needs it).
///
/// # Errors
/// Data, weights.
pub fn experiments(
    args: &CommonArgs,
    split: SplitMode,
    only: Option<&[usize]>,
) -> Result<Protocol> {
    let s = args.settings(PLAN.example, &SCALES);
    let synth = crate::data::synthetic(s.images, (s.size * 2).max(128), args.seed, None);
    let original = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    let data = augmented::data(&original, &s.out.join(format!("augmented-{split:?}")))?;
    let runs = s.out.join("runs");
    let wanted = |i: usize| only.is_none_or(|o| o.contains(&i));
    let autoencoder = |name: &str, loss: LossConfig| {
        let mut e = experiment(
            name,
            &data,
            plain_unet(Task::Reconstruction, s.synthetic),
            &s,
            args,
        );
        e.loss = loss;
        Run::new(&runs, e)
    };
    let xray = autoencoder("autoencoder-xray", LossConfig::ReconstructImage);
    let mask = autoencoder("autoencoder-mask", LossConfig::ReconstructMask);
    let mut pre = Vec::new();
    if [1, 2, 4, 5].iter().any(|&i| wanted(i)) {
        pre.push(xray.clone());
    }
    if wanted(2) {
        pre.push(mask.clone());
    }
    let mut segmentation = Vec::new();
    for i in (0..ROWS.len()).filter(|&i| wanted(i)) {
        let mut e = experiment(
            &format!("segmentation-{i}"),
            &data,
            plain_unet(Task::Segmentation, s.synthetic),
            &s,
            args,
        );
        match i {
            0 => {
                let mut u = UnetConfig::with_encoder(EncoderName::Resnet50);
                u.in_channels = 1;
                e.model = ModelConfig::Unet(u);
                e.init = args.pretrained(EncoderName::Resnet50)?;
            }
            1 => e.init = vec![from(&xray, vec![Part::Encoder])],
            2 => {
                e.init = vec![
                    from(&xray, vec![Part::Encoder]),
                    from(&mask, vec![Part::Decoder]),
                ]
            }
            3 => {}
            _ => {
                e.init = vec![from(&xray, vec![Part::Encoder, Part::Decoder])];
                if i == 5 {
                    e.train.freeze = Some(FreezeSchedule {
                        freeze: Freeze::Encoder,
                        epochs: usize::MAX,
                    });
                }
            }
        }
        segmentation.push((i, Run::new(&runs, e)));
    }
    Ok(Protocol {
        original,
        pretraining: pre,
        segmentation,
    })
}

/// Writes the augmented dataset, pre-trains the auto-encoders, trains the segmentation
/// models (`only` restricts them, by [`ROWS`] index) and returns Table 4 of this run.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs, split: SplitMode, only: Option<&[usize]>) -> Result<Results> {
    let s = args.settings(PLAN.example, &SCALES);
    let Protocol {
        original,
        pretraining: pre,
        segmentation,
    } = experiments(args, split, only)?;
    if only.is_none_or(|o| o.contains(&0)) {
        if let Some(note) = args.init_note(&[EncoderName::Resnet50]) {
            eprintln!("{note}");
        }
    }
    augmented::write(
        &original,
        args.seed,
        s.size,
        split,
        &s.out.join(format!("augmented-{split:?}")),
    )?;
    for run in &pre {
        run.fit(args)?;
    }
    let mut table = Table::new(
        "Table 4: Research models' performance measures summary (this run)",
        &COLUMNS,
    );
    for (i, run) in &segmentation {
        let scores = run.fit_and_score(args, Scored::Test)?;
        table.row(vec![
            ROWS[*i].0.to_string(),
            num(Some(scores.metrics.dice), 2),
            num(Some(scores.metrics.iou), 2),
        ]);
        discard(args, std::slice::from_ref(&run.dir))?;
    }
    let ae_dirs: Vec<_> = pre.iter().map(|r| r.dir.clone()).collect();
    discard(args, &ae_dirs)?;
    let results = Results {
        heading: "Shannak et al.: auto-encoder transfer (Table 4)".into(),
        note: format!(
            "DICE and IoU: averaged over the test images (each image's Dice and IoU, an empty prediction on an empty image scoring 1), pixel threshold 0.5, at {} px. Every positive with a flipped and a rotated copy; the test part in the paper's per-class shares, {}. The epoch chosen by the validation fold's loss (early stopping 0.001 / 5). {} at most {} epochs, batch {}.",
            s.size,
            match split {
                SplitMode::LeakFree => "drawn by original image (no test image is a copy of a training one)",
                SplitMode::Paper => "drawn from the copies as the paper did (test images include copies of training images)",
            },
            if s.synthetic { "Synthetic run (lesions four times SIIM's areas), not the paper's data (plain U-Net with 16 base channels instead of 64):" } else { "SIIM data:" },
            s.epochs,
            s.batch_size
        ),
        tables: vec![("table4".into(), table)],
        paper: vec![paper_table()],
    };
    results.write(&s.out)?;
    Ok(results)
}

/// Every run's experiment (`--print-config`).
///
/// # Errors
/// Data, weights.
pub fn runs(args: &CommonArgs, split: SplitMode) -> Result<Vec<Run>> {
    let p = experiments(args, split, None)?;
    Ok(p.pretraining
        .into_iter()
        .chain(p.segmentation.into_iter().map(|(_, r)| r))
        .collect())
}
