//! Where an example's images come from: `--data` in the SIIM or PNG layout, or a synthetic
//! set generated into the output folder.

use std::path::Path;

use anyhow::{bail, Context, Result};
use ptx_io::synth::{write_dataset, SynthOptions};
use ptx_train::{DataConfig, Truth};

/// The data section of every run of an example.
///
/// With `data`: `DIR/dicom-images-train` + `DIR/train-rle.csv` (the challenge's layout), or
/// `DIR/images` + `DIR/masks` (PNG files named alike). Without: `options.count` synthetic
/// images (side `options.size`) in `out/synthetic`, generated once (a second call with the
/// same options reuses them).
///
/// # Errors
/// A `data` folder in neither layout; files that cannot be written.
pub fn prepare(data: Option<&Path>, out: &Path, options: &SynthOptions) -> Result<DataConfig> {
    let (images, truth) = match data {
        Some(dir) => {
            let (dicom, csv) = (dir.join("dicom-images-train"), dir.join("train-rle.csv"));
            let (png, png_masks) = (dir.join("images"), dir.join("masks"));
            if dicom.is_dir() && csv.is_file() {
                (dicom, annotations(csv))
            } else if png.is_dir() && png_masks.is_dir() {
                (png, Truth::Masks(png_masks))
            } else {
                bail!(
                    "{}: expected dicom-images-train/ with train-rle.csv, or images/ with masks/",
                    dir.display()
                )
            }
        }
        None => {
            let dir = out.join("synthetic");
            let stamp = dir.join("options.json");
            let wanted = serde_json::to_string(options)?;
            let have = std::fs::read_to_string(&stamp).unwrap_or_default();
            if have != wanted {
                eprintln!(
                    "generating {} synthetic images ({} px) in {}",
                    options.count,
                    options.size,
                    dir.display()
                );
                write_dataset(&dir, options)?;
                std::fs::write(&stamp, &wanted)
                    .with_context(|| format!("writing {}", stamp.display()))?;
            }
            (
                dir.join("dicom-images-train"),
                annotations(dir.join("train-rle.csv")),
            )
        }
    };
    Ok(DataConfig::new(images, truth))
}

/// The challenge's `train-rle.csv` (relative run-length form).
fn annotations(csv: std::path::PathBuf) -> Truth {
    Truth::Annotations {
        csv,
        rle: Default::default(),
    }
}
