//! `ptx masks --annotations CSV --out DIR [--rle relative|absolute] [--size 1024|HxW]`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use ptx_io::annotations::Annotations;
use ptx_io::check_image_id_as_file_name;
use ptx_io::image_file::write_mask_png;
use ptx_io::rle::RleForm;

use super::size::Size;
use super::RleArg;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Annotation CSV (`ImageId,EncodedPixels` or `fname,mask`).
    #[arg(long)]
    annotations: PathBuf,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Run-length form of the CSV.
    #[arg(long, value_enum, default_value_t = RleArg::Relative)]
    rle: RleArg,
    /// Image size in pixels: N (square) or HEIGHTxWIDTH.
    #[arg(long, default_value = "1024")]
    size: Size,
}

pub fn run(args: Args) -> Result<()> {
    let ann = Annotations::read(&args.annotations)?;
    let form = RleForm::from(args.rle);
    let size = args.size.hw();
    // Validate everything before writing anything: a bad row leaves no output at all.
    for id in ann.image_ids() {
        check_image_id_as_file_name(id)?;
        ann.mask(id, size, form)?;
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create folder", args.out.display()))?;
    let mut positives = 0;
    for id in ann.image_ids() {
        let mask = ann
            .mask(id, size, form)?
            .context("annotated image without mask")?;
        positives += usize::from(mask.iter().any(|&v| v != 0));
        write_mask_png(args.out.join(format!("{id}.png")), &mask.view())?;
    }
    super::emit(format_args!(
        "wrote {} masks ({positives} with pneumothorax) from {} rows to {}",
        ann.len(),
        ann.row_count(),
        args.out.display()
    ));
    Ok(())
}
