//! Haghanifar et al., "Automated Pneumothorax Segmentation ... CheXNet as the Backbone for
//! Two-stage U-Net": stage 1 is a U-Net with a DenseNet121 (CheXNet) encoder and a
//! classification head trained multi-task, whose score decides which images go to stage 2, a
//! U-Net with an SE-ResNeXt50 encoder trained on positive images in 5 folds; the top 3 fold
//! models are averaged (SWA) and the pixel threshold is chosen by IoU.
//!
//! The protocol: the paper tunes and reports on fold 0's 20 % ("Table 1: ... on 20% of the
//! dataset"); here a test part of the same size (20 % of the images) is held out of every
//! fold first, every choice (the freezing mode, each run's epoch, the classifier threshold for
//! F2, the pixel threshold for IoU) is made on validation fold 0 of the rest, and the tables
//! are computed on the test part. Training as the paper: raw + AHE + CLAHE channels, 256 px,
//! its augmentation list, batch 32, dropout after every decoder block in both networks;
//! stage 1: Adam at its default 1e-3, weighted BCE (background 0.01) for the segmentation
//! branch beside the classification loss, 100 epochs with early stopping, three freezing modes
//! of the backbone compared by F2; stage 2: the backbone frozen ("setting backbone as
//! non-trainable along with learning rate schedule postpones overfitting"), the learning rate
//! found by the LR range test, cosine annealing, class-weighted BCE + Dice, 100 epochs with
//! early stopping, 5 folds.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use std::time::Duration;

use anyhow::{Context, Result};
use ptx_losses::{Bce, ClassWeights, Combined, Loss, Overlap};
use ptx_metrics::PostProcess;
use ptx_models::{ClassifierOptions, EncoderName, Freeze, FreezeSchedule, ModelConfig, UnetConfig};
use ptx_preproc::{Loader, LoaderOptions, Preset};
use ptx_train::{
    best_f2_threshold, swa, Augmentation, CrossValidation, Dataset, EarlyStop, Experiment, Folds,
    Holdout, ImagePrediction, LossConfig, LrRangeTest, Monitor, OptimizerConfig, Resume, System,
    SystemConfig, Trainer,
};

use crate::args::{positive, CommonArgs, Scale, Scales};
use crate::eval::{iou_threshold_search, Part as Scored, Scores};
use crate::papers::viel::cosine;
use crate::papers::{base_experiment, discard, Plan, Run};
use crate::table::{num, Results, Table};

/// The paper's scale: 256 px (the paper found no difference from 512), batch 32, 100
/// epochs per run with early stopping, 5 folds.
pub const FULL: Scale = Scale {
    epochs: 100,
    size: 256,
    batch_size: 32,
    images: 0,
};

/// The default synthetic run: 128 images (SIIM-shaped lesions four times larger), 64 px,
/// batch 8, at most 12 epochs per run (early stopping), 3 folds.
pub const SMALL: Scale = Scale {
    epochs: 12,
    size: 64,
    batch_size: 8,
    images: 128,
};

/// The `--quick` run: 96 images, 64 px, batch 8, 3 epochs per run, 3 folds.
pub const QUICK: Scale = Scale {
    epochs: 3,
    size: 64,
    batch_size: 8,
    images: 96,
};

/// The three scales.
pub const SCALES: Scales = Scales {
    full: FULL,
    small: SMALL,
    quick: QUICK,
};

/// The example's name, scales and the measured time per training run of its default
/// synthetic run (`cargo run --release -p ptx-examples --example haghanifar_two_stage`: 429 s
/// for 12 training runs on 2 cores, README).
pub const PLAN: Plan<'static> = Plan {
    example: "haghanifar_two_stage",
    scales: &SCALES,
    per_run: Duration::from_millis(35750),
};

/// The freezing modes compared, with their names in the paper's words.
pub const MODES: [(Freeze, &str); 3] = [
    (Freeze::Nothing, "trainable"),
    (
        Freeze::AllButLastBlock,
        "non-trainable except the last block",
    ),
    (Freeze::Encoder, "non-trainable"),
];

