//! The options every paper example takes, and the scale they resolve to.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::{bail, Result};
use ptx_models::{EncoderName, WeightSource};
use ptx_train::{DeviceChoice, InitFrom};

/// Options shared by the paper examples (`--help` of any example lists them).
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// SIIM-ACR data: a folder with `dicom-images-train/` and `train-rle.csv`, or the PNG
    /// version with `images/` and `masks/`. Without it, a synthetic set is generated and the
    /// example runs its synthetic budget (`--quick`: smoke size).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Pretrained encoder weights, `ENCODER=FILE` (e.g. `resnet34=resnet34-333f7ec4.pth`,
    /// `densenet121=chexnet.pth.tar`) or a bare `FILE` for every encoder without its own
    /// entry; repeatable. torchvision / timm / CheXNet classifier files. A missing file is an
    /// error.
    #[arg(long, value_name = "[ENCODER=]FILE")]
    pub weights: Vec<String>,
    /// With `--data`: start encoders that have no `--weights` from random weights instead of
    /// stopping with an error. (Synthetic runs always may, and say so.)
    #[arg(long)]
    pub from_scratch: bool,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Training epochs of each run (each example's full and small defaults in its README).
    #[arg(long)]
    pub epochs: Option<NonZeroUsize>,
    /// Input side in pixels (square).
    #[arg(long)]
    pub size: Option<NonZeroUsize>,
    /// Images per batch.
    #[arg(long)]
    pub batch_size: Option<NonZeroUsize>,
    /// Synthetic images to generate when there is no `--data`.
    #[arg(long)]
    pub images: Option<usize>,
    /// Output folder: runs, `results.md`, CSV tables. Default `out/papers/<example>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of everything random: the first seed when `--seeds` is above 1.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// How many seeds to run the whole protocol with (`--seed`, `--seed` + 1, ...), each in
    /// its own `seed-N/` folder with its own synthetic images; the tables then show each
    /// number's mean ± half its range over the seeds. Default 2 on synthetic data (1 with
    /// `--quick` or `--data`). Not with `--print-config`, which writes the first seed's
    /// experiments.
    #[arg(long, conflicts_with = "print_config")]
    pub seeds: Option<NonZeroUsize>,
    /// Without `--data`: the smoke-size run instead of the default synthetic budget (every
    /// row of the table, one seed, one to eight minutes; too short for anything to be learnt,
    /// it shows that every configuration runs).
    #[arg(long, conflicts_with = "data")]
    pub quick: bool,
    /// Loader and libtorch threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Continue runs that were interrupted (each run folder resumes from its last
    /// checkpoint) instead of refusing folders that already have checkpoints.
    #[arg(long)]
    pub resume: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Delete each run's checkpoint folders once its numbers are in the table (logs, curves
    /// and montages stay; such runs cannot be resumed). A ResNet34 checkpoint with its Adam
    /// state is about 300 MB, and Table 6 alone trains 32 runs.
    #[arg(long)]
    pub discard_checkpoints: bool,
    /// Harmalkar et al.'s pre-training data: a ChestX-ray14 folder (`images/*.png` and
    /// `Data_Entry_2017.csv`). Without it, a synthetic stand-in in that layout.
    #[arg(long, value_name = "DIR")]
    pub pretrain_data: Option<PathBuf>,
    /// Write every training run's complete experiment as `DIR/<run>.toml` (the configuration
    /// the example would train with these options; with `--data`, the paper's) and stop.
    #[arg(long, value_name = "DIR")]
    pub print_config: Option<PathBuf>,
}

/// One scale of an example: what `--epochs`, `--size`, `--batch-size`, `--images` default to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Epochs of each run.
    pub epochs: usize,
    /// Input side in pixels.
    pub size: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// Synthetic images (synthetic scales only).
    pub images: usize,
}

/// An example's three scales: the paper's (with `--data`), the default synthetic run, and
/// the smoke-size `--quick` run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    /// With `--data`: the paper's.
    pub full: Scale,
    /// Synthetic, by default: long enough for the baseline to learn.
    pub small: Scale,
    /// Synthetic with `--quick`: every configuration once, nothing learnt.
    pub quick: Scale,
}

