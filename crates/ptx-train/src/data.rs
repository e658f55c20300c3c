//! The images of a run: a dataset index split into stratified folds, and a loader
//! [`Source`] that decodes images (DICOM or PNG) and their masks (RLE rows united, or PNG) on
//! the loader's threads.

use std::path::PathBuf;
use std::sync::Arc;

use ndarray::Array2;
use ptx_io::annotations::Annotations;
use ptx_io::image_file::{read_image_gray8, read_mask_png};
use ptx_io::index::{DatasetIndex, Sample};
use ptx_io::rle::RleForm;
use ptx_preproc::Source;

use crate::experiment::DataConfig;
use crate::{Error, Result};

/// Samples with their fold numbers.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Matched samples, sorted by ImageId.
    pub samples: Vec<Sample>,
    /// The fold of each sample (stratified by label, seeded).
    pub folds: Vec<usize>,
    annotations: Option<Arc<Annotations>>,
    form: RleForm,
    /// Image files found without annotations (not used).
    pub unmatched_images: usize,
    /// Each sample's class from [`DataConfig::labels`], when given.
    pub classes: Option<Vec<i64>>,
}

impl Dataset {
    /// Indexes the data of `config` and splits it into `config.folds` stratified folds under
    /// `seed`.
    ///
    /// # Errors
    /// [`Error::Data`] for a missing folder or file, or no matched image; [`Error::PtxIo`] for
    /// an unreadable CSV.
    pub fn open(config: &DataConfig, seed: u64) -> Result<Self> {
        if !config.images.is_dir() {
            return Err(Error::Data(format!(
                "image folder {} does not exist",
                config.images.display()
            )));
        }
        let (index, annotations) = match (&config.annotations, &config.masks) {
            (Some(csv), _) => {
                if !csv.is_file() {
                    return Err(Error::Data(format!(
                        "annotation file {} does not exist",
                        csv.display()
                    )));
                }
                let annotations = Annotations::read(csv)?;
                let index =
                    DatasetIndex::from_dicom_tree(&config.images, &annotations, config.rle)?;
                (index, Some(Arc::new(annotations)))
            }
            (None, Some(masks)) => (DatasetIndex::from_png_folders(&config.images, masks)?, None),
            (None, None) => {
                return Err(Error::config(
                    "data",
                    "neither `annotations` nor `masks` is given",
                ))
            }
        };
        if index.samples.is_empty() {
            return Err(Error::Data(format!(
                "no image under {} has an annotation ({} image files, {} annotated ImageIds without a file)",
                config.images.display(),
                index.images_without_annotations.len(),
                index.annotations_without_images.len()
            )));
        }
        let folds = match &config.folds_file {
            Some(csv) => read_folds(csv, &index.samples, config.folds)?,
            None => ptx_io::folds::stratified_k_fold(&index.labels(), config.folds, seed)?,
        };
        let classes = config
            .labels
            .as_ref()
            .map(|csv| read_classes(csv, &index.samples))
            .transpose()?;
        Ok(Self {
            classes,
            unmatched_images: index.images_without_annotations.len(),
            samples: index.samples,
            folds,
            annotations,
            form: config.rle,
        })
    }

    /// Images without masks, for prediction: every sample is unlabelled (`positive` false)
    /// and loads with an empty mask.
    pub fn unlabelled(files: Vec<PathBuf>) -> Self {
        let samples: Vec<Sample> = files
            .into_iter()
            .map(|image| Sample {
                image_id: image
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                image,
                mask: None,
                positive: false,
            })
            .collect();
        Self {
            folds: vec![0; samples.len()],
            samples,
            annotations: None,
            form: RleForm::Relative,
            unmatched_images: 0,
            classes: None,
        }
    }

    /// Indices of the samples of `fold` (`in_fold`) or of every other fold, keeping only
    /// positives when `positives_only`.
    pub fn split(&self, fold: usize, in_fold: bool, positives_only: bool) -> Vec<usize> {
        (0..self.samples.len())
            .filter(|&i| (self.folds[i] == fold) == in_fold)
            .filter(|&i| !positives_only || self.samples[i].positive)
            .collect()
    }

