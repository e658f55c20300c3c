//! Viel & Orhan, "Deep Learning for Pneumothorax Segmentation": the ablation of the Lovász
//! loss, an ASPP centre block, hypercolumns and scSE on a ResNet34 U-Net with a classification
//! branch after the centre block (Table 6: all 16 combinations, Dice and accuracy).
//!
//! The protocol as the paper's: a balanced set (every positive and as many negatives, 2,669 +
//! 2,669 SIIM images) split in stratified halves, one half trained on, the other reported on;
//! nothing is chosen on the reported half (each run ends with its last epoch, as the paper
//! trains a fixed 3 + 40 epochs). Training as Table 1: RAdam, batch 32, 256 px, horizontal
//! flips, ImageNet normalisation of the grey image in three channels (the authors' code);
//! stage 1 trains 3 epochs with the decoder frozen (lr 5e-4 cosine to 1e-4), stage 2 starts
//! from it and trains everything for 40 epochs (lr 5e-4 cosine to 5e-5); the classification
//! branch sits after the centre block (two 3x3 convolutions, or ASPP) and its loss weighs 0.1
//! with BCE, 0.01 with Lovász (the authors' symmetric, per-image ELU + 1 hinge).

use std::time::Duration;

use anyhow::Result;
use ptx_losses::{Bce, Combined, Loss, Lovasz};
use ptx_models::{
    Attention, Center, ClassifierInput, ClassifierOptions, EncoderName, Freeze, FreezeSchedule,
    ModelConfig, Part, UnetConfig,
};
use ptx_preproc::{ChannelStack, Normalize, Preset};
use ptx_train::{
    Augmentation, Folds, InitFrom, LossConfig, Monitor, OptimizerConfig, ScheduleConfig,
    ScheduleKind, Select, Subset,
};

use crate::args::{positive, CommonArgs, Scale, Scales};
use crate::eval::Part as Scored;
use crate::papers::{base_experiment, discard, Plan, Run};
use crate::table::{mark, num, Results, Table};

/// The paper's scale: 256 px, batch 32, 40 joint epochs.
pub const FULL: Scale = Scale {
    epochs: 40,
    size: 256,
    batch_size: 32,
    images: 0,
};

/// The default synthetic run: 128 images (half positive, SIIM-shaped lesions four times
/// larger), 64 px, batch 8, 8 joint epochs; Table 6's first five rows (the baseline and each
/// modification alone) unless `--only` says otherwise.
pub const SMALL: Scale = Scale {
    epochs: 8,
    size: 64,
    batch_size: 8,
    images: 128,
};

/// The `--quick` run: 96 images (half positive), 64 px, batch 8, 4 joint epochs.
pub const QUICK: Scale = Scale {
    epochs: 4,
    size: 64,
    batch_size: 8,
    images: 96,
};

/// The rows of Table 6 the default synthetic run trains (by [`Modifications::all`] index):
/// the baseline and each modification alone. All 16 with both seeds would take about half
/// an hour on 2 cores; `--only 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15` runs them.
pub const SYNTHETIC_ROWS: [usize; 5] = [0, 1, 2, 3, 4];

/// The three scales.
pub const SCALES: Scales = Scales {
    full: FULL,
    small: SMALL,
    quick: QUICK,
};

/// The example's name, scales and the measured time per training run of its default
/// synthetic run (`cargo run --release -p ptx-examples --example viel_ablation`: 550 s for
/// 20 training runs on 2 cores, README).
pub const PLAN: Plan<'static> = Plan {
    example: "viel_ablation",
    scales: &SCALES,
    per_run: Duration::from_millis(27500),
};

/// One row of Table 6: which modifications are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modifications {
    /// Lovász hinge instead of BCE for the segmentation loss.
    pub lovasz: bool,
    /// ASPP as the centre block.
    pub aspp: bool,
    /// Hypercolumns in the decoder.
    pub hypercolumns: bool,
    /// scSE in the decoder blocks.
    pub scse: bool,
}

impl Modifications {
    /// The 16 combinations in Table 6's order (by number of modifications, then Lovász,
    /// ASPP, hypercolumns, scSE).
    pub fn all() -> Vec<Self> {
        let mut out: Vec<Self> = (0u8..16)
            .map(|bits| Self {
                lovasz: bits & 8 != 0,
                aspp: bits & 4 != 0,
                hypercolumns: bits & 2 != 0,
                scse: bits & 1 != 0,
            })
            .collect();
        out.sort_by_key(|m| (m.count(), !m.lovasz, !m.aspp, !m.hypercolumns, !m.scse));
        out
    }

