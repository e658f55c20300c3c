//! Dasic et al., "Comparison of CNNs utilizing transfer learning ... whole chest X-ray images
//! and extracted patches": U-Nets with VGG16/19, ResNet34, ResNet50, DenseNet121 and
//! InceptionV3 encoders trained on whole images and on 128 x 128 patches stitched back
//! together (Table 1: IoU and DSC in %).
//!
//! The protocol as the paper's: majority-class undersampling before any split (every positive
//! and as many negatives, 5,338 SIIM images), those images split 80 / 20 (stratified), both
//! methodologies trained on the same 80 % and scored on the same 20 % (patches are cut from
//! the same images and keep their image's side of the split), each run ending with its last
//! epoch (75 fixed epochs; nothing chosen on the 20 %). Training as the paper: 512 px whole
//! images, 128 px patches, CLAHE before the augmentation (it is part of the data preparation),
//! rotation 0-20 degrees, brightness +-15 %, zoom +-10 %, horizontal flips, Dice + weighted
//! focal loss, Adam 1e-3, batch 8.

use std::time::Duration;

use anyhow::{Context, Result};
use ptx_losses::{Combined, Focal, Loss, Overlap};
use ptx_models::{EncoderName, ModelConfig, UnetConfig};
use ptx_preproc::{Augment, Channel, ChannelStack};
use ptx_train::{
    Augmentation, Experiment, Folds, LossConfig, Monitor, OptimizerConfig, Select, Subset,
};

use crate::args::{positive, CommonArgs, Scale, Scales};
use crate::eval::{predict, Part as Scored, Scores};
use crate::papers::{base_experiment, discard, Plan, Run};
use crate::patches::{patch_data, stitch, write_patch_dataset};
use crate::table::{num, Results, Table};

/// The paper's scale: whole images at 512 px, batch 8, 75 epochs (patches are a quarter of
/// the side, 128 px; never below 96 px, InceptionV3's smallest input).
pub const FULL: Scale = Scale {
    epochs: 75,
    size: 512,
    batch_size: 8,
    images: 0,
};

/// The default synthetic run: 64 images (SIIM-shaped lesions four times larger), whole at
/// 128 px (patches 96 px), 3 epochs; the ResNet34 and DenseNet121 rows unless `--only` says
/// otherwise.
pub const SMALL: Scale = Scale {
    epochs: 3,
    size: 128,
    batch_size: 8,
    images: 64,
};

/// The `--quick` run: 64 images, whole at 128 px (patches 96 px, overlapping), 2
/// epochs.
pub const QUICK: Scale = Scale {
    epochs: 2,
    size: 128,
    batch_size: 8,
    images: 64,
};

/// The rows of Table 1 the default synthetic run trains (by [`BACKBONES`] index): ResNet34
/// and DenseNet121, the paper's best. All six with both seeds would take about half an hour
/// on 2 cores; `--only 0,1,2,3,4,5` runs them.
pub const SYNTHETIC_ROWS: [usize; 2] = [2, 4];

/// The three scales.
pub const SCALES: Scales = Scales {
    full: FULL,
    small: SMALL,
    quick: QUICK,
};

/// The example's name, scales and the measured time per training run of its default
/// synthetic run (`cargo run --release -p ptx-examples --example dasic_backbones`: 268 s for
/// 8 training runs on 2 cores, README).
pub const PLAN: Plan<'static> = Plan {
    example: "dasic_backbones",
    scales: &SCALES,
    per_run: Duration::from_millis(33500),
};

/// The backbones, in the table's order, with the paper's numbers (whole IoU, whole DSC,
/// patch IoU, patch DSC, in %; VGG19 is in the text but not in Table 1).
pub const BACKBONES: [(EncoderName, &str, Option<[f64; 4]>); 6] = [
    (
        EncoderName::Vgg16,
        "VGG16",
        Some([70.33, 72.41, 71.02, 72.96]),
    ),
    (EncoderName::Vgg19, "VGG19", None),
    (
        EncoderName::Resnet34,
        "ResNet34",
        Some([73.54, 75.36, 72.23, 73.47]),
    ),
    (
        EncoderName::Resnet50,
        "ResNet50",
        Some([74.28, 76.21, 72.45, 74.12]),
    ),
    (
        EncoderName::Densenet121,
        "DenseNet121",
        Some([76.92, 78.81, 75.73, 77.24]),
    ),
    (
        EncoderName::InceptionV3,
        "Inceptionv3",
        Some([74.92, 77.12, 75.26, 77.89]),
    ),
];