    /// A loader source over the samples at `indices` (in that order).
    pub fn source(&self, indices: &[usize]) -> SampleSource {
        SampleSource {
            samples: indices.iter().map(|&i| self.samples[i].clone()).collect(),
            annotations: self.annotations.clone(),
            form: self.form,
        }
    }

    /// The class of each of `indices`: [`Dataset::classes`] when there are some, else 1 for
    /// a positive image and 0 for a negative one.
    pub fn class_of(&self, indices: &[usize]) -> Vec<i64> {
        indices
            .iter()
            .map(|&i| match &self.classes {
                Some(c) => c[i],
                None => i64::from(self.samples[i].positive),
            })
            .collect()
    }

    /// Labels of [`Self::samples`].
    pub fn labels(&self) -> Vec<bool> {
        self.samples.iter().map(|s| s.positive).collect()
    }
}

/// Loads samples for the [`ptx_preproc::Loader`]: the grey 8-bit image (DICOM through its
/// VOI window, or PNG) and the mask (annotation rows united, a PNG mask, or empty).
#[derive(Debug, Clone)]
pub struct SampleSource {
    samples: Vec<Sample>,
    annotations: Option<Arc<Annotations>>,
    form: RleForm,
}

impl SampleSource {
    /// The samples, in loader index order.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    fn load_sample(&self, sample: &Sample) -> Result<(Array2<u8>, Array2<u8>)> {
        let image = read_image_gray8(&sample.image)?;
        let (h, w) = image.dim();
        let mask = match (&sample.mask, &self.annotations) {
            (Some(png), _) => read_mask_png(png)?,
            (None, Some(a)) => a
                .mask(&sample.image_id, w, h, self.form)?
                .map(|m| m.as_standard_layout().into_owned())
                .unwrap_or_else(|| Array2::zeros((h, w))),
            (None, None) => Array2::zeros((h, w)),
        };
        if mask.dim() != (h, w) {
            return Err(Error::Data(format!(
                "{}: mask is {:?} but the image is {:?}",
                sample.image_id,
                mask.dim(),
                (h, w)
            )));
        }
        Ok((image, mask))
    }
}

impl Source for SampleSource {
    fn len(&self) -> usize {
        self.samples.len()
    }

    fn load(&self, index: usize) -> std::result::Result<(Array2<u8>, Array2<u8>), String> {
        let sample = self
            .samples
            .get(index)
            .ok_or_else(|| format!("no sample {index}"))?;
        self.load_sample(sample)
            .map_err(|e| format!("{} ({}): {e}", sample.image_id, sample.image.display()))
    }
}

/// Reads `ImageId,class` rows (after a header) and returns the class of every sample.
fn read_classes(csv: &std::path::Path, samples: &[Sample]) -> Result<Vec<i64>> {
    let text = std::fs::read_to_string(csv).map_err(|e| Error::io(csv, e))?;
    let mut by_id = std::collections::HashMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || {
            Error::Data(format!(
                "{} line {}: expected `ImageId,class` with a class >= 0, found `{line}`",
                csv.display(),
                n + 1
            ))
        };
        let (id, class) = line.split_once(',').ok_or_else(bad)?;
        let class: i64 = class.trim().parse().map_err(|_| bad())?;
        if class < 0 {
            return Err(bad());
        }
        by_id.insert(id.trim().to_string(), class);
    }
    samples
        .iter()
        .map(|s| {
            by_id.get(&s.image_id).copied().ok_or_else(|| {
                Error::Data(format!(
                    "{} has no class for image {}",
                    csv.display(),
                    s.image_id
                ))
            })
        })
        .collect()
}

/// The fold of every sample from a folds CSV.
fn read_folds(csv: &std::path::Path, samples: &[Sample], k: usize) -> Result<Vec<usize>> {
    let by_id: std::collections::HashMap<String, usize> = ptx_io::folds::read_folds_csv(csv)?
        .into_iter()
        .map(|r| (r.image_id, r.fold))
        .collect();
    samples
        .iter()
        .map(|s| match by_id.get(&s.image_id) {
            Some(&f) if f < k => Ok(f),
            Some(&f) => Err(Error::Data(format!(
                "{}: image {} is in fold {f}, not below folds = {k}",
                csv.display(),
                s.image_id
            ))),
            None => Err(Error::Data(format!(
                "{} has no fold for image {}",
                csv.display(),
                s.image_id
            ))),
        })
        .collect()
}
