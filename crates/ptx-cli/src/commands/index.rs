//! `ptx index --images DIR --annotations CSV --folds K --out folds.csv`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use ptx_io::annotations::Annotations;
use ptx_io::folds::{stratified_k_fold, write_folds_csv, FoldRow, Split};
use ptx_io::index::DatasetIndex;
use ptx_io::rle::RleForm;

use super::RleArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// DICOM tree (searched recursively for *.dcm), or the images/ folder of the PNG layout.
    #[arg(long)]
    images: PathBuf,
    /// Annotation CSV matched to DICOM file stems.
    #[arg(long, conflicts_with = "masks")]
    annotations: Option<PathBuf>,
    /// masks/ folder of the PNG layout (same file names as images/).
    #[arg(long)]
    masks: Option<PathBuf>,
    /// Number of folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Seed of the split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Run-length form of the annotations.
    #[arg(long, value_enum, default_value_t = RleArg::Relative)]
    rle: RleArg,
    /// The CSV to write (`ImageId,label,fold`).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let index = match (&args.annotations, &args.masks) {
        (Some(csv), None) => DatasetIndex::from_dicom_tree(
            &args.images,
            &Annotations::read(csv)?,
            RleForm::from(args.rle),
        )?,
        (None, Some(masks)) => DatasetIndex::from_png_folders(&args.images, masks)?,
        _ => bail!("give --annotations CSV (DICOM tree) or --masks DIR (PNG layout)"),
    };
    let folds = stratified_k_fold(&index.labels(), args.folds, args.seed)?;
    let rows: Vec<FoldRow> = index
        .samples
        .iter()
        .zip(&folds)
        .map(|(s, &fold)| FoldRow {
            image_id: s.image_id.clone(),
            label: s.positive,
            fold: Split::Fold(fold),
        })
        .collect();
    write_folds_csv(&args.out, &rows)?;
    super::emit(format_args!(
        "{} images matched ({} positive) into {} folds -> {}",
        index.samples.len(),
        index.positives(),
        args.folds,
        args.out.display()
    ));
    report(
        "images without annotations",
        index
            .images_without_annotations
            .iter()
            .map(|p| p.display().to_string()),
    );
    report(
        "annotations without images",
        index.annotations_without_images.iter().cloned(),
    );
    report(
        "duplicate ImageIds skipped",
        index
            .duplicate_images
            .iter()
            .map(|p| p.display().to_string()),
    );
    Ok(())
}

fn report(what: &str, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    if n == 0 {
        return;
    }
    let first: Vec<String> = items.take(3).collect();
    super::emit(format_args!(
        "{n} {what}: {}{}",
        first.join(", "),
        if n > 3 { ", …" } else { "" }
    ));
}
