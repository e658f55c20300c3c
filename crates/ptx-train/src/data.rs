//! The images of a run: a dataset index split into stratified folds, and a loader
//! [`Source`] that decodes images (DICOM or PNG) and their masks (RLE rows united, or PNG) on
//! the loader's threads, each with its [`SampleMeta`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::Array2;
use ptx_io::annotations::Annotations;
use ptx_io::dicom::DicomMeta;
use ptx_io::image_file::{read_mask_png, read_radiograph};
use ptx_io::index::{DatasetIndex, Sample};
use ptx_io::rle::RleForm;
use ptx_metrics::PixelSpacing;
use ptx_preproc::{Loaded, Source};

use crate::config::{DataConfig, Truth};
use crate::{Error, Result};

/// What a sample carries from its file to the outputs: who it is, its size and what its
/// DICOM header says. Made where the file is decoded; no later layer opens the file again.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleMeta {
    /// ImageId: the file stem (the SOP Instance UID for SIIM DICOMs).
    pub image_id: String,
    /// The image file.
    pub path: PathBuf,
    /// The image's own `(height, width)` in pixels, before any resizing.
    pub size: (usize, usize),
    /// The DICOM attributes (pixel spacing, UIDs, ...) of a DICOM file; identifying
    /// attributes are not read.
    pub dicom: Option<Box<DicomMeta>>,
    /// The image's class: `data.labels`' class when given, else 1 for an image whose mask has
    /// a pixel and 0 otherwise (0 for images without a truth).
    pub class: i64,
    /// The grey image as decoded, at its own size, when the source keeps it
    /// ([`SampleSource::keeping_pixels`], for pictures of the outputs).
    pub pixels: Option<Array2<u8>>,
}

impl SampleMeta {
    /// The pixel spacing of a DICOM file that states one.
    pub fn pixel_spacing(&self) -> Option<PixelSpacing> {
        let [row_mm, col_mm] = self.dicom.as_ref()?.pixel_spacing_mm?;
        Some(PixelSpacing { row_mm, col_mm })
    }

    /// The SOP Instance UID of a DICOM file.
    pub fn sop_instance_uid(&self) -> Option<&str> {
        self.dicom.as_ref()?.sop_instance_uid.as_deref()
    }
}

/// A sample left out because it did not load: which, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// ImageId.
    pub image_id: String,
    /// The file.
    pub path: PathBuf,
    /// Why (the decoder's error, naming the file).
    pub error: ptx_preproc::Error,
}

/// Samples with their fold numbers.
#[derive(Debug, Clone)]
pub struct Dataset {
    samples: Vec<Sample>,
    folds: Vec<usize>,
    classes: Option<Vec<i64>>,
    annotations: Option<Arc<Annotations>>,
    form: RleForm,
    unmatched_images: usize,
}

impl Dataset {
    /// Indexes the data of `config` and splits it into its stratified folds under `seed` (or
    /// reads them from the folds file).
    ///
    /// # Errors
    /// [`Error::MissingInput`] for a missing folder or file, [`Error::NoImages`] when no
    /// image is matched, [`Error::Row`], [`Error::NotListed`] or [`Error::FoldOutOfRange`]
    /// for a bad folds or labels file; [`Error::PtxIo`] for an unreadable CSV.
    pub fn open(config: &DataConfig, seed: u64) -> Result<Self> {
        must_exist(&config.images, "image folder", Path::is_dir)?;
        let (index, annotations, form) = match &config.truth {
            Truth::Annotations { csv, rle } => {
                must_exist(csv, "annotation file", Path::is_file)?;
                let annotations = Annotations::read(csv)?;
                let index = DatasetIndex::from_dicom_tree(&config.images, &annotations, *rle)?;
                (index, Some(Arc::new(annotations)), *rle)
            }
            Truth::Masks(dir) => {
                must_exist(dir, "mask folder", Path::is_dir)?;
                let index = DatasetIndex::from_png_folders(&config.images, dir)?;
                (index, None, RleForm::default())
            }
        };
        if index.samples.is_empty() {
            return Err(Error::NoImages {
                images: config.images.clone(),
                image_files: index.images_without_annotations.len(),
                annotations_without_files: index.annotations_without_images.len(),
            });
        }
        let folds = match config.folds.file() {
            Some(csv) => read_folds(csv, &index.samples, config.folds.count())?,
            None => ptx_io::folds::stratified_k_fold(&index.labels(), config.folds.count(), seed)?,
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
            form,
        })
    }

    /// Images without a truth, for prediction: every sample is unlabelled (`positive`
    /// false) and loads with an empty mask.
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
            classes: None,
            annotations: None,
            form: RleForm::default(),
            unmatched_images: 0,
        }
    }

    /// The matched samples, sorted by ImageId.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The fold of each sample.
    pub fn folds(&self) -> &[usize] {
        &self.folds
    }

    /// Image files found without annotations (not used).
    pub fn unmatched_images(&self) -> usize {
        self.unmatched_images
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
    ///
    /// # Errors
    /// [`Error::NoSample`] for an index past the samples.
    pub fn source(&self, indices: &[usize]) -> Result<SampleSource> {
        let samples = indices
            .iter()
            .map(|&i| match self.samples.get(i) {
                Some(s) => Ok((s.clone(), self.class(i))),
                None => Err(Error::NoSample(i)),
            })
            .collect::<Result<_>>()?;
        Ok(SampleSource {
            samples,
            annotations: self.annotations.clone(),
            form: self.form,
            keep_pixels: 0,
        })
    }

    /// The class of sample `i` (see [`SampleMeta::class`]); 0 past the samples.
    pub(crate) fn class(&self, i: usize) -> i64 {
        match &self.classes {
            Some(c) => c.get(i).copied().unwrap_or_default(),
            None => self.samples.get(i).map_or(0, |s| i64::from(s.positive)),
        }
    }
}

