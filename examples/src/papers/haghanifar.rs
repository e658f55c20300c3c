//! Haghanifar et al., "Automated Pneumothorax Segmentation ... CheXNet as the Backbone for
//! Two-stage U-Net": stage 1 is a U-Net with a DenseNet121 (CheXNet) encoder and a
//! classification head trained multi-task, whose score decides which images go to stage 2, a
//! U-Net with an SE-ResNeXt50 encoder trained on positive images in k folds; the top 3 fold
//! models are averaged (SWA) and the pixel threshold is chosen by IoU.
//!
//! This example compares the three freezing modes of the classifier's backbone (trainable,
//! all but the last block, frozen) by F2, prints the chosen classifier's confusion matrix
//! (Table 1) and the system's validation Dice (the paper's Table 2 row "Proposed method").
//! Input: raw + AHE + CLAHE channels, the paper's augmentation list, Adam with cosine
//! annealing, weighted BCE (background 0.01) for stage 1's segmentation branch, BCE + Dice for
//! stage 2.

use std::path::PathBuf;

use anyhow::{Context, Result};
use ptx_io::synth::SynthOptions;
use ptx_losses::Combined;
use ptx_metrics::PostProcess;
use ptx_models::{ClassifierOptions, EncoderName, Freeze, FreezeSchedule, ModelConfig, UnetConfig};
use ptx_preproc::{Loader, LoaderOptions, Preset};
use ptx_train::{
    best_f2_threshold, swa, Augmentation, CrossValidation, Dataset, Experiment, Folds,
    ImagePrediction, LossConfig, Monitor, OptimizerConfig, Resume, System, SystemConfig,
};

use crate::args::{CommonArgs, Scale};
use crate::eval::{iou_threshold_search, Scores};
use crate::papers::{base_experiment, discard, fit, viel::cosine};
use crate::table::{num, write_results, Table};

/// The paper's scale: 256 px (the paper found no difference from 512), batch 16, 40 epochs
/// per run, 5 folds.
pub const FULL: Scale = Scale {
    epochs: 40,
    size: 256,
    batch_size: 16,
    images: 0,
};

