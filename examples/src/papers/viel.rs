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

use anyhow::Result;
use ptx_io::synth::SynthOptions;
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

use crate::args::{positive, CommonArgs, Scale};
use crate::eval::Part as Scored;
use crate::papers::{base_experiment, discard, Run};
use crate::table::{mark, num, write_results, Table};

/// The paper's scale: 256 px, batch 32, 40 joint epochs.
pub const FULL: Scale = Scale {
    epochs: 40,
    size: 256,
    batch_size: 32,
    images: 0,
};

/// The small synthetic run: 96 images (half positive), 64 px, batch 8, 4 joint epochs.
pub const SMALL: Scale = Scale {
    epochs: 4,
    size: 64,
    batch_size: 8,
    images: 96,
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

/// Stage 1 (3 epochs, decoder frozen; 1 at small scale) and stage 2 of every combination
/// (`only` restricts them, by [`Modifications::all`] index), in order.
///
/// # Errors
/// Data, weights.
pub fn experiments(
    args: &CommonArgs,
    only: Option<&[usize]>,
) -> Result<Vec<(Modifications, Run, Run)>> {
    let s = args.settings("viel_ablation", FULL, SMALL);
    let synth = SynthOptions {
        count: s.images,
        size: (s.size * 2).max(128),
        seed: args.seed,
        positive_share: 0.5,
        ..SynthOptions::default()
    };
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
            lr: 5e-4,
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

/// Runs the combinations (`only` restricts them, by [`Modifications::all`] index) and
/// returns Table 6 of this run: each stage 2's last epoch scored on the reported half.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs, only: Option<&[usize]>) -> Result<Table> {
    let s = args.settings("viel_ablation", FULL, SMALL);
    let combinations = experiments(args, only)?;
    if let Some(note) = args.init_note(&[EncoderName::Resnet34]) {
        eprintln!("{note}");
    }
    let mut table = Table::new("Table 6: Ablation study (this run)", &COLUMNS);
    for (m, stage1, stage2) in &combinations {
        stage1.fit(args)?;
        let scores = stage2.fit_and_score(args, Scored::Validation)?;
        table.row(row(
            m,
            num(Some(scores.metrics.dice), 3),
            num(scores.metrics.accuracy, 3),
        ));
        discard(args, &[stage1.dir.clone(), stage2.dir.clone()])?;
    }
    write_results(
        &s.out,
        "Viel & Orhan: ablation (Table 6)",
        &format!(
            "A balanced set (every positive, as many negatives) in stratified halves: one trained on, the other reported on, with each run's last epoch (nothing chosen on it). Dice: the challenge's mean Dice on the reported half at {} px (pixel threshold 0.5); accuracy: the classification branch at 0.5. {} {} epochs per stage 2, batch {}.",
            s.size,
            if s.synthetic { "Small synthetic run, not the paper's data:" } else { "SIIM data:" },
            s.epochs,
            s.batch_size
        ),
        &[("table6", &table)],
        &[paper_table()],
    )?;
    Ok(table)
}

/// Every run's experiment (`--print-config`).
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