/// The paper's Table 1 (stage-one classifier on 20 % of the data) and Table 2 row.
pub fn paper_tables() -> Vec<Table> {
    let mut t1 = Table::new(
        "Table 1: Confusion matrix of the proposed stage-one classifier (paper, on its 20 % validation fold)",
        &["Actual \\ Predicted", "Non-pneumothorax", "Pneumothorax"],
    );
    t1.row(vec!["Non-pneumothorax".into(), "1786".into(), "88".into()]);
    t1.row(vec!["Pneumothorax".into(), "52".into(), "484".into()]);
    let mut t2 = Table::new(
        "Table 2: Comparison between published models (paper, its own row; \"DSC on validation\" is the segmenter's Dice on positive images, from its Table 1 arithmetic; the boards score the whole system with the challenge's rule)",
        &[
            "Developed system",
            "Network Type",
            "Segmenter DSC, positive images",
            "System DSC, challenge rule",
        ],
    );
    t2.row(vec![
        "Proposed method".into(),
        "Single".into(),
        "0.6450 (validation)".into(),
        "0.8987 (public board), 0.8410 (private board)".into(),
    ]);
    let mut modes = Table::new(
        "Stage-one backbone freezing (paper, text): best F2 0.9054 with DenseNet121 (CheXNet), non-trainable except the last block",
        &["Backbone", "F2"],
    );
    modes.row(vec![
        "non-trainable except the last block".into(),
        "0.9054".into(),
    ]);
    vec![t1, t2, modes]
}

/// Epochs of each stage (`--epochs1`, `--epochs2`; else `--epochs`, else the scale's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageEpochs {
    /// Stage 1 (each freezing mode).
    pub stage1: Option<NonZeroUsize>,
    /// Stage 2 (each fold).
    pub stage2: Option<NonZeroUsize>,
}

/// Weighted BCE with the background at 0.01 ("Class weight is set as 0.01 according to the
/// mask percentage average").
fn weighted_bce() -> Loss {
    Loss::Bce(Bce {
        class_weights: Some(ClassWeights::haghanifar()),
        ..Bce::default()
    })
}

/// Dropout after every decoder block (and in the classifier): "dropout layers are also
/// devised after each convolutional and deconvolutional blocks". The rate is not given.
pub const DROPOUT: f64 = 0.2;