const COLUMNS: [&str; 5] = [
    "U-Net backbones",
    "Whole chest IoU [%]",
    "Whole chest DSC [%]",
    "Patch-based IoU [%]",
    "Patch-based DSC [%]",
];

/// The paper's Table 1.
pub fn paper_table() -> Table {
    let mut t = Table::new(
        "Table 1: Evaluation of trained models using IoU and DSC metrics (paper)",
        &COLUMNS,
    );
    for (_, name, v) in BACKBONES {
        let cells = match v {
            Some(v) => v.iter().map(|x| format!("{x:.2}")).collect(),
            None => vec!["-".to_string(); 4],
        };
        t.row([vec![name.to_string()], cells].concat());
    }
    t
}

fn pct(v: Option<f64>) -> String {
    num(v.map(|v| v * 100.0), 2)
}

/// The paper's loss: "a custom weighted loss function that combines categorical focal loss
/// with dice loss". The weights are not given; these are segmentation_models' (the Keras
/// library of such U-Nets): `DiceLoss() + 1 * CategoricalFocalLoss(alpha=0.25, gamma=2)`,
/// whose alpha weighs both classes alike, so the focal term is a quarter of the plain one.
pub fn loss() -> Combined {
    Combined::single(Loss::Dice(Overlap::default())).with(0.25, Loss::Focal(Focal::default()))
}

/// One backbone's runs.
#[derive(Debug, Clone)]
pub struct Backbone {
    /// Its name in Table 1.
    pub name: &'static str,
    /// On whole images.
    pub whole: Run,
    /// On patches of the same images.
    pub patches: Run,
}

/// The whole-image and patch runs of every backbone (`only`, else [`SYNTHETIC_ROWS`] in the default synthetic run, restricts them, by [`BACKBONES`]
/// index), and the patch side.
///
/// # Errors
/// Data, weights.
pub fn experiments(args: &CommonArgs, only: Option<&[usize]>) -> Result<(Vec<Backbone>, usize)> {
    let s = args.settings(PLAN.example, &SCALES);
    let only = args.rows(only, &SYNTHETIC_ROWS);
    let synth = crate::data::synthetic(s.images, (s.size * 2).max(128), args.seed, Some(0.4));
    let mut data = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    // "all of the samples containing pneumothorax were used, while 2,669 X-rays of healthy
    // patients were randomly selected ... 80% of samples were used as training dataset and
    // the remaining 20% serve as the test dataset."
    data.subset = Some(Subset {
        negatives_per_positive: 1.0,
    });
    data.folds = Folds::new(5, 0)?;
    // A quarter of the side (the paper's 128 of 512), but at least InceptionV3's smallest
    // input (96 px): on synthetic data the patches overlap.
    let side = (s.size / 4).max(96).min(s.size);
    let patch_data = patch_data(&data, &s.out.join("patches"));
    let mut out = Vec::new();
    for (i, (encoder, name, _)) in BACKBONES.iter().enumerate() {
        if only.is_some_and(|o| !o.contains(&i)) {
            continue;
        }
        let mut exp = base_experiment(
            "whole",
            &data,
            ModelConfig::Unet(UnetConfig::with_encoder(*encoder)),
            &s,
            args,
        );
        // CLAHE as the data preparation: every image, before the augmentation and in
        // evaluation alike ("In order to improve contrast of the image ... CLAHE filter was
        // used"; clip limit 2, 8 x 8 tiles), replicated to the encoders' three channels.
        exp.input.prepare = Channel::Clahe;
        exp.input.channels = ChannelStack::replicate(3);
        exp.input.augmentation = Augmentation::List(Augment::dasic());
        exp.loss = LossConfig::Segmentation {
            loss: loss(),
            classification: None,
        };
        exp.optimizer = OptimizerConfig::Adam {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
        };
        exp.train.monitor = Monitor::ValDice;
        exp.train.select = Select::Last;
        exp.init = args.pretrained(*encoder)?;
        let runs = s.out.join("runs").join(encoder.to_string());
        let mut patch_exp = exp.clone();
        patch_exp.name = "patches".into();
        patch_exp.data = patch_data.clone();
        patch_exp.input.size = [positive(side); 2];
        out.push(Backbone {
            name,
            whole: Run::new(&runs, exp),
            patches: Run::new(&runs, patch_exp),
        });
    }
    Ok((out, side))
}

