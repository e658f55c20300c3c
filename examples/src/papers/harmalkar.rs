//! Harmalkar et al., "Detection and Segmentation of Pneumothorax from Chest X-ray Images": a
//! ResNet34 U-Net whose encoder is first pre-trained as a classifier, on image labels and on
//! pseudo-labels from clustering auto-encoder / beta-VAE codes (PCA, then DBSCAN into 14
//! clusters), then trained for segmentation (Table 1: Dice).
//!
//! Training as the paper: segmentation with focal + Dice, Adam 1e-4, batch 8, 512 px, flips
//! and affine transforms; classifier pre-training with a class-balanced weighted sampler,
//! SGD 1e-3 with momentum 0.9, learning rate x0.1 after 5 epochs without a lower validation
//! loss. The paper pre-trains on ChestX-ray14 (not available here): the classifier runs use
//! the same images as segmentation (`--data`), their labels or the pseudo-labels.

use std::path::{Path, PathBuf};

use anyhow::Result;
use ptx_io::synth::SynthOptions;
use ptx_losses::Combined;
use ptx_models::{ClassifierOptions, EncoderName, ModelConfig, Part, UnetConfig, WeightSource};
use ptx_preproc::{ChannelStack, Preset};
use ptx_train::{
    Augmentation, Dataset, Experiment, FitReport, InitFrom, LossConfig, Monitor, OptimizerConfig,
    Sampling, ScheduleConfig, ScheduleKind,
};

use crate::args::{CommonArgs, Scale, Settings};
use crate::cluster::{dbscan_into, pca};
use crate::eval::evaluate;
use crate::latent::{encode_all, train as train_latent, LatentOptions};
use crate::papers::{base_experiment, discard, fit};
use crate::table::{num, write_results, Table};

/// The paper's scale: 512 px, batch 8 (epochs are not given; 30 here).
pub const FULL: Scale = Scale {
    epochs: 30,
    size: 512,
    batch_size: 8,
    images: 0,
};

/// The small synthetic run: 96 images, 64 px, batch 8, 3 epochs per run.
pub const SMALL: Scale = Scale {
    epochs: 3,
    size: 64,
    batch_size: 8,
    images: 96,
};

/// Pseudo-label clusters (the paper's 14, the number of ChestX-ray14's classes).
pub const CLUSTERS: usize = 14;

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

fn unet(classes: i64, settings_classifier: bool) -> ModelConfig {
    let mut u = UnetConfig::with_encoder(EncoderName::Resnet34);
    if settings_classifier {
        u.classifier = Some(ClassifierOptions {
            classes,
            ..ClassifierOptions::default()
        });
    }
    ModelConfig::Unet(u)
}

fn common(exp: &mut Experiment) {
    exp.input.channels = ChannelStack::replicate(3);
    exp.input.augmentation = Augmentation::Preset(Preset::Harmalkar);
}

/// A classifier pre-training run: SGD 1e-3 momentum 0.9, plateau x0.1 after 5, weighted
/// sampler, the classification objective.
fn classifier_experiment(
    name: &str,
    data: &ptx_train::DataConfig,
    classes: i64,
    s: &Settings,
    args: &CommonArgs,
    init: Vec<InitFrom>,
) -> Experiment {
    let mut e = base_experiment(name, data, unet(classes, true), s, args);
    common(&mut e);
    e.loss = LossConfig::Classification {
        loss: Default::default(),
    };
    e.data.sampling = Sampling::ClassBalanced;
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
    e.init = init;
    e
}

/// The validation accuracy at the best epoch of a fit.
fn best_accuracy(fit: &FitReport) -> Option<f64> {
    let (epoch, _) = fit.best?;
    fit.history.get(epoch - 1).and_then(|r| r.val_accuracy)
}