    fn count(&self) -> usize {
        [self.lovasz, self.aspp, self.hypercolumns, self.scse]
            .iter()
            .filter(|&&b| b)
            .count()
    }

    /// A short run name, e.g. `lovasz-aspp` or `baseline`.
    pub fn name(&self) -> String {
        let parts: Vec<&str> = [
            (self.lovasz, "lovasz"),
            (self.aspp, "aspp"),
            (self.hypercolumns, "hypercolumns"),
            (self.scse, "scse"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        if parts.is_empty() {
            "baseline".into()
        } else {
            parts.join("-")
        }
    }

    /// The model: ResNet34 U-Net with a centre block (two 3x3 convolutions, "we use the
    /// same structure for the center block"; or ASPP), classifier on the centre block.
    pub fn model(&self) -> ModelConfig {
        let mut u = UnetConfig::with_encoder(EncoderName::Resnet34);
        u.decoder.center = if self.aspp {
            Center::Aspp
        } else {
            Center::Conv
        };
        u.decoder.attention = if self.scse {
            Attention::Scse
        } else {
            Attention::None
        };
        u.decoder.hypercolumns = self.hypercolumns;
        u.classifier = Some(ClassifierOptions {
            input: ClassifierInput::Center,
            ..ClassifierOptions::default()
        });
        ModelConfig::Unet(u)
    }
}

/// The paper's Table 6 (Dice, accuracy) in [`Modifications::all`]'s order.
pub const PAPER: [(f64, f64); 16] = [
    (0.583, 0.828),
    (0.588, 0.832),
    (0.592, 0.838),
    (0.585, 0.842),
    (0.578, 0.836),
    (0.574, 0.829),
    (0.586, 0.829),
    (0.582, 0.835),
    (0.593, 0.837),
    (0.588, 0.827),
    (0.579, 0.836),
    (0.579, 0.832),
    (0.585, 0.836),
    (0.578, 0.834),
    (0.574, 0.840),
    (0.574, 0.837),
];

const COLUMNS: [&str; 6] = ["Lovász", "ASPP", "Hypercolumns", "scSE", "Dice", "Accuracy"];

fn row(m: &Modifications, dice: String, accuracy: String) -> Vec<String> {
    vec![
        mark(m.lovasz),
        mark(m.aspp),
        mark(m.hypercolumns),
        mark(m.scse),
        dice,
        accuracy,
    ]
}

/// The paper's Table 6.
pub fn paper_table() -> Table {
    let mut t = Table::new("Table 6: Ablation study (paper)", &COLUMNS);
    for (m, (d, a)) in Modifications::all().iter().zip(PAPER) {
        t.row(row(m, format!("{d:.3}"), format!("{a:.3}")));
    }
    t
}

/// Stage 1 (3 epochs, decoder frozen; 1 on synthetic data) and stage 2 of every combination
/// (`only`, else [`SYNTHETIC_ROWS`] in the default synthetic run, restricts them, by [`Modifications::all`] index), in order.
///
/// # Errors
/// Data, weights.
pub fn experiments(
    args: &CommonArgs,
    only: Option<&[usize]>,
) -> Result<Vec<(Modifications, Run, Run)>> {
    let s = args.settings(PLAN.example, &SCALES);
    let only = args.rows(only, &SYNTHETIC_ROWS);
    let synth = crate::data::synthetic(s.images, (s.size * 2).max(128), args.seed, Some(0.5));
    let mut data = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    // "we use images of size 256 x 256, and 2669 samples of each class ... We use half of it
    // for training, and report performance on the other half."
    data.subset = Some(Subset {
        negatives_per_positive: 1.0,
    });
    data.folds = Folds::new(2, 0)?;
    let pretrained = args.pretrained(EncoderName::Resnet34)?;
    let stage1_epochs = if s.synthetic { 1 } else { s.epochs.min(3) };
    let mut out = Vec::new();
    for (i, m) in Modifications::all().into_iter().enumerate() {
        if only.is_some_and(|o| !o.contains(&i)) {
            continue;
        }
        let runs = s.out.join("runs").join(m.name());
        let mut exp = base_experiment(&m.name(), &data, m.model(), &s, args);
        exp.input.channels = ChannelStack::replicate(3);
        exp.input.normalize = Normalize::imagenet();
        exp.input.augmentation = Augmentation::Preset(Preset::Viel);
        let segmentation = if m.lovasz {
            Combined::single(Loss::Lovasz(Lovasz::symmetric_elu()))
        } else {
            Combined::single(Loss::Bce(Bce::default()))
        };
        exp.loss = LossConfig::segmentation(segmentation, if m.lovasz { 0.01 } else { 0.1 })?;
        exp.optimizer = OptimizerConfig::Radam {
            // RAdam's rectification keeps its first few hundred steps far below the learning
            // rate; the paper's 3,600 steps outlast it, a synthetic run's hundred do not:
            // ten times the rate there, so that it learns
            lr: if s.synthetic { 5e-3 } else { 5e-4 },
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
        };
        exp.train.monitor = Monitor::ValDice;
        exp.train.select = Select::Last;

        let mut stage1 = exp.clone();
        stage1.name = "stage1".into();
        stage1.train.epochs = positive(stage1_epochs);
        stage1.train.freeze = Some(FreezeSchedule {
            freeze: Freeze::Parts(vec![Part::Decoder]),
            epochs: stage1_epochs,
        });
        stage1.schedule = cosine(stage1_epochs, 1e-4);
        stage1.init = pretrained.clone();
        let stage1 = Run::new(&runs, stage1);

        let mut stage2 = exp;
        stage2.name = "stage2".into();
        stage2.schedule = cosine(s.epochs, 5e-5);
        stage2.init = vec![InitFrom::new(&stage1.dir)];
        out.push((m, stage1, Run::new(&runs, stage2)));
    }
    Ok(out)
}

/// Runs the combinations (`only`, else [`SYNTHETIC_ROWS`] in the default synthetic run, restricts them, by [`Modifications::all`] index) and
/// returns Table 6 of this run: each stage 2's last epoch scored on the reported half.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs, only: Option<&[usize]>) -> Result<Results> {
    let s = args.settings(PLAN.example, &SCALES);
    let only = args.rows(only, &SYNTHETIC_ROWS);
    let combinations = experiments(args, only)?;
    if let Some(note) = args.init_note(&[EncoderName::Resnet34]) {
        eprintln!("{note}");
    }
    // this run's table also gives the Dice over the positive images alone: whether the
    // lesions were found, which the mean Dice (empty on empty scores 1) does not say
    let mut columns = COLUMNS.to_vec();
    columns.push("Dice, positive images");
    let mut table = Table::new("Table 6: Ablation study (this run)", &columns);
    for (m, stage1, stage2) in &combinations {
        stage1.fit(args)?;
        let scores = stage2.fit_and_score(args, Scored::Validation)?;
        let mut cells = row(
            m,
            num(Some(scores.metrics.dice), 3),
            num(scores.metrics.accuracy, 3),
        );
        cells.push(num(scores.metrics.dice_positive, 3));
        table.row(cells);
        discard(args, &[stage1.dir.clone(), stage2.dir.clone()])?;
    }
    let results = Results {
        heading: "Viel & Orhan: ablation (Table 6)".into(),
        note: format!(
            "A balanced set (every positive, as many negatives) in stratified halves: one trained on, the other reported on, with each run's last epoch (nothing chosen on it). Dice: the challenge's mean Dice on the reported half at {} px (pixel threshold 0.5); accuracy: the classification branch at 0.5. {} {} epochs per stage 2, batch {}.",
            s.size,
            if s.synthetic { "Synthetic run (lesions four times SIIM's areas), not the paper's data; RAdam at 5e-3, ten times the paper's rate, since a hundred steps do not outlast its rectification:" } else { "SIIM data:" },
            s.epochs,
            s.batch_size
        ),
        tables: vec![("table6".into(), table)],
        paper: vec![paper_table()],
    };
    results.write(&s.out)?;
    Ok(results)
}

/// Every run's experiment (`--print-config`): all rows with `--data` or `--quick`, the
/// [`SYNTHETIC_ROWS`] of the default synthetic run otherwise.
///
/// # Errors
/// Data, weights.
pub fn runs(args: &CommonArgs) -> Result<Vec<Run>> {
    Ok(experiments(args, None)?
        .into_iter()
        .flat_map(|(m, a, b)| {
            [a, b].map(|mut r| {
                r.name = format!("{}-{}", m.name(), r.name);
                r
            })
        })
        .collect())
}

/// Cosine annealing over `epochs` down to `eta_min`.
pub fn cosine(epochs: usize, eta_min: f64) -> ScheduleConfig {
    ScheduleConfig {
        kind: ScheduleKind::Cosine { epochs, eta_min },
        ..ScheduleConfig::default()
    }
}
