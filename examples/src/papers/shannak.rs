//! Shannak et al., "Pneumothorax segmentation and classification using U-Net: transfer
//! learning": a plain U-Net (three convolutions per block) pre-trained as an auto-encoder on
//! the X-rays and on the masks, its weights transferred to segmentation in four scenarios,
//! against random initialisation and a U-Net with an ImageNet ResNet50 encoder (Table 4: Dice
//! and IoU).
//!
//! Training as the paper: grey 512 px images normalised with mean 0.4828 / std 0.2488, the
//! positives tripled with flips and 3-7 degree rotations, batch 32, Adam 1e-4, MSE for the
//! auto-encoders and BCE + Dice for segmentation, at most 50 epochs with early stopping when
//! the validation loss improves by less than 0.001 over 5 epochs.

use std::path::PathBuf;

use anyhow::Result;
use ptx_io::synth::SynthOptions;
use ptx_models::{
    EncoderName, Freeze, FreezeSchedule, ModelConfig, Part, PlainOptions, PlainUnetConfig, Task,
    UnetConfig, WeightSource,
};
use ptx_preproc::{ChannelStack, Normalize, Preset};
use ptx_train::{Augmentation, EarlyStop, Experiment, InitFrom, LossConfig, Monitor, Sampling};

use crate::args::{positive, CommonArgs, Scale, Settings};
use crate::eval::evaluate;
use crate::papers::{base_experiment, discard, fit};
use crate::table::{num, write_results, Table};

/// The paper's scale: 512 px, batch 32, at most 50 epochs.
pub const FULL: Scale = Scale {
    epochs: 50,
    size: 512,
    batch_size: 32,
    images: 0,
};

/// The small synthetic run: 64 images, 64 px, batch 8, 3 epochs, 16 base channels.
pub const SMALL: Scale = Scale {
    epochs: 3,
    size: 64,
    batch_size: 8,
    images: 64,
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
    exp.input.augmentation = Augmentation::Preset(Preset::Shannak);
    exp.data.sampling = Sampling::OversamplePositives {
        copies: positive(3),
    };
    exp.train.monitor = Monitor::ValLoss;
    exp.train.early_stopping = Some(EarlyStop {
        patience: 5,
        min_delta: 0.001,
    });
    exp
}

fn from(dir: &std::path::Path, parts: Vec<Part>) -> InitFrom {
    InitFrom {
        from: dir.to_path_buf(),
        parts,
        source: WeightSource::Model,
        strict: true,
    }
}

/// Pre-trains both auto-encoders, trains the six segmentation models (`only` restricts them,
/// by [`ROWS`] index) and returns Table 4 of this run.
///
/// # Errors
/// Data, weights, training.
pub fn run(args: &CommonArgs, only: Option<&[usize]>) -> Result<Table> {
    let s = args.settings("shannak_autoencoder", FULL, SMALL);
    let synth = SynthOptions {
        count: s.images,
        size: (s.size * 2).max(128),
        seed: args.seed,
        ..SynthOptions::default()
    };
    let data = crate::data::prepare(args.data.as_deref(), &s.out, &synth)?;
    let runs = s.out.join("runs");
    let wanted = |i: usize| only.is_none_or(|o| o.contains(&i));
    let resnet_init = if wanted(0) {
        let init = args.pretrained(EncoderName::Resnet50)?;
        if let Some(note) = args.init_note(&[EncoderName::Resnet50]) {
            eprintln!("{note}");
        }
        init
    } else {
        Vec::new()
    };

    let needs_xray = [1, 2, 4, 5].iter().any(|&i| wanted(i));
    let needs_mask = wanted(2);
    let mut ae_xray: Option<PathBuf> = None;
    let mut ae_mask: Option<PathBuf> = None;
    if needs_xray {
        let mut e = experiment(
            "autoencoder-xray",
            &data,
            plain_unet(Task::Reconstruction, s.synthetic),
            &s,
            args,
        );
        e.loss = LossConfig::ReconstructImage;
        ae_xray = Some(fit(e, &runs.join("autoencoder-xray"), args)?.final_dir);
    }
    if needs_mask {
        let mut e = experiment(
            "autoencoder-mask",
            &data,
            plain_unet(Task::Reconstruction, s.synthetic),
            &s,
            args,
        );
        e.loss = LossConfig::ReconstructMask;
        ae_mask = Some(fit(e, &runs.join("autoencoder-mask"), args)?.final_dir);
    }

    let mut table = Table::new(
        "Table 4: Research models' performance measures summary (this run)",
        &COLUMNS,
    );
    for (i, (name, _, _)) in ROWS.iter().enumerate() {
        if !wanted(i) {
            continue;
        }
        let seg = plain_unet(Task::Segmentation, s.synthetic);
        let mut e = experiment(name, &data, seg, &s, args);
        let xray = || ae_xray.as_deref().map(std::path::Path::to_path_buf);
        match i {
            0 => {
                let mut u = UnetConfig::with_encoder(EncoderName::Resnet50);
                u.in_channels = 1;
                e.model = ModelConfig::Unet(u);
                e.init = resnet_init.clone();
            }
            1 => {
                e.init = xray()
                    .map(|d| vec![from(&d, vec![Part::Encoder])])
                    .unwrap_or_default()
            }
            2 => {
                if let (Some(x), Some(m)) = (&ae_xray, &ae_mask) {
                    e.init = vec![from(x, vec![Part::Encoder]), from(m, vec![Part::Decoder])];
                }
            }
            3 => {}
            _ => {
                if let Some(x) = &ae_xray {
                    e.init = vec![from(x, vec![Part::Encoder, Part::Decoder])];
                }
                if i == 5 {
                    e.train.freeze = Some(FreezeSchedule {
                        freeze: Freeze::Encoder,
                        epochs: usize::MAX,
                    });
                }
            }
        }
        let dir = runs.join(format!("segmentation-{i}"));
        let fitted = fit(e.clone(), &dir, args)?;
        let scores = evaluate(std::slice::from_ref(&fitted.final_dir), &e, args.threads)?;
        table.row(vec![
            name.to_string(),
            num(scores.metrics.pooled_dice, 2),
            num(scores.pooled_iou(), 2),
        ]);
        discard(args, &[dir])?;
    }
    discard(
        args,
        &[runs.join("autoencoder-xray"), runs.join("autoencoder-mask")],
    )?;
    write_results(
        &s.out,
        "Shannak et al.: auto-encoder transfer (Table 4)",
        &format!(
            "DICE and IoU: pooled over the pixels of all validation images (sum of overlaps over sum of sizes), pixel threshold 0.5, at {} px. {} at most {} epochs (early stopping 0.001 / 5 on the validation loss), batch {}.",
            s.size,
            if s.synthetic { "Small synthetic run, not the paper's data (plain U-Net with 16 base channels instead of 64):" } else { "SIIM data:" },
            s.epochs,
            s.batch_size
        ),
        &[("table4", &table)],
        &[paper_table()],
    )?;
    Ok(table)
}