/// Runs the three pre-training settings and their segmentation models (`latent` picks the
/// codes the pseudo-labels come from) and returns Table 1 and the pre-training accuracies.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs, latent: Latent) -> Result<(Table, Table)> {
    let s = args.settings("harmalkar_pretraining", FULL, SMALL);
    let synth = SynthOptions {
        count: s.images,
        size: (s.size * 2).max(128),
        seed: args.seed,
        ..SynthOptions::default()
    };
    let data = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    let imagenet = args.pretrained(EncoderName::Resnet34)?;
    if let Some(note) = args.init_note(&[EncoderName::Resnet34]) {
        eprintln!("{note}");
    }
    let runs = s.out.join("runs");

    // Pre-training on the image labels (2 classes; one logit with BCE).
    let labels_fit = fit(
        classifier_experiment("classifier-labels", &data, 1, &s, args, imagenet.clone()),
        &runs.join("classifier-labels"),
        args,
    )?;

    // Pseudo-labels: codes of an AE / beta-VAE, PCA, DBSCAN into 14 clusters.
    let pseudo_csv = pseudo_labels(&data, &s, args, latent, &s.out)?;
    let mut pseudo_data = data.clone();
    pseudo_data.labels = Some(pseudo_csv.0.clone());
    let pseudo_fit = fit(
        classifier_experiment(
            "classifier-pseudo-labels",
            &pseudo_data,
            pseudo_csv.1 as i64,
            &s,
            args,
            imagenet.clone(),
        ),
        &runs.join("classifier-pseudo-labels"),
        args,
    )?;

    let encoder_of = |fit: &FitReport| -> Result<Vec<InitFrom>> {
        Ok(vec![InitFrom {
            from: fit.final_dir.clone(),
            parts: vec![Part::Encoder],
            source: WeightSource::Model,
            strict: true,
        }])
    };
    let inits = [
        imagenet.clone(),
        encoder_of(&labels_fit)?,
        encoder_of(&pseudo_fit)?,
    ];
    let mut table = Table::new(
        "Table 1: Segmentation performance of models with different pre-training (this run)",
        &["Model", "Dice score"],
    );
    for (i, ((name, _), init)) in ROWS.iter().zip(inits).enumerate() {
        let mut e = base_experiment(name, &data, unet(1, false), &s, args);
        common(&mut e);
        e.loss = LossConfig::segmentation(Combined::focal_dice(), 0.0)?;
        e.train.monitor = Monitor::ValDice;
        e.init = init;
        let dir = runs.join(format!("segmentation-{i}"));
        let fitted = fit(e.clone(), &dir, args)?;
        let scores = evaluate(std::slice::from_ref(&fitted.final_dir), &e, args.threads)?;
        discard(args, &[dir])?;
        table.row(vec![
            name.to_string(),
            num(Some(scores.metrics.dice * 100.0), 1),
        ]);
    }
    discard(
        args,
        &[
            runs.join("classifier-labels"),
            runs.join("classifier-pseudo-labels"),
        ],
    )?;
    let mut pre = Table::new(
        "Pre-training classification accuracy on the validation fold",
        &["Pre-training", "Classes", "Accuracy [%]", "Paper [%]"],
    );
    pre.row(vec![
        "Labels (pneumothorax or not)".into(),
        "2".into(),
        num(best_accuracy(&labels_fit).map(|a| a * 100.0), 2),
        "77".into(),
    ]);
    pre.row(vec![
        format!("Pseudo-labels ({latent:?} codes, PCA + DBSCAN)"),
        pseudo_csv.1.to_string(),
        num(best_accuracy(&pseudo_fit).map(|a| a * 100.0), 2),
        "31.91".into(),
    ]);
    write_results(
        &s.out,
        "Harmalkar et al.: pre-training the encoder (Table 1)",
        &format!(
            "Dice score: the challenge's mean Dice (%) on the validation fold at {} px, pixel threshold 0.5. Pre-training uses this data set's images (the paper used ChestX-ray14). {} {} epochs per run, batch {}. Pseudo-labels: {}.",
            s.size,
            if s.synthetic { "Small synthetic run, not the paper's data:" } else { "SIIM data:" },
            s.epochs,
            s.batch_size,
            pseudo_csv.2
        ),
        &[("table1", &table), ("pretraining", &pre)],
        &[paper_table()],
    )?;
    Ok((table, pre))
}

/// Trains the latent model on every image, clusters the codes and writes
/// `out/pseudo-labels.csv`. Returns the file, the number of clusters and a description.
fn pseudo_labels(
    data: &ptx_train::DataConfig,
    s: &Settings,
    args: &CommonArgs,
    latent: Latent,
    out: &Path,
) -> Result<(PathBuf, usize, String)> {
    let dataset = Dataset::open(data, args.seed)?;
    let all: Vec<usize> = (0..dataset.samples().len()).collect();
    let side = (s.size / 16 * 16).clamp(16, 256);
    let pipeline = ptx_preproc::Pipeline {
        size: Some((side, side)),
        augment: Default::default(),
        channels: ChannelStack::replicate(1),
        normalize: Default::default(),
    };
    let options = LatentOptions {
        beta: match latent {
            Latent::Ae => None,
            Latent::Vae => Some(4.0),
        },
        epochs: s.epochs.max(5),
        seed: args.seed,
        ..LatentOptions::default()
    };
    eprintln!(
        "== {latent:?} on {} images at {side} px, {} epochs",
        all.len(),
        options.epochs
    );
    let device = args.device.device()?;
    let (model, _vs) = train_latent(
        dataset.source(&all)?,
        pipeline.clone(),
        &options,
        device,
        args.threads,
    )?;
    let (codes, kept) = encode_all(&model, dataset.source(&all)?, pipeline, args.threads)?;
    let components = 8.min(codes.ncols());
    let projected = pca(&codes, components)?;
    let min_samples = (kept.len() / 40).clamp(2, 5);
    // The paper's 14 clusters; a small set gets at most one cluster per two images.
    let target = CLUSTERS.min(kept.len() / 2).max(2);
    let (labels, k, eps) = dbscan_into(&projected, target, min_samples)?;
    let path = out.join("pseudo-labels.csv");
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
        path,
        k,
        format!(
            "{latent:?} codes ({} dims, loss per epoch {losses}), PCA to {components}, DBSCAN eps {eps:.3} min_samples {min_samples}: {k} clusters, noise given its nearest cluster",
            options.latent
        ),
    ))
}
