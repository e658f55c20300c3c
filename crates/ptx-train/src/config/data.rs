//! `[data]`: which images, their truth, the folds, and which images an epoch visits.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use ptx_io::rle::RleForm;
use ptx_preproc::OnError;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The data of a run: a SIIM DICOM tree with an annotation CSV, or PNG images with PNG
/// masks (or images with class labels only); which of them a run uses (`subset`), the part
/// held out for the final test (`holdout`), the folds; which images train and validate.
///
/// The images are split in this order, each step seeded: the balanced subset is drawn, the
/// test part is held out of it (stratified), and the rest is dealt into stratified folds
/// (or the folds file decides both the folds and the test part, `test` in its fold column).
///
/// In TOML the truth is `annotations = "train-rle.csv"` (with an optional `rle` form) or
/// `masks = "masks/"`, exactly one of them, or neither with `labels` (images without masks,
/// e.g. ChestX-ray14 for classifier pre-training); the folds are `folds`, `validation_fold`
/// and an optional `folds_file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawData", into = "RawData")]
pub struct DataConfig {
    /// The DICOM tree (`dicom-images-train`) or the folder of PNG images.
    pub images: PathBuf,
    /// Where each image's mask comes from.
    pub truth: Truth,
    /// The folds and the one held out for validation.
    pub folds: Folds,
    /// Only a balanced subset of the images, drawn once before any split. Default all.
    pub subset: Option<Subset>,
    /// Images held out of every fold for the final test: never trained or validated on
    /// (see [`crate::Dataset::test`]). Default none.
    pub holdout: Option<Holdout>,
    /// Train and validate on positive images only (the two-stage system's segmenter).
    /// Default false.
    pub positives_only: bool,
    /// A file that fails to decode: `skip` it (counted in the log, a warning) or `fail` the
    /// run. Default skip.
    pub on_error: OnError,
    /// Image classes for the classification objective: a CSV with a header and rows
    /// `ImageId,class` (class 0, 1, ...), e.g. pseudo-labels from clustering. Every image
    /// needs a row. Default none (the class is whether the mask has a pixel).
    pub labels: Option<PathBuf>,
    /// Which training images each epoch visits. Default all.
    pub sampling: Sampling,
}

/// Where the masks come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    /// An annotation CSV (`ImageId,EncodedPixels`, several rows of one image united), for a
    /// DICOM tree.
    Annotations {
        /// The CSV.
        csv: PathBuf,
        /// Its run-length form (the challenge's `train-rle.csv`: relative).
        rle: RleForm,
    },
    /// A folder of PNG masks named as the images.
    Masks(PathBuf),
    /// No masks (every mask is empty): images with the classes of `data.labels`, an image
    /// being positive when its class is not 0.
    None,
}

/// A balanced subset: every positive image and `negatives_per_positive` times as many
/// negatives, drawn under the seed (Viel & Orhan's and Dašić et al.'s 2,669 + 2,669 SIIM
/// images).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subset {
    /// Negatives per positive, a number > 0 (1 = balanced).
    #[serde(deserialize_with = "crate::config::positive")]
    pub negatives_per_positive: f64,
}

/// How many images the test part holds, stratified by label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Holdout {
    /// This many images (Harmalkar et al.'s 1,159).
    Count(usize),
    /// This share of the images, in (0, 1) (Dašić et al.'s 20 %).
    Fraction(#[serde(deserialize_with = "crate::config::positive")] f64),
}

impl Holdout {
    /// The number of images held out of `n`.
    ///
    /// # Errors
    /// [`Error::Config`] naming `data.holdout` when nothing would be held out or nothing
    /// left.
    pub fn count_of(&self, n: usize) -> Result<usize> {
        let count = match *self {
            Holdout::Count(c) => c,
            Holdout::Fraction(f) => (f * n as f64).round() as usize,
        };
        if count == 0 || count >= n {
            return Err(Error::config(
                "data.holdout",
                format!("{self:?} holds out {count} of {n} images: at least one, and not all"),
            ));
        }
        Ok(count)
    }
}

/// Stratified folds: how many, which one is held out for validation, and optionally the fold
/// of every image from a CSV. Built by [`Folds::new`], so the held-out fold always exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folds {
    count: usize,
    validation: usize,
    file: Option<PathBuf>,
}

impl Default for Folds {
    /// 5 folds, fold 0 held out, a seeded stratified split.
    fn default() -> Self {
        Self {
            count: 5,
            validation: 0,
            file: None,
        }
    }
}

impl Folds {
    /// `count` folds (at least 2: one is held out) with fold `validation` held out.
    ///
    /// # Errors
    /// [`Error::Config`] naming `data.folds` or `data.validation_fold`.
    pub fn new(count: usize, validation: usize) -> Result<Self> {
        if count < 2 {
            return Err(Error::config(
                "data.folds",
                format!("{count}: at least 2 (one is held out)"),
            ));
        }
        if validation >= count {
            return Err(Error::config(
                "data.validation_fold",
                format!("{validation} is not below folds = {count}"),
            ));
        }
        Ok(Self {
            count,
            validation,
            file: None,
        })
    }

    /// The same folds read from a CSV (`ImageId,label,fold`, as `ptx index` writes) instead
    /// of the seeded stratified split, e.g. to keep all patches of one image in one fold.
    /// Every image needs a row and every fold must be below [`Folds::count`].
    pub fn from_file(self, csv: impl Into<PathBuf>) -> Self {
        Self {
            file: Some(csv.into()),
            ..self
        }
    }

