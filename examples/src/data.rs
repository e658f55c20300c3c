//! Where an example's images come from: `--data` in the SIIM or PNG layout, or a synthetic
//! set generated into the output folder.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use ptx_io::synth::{write_dataset, SynthOptions};
use ptx_preproc::{Loaded, OnError, Source};
use ptx_train::{DataConfig, SampleSource, Truth};

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

/// `out/images` and `out/masks`, emptied of an earlier data set's files (which the index of
/// this one would otherwise pick up) and created.
///
/// # Errors
/// Folders that cannot be removed or created.
pub fn fresh_png_dirs(out: &Path) -> Result<(PathBuf, PathBuf)> {
    let dirs = (out.join("images"), out.join("masks"));
    for dir in [&dirs.0, &dirs.1] {
        match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("emptying {}", dir.display()));
            }
            _ => {}
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(dirs)
}

/// Sample `i` of `source` for writing a derived data set: with `on_error = skip` (the data
/// section's) a file that fails to load is reported and left out (`None`), as training
/// would; with `fail` it is the error.
///
/// # Errors
/// A failed load with `on_error = fail`.
pub fn load_for_writing(
    source: &SampleSource,
    i: usize,
    image_id: &str,
    on_error: OnError,
) -> Result<Option<Loaded<<SampleSource as Source>::Meta>>> {
    match source.load(i) {
        Ok(loaded) => Ok(Some(loaded)),
        Err(e) if on_error == OnError::Skip => {
            eprintln!("warning: {image_id} left out: {e}");
            Ok(None)
        }
        Err(e) => Err(anyhow!("{image_id}: {e}")),
    }
}

/// How many times SIIM's lesion areas the examples' synthetic lesions cover. At the examples'
/// 64-128 px a SIIM-sized lesion (median 0.6 % of the image: 25 pixels at 64 px, a band two
/// or three pixels deep) is a few pixels that a minutes-long CPU run does not learn to find;
/// four times larger (median 2.5 %) they stay bands at the lung edge, as SIIM's, and can be
/// learnt.
pub const LESION_SCALE: f64 = 4.0;

/// The largest lesion area (share of the image) of the examples' synthetic sets.
const LARGEST_LESION: f64 = 0.3;

/// The examples' synthetic set: `count` images of side `size` drawn with `seed`, `positive_share`
/// of them with a pneumothorax (SIIM's share when `None`); their lesions have SIIM's counts,
/// sides and places ([`ptx_io::synth::LesionStatistics::siim`]) and [`LESION_SCALE`] times its
/// areas (at most 30 % of the image).
pub fn synthetic(
    count: usize,
    size: usize,
    seed: u64,
    positive_share: Option<f64>,
) -> SynthOptions {
    let mut options = SynthOptions {
        count,
        size,
        seed,
        ..SynthOptions::default()
    };
    if let Some(share) = positive_share {
        options.positive_share = share;
    }
    for q in &mut options.lesions.area_quantiles {
        *q = (*q * LESION_SCALE).min(LARGEST_LESION);
    }
    options
}
