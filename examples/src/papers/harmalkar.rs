//! Harmalkar et al., "Detection and Segmentation of Pneumothorax from Chest X-ray Images": a
//! ResNet34 U-Net whose encoder is first pre-trained as a classifier on a hospital-scale chest
//! X-ray set (ChestX-ray14): on its pneumothorax labels, and on pseudo-labels from clustering
//! auto-encoder and beta-VAE codes of its images (PCA, then DBSCAN into 14 clusters); then
//! trained for segmentation on SIIM (Table 1: Dice).
//!
//! The protocol as the paper's: SIIM's test part is 1,159 images held out of every fold ("a
//! training subset was used as the test set (N=1159)"); the segmentation epoch is chosen on a
//! validation fold of the rest and Dice reported on the test part. Pre-training on
//! ChestX-ray14 (`--pretrain-data`, its `images/` and `Data_Entry_2017.csv`; without it a
//! synthetic stand-in in that layout): 10,000 images to train and 1,000 to evaluate, the
//! classifier of the labels sampling pneumothorax images up (a weighted sampler), the
//! pseudo-label classifier sampling every image alike; the auto-encoders train on the
//! pre-training images only. Training as the paper: segmentation with the cited kernel's
//! `10 * focal - log(dice)`, Adam 1e-4, batch 8, 512 px, flips and affine transforms;
//! classifiers with cross-entropy, SGD 1e-3 with momentum 0.9, learning rate x0.1 after 5
//! epochs without a lower validation loss, trained until the validation loss stops falling.

use std::path::{Path, PathBuf};

use std::time::Duration;

use anyhow::{bail, Context, Result};
use ptx_io::folds::{stratified_holdout, stratified_k_fold, write_folds_csv, FoldRow, Split};
use ptx_io::nih::{read_entries, write_synthetic};
use ptx_losses::{Combined, EmptyTargets, Focal, Loss, Overlap};
use ptx_models::{ClassifierOptions, EncoderName, ModelConfig, Part, UnetConfig};
use ptx_preproc::{ChannelStack, Preset};
use ptx_train::{
    Augmentation, DataConfig, Dataset, EarlyStop, Experiment, FitReport, Folds, Holdout, InitFrom,
    LossConfig, Monitor, OptimizerConfig, Sampling, ScheduleConfig, ScheduleKind, Truth,
};

use crate::args::{CommonArgs, Scale, Scales, Settings};
use crate::cluster::{dbscan_into, pca};
use crate::eval::Part as Scored;
use crate::latent::{encode_all, train as train_latent, LatentOptions};
use crate::papers::{base_experiment, discard, Plan, Run};
use crate::table::{num, Results, Table};

/// The paper's scale: 512 px, batch 8 (epochs are not given; 30 here).
pub const FULL: Scale = Scale {
    epochs: 30,
    size: 512,
    batch_size: 8,
    images: 0,
};

/// The default synthetic run: 128 images (SIIM-shaped lesions four times larger), 64 px,
/// batch 8, 5 epochs per run.
pub const SMALL: Scale = Scale {
    epochs: 5,
    size: 64,
    batch_size: 8,
    images: 128,
};

/// The `--quick` run: 96 images, 64 px, batch 8, 3 epochs per run.
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
/// synthetic run (`cargo run --release -p ptx-examples --example harmalkar_pretraining`: 346 s
/// for 14 training runs on 2 cores, README).
pub const PLAN: Plan<'static> = Plan {
    example: "harmalkar_pretraining",
    scales: &SCALES,
    per_run: Duration::from_millis(24714),
};

/// Pseudo-label clusters (the paper's 14, the number of ChestX-ray14's classes).
pub const CLUSTERS: usize = 14;

/// SIIM images held out for the test ("N=1159" of 12,047).
pub const TEST_IMAGES: usize = 1159;

/// Epochs of the auto-encoder and the beta-VAE at the paper's scale ("trained for over 50
/// epochs until loss convergence").
pub const LATENT_EPOCHS: usize = 50;

/// ChestX-ray14 images of the pre-training: 10,000 to train, 1,000 to evaluate.
pub const PRETRAIN_IMAGES: (usize, usize) = (10_000, 1_000);

