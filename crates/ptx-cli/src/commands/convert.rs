//! `ptx convert IN.dcm OUT.png|OUT.npy [--raw]`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use ptx_io::dicom::{DicomImage, DisplayOptions, StoredPixels};
use ptx_io::image_file::{write_npy, write_png_gray16, write_png_gray8};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The DICOM file.
    input: PathBuf,
    /// `.png` (8-bit display image; 16-bit stored values with --raw) or `.npy` (stored values
    /// exactly, dtype as stored, shape as pydicom's pixel_array).
    output: PathBuf,
    /// PNG of the stored values (16-bit grey) instead of the display image.
    #[arg(long)]
    raw: bool,
    /// Frame to write to PNG (0-based).
    #[arg(long, default_value_t = 0)]
    frame: usize,
}

pub fn run(args: Args) -> Result<()> {
    let ext = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("png" | "npy")) {
        bail!("{}: output must end in .png or .npy", args.output.display());
    }
    let image = DicomImage::open(&args.input)?;
    if ext.as_deref() == Some("npy") {
        return Ok(write_npy(&args.output, image.pixels())?);
    }
    if !args.raw {
        let display = image.display(&DisplayOptions::default().frame(args.frame))?;
        return Ok(write_png_gray8(&args.output, &display.view())?);
    }
    let frames = image.pixels().dim().0;
    let (_, _, _, samples) = image.pixels().dim();
    if samples != 1 {
        bail!(
            "{}: --raw PNG needs one sample per pixel, the file has {samples}; use .npy",
            args.input.display()
        );
    }
    let stored = match image.pixels() {
        StoredPixels::U8(_) => image
            .pixels()
            .frame_u8(args.frame)
            .map(|v| v.mapv(u16::from)),
        StoredPixels::U16(_) => image.pixels().frame_u16(args.frame).map(|v| v.to_owned()),
        _ => bail!(
            "{}: stored values are {}; a PNG holds unsigned 16-bit values, use .npy",
            args.input.display(),
            image.pixels().numpy_dtype()
        ),
    }
    .with_context(|| format!("frame {} requested, the image has {frames}", args.frame))?;
    Ok(write_png_gray16(&args.output, &stored.view())?)
}
