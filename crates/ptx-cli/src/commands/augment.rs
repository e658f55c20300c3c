//! `ptx augment --config C --input IMG --mask M --out DIR -n 16`: look at what an
//! augmentation does.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use ndarray::{Array2, Array3, Axis};
use ptx_io::image_file::{
    read_image_gray8, read_png_gray8, write_mask_png, write_png_gray8, write_png_rgb8,
};
use ptx_preproc::{resize, Augment, Interpolation, Preset};

use super::emit;
use super::preprocess::{resize_image, SizeArg};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Augmentation config, TOML or JSON (`[[transforms]]` with `kind = "..."`, albumentations'
    /// parameter names); or use --preset.
    #[arg(long, conflicts_with = "preset")]
    config: Option<PathBuf>,
    /// A paper's list: haghanifar, shannak, viel, dasic, harmalkar, none.
    #[arg(long)]
    preset: Option<Preset>,
    /// The image: DICOM or PNG.
    #[arg(long)]
    input: PathBuf,
    /// Its mask (PNG, any non-zero pixel set); none: an empty mask.
    #[arg(long)]
    mask: Option<PathBuf>,
    /// Output folder: montage.png, and aug_NNN.png / aug_NNN_mask.png per draw.
    #[arg(long)]
    out: PathBuf,
    /// Number of augmented draws.
    #[arg(short = 'n', long = "count", default_value_t = 16)]
    count: usize,
    /// Seed; draw k uses the seed's stream k.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Resize before augmenting, as training does: `512`, `HEIGHTxWIDTH`, or `0` to keep.
    #[arg(long, default_value = "512")]
    size: SizeArg,
    /// Side of a montage tile in pixels.
    #[arg(long, default_value_t = 256)]
    tile: usize,
}

/// Reads an augmentation from a TOML or JSON file (by extension; TOML otherwise).
pub fn read_config(path: &std::path::Path) -> Result<Augment> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let augment: Augment = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not an augmentation config", path.display()))?
    } else {
        toml::from_str(&text)
            .with_context(|| format!("{}: not an augmentation config", path.display()))?
    };
    augment
        .validate()
        .with_context(|| format!("{}", path.display()))?;
    Ok(augment)
}

pub fn run(args: Args) -> Result<()> {
    let augment = match (&args.config, args.preset) {
        (Some(path), _) => read_config(path)?,
        (None, Some(preset)) => preset.augment(),
        (None, None) => bail!("give --config FILE or --preset NAME"),
    };
    if args.count == 0 || args.tile == 0 {
        bail!("-n and --tile must be at least 1");
    }
    let image = read_image_gray8(&args.input)?;
    let mask = match &args.mask {
        Some(path) => {
            let m = read_png_gray8(path)?;
            if m.dim() != image.dim() {
                bail!(
                    "{}: mask is {:?} (height, width), the image {:?}",
                    path.display(),
                    m.dim(),
                    image.dim()
                );
            }
            m.mapv(|v| u8::from(v != 0))
        }
        None => Array2::zeros(image.dim()),
    };
    let image = resize_image(image.view(), args.size.0)?;
    let mask = match args.size.0 {
        Some(size) if size != mask.dim() => resize(mask.view(), size, Interpolation::Nearest)?,
        _ => mask,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder", args.out.display()))?;
    let mut tiles = vec![overlay(&image, &mask, args.tile)?];
    for k in 0..args.count {
        let (aug, aug_mask) = augment.apply_seeded(
            image.view().insert_axis(Axis(0)),
            mask.view(),
            args.seed,
            k as u64,
        )?;
        let aug = aug.index_axis_move(Axis(0), 0);
        write_png_gray8(args.out.join(format!("aug_{k:03}.png")), &aug.view())?;
        write_mask_png(
            args.out.join(format!("aug_{k:03}_mask.png")),
            &aug_mask.view(),
        )?;
        tiles.push(overlay(&aug, &aug_mask, args.tile)?);
    }
    let montage = montage(&tiles, args.tile);
    let path = args.out.join("montage.png");
    write_png_rgb8(&path, &montage.view())?;
    emit(format!(
        "wrote {} (original first, then {} draws; mask in red) and the draws as aug_NNN.png",
        path.display(),
        args.count
    ));
    Ok(())
}

/// An RGB tile `(3, tile, tile)`: the image scaled to fit, mask pixels tinted red.
fn overlay(image: &Array2<u8>, mask: &Array2<u8>, tile: usize) -> Result<Array3<u8>> {
    let (h, w) = image.dim();
    let scale = tile as f64 / h.max(w) as f64;
    let size = (
        ((h as f64 * scale).round() as usize).clamp(1, tile),
        ((w as f64 * scale).round() as usize).clamp(1, tile),
    );
    let small = resize_image(image.view(), Some(size))?;
    let small_mask = resize(mask.view(), size, Interpolation::Nearest)?;
    let mut out = Array3::zeros((3, tile, tile));
    let (oy, ox) = ((tile - size.0) / 2, (tile - size.1) / 2);
    for ((y, x), &g) in small.indexed_iter() {
        let red = small_mask[[y, x]] != 0;
        let g = f32::from(g);
        let rgb = if red {
            [0.55 * g + 0.45 * 255.0, 0.55 * g, 0.55 * g]
        } else {
            [g, g, g]
        };
        for (c, v) in rgb.into_iter().enumerate() {
            out[[c, oy + y, ox + x]] = v.round() as u8;
        }
    }
    Ok(out)
}

/// Tiles in a near-square grid with 4-pixel dark grey gaps.
fn montage(tiles: &[Array3<u8>], tile: usize) -> Array3<u8> {
    let cols = (tiles.len() as f64).sqrt().ceil() as usize;
    let rows = tiles.len().div_ceil(cols);
    let gap = 4;
    let (h, w) = (
        rows * tile + (rows + 1) * gap,
        cols * tile + (cols + 1) * gap,
    );
    let mut out = Array3::from_elem((3, h, w), 40u8);
    for (k, t) in tiles.iter().enumerate() {
        let (y0, x0) = (
            gap + (k / cols) * (tile + gap),
            gap + (k % cols) * (tile + gap),
        );
        for ((c, y, x), &v) in t.indexed_iter() {
            out[[c, y0 + y, x0 + x]] = v;
        }
    }
    out
}
