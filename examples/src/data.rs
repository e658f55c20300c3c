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