/// Table 1's rows with the paper's Dice (in %).
pub const ROWS: [(&str, f64); 3] = [
    ("No additional pretrain", 71.6),
    ("Pretrain with labels", 76.4),
    ("Pretrain with psuedo-labels", 75.8),
];

/// The paper's Table 1.
pub fn paper_table() -> Table {
    let mut t = Table::new(
        "Table 1: Segmentation performance of models with different pre-training (paper)",
        &["Model", "Dice score"],
    );
    for (name, d) in ROWS {
        t.row(vec![name.into(), format!("{d:.1}")]);
    }
    t
}

/// Which codes the pseudo-labels cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Latent {
    /// The plain auto-encoder (BCE).
    Ae,
    /// The beta-VAE (ELBO with beta = 4).
    Vae,
}

impl Latent {
    /// Both, as the paper trains both.
    pub const BOTH: [Latent; 2] = [Latent::Ae, Latent::Vae];

    fn name(self) -> &'static str {
        match self {
            Latent::Ae => "ae",
            Latent::Vae => "vae",
        }
    }
}

fn unet(classes: Option<i64>) -> ModelConfig {
    let mut u = UnetConfig::with_encoder(EncoderName::Resnet34);
    u.classifier = classes.map(|classes| ClassifierOptions {
        classes,
        ..ClassifierOptions::default()
    });
    ModelConfig::Unet(u)
}

fn common(exp: &mut Experiment) {
    exp.input.channels = ChannelStack::replicate(3);
    exp.input.augmentation = Augmentation::Preset(Preset::Harmalkar);
}

/// The segmentation loss: the cited kernel's (Agrahari's UNet with ResNet34 encoder)
/// `MixedLoss(alpha=10, gamma=2)`: `10 * focal - log(dice)`, the focal loss without class
/// weights, the kernel's `dice_loss` over the batch: `(2 I + 1) / (sum p + sum t + 1)`
/// (`smooth = 1.` there; ptx's [`Overlap`] adds `2 smooth` above and below, hence 0.5), an
/// all-empty batch scored like any other (`-log(1 / (sum p + 1))`, not 0).
pub fn loss() -> Combined {
    Combined::single(Loss::Focal(Focal::default()))
        .terms
        .into_iter()
        .map(|t| (10.0, t.loss))
        .chain(std::iter::once((
            1.0,
            Loss::Dice(Overlap {
                smooth: 0.5,
                log_loss: true,
                empty_targets: EmptyTargets::Keep,
                ..Overlap::default()
            }),
        )))
        .fold(Combined::default(), |c, (w, l)| c.with(w, l))
}

/// A classifier pre-training run on ChestX-ray14: cross-entropy over `classes`, SGD 1e-3
/// momentum 0.9, plateau x0.1 after 5 epochs, early stopping on the validation loss,
/// `sampling` (the weighted sampler for the labels, every image alike for pseudo-labels).
fn classifier_experiment(
    name: &str,
    data: &DataConfig,
    classes: i64,
    sampling: Sampling,
    s: &Settings,
    args: &CommonArgs,
    init: Vec<InitFrom>,
) -> Experiment {
    let mut e = base_experiment(name, data, unet(Some(classes)), s, args);
    common(&mut e);
    e.loss = LossConfig::Classification {
        loss: Default::default(),
    };
    e.data.sampling = sampling;
    e.optimizer = OptimizerConfig::Sgd {
        lr: 1e-3,
        momentum: 0.9,
        nesterov: false,
        weight_decay: 0.0,
    };
    e.schedule = ScheduleConfig {
        kind: ScheduleKind::Plateau {
            factor: 0.1,
            patience: 5,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
        },
        ..ScheduleConfig::default()
    };
    e.train.monitor = Monitor::ValLoss;
    // "The network was trained until convergence": until 10 epochs bring no lower loss.
    e.train.early_stopping = Some(EarlyStop {
        patience: 10,
        min_delta: 0.0,
    });
    e.init = init;
    e
}