/// Trains every backbone (`only`, else [`SYNTHETIC_ROWS`] in the default synthetic run, restricts them, by [`BACKBONES`] index) on whole images and
/// on patches, and returns Table 1 of this run.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs, only: Option<&[usize]>) -> Result<Results> {
    let s = args.settings(PLAN.example, &SCALES);
    let only = args.rows(only, &SYNTHETIC_ROWS);
    let (backbones, side) = experiments(args, only)?;
    let encoders: Vec<EncoderName> = BACKBONES
        .iter()
        .enumerate()
        .filter(|(i, _)| only.is_none_or(|o| o.contains(i)))
        .map(|(_, b)| b.0)
        .collect();
    if let Some(note) = args.init_note(&encoders) {
        eprintln!("{note}");
    }
    if let Some(first) = backbones.first() {
        write_patch_dataset(
            &first.whole.experiment.data,
            args.seed,
            s.size,
            side,
            &s.out.join("patches"),
        )?;
    }
    let mut table = Table::new(
        "Table 1: Evaluation of trained models using IoU and DSC metrics (this run)",
        &COLUMNS,
    );
    for Backbone {
        name,
        whole,
        patches,
    } in &backbones
    {
        let whole_scores = whole.fit_and_score(args, Scored::Validation)?;
        let patch_fit = patches.fit(args)?;
        let patch_scores =
            evaluate_patches(&patches.experiment, &patch_fit.final_dir, s.size, args)?;
        table.row(vec![
            name.to_string(),
            pct(Some(whole_scores.metrics.iou)),
            pct(Some(whole_scores.metrics.dice)),
            pct(Some(patch_scores.metrics.iou)),
            pct(Some(patch_scores.metrics.dice)),
        ]);
        discard(args, &[whole.dir.clone(), patches.dir.clone()])?;
    }
    let results = Results {
        heading: "Dasic et al.: backbones, whole image versus patches (Table 1)".into(),
        note: format!(
            "A balanced set (every positive, as many negatives) split 80 / 20; both methodologies train on the same 80 % and are scored on the same 20 % with each run's last epoch. IoU and DSC: the challenge's mean IoU and Dice over the 20 % (an empty prediction on an empty image scores 1), pixel threshold 0.5, at {} px; patch models predict {side}-px patches that are stitched back to {} px before scoring. {} {} epochs, batch {}.",
            s.size,
            s.size,
            if s.synthetic { "Synthetic run (lesions four times SIIM's areas), not the paper's data:" } else { "SIIM data:" },
            s.epochs,
            s.batch_size
        ),
        tables: vec![("table1".into(), table)],
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
        .0
        .into_iter()
        .flat_map(|b| {
            [b.whole, b.patches].map(|mut r| {
                r.name = format!("{}-{}", b.name, r.name);
                r
            })
        })
        .collect())
}

/// Predicts the 20 % patches of `exp` with the model in `dir`, stitches them into `whole`-px
/// images and scores those.
fn evaluate_patches(
    exp: &Experiment,
    dir: &std::path::Path,
    whole: usize,
    args: &CommonArgs,
) -> Result<Scores> {
    let patches = predict(&[dir.to_path_buf()], exp, Scored::Validation, args.threads)?;
    let stitched = stitch(&patches.predictions, &patches.image_ids, whole)
        .context("stitching patch predictions")?;
    Scores::of(stitched)
}
