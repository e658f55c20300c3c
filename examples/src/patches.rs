//! Patch datasets (Dasic et al.: 128 x 128 patches of the 512 x 512 images) and stitching
//! patch predictions back into whole images.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use ndarray::Array2;
use ptx_io::folds::{write_folds_csv, FoldRow};
use ptx_io::image_file::{write_mask_png, write_png_gray8};
use ptx_preproc::{resize, Interpolation, Loaded, PatchGrid, Stitcher};
use ptx_train::{DataConfig, Dataset, ImagePrediction, Truth};

use crate::data::{fresh_png_dirs, load_for_writing};

/// The data section of the patches [`write_patch_dataset`] writes in `out` for `data`: PNG
/// images and masks, each patch in its image's fold or test part (the folds file), nothing
/// drawn again (the subset and the test part are those of `data`).
pub fn patch_data(data: &DataConfig, out: &Path) -> DataConfig {
    let mut patches = DataConfig {
        images: out.join("images"),
        truth: Truth::Masks(out.join("masks")),
        subset: None,
        holdout: None,
        ..data.clone()
    };
    patches.folds = data.folds.clone().from_file(out.join("folds.csv"));
    patches
}

/// Writes every image of `data` (its subset, folds and test part as `data` draws them under
/// `seed`) resized to `whole` x `whole` (area interpolation; masks nearest) and cut into
/// `side` x `side` patches at a stride of `side` (the last row and column moved in to end at
/// the border, so they overlap when `side` does not divide `whole`), as
/// `out/images/<ImageId>_<y>_<x>.png` and `out/masks/...`, and `out/folds.csv` putting every
/// patch in its image's fold or test part (so no image has patches on both sides of a
/// split). Existing files are reused when `out/done` says the same settings made them.
///
/// # Errors
/// Images that fail to load, `side` larger than `whole`, files that cannot be written.
pub fn write_patch_dataset(
    data: &DataConfig,
    seed: u64,
    whole: usize,
    side: usize,
    out: &Path,
) -> Result<()> {
    let stamp = out.join("done");
    let wanted = format!(
        "{:?} {:?} {:?} {:?} {:?} seed {seed} whole {whole} side {side}",
        data.images, data.truth, data.subset, data.holdout, data.folds
    );
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let dataset = Dataset::open(data, seed)?;
        let all: Vec<usize> = (0..dataset.samples().len()).collect();
        let source = dataset.source(&all)?;
        let grid = PatchGrid::square(side);
        let (images, masks) = fresh_png_dirs(out)?;
        let mut rows = Vec::new();
        eprintln!(
            "writing {side}-px patches of {} images in {}",
            all.len(),
            out.display()
        );
        for (i, sample) in dataset.samples().iter().enumerate() {
            let Some(Loaded { image, mask, .. }) =
                load_for_writing(&source, i, &sample.image_id, data.on_error)?
            else {
                continue;
            };
            let image = resize(image.view(), (whole, whole), Interpolation::Area)?;
            let mask = resize(mask.view(), (whole, whole), Interpolation::Nearest)?;
            let mask_patches = grid.split(mask.view())?;
            for ((origin, patch), (_, m)) in grid.split(image.view())?.into_iter().zip(mask_patches)
            {
                let id = patch_id(&sample.image_id, origin);
                write_png_gray8(images.join(format!("{id}.png")), &patch.view())?;
                let m = m.mapv(|v| if v != 0 { 255 } else { 0 });
                write_mask_png(masks.join(format!("{id}.png")), &m.view())?;
                rows.push(FoldRow {
                    image_id: id,
                    label: m.iter().any(|&v| v != 0),
                    fold: dataset.splits()[i],
                });
            }
        }
        write_folds_csv(out.join("folds.csv"), &rows)?;
        ptx_io::write_atomic(&stamp, |f| f.write_all(wanted.as_bytes()))
            .with_context(|| format!("writing {}", stamp.display()))?;
    }
    Ok(())
}

/// The ImageId of the patch of `image_id` at `(y, x)`.
pub fn patch_id(image_id: &str, (y, x): (usize, usize)) -> String {
    format!("{image_id}_{y}_{x}")
}

/// Splits a patch ImageId into the image's ImageId and the patch origin.
pub fn parse_patch_id(id: &str) -> Option<(&str, (usize, usize))> {
    let (rest, x) = id.rsplit_once('_')?;
    let (image, y) = rest.rsplit_once('_')?;
    Some((image, (y.parse().ok()?, x.parse().ok()?)))
}

/// Stitches patch predictions (`ids[p.index]` is each prediction's patch ImageId) into
/// `whole` x `whole` predictions, probabilities and truths alike, one per image in ImageId
/// order. The classifier score is left out (whole-image scores are the highest pixel).
///
/// # Errors
/// A patch id that does not parse, or an image whose patches do not cover it.
pub fn stitch(
    predictions: &[ImagePrediction],
    ids: &[String],
    whole: usize,
) -> Result<Vec<ImagePrediction>> {
    let mut by_image: BTreeMap<&str, (Stitcher, Stitcher)> = BTreeMap::new();
    for p in predictions {
        let id = ids
            .get(p.index)
            .ok_or_else(|| anyhow!("prediction {} has no patch id", p.index))?;
        let (image, origin) =
            parse_patch_id(id).ok_or_else(|| anyhow!("`{id}` is not <ImageId>_<y>_<x>"))?;
        let entry = by_image
            .entry(image)
            .or_insert_with(|| (Stitcher::new((whole, whole)), Stitcher::new((whole, whole))));
        entry.0.add(origin, p.probability.view())?;
        entry.1.add(origin, p.truth.mapv(f32::from).view())?;
    }
    by_image
        .into_values()
        .enumerate()
        .map(|(index, (prob, truth))| {
            let truth: Array2<f32> = truth.finish()?;
            Ok(ImagePrediction {
                index,
                probability: prob.finish()?,
                classifier: None,
                truth: truth.mapv(|v| u8::from(v > 0.5)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_ids_round_trip_with_dots_and_underscores() {
        let id = patch_id("1.2.276.0_7", (64, 128));
        assert_eq!(parse_patch_id(&id), Some(("1.2.276.0_7", (64, 128))));
        assert_eq!(parse_patch_id("nounderscore"), None);
    }
}