/// The pre-training images: ChestX-ray14's layout (`images/` and its label file), the label
/// file of the chosen images (`ImageId,class`, 1 for pneumothorax) and their data section
/// (11 folds: a tenth, 1,000 of 11,000, evaluates). The folds come from one file written with
/// the labels, so that the label classifier, the auto-encoders and the pseudo-label
/// classifiers all hold out the same images (a split drawn per labels file would stratify the
/// pseudo-label classifiers' folds by cluster, and their validation images would be the
/// auto-encoders' training images).
#[derive(Debug, Clone)]
pub struct Pretraining {
    /// The ChestX-ray14 folder's label file.
    pub entries: PathBuf,
    /// The chosen images with their label (the labels file is written before training).
    pub data: DataConfig,
    /// How many images are chosen.
    pub count: usize,
}

/// Where the pre-training data is: `--pretrain-data`, or a synthetic stand-in written under
/// `out` (as many images as the SIIM set, half with a pneumothorax).
fn pretraining(args: &CommonArgs, s: &Settings) -> Result<Pretraining> {
    let (root, entries) = match &args.pretrain_data {
        Some(dir) => {
            let entries = ["Data_Entry_2017.csv", "Data_Entry_2017_v2020.csv"]
                .iter()
                .map(|f| dir.join(f))
                .find(|p| p.is_file())
                .with_context(|| format!("{}: no Data_Entry_2017.csv", dir.display()))?;
            if !dir.join("images").is_dir() {
                bail!("{}: no images/ folder", dir.display());
            }
            (dir.clone(), entries)
        }
        None => {
            let dir = s.out.join("chestxray14-synthetic");
            (dir.clone(), dir.join("Data_Entry_2017.csv"))
        }
    };
    let count = if args.pretrain_data.is_some() {
        PRETRAIN_IMAGES.0 + PRETRAIN_IMAGES.1
    } else {
        s.images
    };
    let mut data = DataConfig::new(root.join("images"), Truth::None);
    data.labels = Some(s.out.join("pretrain-labels.csv"));
    data.folds = Folds::new(11, 0)?.from_file(s.out.join("pretrain-folds.csv"));
    Ok(Pretraining {
        entries,
        data,
        count,
    })
}

/// Writes the stand-in (when there is no `--pretrain-data`) and the chosen images' labels.
fn write_pretraining_labels(p: &Pretraining, args: &CommonArgs, s: &Settings) -> Result<()> {
    if args.pretrain_data.is_none() && !p.entries.is_file() {
        let dir = p.entries.parent().unwrap_or(&s.out);
        let summary = write_synthetic(
            dir,
            // ChestX-ray14 has 4.7 % pneumothorax images; a small stand-in keeps a quarter
            // so that its label pre-training has positives to learn from (the other 13
            // findings follow the real file's shares). Its own seed, apart from the SIIM
            // sets' (`--seeds` runs seed, seed + 1, ...).
            &crate::data::synthetic(
                p.count,
                (s.size * 2).max(128),
                args.seed.wrapping_add(1_000),
                Some(0.25),
            ),
        )?;
        eprintln!(
            "wrote a synthetic ChestX-ray14 stand-in: {} images ({} pneumothorax) in {}",
            summary.count,
            summary.pneumothorax,
            dir.display()
        );
    }
    let mut entries = read_entries(&p.entries)?;
    // The paper's 11,000 of 112,120, drawn under the seed (stratified by the pneumothorax
    // label, so their share is the whole set's).
    if p.count < entries.len() {
        let positive: Vec<bool> = entries.iter().map(|e| e.has("Pneumothorax")).collect();
        let chosen = stratified_holdout(&positive, p.count, args.seed)?;
        let mut keep = chosen.into_iter();
        entries.retain(|_| keep.next().unwrap_or(false));
    }
    let positive: Vec<bool> = entries.iter().map(|e| e.has("Pneumothorax")).collect();
    let labels = p.data.labels.as_ref().context("pre-training labels")?;
    ptx_io::write_atomic(labels, |f| {
        writeln!(f, "ImageId,class")?;
        for (e, &positive) in entries.iter().zip(&positive) {
            writeln!(f, "{},{}", e.image_id(), u8::from(positive))?;
        }
        Ok(())
    })?;
    let folds = stratified_k_fold(&positive, p.data.folds.count(), args.seed)?;
    let rows: Vec<FoldRow> = entries
        .iter()
        .zip(positive)
        .zip(folds)
        .map(|((e, label), fold)| FoldRow {
            image_id: e.image_id().to_string(),
            label,
            fold: Split::Fold(fold),
        })
        .collect();
    let file = p.data.folds.file().context("pre-training folds")?;
    write_folds_csv(file, &rows)?;
    Ok(())
}

