//! Dataset indexes: which image files have annotations, and their labels.
//!
//! Two layouts are recognised: the SIIM DICOM tree (`dicom-images-train/<study>/<series>/
//! <SOPInstanceUID>.dcm`, any depth, the ImageId being the file stem) matched against an
//! annotation CSV, and the PNG version of the data (`images/` and `masks/` folders holding
//! files of the same names; the mask decides the label).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::annotations::Annotations;
use crate::rle::RleForm;
use crate::{Error, Result};

/// One image with what is known of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// ImageId: the file stem (the SOP Instance UID for SIIM DICOMs).
    pub image_id: String,
    /// The image file.
    pub image: PathBuf,
    /// The mask PNG, for the PNG layout.
    pub mask: Option<PathBuf>,
    /// Whether the image shows a pneumothorax (any mask pixel set).
    pub positive: bool,
}

/// Images matched to annotations, and what did not match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetIndex {
    /// Matched images, sorted by ImageId.
    pub samples: Vec<Sample>,
    /// Image files whose ImageId has no annotation (or no mask file), sorted.
    pub images_without_annotations: Vec<PathBuf>,
    /// ImageIds annotated but without an image file, sorted.
    pub annotations_without_images: Vec<String>,
    /// Image files skipped because another file has the same ImageId (the first, in path
    /// order, is kept).
    pub duplicate_images: Vec<PathBuf>,
}

impl DatasetIndex {
    /// Indexes every `*.dcm` under `root` (recursively, case-insensitive extension) against
    /// `annotations`, whose runs are in `form`.
    ///
    /// # Errors
    /// [`Error::Io`] for an unreadable folder; [`Error::Rle`] for a malformed annotation of a
    /// matched image.
    pub fn from_dicom_tree(
        root: impl AsRef<Path>,
        annotations: &Annotations,
        form: RleForm,
    ) -> Result<Self> {
        let files = files_with_extension(root.as_ref(), &["dcm", "dicom"])?;
        let (by_id, duplicate_images) = by_image_id(files);
        let mut index = DatasetIndex {
            duplicate_images,
            ..Self::default()
        };
        for (image_id, image) in &by_id {
            match annotations.label(image_id, form)? {
                Some(positive) => index.samples.push(Sample {
                    image_id: image_id.clone(),
                    image: image.clone(),
                    mask: None,
                    positive,
                }),
                None => index.images_without_annotations.push(image.clone()),
            }
        }
        index.annotations_without_images = annotations
            .image_ids()
            .filter(|id| !by_id.contains_key(*id))
            .map(str::to_owned)
            .collect();
        index.annotations_without_images.sort();
        index.images_without_annotations.sort();
        Ok(index)
    }

    /// Indexes `images/*.png` against `masks/*.png` of the same file names; a mask with any
    /// non-zero pixel makes the sample positive.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Png`] for an unreadable mask.
    pub fn from_png_folders(images: impl AsRef<Path>, masks: impl AsRef<Path>) -> Result<Self> {
        let (image_files, duplicate_images) =
            by_image_id(files_with_extension(images.as_ref(), &["png"])?);
        let (mask_files, _) = by_image_id(files_with_extension(masks.as_ref(), &["png"])?);
        let mut index = DatasetIndex {
            duplicate_images,
            ..Self::default()
        };
        for (image_id, image) in &image_files {
            match mask_files.get(image_id) {
                Some(mask) => {
                    let positive = crate::image_file::read_png_gray8(mask)?
                        .iter()
                        .any(|&v| v != 0);
                    index.samples.push(Sample {
                        image_id: image_id.clone(),
                        image: image.clone(),
                        mask: Some(mask.clone()),
                        positive,
                    });
                }
                None => index.images_without_annotations.push(image.clone()),
            }
        }
        let ids: HashSet<&String> = image_files.keys().collect();
        index.annotations_without_images = mask_files
            .keys()
            .filter(|id| !ids.contains(id))
            .cloned()
            .collect();
        Ok(index)
    }

    /// Labels of [`Self::samples`] in order.
    pub fn labels(&self) -> Vec<bool> {
        self.samples.iter().map(|s| s.positive).collect()
    }

    /// Number of positive samples.
    pub fn positives(&self) -> usize {
        self.samples.iter().filter(|s| s.positive).count()
    }
}

fn by_image_id(mut files: Vec<PathBuf>) -> (BTreeMap<String, PathBuf>, Vec<PathBuf>) {
    files.sort();
    let mut map = BTreeMap::new();
    let mut duplicates = Vec::new();
    for f in files {
        let Some(stem) = f.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        match map.entry(stem) {
            std::collections::btree_map::Entry::Occupied(_) => duplicates.push(f),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(f);
            }
        }
    }
    (map, duplicates)
}

/// Every file below `root` (recursively) whose extension is one of `extensions` (lower case;
/// matched case-insensitively), following no symbolic links to folders; in no particular
/// order.
///
/// # Errors
/// [`Error::Io`] naming a folder that cannot be read.
pub fn files_with_extension(root: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
            if kind.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(path);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;
    use super::*;

    #[test]
    fn dicom_tree_matching() -> TestResult {
        let dir = tempfile::tempdir()?;
        let nested = dir.path().join("study/series");
        std::fs::create_dir_all(&nested)?;
        for id in ["a", "b", "c"] {
            std::fs::write(nested.join(format!("{id}.dcm")), b"")?;
        }
        std::fs::write(dir.path().join("notes.txt"), b"")?;
        let ann =
            Annotations::from_reader("ImageId,EncodedPixels\na,1 2\nb,-1\nz,-1\n".as_bytes(), "t")?;
        let idx = DatasetIndex::from_dicom_tree(dir.path(), &ann, RleForm::Relative)?;
        assert_eq!(
            idx.samples
                .iter()
                .map(|s| (s.image_id.as_str(), s.positive))
                .collect::<Vec<_>>(),
            [("a", true), ("b", false)]
        );
        assert_eq!(idx.images_without_annotations, [nested.join("c.dcm")]);
        assert_eq!(idx.annotations_without_images, ["z"]);
        Ok(())
    }
}
