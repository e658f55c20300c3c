//! The images of a run: a dataset index split into stratified folds, and a loader
//! [`Source`] that decodes images (DICOM or PNG) and their masks (RLE rows united, or PNG) on
//! the loader's threads, each with its [`SampleMeta`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::Array2;
use ptx_io::annotations::Annotations;
use ptx_io::dicom::DicomMeta;
use ptx_io::folds::{balanced_subset, stratified_holdout, stratified_k_fold, Split};
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

/// Offsets of the seeds of the subset and the test part from the experiment's seed (the
/// folds use the seed itself), so that each draw has its own stream.
const SUBSET_STREAM: u64 = 0x5b5e_7000_0001;
const HOLDOUT_STREAM: u64 = 0x5b5e_7000_0002;

/// Samples with their place in the split (a fold, or the held-out test part).
#[derive(Debug, Clone)]
pub struct Dataset {
    samples: Vec<Sample>,
    splits: Vec<Split>,
    classes: Option<Vec<i64>>,
    annotations: Option<Arc<Annotations>>,
    form: RleForm,
    unmatched_images: usize,
}

impl Dataset {
    /// Indexes the data of `config`, keeps its subset, holds out its test part and deals the
    /// rest into stratified folds, each draw under `seed` (or reads the folds and the test
    /// part from the folds file).
    ///
    /// # Errors
    /// [`Error::MissingInput`] for a missing folder or file, [`Error::NoImages`] when no
    /// image is matched, [`Error::Row`], [`Error::NotListed`] or [`Error::FoldOutOfRange`]
    /// for a bad folds or labels file; [`Error::PtxIo`] for an unreadable CSV.
    pub fn open(config: &DataConfig, seed: u64) -> Result<Self> {
        must_exist(&config.images, "image folder", Path::is_dir)?;
        let (mut index, annotations, form) = match &config.truth {
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
            Truth::None => {
                let labels = config.labels.as_deref().ok_or_else(|| {
                    Error::config("data.labels", "images without masks need class labels")
                })?;
                (
                    images_only(&config.images, labels)?,
                    None,
                    RleForm::default(),
                )
            }
        };
        if index.samples.is_empty() {
            return Err(Error::NoImages {
                images: config.images.clone(),
                image_files: index.images_without_annotations.len(),
                annotations_without_files: index.annotations_without_images.len(),
            });
        }
        let mut classes = config
            .labels
            .as_ref()
            .map(|csv| read_classes(csv, &index.samples))
            .transpose()?;
        if let (Truth::None, Some(classes)) = (&config.truth, &classes) {
            for (s, &c) in index.samples.iter_mut().zip(classes) {
                s.positive = c != 0;
            }
        }
        if let Some(kept) = subset(&index.labels(), config, seed)? {
            index.samples = kept.iter().map(|&i| index.samples[i].clone()).collect();
            classes = classes.map(|c| kept.iter().map(|&i| c[i]).collect());
        }
        let k = config.folds.count();
        let splits = match config.folds.file() {
            Some(csv) => read_folds(csv, &index.samples, k)?,
            None => deal(&index.labels(), config, seed)?,
        };
        Ok(Self {
            classes,
            unmatched_images: index.images_without_annotations.len(),
            samples: index.samples,
            splits,
            annotations,
            form,
        })
    }

    /// The images a run of `config` under `seed` uses and the split of each, from the images'
    /// labels alone: `labelled` lists every image as `(ImageId, positive)`, and the draws are
    /// those of [`Dataset::open`] over a folder holding exactly these images (which sorts
    /// them by ImageId, as this does), so a paper's split can be built, checked and shared
    /// before the images are at hand. An ImageId listed twice counts once (its first label).
    ///
    /// # Errors
    /// [`Error::Config`] for a config with a folds file (its rows are the plan) or a hold-out
    /// larger than the images; [`Error::PtxIo`] when the images cannot be split (too few of a
    /// class for the folds or the subset).
    pub fn plan(
        labelled: &[(String, bool)],
        config: &DataConfig,
        seed: u64,
    ) -> Result<Vec<(String, Split)>> {
        if config.folds.file().is_some() {
            return Err(Error::config(
                "data.folds_file",
                "a folds file is the split itself: there is nothing to plan",
            ));
        }
        let mut sorted: Vec<&(String, bool)> = labelled.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the first of a repeated ImageId stays
        sorted.dedup_by(|b, a| a.0 == b.0);
        let labels: Vec<bool> = sorted.iter().map(|(_, l)| *l).collect();
        let kept = subset(&labels, config, seed)?.unwrap_or_else(|| (0..labels.len()).collect());
        let kept_labels: Vec<bool> = kept.iter().map(|&i| labels[i]).collect();
        let splits = deal(&kept_labels, config, seed)?;
        Ok(kept
            .into_iter()
            .zip(splits)
            .map(|(i, split)| (sorted[i].0.clone(), split))
            .collect())
    }

