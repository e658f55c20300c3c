//! `ptx encode --masks DIR --out CSV [--rle relative|absolute]`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use ptx_io::annotations::Submission;
use ptx_io::image_file::read_mask_png;
use ptx_io::rle::RleForm;

use super::RleArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of mask PNGs named `<ImageId>.png` (any non-zero pixel is set).
    #[arg(long)]
    masks: PathBuf,
    /// The CSV to write.
    #[arg(long)]
    out: PathBuf,
    /// Run-length form to write.
    #[arg(long, value_enum, default_value_t = RleArg::Relative)]
    rle: RleArg,
}

pub fn run(args: Args) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.masks)
        .with_context(|| format!("{}: cannot read folder", args.masks.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")))
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "{}: no .png masks", args.masks.display());
    let mut sub = Submission::new(RleForm::from(args.rle));
    for f in &files {
        let id = f
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: file name is not UTF-8", f.display()))?;
        let mask = read_mask_png(f)?;
        sub.push_mask(id, &mask.view());
    }
    sub.write(&args.out)?;
    let positives = sub.rows().iter().filter(|(_, r)| r != "-1").count();
    super::emit(format_args!(
        "encoded {} masks ({positives} non-empty) to {}",
        files.len(),
        args.out.display()
    ));
    Ok(())
}
