//! `ptx synth --out DIR -n N --size S --seed K [--like CSV]`: a synthetic SIIM-like dataset
//! whose lesions follow SIIM's measured statistics, or those of another annotation file.

use std::path::PathBuf;

use anyhow::Result;
use ptx_io::annotations::Annotations;
use ptx_io::rle::RleForm;
use ptx_io::synth::{image_lesions, write_dataset, LesionStatistics, SynthOptions};

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
    /// Share of images with a pneumothorax (default: SIIM's 0.2215, or the `--like` file's).
    #[arg(long)]
    positive_share: Option<f64>,
    /// Draw lesion counts, areas, sides and places (and the positive share) as measured on
    /// this annotation CSV instead of SIIM's full `train-rle.csv`.
    #[arg(long, value_name = "CSV")]
    like: Option<PathBuf>,
    /// Size of the `--like` file's images: N or HxW.
    #[arg(long, default_value = "1024")]
    like_size: Size,
    /// Run-length form of the `--like` file.
    #[arg(long, default_value = "relative")]
    like_rle: RleForm,
}

pub fn run(args: Args) -> Result<()> {
    let statistics = match &args.like {
        None => LesionStatistics::siim(),
        Some(csv) => {
            let annotations = Annotations::read(csv)?;
            let images = image_lesions(&annotations, args.like_size.hw(), args.like_rle)?;
            LesionStatistics::from_images(&images)
                .ok_or_else(|| anyhow::anyhow!("--like {}: no image has a lesion", csv.display()))?
        }
    };
    let mut options = SynthOptions {
        size: args.size.square("--size")?,
        seed: args.seed,
        ..SynthOptions::like(args.count, statistics)
    };
    if let Some(share) = args.positive_share {
        if !(0.0..=1.0).contains(&share) {
            anyhow::bail!("--positive-share {share}: must be in [0, 1]");
        }
        options.positive_share = share;
    }
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