/// The protocol's data and runs.
#[derive(Debug, Clone)]
pub struct Protocol {
    /// The pre-training images.
    pub pretraining: Pretraining,
    /// The classifier of the labels.
    pub labels: Run,
    /// The classifier of each latent's pseudo-labels, with the labels file it reads.
    pub pseudo: Vec<(Latent, Run)>,
    /// Table 1's segmentation runs with their row names.
    pub segmentation: Vec<(String, Run)>,
}

/// Every run of the protocol.
///
/// # Errors
/// Data, weights.
pub fn experiments(args: &CommonArgs) -> Result<Protocol> {
    let s = args.settings(PLAN.example, &SCALES);
    let synth = crate::data::synthetic(s.images, (s.size * 2).max(128), args.seed, None);
    let mut data = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    data.holdout = Some(if s.synthetic {
        Holdout::Fraction(TEST_IMAGES as f64 / 12_047.0)
    } else {
        Holdout::Count(TEST_IMAGES)
    });
    let imagenet = args.pretrained(EncoderName::Resnet34)?;
    let runs = s.out.join("runs");
    let pretraining = pretraining(args, &s)?;
    let labels = Run::new(
        &runs,
        classifier_experiment(
            "classifier-labels",
            &pretraining.data,
            2,
            Sampling::ClassBalanced,
            &s,
            args,
            imagenet.clone(),
        ),
    );
    let pseudo: Vec<(Latent, Run)> = Latent::BOTH
        .iter()
        .map(|&latent| {
            let mut d = pretraining.data.clone();
            d.labels = Some(pseudo_labels_file(&s.out, latent));
            let e = classifier_experiment(
                &format!("classifier-pseudo-labels-{}", latent.name()),
                &d,
                CLUSTERS as i64,
                Sampling::All,
                &s,
                args,
                imagenet.clone(),
            );
            (latent, Run::new(&runs, e))
        })
        .collect();
    let encoder_of = |run: &Run| {
        vec![InitFrom {
            parts: vec![Part::Encoder],
            ..InitFrom::new(&run.dir)
        }]
    };
    let mut rows = vec![
        (ROWS[0].0.to_string(), imagenet.clone()),
        (ROWS[1].0.to_string(), encoder_of(&labels)),
    ];
    for (latent, run) in &pseudo {
        rows.push((
            format!("{} ({})", ROWS[2].0, latent_title(*latent)),
            encoder_of(run),
        ));
    }
    let segmentation = rows
        .into_iter()
        .enumerate()
        .map(|(i, (name, init))| {
            let mut e = base_experiment(&format!("segmentation-{i}"), &data, unet(None), &s, args);
            common(&mut e);
            e.loss = LossConfig::Segmentation {
                loss: loss(),
                classification: None,
            };
            e.optimizer = OptimizerConfig::Adam {
                lr: 1e-4,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.0,
            };
            e.train.monitor = Monitor::ValDice;
            e.init = init;
            (name, Run::new(&runs, e))
        })
        .collect();
    Ok(Protocol {
        pretraining,
        labels,
        pseudo,
        segmentation,
    })
}

fn latent_title(latent: Latent) -> &'static str {
    match latent {
        Latent::Ae => "AE",
        Latent::Vae => "β-VAE",
    }
}

fn pseudo_labels_file(out: &Path, latent: Latent) -> PathBuf {
    out.join(format!("pseudo-labels-{}.csv", latent.name()))
}

/// The validation accuracy at the best epoch of a fit.
fn best_accuracy(fit: &FitReport) -> Option<f64> {
    let (epoch, _) = fit.best?;
    epoch
        .checked_sub(1)
        .and_then(|i| fit.history.get(i))
        .and_then(|r| r.val_accuracy)
}

