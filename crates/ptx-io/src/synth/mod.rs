//! A synthetic SIIM-like dataset: procedural chest radiographs with pneumothoraces shaped
//! like the challenge's (by default [`LesionStatistics::siim`]: 22 % of images positive, 23 %
//! of those with several lesions, each lesion's area drawn from the real areas'
//! quantiles, side and apical share as measured), written as real DICOM files in the challenge's folder layout
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
pub(crate) mod draw;
pub(crate) mod findings;
mod stats;

use std::path::{Path, PathBuf};

use ndarray::Array2;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::rle::{encode, RleForm};
use crate::{write_atomic, Error, Result};
use draw::{Lesion, Site};
pub use stats::{
    image_lesions, ks_distance, ImageLesions, LesionDistribution, LesionShape, LesionStatistics,
    APICAL_LIMIT, AREA_PROBABILITIES, AREA_QUANTILES, MAX_LESIONS,
};

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
    /// Share of images with a pneumothorax. Default SIIM's, 0.2215.
    pub positive_share: f64,
    /// How many lesions a positive image has, their areas and places. Default SIIM's
    /// ([`LesionStatistics::siim`]).
    pub lesions: LesionDistribution,
}

impl Default for SynthOptions {
    fn default() -> Self {
        Self::like(100, LesionStatistics::siim())
    }
}

impl SynthOptions {
    /// `count` images at 256 px, seed 0, whose lesions follow `statistics` (e.g. measured on
    /// a user's own annotations with [`LesionStatistics::from_images`]).
    pub fn like(count: usize, statistics: LesionStatistics) -> Self {
        Self {
            count,
            size: 256,
            seed: 0,
            positive_share: statistics.positive_share,
            lesions: statistics.lesions,
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
    /// The shape of each lesion (area, centroid), as [`image_lesions`] measures annotation
    /// rows: for comparing a synthetic set with a real one.
    pub fn image_lesions(&self) -> ImageLesions {
        ImageLesions {
            image_id: self.image_id.clone(),
            lesions: self
                .lesions
                .iter()
                .filter_map(|m| LesionShape::of_mask(&m.view()))
                .collect(),
        }
    }

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
/// A drawn lesion too small to cover a pixel's centre at `size` leaves no mask (and an image
/// whose lesions all do so is negative).
pub fn generate(options: &SynthOptions, index: usize) -> SynthCase {
    let mut rng = draw::case_rng(options.seed, index);
    let positive = rng.random_bool(options.positive_share.clamp(0.0, 1.0));
    let mut lesions = Vec::new();
    if positive {
        let shape = &options.lesions;
        for _ in 0..shape.lesions_at(rng.random()) {
            lesions.push(Lesion {
                lung: usize::from(!rng.random_bool(shape.image_left_share.clamp(0.0, 1.0))),
                site: if rng.random_bool(shape.apical_share.clamp(0.0, 1.0)) {
                    Site::Apical
                } else {
                    Site::Lateral
                },
                area: shape.area_at(rng.random()) as f32,
                spread: rng.random_range(0.5..1.2),
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
    if !(0.0..=1.0).contains(&options.positive_share) {
        return Err(Error::InvalidArgument {
            name: "synth.positive_share",
            message: format!("{} is not in [0, 1]", options.positive_share),
        });
    }
    options
        .lesions
        .check()
        .map_err(|message| Error::InvalidArgument {
            name: "synth.lesions",
            message,
        })?;
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
