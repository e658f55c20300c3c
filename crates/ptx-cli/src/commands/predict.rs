//! `ptx predict --checkpoint DIR --input DIR|FILE... --out submission.csv [--overlays DIR]
//! [--report report.json]`: masks for a folder of radiographs, as a challenge submission.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ndarray::Array2;
use ptx_io::annotations::Submission;
use ptx_io::dicom::{DicomImage, ReadOptions};
use ptx_io::image_file::read_image_gray8;
use ptx_io::index::files_with_extension;
use ptx_metrics::{measure_lesions, LesionOptions, LesionReport, PixelSpacing, PostProcess};
use ptx_preproc::{overlay_tile, resize, Interpolation};
use ptx_train::{Dataset, DeviceChoice, System};
use serde::Serialize;

use super::{emit, RleArg};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A two-stage system folder (`system.json`) or a training run folder.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// DICOM or PNG files, or folders searched recursively for them.
    #[arg(long, num_args = 1.., required = true)]
    pub input: Vec<PathBuf>,
    /// The submission CSV (`ImageId,EncodedPixels`, one row per image, masks at each image's
    /// own size).
    #[arg(long)]
    pub out: PathBuf,
    /// Run-length form of the submission.
    #[arg(long, value_enum, default_value_t = RleArg::Relative)]
    pub rle: RleArg,
    /// Write `<ImageId>.png` per image: the radiograph with the predicted mask in red.
    #[arg(long, value_name = "DIR")]
    pub overlays: Option<PathBuf>,
    /// Write a JSON report: per image the classifier probability, the decision, the lesion
    /// measurements and the thresholds used.
    #[arg(long, value_name = "report.json")]
    pub report: Option<PathBuf>,
    /// Horizontal-flip test-time augmentation on or off (default: the system's setting).
    #[arg(long)]
    pub hflip: Option<bool>,
    /// Loader threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Device: auto, cpu, cuda, cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

#[derive(Debug, Serialize)]
struct ImageReport {
    image_id: String,
    file: PathBuf,
    /// Image-level probability of a pneumothorax.
    probability: f64,
    /// Whether a mask was predicted.
    positive: bool,
    lesions: LesionReport,
}

#[derive(Debug, Serialize)]
struct Report {
    checkpoint: PathBuf,
    postprocess: PostProcess,
    hflip: bool,
    input_size: [usize; 2],
    images: Vec<ImageReport>,
    skipped: Vec<String>,
}

/// Image files of the inputs, sorted, each once.
pub fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            files.extend(files_with_extension(input, &["dcm", "dicom", "png"])?);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            bail!("{}: no such file or folder", input.display());
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        bail!("no .dcm, .dicom or .png file in the inputs");
    }
    Ok(files)
}

pub fn run(args: Args) -> Result<()> {
    let summary = predict(&args)?;
    emit(summary);
    Ok(())
}

/// Runs the prediction; returns the summary line.
pub fn predict(args: &Args) -> Result<String> {
    let files = collect_inputs(&args.input)?;
    let device = args.device.device()?;
    let system = System::load(&args.checkpoint, device, args.hflip)
        .with_context(|| format!("loading {}", args.checkpoint.display()))?;
    let dataset = Dataset::unlabelled(files);
    let all: Vec<usize> = (0..dataset.samples.len()).collect();
    let source = dataset.source(&all);
    let (predictions, skipped) = system.predict(source.clone(), args.threads)?;
    let form = ptx_io::rle::RleForm::from(args.rle);
    let mut submission = Submission::new(form);
    let mut reports = Vec::new();
    if let Some(dir) = &args.overlays {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    }
    let mut positives = 0;
    for p in &predictions {
        let sample = &source.samples()[p.index];
        // The loader decoded the pixels already; here only the original size and spacing are
        // read (DICOM metadata), and the pixels again only for an overlay or a PNG.
        let (size, spacing, image) = original(&sample.image, args.overlays.is_some())?;
        let mask = resize(p.mask.view(), size, Interpolation::Nearest)?;
        submission.push_mask(&sample.image_id, &mask.view());
        let positive = mask.iter().any(|&v| v != 0);
        positives += usize::from(positive);
        if let (Some(dir), Some(image)) = (&args.overlays, &image) {
            ptx_io::check_image_id_as_file_name(&sample.image_id)?;
            let tile = overlay_tile(image.view(), None, Some(mask.view()), 512)?;
            ptx_io::image_file::write_png_rgb8(
                dir.join(format!("{}.png", sample.image_id)),
                &tile.view(),
            )?;
        }
        if args.report.is_some() {
            reports.push(ImageReport {
                image_id: sample.image_id.clone(),
                file: sample.image.clone(),
                probability: p.score,
                positive,
                lesions: measure_lesions(mask.view(), spacing, LesionOptions::default())?,
            });
        }
    }
    submission
        .write(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let skipped: Vec<String> = skipped
        .into_iter()
        .map(|(i, reason)| {
            eprintln!("warning: skipped {reason}");
            format!("{}: {reason}", source.samples()[i].image.display())
        })
        .collect();
    if let Some(path) = &args.report {
        let report = Report {
            checkpoint: args.checkpoint.clone(),
            postprocess: system.config().postprocess,
            hflip: system.config().hflip,
            input_size: system.config().input.size,
            images: reports,
            skipped: skipped.clone(),
        };
        let json = serde_json::to_vec_pretty(&report)?;
        ptx_io::write_atomic(path, |out| out.write_all(&json))?;
    }
    Ok(format!(
        "{} images, {} with a predicted pneumothorax{}; wrote {}",
        predictions.len(),
        positives,
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", skipped.len())
        },
        args.out.display()
    ))
}

/// What [`original`] reads of an input file.
type Original = ((usize, usize), Option<PixelSpacing>, Option<Array2<u8>>);

/// An input file's `(height, width)`, its pixel spacing (DICOM files that have one) and, when
/// `pixels` is asked for or the file is not DICOM, its grey pixels as the loader read them.
fn original(path: &Path, pixels: bool) -> Result<Original> {
    let dicom = DicomImage::open_with(path, &ReadOptions::default().metadata_only(true)).ok();
    let Some(meta) = dicom.as_ref().map(DicomImage::meta) else {
        let image = read_image_gray8(path)?;
        return Ok((image.dim(), None, Some(image)));
    };
    let size = (meta.rows as usize, meta.columns as usize);
    let spacing = meta
        .pixel_spacing_mm
        .map(|[row_mm, col_mm]| PixelSpacing { row_mm, col_mm });
    let image = if pixels {
        Some(read_image_gray8(path)?)
    } else {
        None
    };
    Ok((size, spacing, image))
}