/// The protocol's runs.
#[derive(Debug, Clone)]
pub struct Protocol {
    /// Stage 1 in each freezing mode.
    pub stage1: Vec<(&'static str, Run)>,
    /// Stage 2's experiment (its learning rate replaced by the LR range test's suggestion),
    /// trained in every fold.
    pub stage2: Run,
    /// The LR range test's run folder.
    pub lr_find: PathBuf,
}

/// The runs of the protocol (stage 2 once, its folds are `stage2/fold-N`).
///
/// # Errors
/// Data, weights.
pub fn experiments(args: &CommonArgs, epochs: StageEpochs) -> Result<Protocol> {
    let s = args.settings(PLAN.example, &SCALES);
    let synth = crate::data::synthetic(s.images, (s.size * 2).max(128), args.seed, Some(0.35));
    let mut data = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    // "The public dataset is divided into 80% dedicated for training and the other [20%] for
    // validation ... k-fold cross-validation method, where k is 5": 5 folds of what is not
    // held out for the test (20 %, the size of the paper's Table 1 fold).
    data.holdout = Some(Holdout::Fraction(0.2));
    data.folds = Folds::new(if s.synthetic { 3 } else { 5 }, 0)?;
    let chexnet = args.pretrained(EncoderName::Densenet121)?;
    let seresnext = args.pretrained(EncoderName::SeResnext50)?;
    let runs = s.out.join("runs");
    let early = Some(EarlyStop::default());
    let epochs1 = epochs.stage1.unwrap_or(positive(s.epochs));
    let epochs2 = epochs.stage2.unwrap_or(positive(s.epochs));

    // Stage 1: DenseNet121 U-Net + classifier, multi-task, in three freezing modes.
    let mut stage1 = Vec::new();
    for (i, (freeze, name)) in MODES.iter().enumerate() {
        let mut u = UnetConfig::with_encoder(EncoderName::Densenet121);
        u.decoder.dropout = DROPOUT;
        u.classifier = Some(ClassifierOptions {
            dropout: DROPOUT,
            ..ClassifierOptions::default()
        });
        let mut e = base_experiment(
            &format!("stage1-{i}"),
            &data,
            ModelConfig::Unet(u),
            &s,
            args,
        );
        e.input.augmentation = Augmentation::Preset(Preset::Haghanifar);
        e.loss = LossConfig::segmentation(Combined::single(weighted_bce()), 1.0)?;
        // "Optimizer is set to Adam with default learning rate of 0.001."
        e.optimizer = adam(1e-3);
        e.train.epochs = epochs1;
        e.train.early_stopping = early;
        e.train.monitor = Monitor::ValF2;
        e.train.freeze = Some(FreezeSchedule {
            freeze: freeze.clone(),
            epochs: usize::MAX,
        });
        e.init = chexnet.clone();
        stage1.push((*name, Run::new(&runs, e)));
    }

    // Stage 2: SE-ResNeXt50 U-Net on positives, the backbone frozen, k folds.
    let mut u = UnetConfig::with_encoder(EncoderName::SeResnext50);
    u.decoder.dropout = DROPOUT;
    let mut e2 = base_experiment("stage2", &data, ModelConfig::Unet(u), &s, args);
    e2.input.augmentation = Augmentation::Preset(Preset::Haghanifar);
    e2.data.positives_only = true;
    e2.loss = LossConfig::segmentation(
        Combined::single(weighted_bce()).with(1.0, Loss::Dice(Overlap::default())),
        0.0,
    )?;
    e2.optimizer = adam(1e-3); // replaced by the LR range test's suggestion
    e2.schedule = cosine(epochs2.get(), 0.0);
    e2.train.epochs = epochs2;
    e2.train.early_stopping = early;
    e2.train.monitor = Monitor::ValDice;
    e2.train.freeze = Some(FreezeSchedule {
        freeze: Freeze::Encoder,
        epochs: usize::MAX,
    });
    e2.init = seresnext;
    Ok(Protocol {
        stage1,
        stage2: Run::new(&runs, e2),
        lr_find: runs.join("stage2-lr-find"),
    })
}

/// Every run's experiment (`--print-config`; stage 2's learning rate is the LR range
/// test's at run time).
///
/// # Errors
/// Data, weights.
pub fn runs(args: &CommonArgs, epochs: StageEpochs) -> Result<Vec<Run>> {
    let p = experiments(args, epochs)?;
    Ok(p.stage1
        .into_iter()
        .map(|(_, r)| r)
        .chain(std::iter::once(p.stage2))
        .collect())
}

/// Runs the freezing comparison, the LR range test, the stage-2 folds, SWA and the
/// threshold search; returns the freezing table, the confusion matrix (Table 1) and the
/// Table 2 rows of this run, all on the held-out test part but the freezing table
/// (validation).
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs, epochs: StageEpochs) -> Result<Results> {
    let s = args.settings(PLAN.example, &SCALES);
    let p = experiments(args, epochs)?;
    if let Some(note) = args.init_note(&[EncoderName::Densenet121, EncoderName::SeResnext50]) {
        eprintln!("{note}");
    }
    let mut modes = Table::new(
        "Stage-one backbone freezing (this run, validation fold 0)",
        &["Backbone", "F2", "Threshold", "Best epoch"],
    );
    let mut best: Option<(f64, PathBuf, Experiment)> = None;
    for (name, run) in &p.stage1 {
        let fitted = run.fit(args)?;
        let record = fitted
            .best
            .and_then(|(epoch, _)| {
                epoch
                    .checked_sub(1)
                    .and_then(|i| fitted.history.get(i))
                    .cloned()
            })
            .context("stage 1 kept no epoch")?;
        let f2 = record.val_f2.unwrap_or(f64::NAN);
        modes.row(vec![
            name.to_string(),
            num(Some(f2), 4),
            num(record.f2_threshold, 3),
            record.epoch.to_string(),
        ]);
        if best.as_ref().is_none_or(|b| f2 > b.0) {
            best = Some((f2, fitted.final_dir.clone(), run.experiment.clone()));
        }
    }
    let (_, classifier_dir, stage1) = best.context("no stage-1 run")?;

    // Stage 2: the learning rate of the LR range test, then the folds.
    let mut e2 = p.stage2.experiment.clone();
    let lr = find_lr(&e2, &p.lr_find)?;
    eprintln!(
        "== stage 2: learning rate {lr:.3e} (LR range test), {} folds",
        e2.data.folds.count()
    );
    if let OptimizerConfig::Adam { lr: rate, .. } = &mut e2.optimizer {
        *rate = lr;
    }
    let resume = if args.resume {
        Resume::IfPresent
    } else {
        Resume::Never
    };
    crate::papers::progress(&p.stage2.dir, e2.seed, e2.data.folds.count());
    let cv = CrossValidation {
        experiment: e2.clone(),
        grid: Default::default(),
        hflip: false,
    }
    .run(&p.stage2.dir, resume, args.threads)?;
    let mut ranked: Vec<(f64, PathBuf)> = cv
        .folds
        .iter()
        .filter_map(|f| Some((f.best?.1, f.final_dir.clone())))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top: Vec<PathBuf> = ranked.iter().take(3).map(|(_, d)| d.clone()).collect();
    let averaged = swa::average(&top, args.device.device()?)?;
    let dataset = Dataset::open(&e2.data, e2.seed)?;
    let positives: Vec<usize> = (0..dataset.samples().len())
        .filter(|&i| {
            dataset.samples()[i].positive && dataset.splits()[i] != ptx_io::folds::Split::Test
        })
        .collect();
    let bn_loader = Loader::new(
        dataset.source(&positives)?,
        e2.input.train_pipeline(),
        LoaderOptions {
            batch_size: s.batch_size,
            threads: args.threads,
            seed: args.seed,
            ..LoaderOptions::default()
        },
    )?;
    swa::recompute_batch_norm(&averaged, &bn_loader, false)?;
    let swa_dir = s.out.join("stage2-swa-top3");
    averaged.save(&swa_dir)?;

    // The system: classifier gate at its F2 threshold and the pixel threshold with the best
    // IoU, both chosen on validation fold 0, then scored on the test part.
    let fold0 = cv
        .folds
        .first()
        .map(|f| f.final_dir.clone())
        .context("no fold was trained")?;
    let mut rows = Vec::new();
    let mut confusion = None;
    for (label, segmenter) in [
        ("Proposed method (fold-0 segmenter)", fold0),
        ("Proposed method (SWA of the top 3 folds)", swa_dir),
    ] {
        let system = two_stage(&stage1, &classifier_dir, &segmenter)?;
        let validation = scored(&system, &stage1, Scored::Validation, args)?;
        let (gate, _) = best_f2_threshold(&validation)?;
        let thresholds: Vec<f32> = (1..20).map(|i| i as f32 / 20.0).collect();
        let (t, iou) = iou_threshold_search(&gated(validation, gate)?, &thresholds)?;
        let test = scored(&system, &stage1, Scored::Test, args)?;
        if confusion.is_none() {
            confusion = Some(Scores::of(test.clone())?.confusion(gate)?);
        }
        let segmenter_positive = Scores::of(at_threshold(&test, t))?.metrics.dice_positive;
        let system_dice = Scores::of(at_threshold(&gated(test, gate)?, t))?
            .metrics
            .dice;
        rows.push(vec![
            label.to_string(),
            "Single".into(),
            num(segmenter_positive, 4),
            num(Some(system_dice), 4),
            format!("gate {gate:.3}; pixel threshold {t:.2} (validation IoU {iou:.4})"),
        ]);
    }
    let mut done: Vec<PathBuf> = p.stage1.iter().map(|(_, r)| r.dir.clone()).collect();
    done.extend((0..e2.data.folds.count()).map(|f| p.stage2.dir.join(format!("fold-{f}"))));
    discard(args, &done)?;
    let c = confusion.context("no test image")?;
    let mut t1 = Table::new(
        "Table 1: Confusion matrix of the stage-one classifier on the test part (this run)",
        &["Actual \\ Predicted", "Non-pneumothorax", "Pneumothorax"],
    );
    t1.row(vec![
        "Non-pneumothorax".into(),
        c.true_neg.to_string(),
        c.false_pos.to_string(),
    ]);
    t1.row(vec![
        "Pneumothorax".into(),
        c.false_neg.to_string(),
        c.true_pos.to_string(),
    ]);
    let mut t2 = Table::new(
        "Table 2: the proposed method's row (this run, test part)",
        &[
            "Developed system",
            "Network Type",
            "Segmenter DSC, positive images",
            "System DSC, challenge rule",
            "Thresholds (chosen on validation fold 0)",
        ],
    );
    for r in rows {
        t2.row(r);
    }
    let results = Results {
        heading: "Haghanifar et al.: two-stage CheXNet + SE-ResNeXt50 system".into(),
        note: format!(
            "A test part of 20 % (the size of the paper's Table 1 fold) held out of every fold; {} folds of the rest, every choice (freezing mode, epochs, classifier gate for F2, pixel threshold for IoU) made on validation fold 0, the tables computed on the test part at {} px. Segmenter DSC: the segmenter alone on the positive test images (the paper's \"DSC on validation\"); system DSC: the challenge's mean Dice of the two-stage system over all test images (what the boards score). The SWA row averages the top 3 folds' models, which trained on other folds' images but never on the test part. {} {} / {} epochs per stage-1 / stage-2 run (early stopping), batch {}.",
            e2.data.folds.count(),
            s.size,
            if s.synthetic { "Synthetic run (lesions four times SIIM's areas), not the paper's data:" } else { "SIIM data:" },
            stage1.train.epochs,
            e2.train.epochs,
            s.batch_size
        ),
        tables: vec![("freezing".into(), modes), ("table1".into(), t1), ("table2".into(), t2)],
        paper: paper_tables(),
    };
    results.write(&s.out)?;
    Ok(results)
}