/// Runs the pre-training (labels, and pseudo-labels of both latents) and the segmentation
/// models, and returns Table 1 and the pre-training accuracies.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs) -> Result<Results> {
    let s = args.settings(PLAN.example, &SCALES);
    let p = experiments(args)?;
    if let Some(note) = args.init_note(&[EncoderName::Resnet34]) {
        eprintln!("{note}");
    }
    write_pretraining_labels(&p.pretraining, args, &s)?;
    let labels_fit = p.labels.fit(args)?;
    let mut pre = Table::new(
        "Pre-training classification accuracy on the pre-training images' validation fold",
        &["Pre-training", "Classes", "Accuracy [%]", "Paper [%]"],
    );
    pre.row(vec![
        "Labels (pneumothorax or not)".into(),
        "2".into(),
        num(best_accuracy(&labels_fit).map(|a| a * 100.0), 2),
        "77".into(),
    ]);
    let mut descriptions = Vec::new();
    for (latent, run) in &p.pseudo {
        let (k, description) = pseudo_labels(&p.pretraining.data, &s, args, *latent)?;
        descriptions.push(description);
        let fitted = run.fit(args)?;
        pre.row(vec![
            format!(
                "Pseudo-labels ({} codes, PCA + DBSCAN)",
                latent_title(*latent)
            ),
            k.to_string(),
            num(best_accuracy(&fitted).map(|a| a * 100.0), 2),
            "31.91".into(),
        ]);
    }
    let mut table = Table::new(
        "Table 1: Segmentation performance of models with different pre-training (this run)",
        &["Model", "Dice score"],
    );
    for (name, run) in &p.segmentation {
        let scores = run.fit_and_score(args, Scored::Test)?;
        discard(args, std::slice::from_ref(&run.dir))?;
        table.row(vec![
            name.clone(),
            num(Some(scores.metrics.dice * 100.0), 1),
        ]);
    }
    let classifiers: Vec<PathBuf> = std::iter::once(p.labels.dir.clone())
        .chain(p.pseudo.iter().map(|(_, r)| r.dir.clone()))
        .collect();
    discard(args, &classifiers)?;
    let results = Results {
        heading: "Harmalkar et al.: pre-training the encoder (Table 1)".into(),
        note: format!(
            "Dice score: the challenge's mean Dice (%) on the held-out test part ({} of the SIIM images; the epoch chosen on a validation fold of the rest) at {} px, pixel threshold 0.5. Pre-training on {} ({} images, a tenth evaluating). {} {} epochs per segmentation run, batch {}. Pseudo-labels: {}.",
            if s.synthetic { "the paper's share".to_string() } else { TEST_IMAGES.to_string() },
            s.size,
            if args.pretrain_data.is_some() { "ChestX-ray14" } else { "a synthetic stand-in in ChestX-ray14's layout" },
            p.pretraining.count,
            if s.synthetic { "Synthetic run (lesions four times SIIM's areas), not the paper's data:" } else { "SIIM data:" },
            s.epochs,
            s.batch_size,
            descriptions.join("; ")
        ),
        tables: vec![("table1".into(), table), ("pretraining".into(), pre)],
        paper: vec![paper_table()],
    };
    results.write(&s.out)?;
    Ok(results)
}

/// Every run's experiment (`--print-config`).
///
/// # Errors
/// Data, weights.
pub fn runs(args: &CommonArgs) -> Result<Vec<Run>> {
    let p = experiments(args)?;
    Ok(std::iter::once(p.labels)
        .chain(p.pseudo.into_iter().map(|(_, r)| r))
        .chain(p.segmentation.into_iter().map(|(_, r)| r))
        .collect())
}

/// How the pseudo-labels are made: the auto-encoder (its options and square input side),
/// the PCA components its codes are reduced to and the clusters DBSCAN aims at. With
/// `--print-config`, written beside the experiments as `pseudo-labels-<ae|vae>.json`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PseudoLabelling {
    /// The AE (no beta) or beta-VAE.
    pub latent: LatentOptions,
    /// Input side, pixels.
    pub side: usize,
    /// PCA components of the codes.
    pub pca_components: usize,
    /// Clusters aimed at (a run on a small set aims at no more than one per two images).
    pub clusters: usize,
}

