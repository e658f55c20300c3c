//! Dasic et al., "Comparison of CNNs utilizing transfer learning ... whole chest X-ray images
//! and extracted patches": U-Nets with VGG16/19, ResNet34, ResNet50, DenseNet121 and
//! InceptionV3 encoders trained on whole images and on 128 x 128 patches stitched back
//! together (Table 1: IoU and DSC in %).
//!
//! Training as the paper: CLAHE input, majority-class undersampling, rotation 0-20 degrees,
//! brightness +-15 %, zoom +-10 %, horizontal flips, focal + Dice loss, Adam 1e-3, batch 8,
//! 75 epochs, 512 px whole images, 128 px patches.

use anyhow::{Context, Result};
use ptx_io::synth::SynthOptions;
use ptx_losses::Combined;
use ptx_models::{EncoderName, ModelConfig, UnetConfig};
use ptx_preproc::{Channel, ChannelStack, Preset};
use ptx_train::{Augmentation, Experiment, LossConfig, Monitor, OptimizerConfig, Sampling};

use crate::args::{positive, CommonArgs, Scale};
use crate::eval::{evaluate, predict_validation, Scores};
use crate::papers::{base_experiment, discard, fit};
use crate::patches::{stitch, write_patch_dataset};
use crate::table::{num, write_results, Table};

/// The paper's scale: whole images at 512 px, batch 8, 75 epochs (patches are a quarter of
/// the side, 128 px; never below 96 px, InceptionV3's smallest input).
pub const FULL: Scale = Scale {
    epochs: 75,
    size: 512,
    batch_size: 8,
    images: 0,
};

/// The small synthetic run: 64 images, whole at 128 px (patches 96 px, overlapping), 2
/// epochs.
pub const SMALL: Scale = Scale {
    epochs: 2,
    size: 128,
    batch_size: 8,
    images: 64,
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

/// Trains every backbone (`only` restricts them, by [`BACKBONES`] index) on whole images and
/// on patches, and returns Table 1 of this run.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs, only: Option<&[usize]>) -> Result<Table> {
    let s = args.settings("dasic_backbones", FULL, SMALL);
    let synth = SynthOptions {
        count: s.images,
        size: (s.size * 2).max(128),
        seed: args.seed,
        positive_share: 0.4,
        ..SynthOptions::default()
    };
    let data = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    // A quarter of the side (the paper's 128 of 512), but at least InceptionV3's smallest
    // input (96 px): at small scale the patches overlap.
    let side = (s.size / 4).max(96).min(s.size);
    let chosen: Vec<_> = BACKBONES
        .iter()
        .enumerate()
        .filter(|(i, _)| only.is_none_or(|o| o.contains(i)))
        .map(|(_, b)| *b)
        .collect();
    let encoders: Vec<EncoderName> = chosen.iter().map(|b| b.0).collect();
    let inits = encoders
        .iter()
        .map(|&e| args.pretrained(e))
        .collect::<Result<Vec<_>>>()?;
    if let Some(note) = args.init_note(&encoders) {
        eprintln!("{note}");
    }
    let patch_data = write_patch_dataset(&data, args.seed, s.size, side, &s.out.join("patches"))?;
    let mut table = Table::new(
        "Table 1: Evaluation of trained models using IoU and DSC metrics (this run)",
        &COLUMNS,
    );
    for ((encoder, name, _), init) in chosen.iter().zip(inits) {
        let mut exp = base_experiment(
            name,
            &data,
            ModelConfig::Unet(UnetConfig::with_encoder(*encoder)),
            &s,
            args,
        );
        exp.input.channels = ChannelStack {
            channels: vec![Channel::Clahe; 3],
            ..ChannelStack::default()
        };
        exp.input.augmentation = Augmentation::Preset(Preset::Dasic);
        exp.data.sampling = Sampling::UndersampleNegatives { ratio: 1.0 };
        exp.loss = LossConfig::Segmentation {
            loss: Combined::focal_dice(),
            classification: None,
        };
        exp.optimizer = OptimizerConfig::Adam {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
        };
        exp.train.monitor = Monitor::ValDice;
        exp.init = init;
        let dir = s.out.join("runs").join(encoder.to_string());

        let whole_fit = fit(exp.clone(), &dir.join("whole"), args)?;
        let whole = evaluate(
            std::slice::from_ref(&whole_fit.final_dir),
            &exp,
            args.threads,
        )?;

        let mut patch_exp = exp.clone();
        patch_exp.name = format!("{name}-patches");
        patch_exp.data = patch_data.clone();
        patch_exp.input.size = [positive(side); 2];
        let patch_fit = fit(patch_exp.clone(), &dir.join("patches"), args)?;
        let patches = evaluate_patches(&patch_exp, &patch_fit.final_dir, s.size, args)?;

        table.row(vec![
            name.to_string(),
            pct(Some(whole.metrics.iou)),
            pct(Some(whole.metrics.dice)),
            pct(Some(patches.metrics.iou)),
            pct(Some(patches.metrics.dice)),
        ]);
        discard(args, &[dir.join("whole"), dir.join("patches")])?;
    }
    write_results(
        &s.out,
        "Dasic et al.: backbones, whole image versus patches (Table 1)",
        &format!(
            "IoU and DSC: the challenge's mean IoU and Dice over the validation fold (an empty prediction on an empty image scores 1), pixel threshold 0.5, at {} px; patch models predict {side}-px patches that are stitched back to {} px before scoring. {} {} epochs, batch {}.",
            s.size,
            s.size,
            if s.synthetic { "Small synthetic run, not the paper's data:" } else { "SIIM data:" },
            s.epochs,
            s.batch_size
        ),
        &[("table1", &table)],
        &[paper_table()],
    )?;
    Ok(table)
}

/// Predicts the validation patches of `exp` with the model in `dir`, stitches them into
/// `whole`-px images and scores those.
fn evaluate_patches(
    exp: &Experiment,
    dir: &std::path::Path,
    whole: usize,
    args: &CommonArgs,
) -> Result<Scores> {
    let patches = predict_validation(&[dir.to_path_buf()], exp, args.threads)?;
    let stitched = stitch(&patches.predictions, &patches.image_ids, whole)
        .context("stitching patch predictions")?;
    Scores::of(stitched)
}