/// The LR range test of stage 2 on its fold 0 (written to `dir`): the suggested learning
/// rate ("initial learning rate is selected by applying an optimal learning rate finder"),
/// the steepest fall of the loss but at most a tenth of the rate at its lowest (fastai's two
/// rules, the safer one: on a small set the loss falls fastest just before it diverges, and
/// the steepest rate alone, 0.075 on the synthetic set, blew the segmenter up).
fn find_lr(e2: &Experiment, dir: &std::path::Path) -> Result<f64> {
    let mut trainer = Trainer::new(e2.clone(), dir, Resume::IfPresent)?;
    let sweep = trainer.lr_range_test(&LrRangeTest {
        steps: 50,
        ..LrRangeTest::default()
    })?;
    sweep.save(dir)?;
    let steep = sweep.suggestion().unwrap_or(1e-3);
    Ok(sweep.minimum_tenth().map_or(steep, |m| steep.min(m)))
}

/// The two-stage system of `classifier` and `segmenter` on stage 1's input.
fn two_stage(
    stage1: &Experiment,
    classifier: &std::path::Path,
    segmenter: &std::path::Path,
) -> Result<System> {
    Ok(System::new(
        SystemConfig {
            classifier: vec![classifier.to_path_buf()],
            segmenter: vec![segmenter.to_path_buf()],
            input: stage1.input.clone(),
            hflip: false,
            postprocess: Default::default(),
            batch_size: stage1.train.batch_size,
        },
        stage1.train.device.device()?,
    )?)
}