/// The small synthetic run: 96 images, 64 px, batch 8, 3 epochs per run, 3 folds.
pub const SMALL: Scale = Scale {
    epochs: 3,
    size: 64,
    batch_size: 8,
    images: 96,
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
        "Table 1: Confusion matrix of the proposed stage-one classifier (paper)",
        &["Actual \\ Predicted", "Non-pneumothorax", "Pneumothorax"],
    );
    t1.row(vec!["Non-pneumothorax".into(), "1786".into(), "88".into()]);
    t1.row(vec!["Pneumothorax".into(), "52".into(), "484".into()]);
    let mut t2 = Table::new(
        "Table 2: Comparison between published models (paper, its own row)",
        &[
            "Developed system",
            "Network Type",
            "DSC on Validation",
            "DSC on Public Board",
            "DSC on Private Board",
        ],
    );
    t2.row(vec![
        "Proposed method".into(),
        "Single".into(),
        "0.6450".into(),
        "0.8987".into(),
        "0.8410".into(),
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

/// Runs the freezing comparison, the stage-2 folds, SWA and the threshold search; returns
/// the freezing table, the confusion matrix (Table 1) and the Table 2 rows of this run.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs) -> Result<Vec<Table>> {
    let s = args.settings("haghanifar_two_stage", FULL, SMALL);
    let synth = SynthOptions {
        count: s.images,
        size: (s.size * 2).max(128),
        seed: args.seed,
        positive_share: 0.35,
        ..SynthOptions::default()
    };
    let mut data = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    data.folds = Folds::new(if s.synthetic { 3 } else { 5 }, 0)?;
    let chexnet = args.pretrained(EncoderName::Densenet121)?;
    let seresnext = args.pretrained(EncoderName::SeResnext50)?;
    if let Some(note) = args.init_note(&[EncoderName::Densenet121, EncoderName::SeResnext50]) {
        eprintln!("{note}");
    }
    let runs = s.out.join("runs");

    // Stage 1: DenseNet121 U-Net + classifier, multi-task, in three freezing modes.
    let mut modes = Table::new(
        "Stage-one backbone freezing (this run)",
        &["Backbone", "F2", "Threshold", "Best epoch"],
    );
    let mut best: Option<(f64, f64, PathBuf, Experiment)> = None;
    for (i, (freeze, name)) in MODES.iter().enumerate() {
        let mut u = UnetConfig::with_encoder(EncoderName::Densenet121);
        u.classifier = Some(ClassifierOptions::default());
        let mut e = base_experiment(
            &format!("stage1-{i}"),
            &data,
            ModelConfig::Unet(u),
            &s,
            args,
        );
        e.input.augmentation = Augmentation::Preset(Preset::Haghanifar);
        e.loss = LossConfig::segmentation(Combined::weighted_bce(), 1.0)?;
        e.optimizer = adam(3e-4);
        e.schedule = cosine(s.epochs, 0.0);
        e.train.monitor = Monitor::ValF2;
        e.train.freeze = Some(FreezeSchedule {
            freeze: freeze.clone(),
            epochs: usize::MAX,
        });
        e.init = chexnet.clone();
        let fitted = fit(e.clone(), &runs.join(format!("stage1-{i}")), args)?;
        let record = fitted
            .best
            .and_then(|(epoch, _)| fitted.history.get(epoch - 1).cloned())
            .context("stage 1 kept no epoch")?;
        let f2 = record.val_f2.unwrap_or(f64::NAN);
        modes.row(vec![
            name.to_string(),
            num(Some(f2), 4),
            num(record.f2_threshold, 3),
            record.epoch.to_string(),
        ]);
        if best.as_ref().is_none_or(|b| f2 > b.0) {
            let threshold = record.f2_threshold.unwrap_or(0.5);
            best = Some((f2, threshold, fitted.final_dir.clone(), e));
        }
    }
    let (_, _, classifier_dir, stage1) = best.context("no stage-1 run")?;

    // Stage 2: SE-ResNeXt50 U-Net on positives, k folds.
    let mut u = UnetConfig::with_encoder(EncoderName::SeResnext50);
    u.decoder.dropout = 0.2;
    let mut e2 = base_experiment("stage2", &data, ModelConfig::Unet(u), &s, args);
    e2.input.augmentation = Augmentation::Preset(Preset::Haghanifar);
    e2.data.positives_only = true;
    e2.loss = LossConfig::segmentation(Combined::bce_dice(), 0.0)?;
    e2.optimizer = adam(3e-4);
    e2.schedule = cosine(s.epochs, 0.0);
    e2.train.monitor = Monitor::ValDice;
    e2.init = seresnext;
    let resume = if args.resume {
        Resume::IfPresent
    } else {
        Resume::Never
    };
    eprintln!("== stage 2: {} folds", data.folds.count());
    let cv = CrossValidation {
        experiment: e2.clone(),
        grid: Default::default(),
        hflip: false,
    }
    .run(&runs.join("stage2-cv"), resume, args.threads)?;
    let mut ranked: Vec<(f64, PathBuf)> = cv
        .folds
        .iter()
        .filter_map(|f| Some((f.best?.1, f.final_dir.clone())))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top: Vec<PathBuf> = ranked.iter().take(3).map(|(_, d)| d.clone()).collect();
    let device = args.device.device()?;
    let averaged = swa::average(&top, device)?;
    let dataset = Dataset::open(&e2.data, e2.seed)?;
    let positives: Vec<usize> = (0..dataset.samples().len())
        .filter(|&i| dataset.samples()[i].positive)
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

    // The system on stage 1's validation fold: classifier gate at its F2 threshold, the pixel
    // threshold with the best IoU.
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
        let (scores, gate) = system_scores(&stage1, &classifier_dir, &segmenter, args)?;
        if confusion.is_none() {
            confusion = Some(scores.confusion(gate)?);
        }
        let thresholds: Vec<f32> = (1..20).map(|i| i as f32 / 20.0).collect();
        let (t, iou) = iou_threshold_search(&scores.predictions, &thresholds)?;
        let at_t: Vec<ImagePrediction> = scores
            .predictions
            .iter()
            .map(|p| ImagePrediction {
                probability: p.probability.mapv(|v| if v > t { 1.0 } else { 0.0 }),
                ..p.clone()
            })
            .collect();
        let dice = Scores::of(at_t)?.metrics.dice;
        rows.push(vec![
            label.to_string(),
            "Single".into(),
            num(Some(dice), 4),
            format!("IoU {iou:.4} at pixel threshold {t:.2}"),
        ]);
    }
    let mut done: Vec<PathBuf> = (0..MODES.len())
        .map(|i| runs.join(format!("stage1-{i}")))
        .collect();
    done.extend((0..data.folds.count()).map(|f| runs.join("stage2-cv").join(format!("fold-{f}"))));
    discard(args, &done)?;
    let c = confusion.context("no validation image")?;
    let mut t1 = Table::new(
        "Table 1: Confusion matrix of the stage-one classifier on the validation fold (this run)",
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
        "Table 2: the proposed method's row (this run)",
        &[
            "Developed system",
            "Network Type",
            "DSC on Validation",
            "Threshold search",
        ],
    );
    for r in rows {
        t2.row(r);
    }
    write_results(
        &s.out,
        "Haghanifar et al.: two-stage CheXNet + SE-ResNeXt50 system",
        &format!(
            "Validation fold 0 of {} at {} px. F2: the best image-level F2 of the classifier head over thresholds; the confusion matrix uses the best freezing mode at its F2 threshold. DSC on validation: the challenge's mean Dice of the two-stage system (classifier gate at that threshold, pixel threshold chosen for the best mean IoU). The SWA row averages fold models that trained on the other folds, which include fold 0's images: read the fold-0 row as the clean number. {} {} epochs per run, batch {}.",
            data.folds.count(),
            s.size,
            if s.synthetic { "Small synthetic run, not the paper's data:" } else { "SIIM data:" },
            s.epochs,
            s.batch_size
        ),
        &[("freezing", &modes), ("table1", &t1), ("table2", &t2)],
        &paper_tables(),
    )?;
    Ok(vec![modes, t1, t2])
}