    /// Images without a truth, for prediction: every sample is unlabelled (`positive`
    /// false) and loads with an empty mask.
    pub fn unlabelled(files: Vec<PathBuf>) -> Self {
        let samples: Vec<Sample> = files.into_iter().map(unlabelled_sample).collect();
        Self {
            splits: vec![Split::Fold(0); samples.len()],
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

    /// Each sample's place: its fold, or the held-out test part.
    pub fn splits(&self) -> &[Split] {
        &self.splits
    }

    /// Image files found without annotations (not used).
    pub fn unmatched_images(&self) -> usize {
        self.unmatched_images
    }

    /// Indices of the samples of `fold` (`in_fold`) or of every other fold (never the test
    /// part), keeping only positives when `positives_only`.
    pub fn split(&self, fold: usize, in_fold: bool, positives_only: bool) -> Vec<usize> {
        self.indices(positives_only, |s| match s {
            Split::Fold(f) => (f == fold) == in_fold,
            Split::Test => false,
        })
    }

    /// Indices of the held-out test part, keeping only positives when `positives_only`.
    pub fn test(&self, positives_only: bool) -> Vec<usize> {
        self.indices(positives_only, |s| s == Split::Test)
    }

    fn indices(&self, positives_only: bool, wanted: impl Fn(Split) -> bool) -> Vec<usize> {
        (0..self.samples.len())
            .filter(|&i| wanted(self.splits[i]))
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

/// The indices of `config.subset`'s balanced subset of `labels` (`None` without a subset).
fn subset(labels: &[bool], config: &DataConfig, seed: u64) -> Result<Option<Vec<usize>>> {
    config
        .subset
        .map(|subset| {
            balanced_subset(
                labels,
                subset.negatives_per_positive,
                seed.wrapping_add(SUBSET_STREAM),
            )
        })
        .transpose()
        .map_err(Into::into)
}

/// The test part held out (stratified) and the rest dealt into stratified folds.
fn deal(labels: &[bool], config: &DataConfig, seed: u64) -> Result<Vec<Split>> {
    let test = match config.holdout {
        Some(h) => stratified_holdout(
            labels,
            h.count_of(labels.len())?,
            seed.wrapping_add(HOLDOUT_STREAM),
        )?,
        None => vec![false; labels.len()],
    };
    let rest: Vec<usize> = (0..labels.len()).filter(|&i| !test[i]).collect();
    let rest_labels: Vec<bool> = rest.iter().map(|&i| labels[i]).collect();
    let folds = stratified_k_fold(&rest_labels, config.folds.count(), seed)?;
    let mut splits = vec![Split::Test; labels.len()];
    for (&i, f) in rest.iter().zip(folds) {
        splits[i] = Split::Fold(f);
    }
    Ok(splits)
}

/// The image files under `root` (PNG or DICOM, by file stem) that the labels file lists, for
/// images without masks (a label file may list a subset of a large folder).
fn images_only(root: &Path, labels: &Path) -> Result<DatasetIndex> {
    must_exist(labels, "labels file", Path::is_file)?;
    let text = std::fs::read_to_string(labels).map_err(|e| Error::io(labels, e))?;
    let listed: std::collections::HashSet<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(',').map(|(id, _)| id.trim()))
        .collect();
    let mut samples: Vec<Sample> =
        ptx_io::index::files_with_extension(root, &["png", "dcm", "dicom"])?
            .into_iter()
            .filter(|image| {
                image
                    .file_stem()
                    .is_some_and(|s| listed.contains(s.to_string_lossy().as_ref()))
            })
            .map(unlabelled_sample)
            .collect();
    samples.sort_by(|a, b| a.image_id.cmp(&b.image_id));
    Ok(DatasetIndex {
        samples,
        ..DatasetIndex::default()
    })
}

/// Each sample's place from a folds CSV.
fn read_folds(csv: &Path, samples: &[Sample], k: usize) -> Result<Vec<Split>> {
    let by_id: HashMap<String, Split> = ptx_io::folds::read_folds_csv(csv)?
        .into_iter()
        .map(|r| (r.image_id, r.fold))
        .collect();
    samples
        .iter()
        .map(|s| match by_id.get(&s.image_id) {
            Some(&Split::Fold(f)) if f < k => Ok(Split::Fold(f)),
            Some(&Split::Test) => Ok(Split::Test),
            Some(&Split::Fold(f)) => Err(Error::FoldOutOfRange {
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

/// An image without a mask or a class: its ImageId is its file stem.
fn unlabelled_sample(image: PathBuf) -> Sample {
    Sample {
        image_id: image
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        image,
        mask: None,
        positive: false,
    }
}
