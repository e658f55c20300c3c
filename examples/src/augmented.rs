//! Shannak et al.'s offline positive augmentation: every positive image written with one
//! horizontally flipped copy and one copy rotated by 3 to 7 degrees either way (black
//! corners), beside every negative, as a PNG dataset with its split.

use std::path::Path;

use anyhow::{Context, Result};
use ndarray::{Array2, Axis};
use ptx_io::folds::{stratified_holdout, stratified_k_fold, write_folds_csv, FoldRow, Split};
use ptx_io::image_file::{write_mask_png, write_png_gray8};
use ptx_preproc::augment::{Flip, Limit, OneOf, Rotate, Transform};
use ptx_preproc::{resize, Augment, Interpolation, Loaded};
use ptx_train::{DataConfig, Dataset, Folds, Truth};

use crate::data::{fresh_png_dirs, load_for_writing};

/// The paper's test part (Table 2): 870 of the 8,007 positive images (originals and copies)
/// and 1,082 of the 9,378 negatives.
pub const TEST_POSITIVES: (usize, usize) = (870, 8007);
/// See [`TEST_POSITIVES`].
pub const TEST_NEGATIVES: (usize, usize) = (1082, 9378);

/// Folds of the training part; fold 0 validates (early stopping on its loss).
pub const FOLDS: usize = 10;

/// Offset of the seed of the test draws (+1 for the positives' draw), so that they are not
/// the stream of the folds' draw.
const TEST_STREAM: u64 = 0x5348_414e_0000;

/// How the test part is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitMode {
    /// By original image: an image's copies stay on its side of every split, so no test
    /// image is a copy of a training one (the default).
    LeakFree,
    /// As the paper: the copies are split like independent images, so the test part holds
    /// flipped and rotated copies of training images.
    Paper,
}

/// The data section of what [`write()`] writes in `out`: the PNG images and masks, the folds
/// file with the test part, fold 0 validating.
///
/// # Errors
/// None in practice (the fold count is constant).
pub fn data(data: &DataConfig, out: &Path) -> Result<DataConfig> {
    let mut augmented = DataConfig {
        images: out.join("images"),
        truth: Truth::Masks(out.join("masks")),
        subset: None,
        holdout: None,
        ..data.clone()
    };
    augmented.folds = Folds::new(FOLDS, 0)?.from_file(out.join("folds.csv"));
    Ok(augmented)
}

/// Writes every image of `data` at `side` x `side` (area; masks nearest) into `out/images`
/// and `out/masks`, each positive with `<id>-flip` and `<id>-rotate` copies, and
/// `out/folds.csv`: the test part in the paper's per-class shares ([`TEST_POSITIVES`],
/// [`TEST_NEGATIVES`]) drawn as `mode` says, the rest in [`FOLDS`] stratified folds split
/// the same way (by original or by image). Existing files are reused when `out/done` says
/// the same settings made them.
///
/// # Errors
/// Images that fail to load; files that cannot be written.
pub fn write(data: &DataConfig, seed: u64, side: usize, mode: SplitMode, out: &Path) -> Result<()> {
    let stamp = out.join("done");
    let wanted = format!(
        "{:?} {:?} seed {seed} side {side} {mode:?}",
        data.images, data.truth
    );
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let dataset = Dataset::open(data, seed)?;
    let all: Vec<usize> = (0..dataset.samples().len()).collect();
    let source = dataset.source(&all)?;
    let (images, masks) = fresh_png_dirs(out)?;
    let flip = Augment::new(vec![Transform::HorizontalFlip(Flip { p: 1.0 })]);
    let rotate = |low: f64, high: f64| {
        Transform::Rotate(Rotate {
            limit: Limit::range(low, high),
            p: 1.0,
            ..Rotate::default()
        })
    };
    let rotation = Augment::new(vec![Transform::OneOf(OneOf {
        transforms: vec![rotate(3.0, 7.0), rotate(-7.0, -3.0)],
        p: 1.0,
    })]);
    eprintln!(
        "writing {} images and a flipped and a rotated copy of each positive in {}",
        all.len(),
        out.display()
    );
    // (ImageId, positive, number of its original among those written)
    let mut written: Vec<(String, bool, usize)> = Vec::new();
    let mut originals = 0;
    for (i, sample) in dataset.samples().iter().enumerate() {
        let Some(Loaded { image, mask, .. }) =
            load_for_writing(&source, i, &sample.image_id, data.on_error)?
        else {
            continue;
        };
        let original = originals;
        originals += 1;
        let image = resize(image.view(), (side, side), Interpolation::Area)?;
        let mask = resize(mask.view(), (side, side), Interpolation::Nearest)?;
        let mut put = |id: String, image: &Array2<u8>, mask: &Array2<u8>| -> Result<()> {
            write_png_gray8(images.join(format!("{id}.png")), &image.view())?;
            let m = mask.mapv(|v| if v != 0 { 255 } else { 0 });
            write_mask_png(masks.join(format!("{id}.png")), &m.view())?;
            written.push((id, sample.positive, original));
            Ok(())
        };
        put(sample.image_id.clone(), &image, &mask)?;
        if sample.positive {
            let stack = image.clone().insert_axis(Axis(0));
            for (suffix, augment) in [("flip", &flip), ("rotate", &rotation)] {
                let (copy, copy_mask) =
                    augment.apply_seeded(stack.view(), mask.view(), seed, i as u64)?;
                put(
                    format!("{}-{suffix}", sample.image_id),
                    &copy.index_axis(Axis(0), 0).to_owned(),
                    &copy_mask,
                )?;
            }
        }
    }
    let rows = split(&written, seed, mode)?;
    write_folds_csv(out.join("folds.csv"), &rows)?;
    ptx_io::write_atomic(&stamp, |f| f.write_all(wanted.as_bytes()))
        .with_context(|| format!("writing {}", stamp.display()))?;
    Ok(())
}