fn adam(lr: f64) -> OptimizerConfig {
    OptimizerConfig::Adam {
        lr,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weight_decay: 0.0,
    }
}

/// The two-stage system's validation predictions (stage 1's validation fold) with
/// probabilities zeroed where the classifier's score is below its F2 threshold, and that
/// threshold.
fn system_scores(
    stage1: &Experiment,
    classifier: &std::path::Path,
    segmenter: &std::path::Path,
    args: &CommonArgs,
) -> Result<(Scores, f64)> {
    let device = stage1.train.device.device()?;
    let system = System::new(
        SystemConfig {
            classifier: vec![classifier.to_path_buf()],
            segmenter: vec![segmenter.to_path_buf()],
            input: stage1.input.clone(),
            hflip: false,
            postprocess: Default::default(),
            batch_size: stage1.train.batch_size,
        },
        device,
    )?;
    let dataset = Dataset::open(&stage1.data, stage1.seed)?;
    let val = dataset.split(stage1.data.folds.validation(), true, false);
    let (predictions, _) = system.probabilities(dataset.source(&val)?, args.threads)?;
    let (threshold, _) = best_f2_threshold(&predictions)?;
    let gate = PostProcess {
        classifier_threshold: Some(threshold),
        ..PostProcess::default()
    };
    let gated = predictions
        .into_iter()
        .map(|p| {
            Ok(if gate.is_gated(p.probability.view(), Some(p.score()))? {
                ImagePrediction {
                    probability: p.probability.mapv(|_| 0.0),
                    ..p
                }
            } else {
                p
            })
        })
        .collect::<Result<_>>()?;
    Ok((Scores::of(gated)?, threshold))
}