/// The system's probabilities and scores on `part` of stage 1's data.
fn scored(
    system: &System,
    stage1: &Experiment,
    part: Scored,
    args: &CommonArgs,
) -> Result<Vec<ImagePrediction>> {
    let dataset = Dataset::open(&stage1.data, stage1.seed)?;
    let images = match part {
        Scored::Validation => dataset.split(stage1.data.folds.validation(), true, false),
        Scored::Test => dataset.test(false),
    };
    Ok(system
        .probabilities(dataset.source(&images)?, args.threads)?
        .0)
}

/// The predictions with the probabilities of every image the classifier gate empties set to 0.
fn gated(predictions: Vec<ImagePrediction>, gate: f64) -> Result<Vec<ImagePrediction>> {
    let post = PostProcess {
        classifier_threshold: Some(gate),
        ..PostProcess::default()
    };
    predictions
        .into_iter()
        .map(|p| {
            Ok(if post.is_gated(p.probability.view(), Some(p.score()))? {
                ImagePrediction {
                    probability: p.probability.mapv(|_| 0.0),
                    ..p
                }
            } else {
                p
            })
        })
        .collect()
}

/// The predictions thresholded at `t` (as 0/1 probabilities, so that the 0.5 of the scores
/// keeps them).
fn at_threshold(predictions: &[ImagePrediction], t: f32) -> Vec<ImagePrediction> {
    predictions
        .iter()
        .map(|p| ImagePrediction {
            probability: p.probability.mapv(|v| if v > t { 1.0 } else { 0.0 }),
            ..p.clone()
        })
        .collect()
}

fn adam(lr: f64) -> OptimizerConfig {
    OptimizerConfig::Adam {
        lr,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weight_decay: 0.0,
    }
}