/// The split of the written images, each `(ImageId, positive, index of its original)`: by
/// original ([`SplitMode::LeakFree`]) or by image ([`SplitMode::Paper`]). [`write()`] calls it
/// on what it wrote; it needs no pixels, so a split can be built from a label list alone.
///
/// # Errors
/// Too few images of a class for the folds.
pub fn split(
    written: &[(String, bool, usize)],
    seed: u64,
    mode: SplitMode,
) -> Result<Vec<FoldRow>> {
    // The units split: originals or images, with their labels.
    let unit_of: Vec<usize> = match mode {
        SplitMode::LeakFree => written.iter().map(|w| w.2).collect(),
        SplitMode::Paper => (0..written.len()).collect(),
    };
    let units = unit_of.iter().max().map_or(0, |&m| m + 1);
    let mut labels = vec![false; units];
    for (w, &u) in written.iter().zip(&unit_of) {
        labels[u] = w.1;
    }
    // The paper's per-class test shares: among positive images (originals and copies alike,
    // so a third of them among positive originals) and among negatives.
    let share = |(n, of): (usize, usize)| n as f64 / of as f64;
    let mut test = vec![false; units];
    for (positive, fraction) in [
        (true, share(TEST_POSITIVES)),
        (false, share(TEST_NEGATIVES)),
    ] {
        let members: Vec<usize> = (0..units).filter(|&u| labels[u] == positive).collect();
        let count = (members.len() as f64 * fraction).round() as usize;
        if count == 0 || count >= members.len() {
            continue;
        }
        let held = stratified_holdout(
            &vec![positive; members.len()],
            count,
            seed.wrapping_add(TEST_STREAM + u64::from(positive)),
        )?;
        for (&u, h) in members.iter().zip(held) {
            test[u] = h;
        }
    }
    let rest: Vec<usize> = (0..units).filter(|&u| !test[u]).collect();
    let rest_labels: Vec<bool> = rest.iter().map(|&u| labels[u]).collect();
    let folds = stratified_k_fold(&rest_labels, FOLDS.min(rest.len()).max(2), seed)?;
    let mut place = vec![Split::Test; units];
    for (&u, f) in rest.iter().zip(folds) {
        place[u] = Split::Fold(f);
    }
    Ok(written
        .iter()
        .zip(&unit_of)
        .map(|(w, &u)| FoldRow {
            image_id: w.0.clone(),
            label: w.1,
            fold: place[u],
        })
        .collect())
}