/// The settings of a run after defaults; epochs, size and batch size are positive.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Epochs of each run.
    pub epochs: usize,
    /// Input side in pixels.
    pub size: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// Synthetic images (when `synthetic`).
    pub images: usize,
    /// Whether the data is synthetic (no `--data`).
    pub synthetic: bool,
    /// Seeds the protocol runs with (`--seeds`, else 2 on synthetic data and 1 with
    /// `--quick` or `--data`).
    pub seeds: usize,
    /// The output folder.
    pub out: PathBuf,
}

impl CommonArgs {
    /// The settings: the paper's scale with `--data`, the small one without (the quick one
    /// with `--quick`), each value overridden by its option.
    pub fn settings(&self, example: &str, scales: &Scales) -> Settings {
        let synthetic = self.data.is_none();
        let s = match (synthetic, self.quick) {
            (false, _) => scales.full,
            (true, false) => scales.small,
            (true, true) => scales.quick,
        };
        Settings {
            epochs: self.epochs.map_or(s.epochs, NonZeroUsize::get).max(1),
            size: self.size.map_or(s.size, NonZeroUsize::get).max(1),
            batch_size: self
                .batch_size
                .map_or(s.batch_size, NonZeroUsize::get)
                .max(1),
            images: self.images.unwrap_or(s.images),
            synthetic,
            seeds: self.seeds.map_or(
                if synthetic && !self.quick { 2 } else { 1 },
                NonZeroUsize::get,
            ),
            out: self
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from("out/papers").join(example)),
        }
    }

    /// The rows a run trains: `only` when given, else `synthetic_default` for the default
    /// synthetic run (a table too large to train twice in ten minutes on 2 cores), else all
    /// (`None`).
    pub fn rows<'a>(
        &self,
        only: Option<&'a [usize]>,
        synthetic_default: &'a [usize],
    ) -> Option<&'a [usize]> {
        only.or((self.data.is_none() && !self.quick).then_some(synthetic_default))
    }

    /// The weights file given for `encoder` (its own `ENCODER=FILE` entry, else a bare
    /// `FILE`), if any.
    pub fn weights_for(&self, encoder: EncoderName) -> Option<PathBuf> {
        let name = encoder.to_string();
        let own = self.weights.iter().find_map(|w| {
            w.split_once('=')
                .filter(|(n, _)| *n == name)
                .map(|(_, f)| PathBuf::from(f))
        });
        own.or_else(|| {
            self.weights
                .iter()
                .find(|w| !w.contains('='))
                .map(PathBuf::from)
        })
    }

    /// The `[[init]]` entry that puts pretrained classifier weights into `encoder`, or none
    /// when the run may start from random weights (`--from-scratch`, or synthetic data).
    ///
    /// # Errors
    /// A weights file that does not exist; an `ENCODER=` naming no encoder; real data, no
    /// weights and no `--from-scratch`.
    pub fn pretrained(&self, encoder: EncoderName) -> Result<Vec<InitFrom>> {
        for (name, _) in self.weights.iter().filter_map(|w| w.split_once('=')) {
            // A misspelt name would otherwise leave its encoder without weights unnoticed.
            name.parse::<EncoderName>()
                .map_err(|e| anyhow::anyhow!("--weights {name}=...: {e}"))?;
        }
        match self.weights_for(encoder) {
            Some(file) if !file.is_file() => {
                bail!("--weights for {encoder}: {} does not exist", file.display())
            }
            Some(file) => Ok(vec![InitFrom {
                from: file,
                parts: Vec::new(),
                source: WeightSource::Classifier,
                strict: true,
            }]),
            None if self.from_scratch || self.data.is_none() => Ok(Vec::new()),
            None => bail!(
                "the paper starts {encoder} from pretrained weights: pass --weights {encoder}=FILE, or --from-scratch to train it from random weights"
            ),
        }
    }

    /// One line saying which encoders start from random weights (printed by the examples).
    pub fn init_note(&self, encoders: &[EncoderName]) -> Option<String> {
        let random: Vec<String> = encoders
            .iter()
            .filter(|e| self.weights_for(**e).is_none())
            .map(|e| e.to_string())
            .collect();
        (!random.is_empty()).then(|| {
            format!(
                "note: {} start from random weights ({}); the paper used pretrained ones (--weights ENCODER=FILE)",
                random.join(", "),
                if self.data.is_none() { "synthetic run" } else { "--from-scratch" }
            )
        })
    }
}

/// A [`Settings`] count as the configs take it (the settings keep them positive).
pub fn positive(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}
