//! `ptx predict --checkpoint DIR --input DIR|FILE... --out submission.csv [--overlays DIR]
//! [--report report.json]`: masks for a folder of radiographs, as a challenge submission.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use ptx_io::annotations::Submission;
use ptx_io::index::files_with_extension;
use ptx_metrics::{measure_lesions, LesionOptions, LesionReport, PostProcess};
use ptx_preproc::overlay_tile;
use ptx_train::{Dataset, DeviceChoice, Prediction, System};
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
    let all: Vec<usize> = (0..dataset.samples().len()).collect();
    let mut source = dataset.source(&all)?;
    if let Some(dir) = &args.overlays {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
        // The overlays draw on the images as the loader decoded them: no second read.
        source = source.keeping_pixels();
    }
    let mut submission = Submission::new(ptx_io::rle::RleForm::from(args.rle));
    let mut reports = Vec::new();
    let (mut images, mut positives) = (0, 0);
    let skipped = system.predict_each(source, args.threads, |p: Prediction| {
        images += 1;
        let positive = p.positive();
        positives += usize::from(positive);
        submission.push_mask(&p.meta.image_id, &p.mask.view());
        if let (Some(dir), Some(pixels)) = (&args.overlays, &p.meta.pixels) {
            ptx_io::check_image_id_as_file_name(&p.meta.image_id)?;
            let tile = overlay_tile(pixels.view(), None, Some(p.mask.view()), 512)?;
            ptx_io::image_file::write_png_rgb8(
                dir.join(format!("{}.png", p.meta.image_id)),
                &tile.view(),
            )?;
        }
        if args.report.is_some() {
            reports.push(ImageReport {
                lesions: measure_lesions(
                    p.mask.view(),
                    p.meta.pixel_spacing(),
                    LesionOptions::default(),
                )?,
                image_id: p.meta.image_id,
                file: p.meta.path,
                probability: p.score,
                positive,
            });
        }
        Ok(())
    })?;
    submission
        .write(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let skipped: Vec<String> = skipped
        .into_iter()
        .map(|s| {
            eprintln!("warning: skipped {}", s.error);
            format!("{}: {}", s.path.display(), s.error)
        })
        .collect();
    if let Some(path) = &args.report {
        let config = system.config();
        let report = Report {
            checkpoint: args.checkpoint.clone(),
            postprocess: config.postprocess,
            hflip: config.hflip,
            input_size: [config.input.size[0].get(), config.input.size[1].get()],
            images: reports,
            skipped: skipped.clone(),
        };
        let json = serde_json::to_vec_pretty(&report)?;
        ptx_io::write_atomic(path, |out| out.write_all(&json))?;
    }
    Ok(format!(
        "{images} images, {positives} with a predicted pneumothorax{}; wrote {}",
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", skipped.len())
        },
        args.out.display()
    ))
}