fn must_exist(path: &Path, what: &'static str, test: fn(&Path) -> bool) -> Result<()> {
    if test(path) {
        Ok(())
    } else {
        Err(Error::MissingInput {
            what,
            path: path.to_path_buf(),
        })
    }
}

/// Loads samples for the [`ptx_preproc::Loader`]: the grey 8-bit image (DICOM through its
/// VOI window, or PNG), the mask (annotation rows united, a PNG mask, or empty) and the
/// [`SampleMeta`], from one read of each file.
#[derive(Debug, Clone)]
pub struct SampleSource {
    samples: Vec<(Sample, i64)>,
    annotations: Option<Arc<Annotations>>,
    form: RleForm,
    /// The samples below this loader index keep their decoded pixels.
    keep_pixels: usize,
}

impl SampleSource {
    /// The sample at loader index `index`.
    pub fn sample(&self, index: usize) -> Option<&Sample> {
        self.samples.get(index).map(|(s, _)| s)
    }

    /// The same source, keeping each decoded grey image in its [`SampleMeta::pixels`].
    pub fn keeping_pixels(self) -> Self {
        self.keeping_pixels_of_first(usize::MAX)
    }

    /// The same source, keeping the decoded grey images of its first `count` samples.
    pub(crate) fn keeping_pixels_of_first(self, count: usize) -> Self {
        Self {
            keep_pixels: count,
            ..self
        }
    }

    /// A sample that did not load, named.
    pub(crate) fn skipped(&self, (index, error): (usize, ptx_preproc::Error)) -> Skipped {
        let (image_id, path) = self
            .sample(index)
            .map(|s| (s.image_id.clone(), s.image.clone()))
            .unwrap_or_default();
        Skipped {
            image_id,
            path,
            error,
        }
    }
}

impl Source for SampleSource {
    type Meta = SampleMeta;
    type Error = Error;

    fn len(&self) -> usize {
        self.samples.len()
    }

    fn load(&self, index: usize) -> Result<Loaded<SampleMeta>> {
        let (sample, class) = self.samples.get(index).ok_or(Error::NoSample(index))?;
        let radiograph = read_radiograph(&sample.image)?;
        let image = radiograph.pixels;
        let size = image.dim();
        let mask = match (&sample.mask, &self.annotations) {
            (Some(png), _) => read_mask_png(png)?,
            (None, Some(a)) => a
                .mask(&sample.image_id, size, self.form)?
                .map(|m| m.as_standard_layout().into_owned())
                .unwrap_or_else(|| Array2::zeros(size)),
            (None, None) => Array2::zeros(size),
        };
        if mask.dim() != size {
            return Err(ptx_io::Error::ShapeMismatch {
                what: format!("mask of {}", sample.image_id),
                expected: size,
                found: mask.dim(),
            }
            .into());
        }
        let pixels = (index < self.keep_pixels).then(|| image.clone());
        Ok(Loaded {
            image,
            mask,
            meta: SampleMeta {
                image_id: sample.image_id.clone(),
                path: sample.image.clone(),
                size,
                dicom: radiograph.dicom.map(Box::new),
                class: *class,
                pixels,
            },
        })
    }
}

/// Reads `ImageId,class` rows (after a header) and returns the class of every sample.
fn read_classes(csv: &Path, samples: &[Sample]) -> Result<Vec<i64>> {
    let text = std::fs::read_to_string(csv).map_err(|e| Error::io(csv, e))?;
    let mut by_id = HashMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || Error::Row {
            file: csv.to_path_buf(),
            line: n + 1,
            problem: format!("expected `ImageId,class` with a class >= 0, found `{line}`"),
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
            by_id
                .get(&s.image_id)
                .copied()
                .ok_or_else(|| Error::NotListed {
                    file: csv.to_path_buf(),
                    image_id: s.image_id.clone(),
                    what: "class",
                })
        })
        .collect()
}

/// The fold of every sample from a folds CSV.
fn read_folds(csv: &Path, samples: &[Sample], k: usize) -> Result<Vec<usize>> {
    let by_id: HashMap<String, usize> = ptx_io::folds::read_folds_csv(csv)?
        .into_iter()
        .map(|r| (r.image_id, r.fold))
        .collect();
    samples
        .iter()
        .map(|s| match by_id.get(&s.image_id) {
            Some(&f) if f < k => Ok(f),
            Some(&f) => Err(Error::FoldOutOfRange {
                file: csv.to_path_buf(),
                image_id: s.image_id.clone(),
                fold: f,
                folds: k,
            }),
            None => Err(Error::NotListed {
                file: csv.to_path_buf(),
                image_id: s.image_id.clone(),
                what: "fold",
            }),
        })
        .collect()
}
