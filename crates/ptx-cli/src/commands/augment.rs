//! `ptx augment --config C --input IMG --mask M --out DIR -n 16`: look at what an
//! augmentation does.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use ndarray::{Array2, Axis};
use ptx_io::image_file::{
    read_image_gray8, read_png_gray8, write_mask_png, write_png_gray8, write_png_rgb8,
};
use ptx_preproc::{montage, overlay_tile, resize, Augment, Interpolation, Preset};

use super::emit;
use super::preprocess::resize_image;
use super::size::Resize;

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
    size: Resize,
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
    let size = args.size.0.map(|s| s.hw());
    let image = resize_image(image.view(), size)?;
    let mask = match size {
        Some(size) if size != mask.dim() => resize(mask.view(), size, Interpolation::Nearest)?,
        _ => mask,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder", args.out.display()))?;
    let mut tiles = vec![overlay_tile(
        image.view(),
        None,
        Some(mask.view()),
        args.tile,
    )?];
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
        tiles.push(overlay_tile(
            aug.view(),
            None,
            Some(aug_mask.view()),
            args.tile,
        )?);
    }
    let montage = montage(&tiles)?;
    let path = args.out.join("montage.png");
    write_png_rgb8(&path, &montage.view())?;
    emit(format!(
        "wrote {} (original first, then {} draws; mask in red) and the draws as aug_NNN.png",
        path.display(),
        args.count
    ));
    Ok(())
}
