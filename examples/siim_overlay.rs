//! Draws a SIIM-ACR annotation over its chest X-ray.
//!
//! ```text
//! cargo run -p ptx-examples --example siim_overlay -- IMAGE.dcm train-rle.csv overlay.png
//! ```
//!
//! Reads the DICOM, looks up its SOP Instance UID in the annotation CSV (all rows of the
//! image united), and writes an 8-bit PNG where the mask's pixels are brightened and its
//! border drawn white. An image without annotation rows is written unchanged, with a note.

use anyhow::{bail, Context, Result};
use ptx_io::annotations::Annotations;
use ptx_io::dicom::{DicomImage, DisplayOptions};
use ptx_io::image_file::write_png_gray8;
use ptx_io::rle::RleForm;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dicom, csv, out] = args.as_slice() else {
        bail!("usage: siim_overlay IMAGE.dcm ANNOTATIONS.csv OUT.png");
    };
    let image = DicomImage::open(dicom)?;
    let mut display = image.display(&DisplayOptions::default())?;
    let (h, w) = display.dim();
    let uid = image
        .meta()
        .sop_instance_uid
        .clone()
        .context("the DICOM has no SOP Instance UID")?;
    let annotations = Annotations::read(csv)?;
    match annotations.mask(&uid, (h, w), RleForm::Relative)? {
        None => eprintln!("{uid}: no annotation rows; writing the image alone"),
        Some(mask) => {
            let set = |r: usize, c: usize| mask[[r, c]] != 0;
            for r in 0..h {
                for c in 0..w {
                    if !set(r, c) {
                        continue;
                    }
                    let border = r == 0
                        || c == 0
                        || r + 1 == h
                        || c + 1 == w
                        || !set(r - 1, c)
                        || !set(r + 1, c)
                        || !set(r, c - 1)
                        || !set(r, c + 1);
                    let v = &mut display[[r, c]];
                    *v = if border { 255 } else { v.saturating_add(60) };
                }
            }
            let pixels = mask.iter().filter(|&&v| v != 0).count();
            eprintln!(
                "{uid}: {} row(s), {pixels} mask pixels",
                annotations.rows(&uid).map_or(0, <[String]>::len)
            );
        }
    }
    write_png_gray8(out, &display.view())?;
    Ok(())
}