/// The pseudo-labelling of `latent` at settings `s` (see [`PseudoLabelling`]).
pub fn pseudo_labelling(s: &Settings, seed: u64, latent: Latent) -> PseudoLabelling {
    PseudoLabelling {
        latent: LatentOptions {
            // "a VAE (β-VAE with ELBO loss)": the paper gives no β; 4 here
            beta: match latent {
                Latent::Ae => None,
                Latent::Vae => Some(4.0),
            },
            // "The network was trained for over 50 epochs until loss convergence."
            epochs: if s.synthetic {
                s.epochs.max(5)
            } else {
                LATENT_EPOCHS
            },
            seed,
            ..LatentOptions::default()
        },
        side: (s.size / 16 * 16).clamp(16, 256),
        pca_components: 8,
        clusters: CLUSTERS,
    }
}

/// Writes every run's experiment and each pseudo-labelling (`--print-config DIR`).
///
/// # Errors
/// Data, weights; files that cannot be written.
pub fn print_config(args: &CommonArgs, dir: &std::path::Path) -> Result<()> {
    crate::papers::print_config(&runs(args)?, dir)?;
    let s = args.settings(PLAN.example, &SCALES);
    for latent in Latent::BOTH {
        let path = dir.join(format!("pseudo-labels-{}.json", latent.name()));
        let text = serde_json::to_string_pretty(&pseudo_labelling(&s, args.seed, latent))?;
        ptx_io::write_atomic(&path, |f| f.write_all(text.as_bytes()))?;
    }
    Ok(())
}

/// Trains the latent model on the pre-training images of the training folds (never their
/// validation fold), clusters the codes of every pre-training image and writes the
/// pseudo-labels file. Returns the number of clusters and a description.
fn pseudo_labels(
    data: &DataConfig,
    s: &Settings,
    args: &CommonArgs,
    latent: Latent,
) -> Result<(usize, String)> {
    let dataset = Dataset::open(data, args.seed)?;
    let all: Vec<usize> = (0..dataset.samples().len()).collect();
    let training = dataset.split(data.folds.validation(), false, false);
    let PseudoLabelling {
        latent: options,
        side,
        pca_components,
        ..
    } = pseudo_labelling(s, args.seed, latent);
    let pipeline = ptx_preproc::Pipeline {
        size: Some((side, side)),
        channels: ChannelStack::replicate(1),
        ..ptx_preproc::Pipeline::default()
    };
    eprintln!(
        "== {latent:?} on {} pre-training images at {side} px, {} epochs",
        training.len(),
        options.epochs
    );
    let device = args.device.device()?;
    let (model, _vs) = train_latent(
        dataset.source(&training)?,
        pipeline.clone(),
        &options,
        device,
        args.threads,
    )?;
    let (codes, kept) = encode_all(&model, dataset.source(&all)?, pipeline, args.threads)?;
    let components = pca_components.min(codes.ncols());
    let projected = pca(&codes, components)?;
    let min_samples = (kept.len() / 40).clamp(2, 5);
    // The paper's 14 clusters; a small set gets at most one cluster per two images.
    let target = CLUSTERS.min(kept.len() / 2).max(2);
    let (labels, k, eps) = dbscan_into(&projected, target, min_samples)?;
    let path = pseudo_labels_file(&s.out, latent);
    ptx_io::write_atomic(&path, |f| {
        writeln!(f, "ImageId,class")?;
        for (&i, l) in kept.iter().zip(&labels) {
            writeln!(f, "{},{l}", dataset.samples()[i].image_id)?;
        }
        Ok(())
    })?;
    let losses = model
        .losses
        .iter()
        .map(|l| format!("{l:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    Ok((
        k,
        format!(
            "{} codes ({} dims, loss per epoch {losses}), PCA to {components}, DBSCAN eps {eps:.3} min_samples {min_samples}: {k} clusters, noise given its nearest cluster",
            latent_title(latent),
            options.latent
        ),
    ))
}