    /// The same folds with fold `validation` held out.
    ///
    /// # Errors
    /// As [`Folds::new`].
    pub fn holding_out(&self, validation: usize) -> Result<Self> {
        let mut folds = Self::new(self.count, validation)?;
        folds.file.clone_from(&self.file);
        Ok(folds)
    }

    /// The number of folds.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The fold held out for validation.
    pub fn validation(&self) -> usize {
        self.validation
    }

    /// The folds file, when the folds come from one.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// Which training images an epoch visits (the validation images are never resampled).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sampling {
    /// Every image once, shuffled.
    #[default]
    All,
    /// Every image once and every positive `copies` times in all (Shannak et al. triple the
    /// positives), shuffled.
    OversamplePositives {
        /// Copies of each positive image per epoch (3 in the paper).
        copies: NonZeroUsize,
    },
    /// All positives and `ratio` times as many negatives, drawn afresh each epoch (Dasic et
    /// al.'s majority-class undersampling; 1.0 = balanced).
    UndersampleNegatives {
        /// Negatives per positive, a number > 0.
        #[serde(deserialize_with = "crate::config::positive")]
        ratio: f64,
    },
    /// As many draws as images, with replacement, each class with the same total weight
    /// (PyTorch's `WeightedRandomSampler` as Harmalkar et al. use it).
    ClassBalanced,
}

impl DataConfig {
    /// The combinations of keys that exclude or need each other: a hold-out with a folds file
    /// (which marks its test rows itself), images without masks and without `labels`. The
    /// TOML reader and [`crate::Experiment::check`] run it, so a `DataConfig` built in code is
    /// held to the same rules.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key.
    pub(crate) fn check(&self) -> Result<()> {
        if self.holdout.is_some() && self.folds.file().is_some() {
            return Err(Error::config(
                "data.holdout",
                "the folds file marks the test images itself (`test` in its fold column)",
            ));
        }
        if self.truth == Truth::None && self.labels.is_none() {
            return Err(Error::config(
                "data.labels",
                "images without masks (no `annotations`, no `masks`) need class labels",
            ));
        }
        Ok(())
    }

    /// The data of `images` with `truth`, every other option at its default (5 stratified
    /// folds, fold 0 held out, failing files skipped, every image once per epoch).
    pub fn new(images: impl Into<PathBuf>, truth: Truth) -> Self {
        Self {
            images: images.into(),
            truth,
            folds: Folds::default(),
            subset: None,
            holdout: None,
            positives_only: false,
            on_error: OnError::Skip,
            labels: None,
            sampling: Sampling::All,
        }
    }

    /// Makes relative paths relative to `base`.
    pub(crate) fn resolve(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.images);
        match &mut self.truth {
            Truth::Annotations { csv, .. } => join(csv),
            Truth::Masks(dir) => join(dir),
            Truth::None => {}
        }
        if let Some(l) = self.labels.as_mut() {
            join(l);
        }
        if let Some(f) = self.folds.file.as_mut() {
            join(f);
        }
    }
}

/// `[data]` as written in TOML: every key, checked into a [`DataConfig`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    images: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    masks: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rle: Option<RleForm>,
    #[serde(default = "five")]
    folds: usize,
    #[serde(default)]
    validation_fold: usize,
    #[serde(default)]
    positives_only: bool,
    #[serde(default = "skip")]
    on_error: OnError,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<PathBuf>,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    folds_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subset: Option<Subset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holdout: Option<Holdout>,
}

fn five() -> usize {
    Folds::default().count
}

fn skip() -> OnError {
    OnError::Skip
}

impl TryFrom<RawData> for DataConfig {
    type Error = Error;

    fn try_from(raw: RawData) -> Result<Self> {
        let truth = match (raw.annotations, raw.masks, raw.rle) {
            (Some(csv), None, rle) => Truth::Annotations {
                csv,
                rle: rle.unwrap_or_default(),
            },
            // Run folders written before the truth was one key hold the default `rle` with
            // masks too: it says nothing, and is accepted.
            (None, Some(dir), None | Some(RleForm::Relative)) => Truth::Masks(dir),
            (None, Some(_), Some(_)) => {
                return Err(Error::config(
                    "data.rle",
                    "the run-length form belongs to `annotations`; PNG `masks` have none",
                ))
            }
            (None, None, None) if raw.labels.is_some() => Truth::None,
            _ => {
                return Err(Error::config(
                    "data",
                    "give exactly one of `annotations` (a CSV, with a DICOM tree) or `masks` (a PNG folder), or neither with `labels` (images without masks)",
                ))
            }
        };
        let mut folds = Folds::new(raw.folds, raw.validation_fold)?;
        folds.file = raw.folds_file;
        let config = Self {
            images: raw.images,
            truth,
            folds,
            positives_only: raw.positives_only,
            on_error: raw.on_error,
            labels: raw.labels,
            sampling: raw.sampling,
            subset: raw.subset,
            holdout: raw.holdout,
        };
        config.check()?;
        Ok(config)
    }
}

impl From<DataConfig> for RawData {
    fn from(d: DataConfig) -> Self {
        let (annotations, masks, rle) = match d.truth {
            Truth::Annotations { csv, rle } => (Some(csv), None, Some(rle)),
            Truth::Masks(dir) => (None, Some(dir), None),
            Truth::None => (None, None, None),
        };
        Self {
            images: d.images,
            annotations,
            masks,
            rle,
            folds: d.folds.count,
            validation_fold: d.folds.validation,
            positives_only: d.positives_only,
            on_error: d.on_error,
            labels: d.labels,
            sampling: d.sampling,
            folds_file: d.folds.file,
            subset: d.subset,
            holdout: d.holdout,
        }
    }
}
