//! `ptx synth --out DIR -n N --size S --seed K`: a synthetic SIIM-like dataset.

use std::path::PathBuf;

use anyhow::Result;
use ptx_io::synth::{write_dataset, SynthOptions};

use super::emit;
use super::size::Size;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder (gets `dicom-images-train/` and `train-rle.csv`).
    #[arg(long)]
    out: PathBuf,
    /// Number of images.
    #[arg(short = 'n', long, default_value_t = 100)]
    count: usize,
    /// Image size in pixels: N or NxN (the images are square).
    #[arg(long, default_value = "256")]
    size: Size,
    /// Seed (same seed, same files).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Share of images with a pneumothorax.
    #[arg(long, default_value_t = 0.25)]
    positive_share: f64,
}

pub fn run(args: Args) -> Result<()> {
    if !(0.0..=1.0).contains(&args.positive_share) {
        anyhow::bail!(
            "--positive-share {}: must be in [0, 1]",
            args.positive_share
        );
    }
    let options = SynthOptions {
        count: args.count,
        size: args.size.square("--size")?,
        seed: args.seed,
        positive_share: args.positive_share,
        ..SynthOptions::default()
    };
    let s = write_dataset(&args.out, &options)?;
    emit(format!(
        "{} images ({} with a pneumothorax, {} lesions) under {}; annotations {}",
        s.images,
        s.positives,
        s.lesions,
        s.dicom_root.display(),
        s.annotations.display()
    ));
    Ok(())
}
