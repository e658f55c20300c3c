//! A synthetic SIIM-like dataset: procedural chest radiographs, about a quarter with a
//! pneumothorax, written as real DICOM files in the challenge's folder layout
//! (`dicom-images-train/<study>/<series>/<SOPInstanceUID>.dcm`) with a `train-rle.csv` in the
//! relative run-length form, one row per lesion (several rows for an image with several
//! lesions, `-1` for an image without). The same readers then load it as real data.
//!
//! ```
//! use ptx_io::synth::{generate, SynthOptions};
//! let options = SynthOptions { size: 64, ..SynthOptions::default() };
//! let case = generate(&options, 3);
//! assert_eq!(case.image.dim(), (64, 64));
//! assert_eq!(case, generate(&options, 3)); // same seed and index, same case
//! ```

mod dicom;
mod draw;

use std::path::{Path, PathBuf};

use ndarray::Array2;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::rle::{encode, RleForm};
use crate::{write_atomic, Error, Result};
use draw::{Lesion, Site};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthOptions {
    /// Number of images. Default 100.
    pub count: usize,
    /// Side in pixels (square images, as SIIM's 1024). Default 256.
    pub size: usize,
    /// Seed: the same seed gives the same files. Default 0.
    pub seed: u64,
    /// Share of images with a pneumothorax. Default 0.25.
    pub positive_share: f64,
    /// Share of positive images with a second lesion. Default 0.2.
    pub second_lesion_share: f64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        Self {
            count: 100,
            size: 256,
            seed: 0,
            positive_share: 0.25,
            second_lesion_share: 0.2,
        }
    }
}

/// One generated image.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthCase {
    /// SOP Instance UID, the challenge's ImageId.
    pub image_id: String,
    /// Study Instance UID (the first folder level).
    pub study_uid: String,
    /// Series Instance UID (the second folder level).
    pub series_uid: String,
    /// Pixels, `(size, size)`, 8-bit grey, MONOCHROME2.
    pub image: Array2<u8>,
    /// One 0/1 mask per lesion (empty for a negative image).
    pub lesions: Vec<Array2<u8>>,
}

impl SynthCase {
    /// The union of the lesion masks (0/1).
    pub fn mask(&self) -> Array2<u8> {
        let mut m = Array2::zeros(self.image.dim());
        for l in &self.lesions {
            m.zip_mut_with(l, |a, &b| *a |= b);
        }
        m
    }
}

/// What [`write_dataset`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SynthSummary {
    /// Images written.
    pub images: usize,
    /// Images with at least one lesion.
    pub positives: usize,
    /// Lesions (CSV rows other than `-1`).
    pub lesions: usize,
    /// The DICOM tree's root (`<out>/dicom-images-train`).
    pub dicom_root: PathBuf,
    /// The annotation file (`<out>/train-rle.csv`).
    pub annotations: PathBuf,
}

const UID_ROOT: &str = "1.2.276.0.7230010.3.1";

/// Generates case `index` of the set described by `options` (deterministic per seed and index).
pub fn generate(options: &SynthOptions, index: usize) -> SynthCase {
    let mut rng = draw::case_rng(options.seed, index);
    let positive = rng.random_bool(options.positive_share.clamp(0.0, 1.0));
    let mut lesions = Vec::new();
    if positive {
        let count = if rng.random_bool(options.second_lesion_share.clamp(0.0, 1.0)) {
            2
        } else {
            1
        };
        for _ in 0..count {
            lesions.push(Lesion {
                lung: rng.random_range(0..2),
                site: if rng.random_bool(0.5) {
                    Site::Apical
                } else {
                    Site::Lateral
                },
                depth: rng.random_range(0.15..0.4),
                spread: rng.random_range(0.5..1.0),
            });
        }
    }
    let (image, masks) = draw::radiograph(options.size.max(8), &mut rng, &lesions);
    let tail = format!("{}.{}", options.seed, index);
    SynthCase {
        image_id: format!("{UID_ROOT}.4.{tail}"),
        study_uid: format!("{UID_ROOT}.2.{tail}"),
        series_uid: format!("{UID_ROOT}.3.{tail}"),
        image,
        lesions: masks
            .into_iter()
            .filter(|m| m.iter().any(|&p| p != 0))
            .collect(),
    }
}

/// Writes `options.count` images under `out` in SIIM's layout, and `out/train-rle.csv`.
/// Every file is written atomically; an existing set in `out` is overwritten file by file.
pub fn write_dataset(out: &Path, options: &SynthOptions) -> Result<SynthSummary> {
    if options.count == 0 || !(8..=4096).contains(&options.size) {
        return Err(Error::InvalidArgument {
            name: "synth",
            message: format!(
                "count {} and size {}: need count >= 1 and 8 <= size <= 4096",
                options.count, options.size
            ),
        });
    }
    let root = out.join("dicom-images-train");
    let mut csv = String::from("ImageId,EncodedPixels\n");
    let (mut positives, mut lesion_rows) = (0, 0);
    for index in 0..options.count {
        let case = generate(options, index);
        let dir = root.join(&case.study_uid).join(&case.series_uid);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut rng = draw::case_rng(options.seed ^ 0x5eed, index);
        let header = dicom::Header {
            sop_uid: &case.image_id,
            study_uid: &case.study_uid,
            series_uid: &case.series_uid,
            patient_id: &format!("synthetic-{}-{index}", options.seed),
            sex: if rng.random_bool(0.5) { "M" } else { "F" },
            age: rng.random_range(18..90),
            view: if rng.random_bool(0.55) { "PA" } else { "AP" },
            spacing_mm: 0.143 * 1024.0 / options.size as f64,
        };
        let bytes = dicom::encode(&case.image, &header)?;
        write_atomic(dir.join(format!("{}.dcm", case.image_id)), |w| {
            w.write_all(&bytes)
        })?;
        if case.lesions.is_empty() {
            csv.push_str(&format!("{},-1\n", case.image_id));
        } else {
            positives += 1;
            for lesion in &case.lesions {
                lesion_rows += 1;
                csv.push_str(&format!(
                    "{},{}\n",
                    case.image_id,
                    encode(&lesion.view(), RleForm::Relative)
                ));
            }
        }
    }
    let annotations = out.join("train-rle.csv");
    write_atomic(&annotations, |w| w.write_all(csv.as_bytes()))?;
    Ok(SynthSummary {
        images: options.count,
        positives,
        lesions: lesion_rows,
        dicom_root: root,
        annotations,
    })
}
