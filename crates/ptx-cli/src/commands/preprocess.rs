//! `ptx preprocess --input DIR|FILE... --out DIR --size 512 --channels raw,ahe,clahe`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use ndarray::Axis;
use ptx_io::image_file::{read_image_gray8, write_png_gray8, write_png_rgb8};
use ptx_preproc::{resize_input, Channel, ChannelStack, TileGrid};

use super::emit;
use super::size::Resize;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// DICOM or PNG files, or folders searched recursively for *.dcm, *.dicom and *.png.
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Output folder: one PNG per input, named after it (RGB for three channels, grey for
    /// one, `NAME_CHANNEL.png` per channel otherwise).
    #[arg(long)]
    out: PathBuf,
    /// Output size: `512` (square) or `HEIGHTxWIDTH`; `0` keeps each image's size. Area
    /// interpolation when shrinking, bilinear when growing (OpenCV's `cv2.resize`).
    #[arg(long, default_value = "512")]
    size: Resize,
    /// The channels, in order: raw, ahe, clahe, equalized.
    #[arg(long, default_value = "raw,ahe,clahe", value_delimiter = ',')]
    channels: Vec<Channel>,
    /// CLAHE clip limit (OpenCV's clipLimit).
    #[arg(long, default_value_t = 2.0)]
    clip: f64,
    /// Tiles per side of the AHE / CLAHE grid.
    #[arg(long, default_value_t = 8)]
    tiles: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// The image files named by `inputs`: files as given, folders searched recursively.
pub fn image_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found = ptx_io::index::files_with_extension(input, &["dcm", "dicom", "png"])?;
            found.sort();
            if found.is_empty() {
                bail!(
                    "{}: no .dcm, .dicom or .png files in this folder",
                    input.display()
                );
            }
            files.extend(found);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            bail!("{}: no such file or folder", input.display());
        }
    }
    Ok(files)
}

/// Resizes a grey image as the training pipeline does; `None` keeps it.
pub fn resize_image(
    image: ndarray::ArrayView2<'_, u8>,
    size: Option<(usize, usize)>,
) -> Result<ndarray::Array2<u8>> {
    Ok(match size {
        Some(size) => resize_input(image, size)?,
        None => image.to_owned(),
    })
}

pub fn run(args: Args) -> Result<()> {
    let files = image_files(&args.input)?;
    let stack = ChannelStack {
        channels: args.channels.clone(),
        clip_limit: args.clip,
        tiles: TileGrid::square(args.tiles),
    };
    // Refuse bad options before touching any file.
    stack.validate()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder", args.out.display()))?;
    let names = output_stems(&files);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { return };
                if let Err(e) = process(file, &names[i], &args, &stack) {
                    if let Ok(mut f) = failures.lock() {
                        f.push(format!("{}: {e:#}", file.display()));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_default();
    for f in &failures {
        eprintln!("ptx: warning: {f}");
    }
    emit(format!(
        "preprocessed {} of {} images into {} ({} channels: {})",
        files.len() - failures.len(),
        files.len(),
        args.out.display(),
        args.channels.len(),
        args.channels
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(",")
    ));
    if !failures.is_empty() {
        bail!(
            "{} of {} images failed (listed above)",
            failures.len(),
            files.len()
        );
    }
    Ok(())
}

/// Output file stems: the input's stem, made unique with a counter where two inputs share one.
fn output_stems(files: &[PathBuf]) -> Vec<String> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    files
        .iter()
        .map(|f| {
            let stem = f
                .file_stem()
                .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
            let n = seen.entry(stem.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                stem
            } else {
                format!("{stem}_{n}")
            }
        })
        .collect()
}

fn process(file: &Path, stem: &str, args: &Args, stack: &ChannelStack) -> Result<()> {
    let grey = read_image_gray8(file)?;
    let resized = resize_image(grey.view(), args.size.0.map(|s| s.hw()))?;
    let channels = stack.apply(resized.view())?;
    match channels.len_of(Axis(0)) {
        3 => write_png_rgb8(args.out.join(format!("{stem}.png")), &channels.view())?,
        1 => write_png_gray8(
            args.out.join(format!("{stem}.png")),
            &channels.index_axis(Axis(0), 0),
        )?,
        _ => {
            for (c, channel) in args.channels.iter().zip(channels.outer_iter()) {
                write_png_gray8(args.out.join(format!("{stem}_{c}.png")), &channel)?;
            }
        }
    }
    Ok(())
}
