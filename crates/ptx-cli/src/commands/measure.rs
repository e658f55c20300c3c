//! `ptx measure --mask M.png [--dicom X.dcm | --spacing ROW_MM COL_MM] [--min-area N] [--json]`:
//! lesion measurements of a predicted mask for a report.

use std::path::PathBuf;

use anyhow::{Context, Result};
use ptx_io::dicom::{DicomImage, ReadOptions};
use ptx_io::image_file::read_mask_png;
use ptx_metrics::{measure_lesions, LesionOptions, LesionReport, PixelSpacing};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Mask PNG (any non-zero pixel is lesion), e.g. one written by `ptx masks`.
    #[arg(long)]
    mask: PathBuf,
    /// The image's DICOM, for its pixel spacing (Pixel Spacing, else Imager Pixel Spacing).
    #[arg(long, conflicts_with = "spacing")]
    dicom: Option<PathBuf>,
    /// Pixel spacing in mm, between rows then between columns.
    #[arg(long, num_args = 2, value_names = ["ROW_MM", "COL_MM"])]
    spacing: Option<Vec<f64>>,
    /// Ignore components smaller than this many pixels.
    #[arg(long, default_value_t = 0)]
    min_area: usize,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let mask = read_mask_png(&args.mask)?;
    let spacing = match (&args.dicom, &args.spacing) {
        (Some(path), _) => {
            let image = DicomImage::open_with(path, &ReadOptions::default().metadata_only(true))?;
            let (rows, cols) = (image.meta().rows as usize, image.meta().columns as usize);
            anyhow::ensure!(
                (rows, cols) == mask.dim(),
                "{}: the mask is {}x{} (rows x columns) but the DICOM {} is {rows}x{cols}",
                args.mask.display(),
                mask.dim().0,
                mask.dim().1,
                path.display()
            );
            image
                .meta()
                .pixel_spacing_mm
                .map(|[row_mm, col_mm]| PixelSpacing { row_mm, col_mm })
        }
        (None, Some(s)) => Some(PixelSpacing {
            row_mm: s[0],
            col_mm: s[1],
        }),
        (None, None) => None,
    };
    let options = LesionOptions {
        min_area: args.min_area,
        ..Default::default()
    };
    let report = measure_lesions(mask.view(), spacing, options)
        .with_context(|| args.mask.display().to_string())?;
    if args.json {
        super::emit(serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}

fn print_text(r: &LesionReport) {
    let mm = |v: Option<f64>, unit: &str| {
        v.map_or_else(|| "unknown".to_owned(), |v| format!("{v:.1} {unit}"))
    };
    match r.spacing {
        Some(s) => super::emit(format_args!(
            "pixel spacing      {:.4} x {:.4} mm",
            s.row_mm, s.col_mm
        )),
        None => super::emit(
            "pixel spacing      unknown (no --dicom or --spacing): sizes in pixels only",
        ),
    }
    super::emit(format_args!(
        "lesions            {} ({} px, {})",
        r.lesions.len(),
        r.total_area_px,
        mm(r.total_area_mm2, "mm²")
    ));
    for (k, l) in r.lesions.iter().enumerate() {
        super::emit(format_args!(
            "  {}: {} px ({}), image {:?} = patient {:?} (standard display), rows {}-{}, columns {}-{}, \
             rim {:.0} px ({}) widest at row {}, column {}",
            k + 1,
            l.area_px,
            mm(l.area_mm2, "mm²"),
            l.side,
            l.side.patient_side(),
            l.bbox.top,
            l.bbox.bottom,
            l.bbox.left,
            l.bbox.right,
            l.rim_width_px,
            mm(l.rim_width_mm, "mm"),
            l.rim_point.0,
            l.rim_point.1,
        ));
    }
    super::emit(format_args!(
        "BTS size           {}",
        r.bts_size.map_or_else(
            || "unknown (needs pixel spacing and a lesion)".to_owned(),
            |b| format!("{b:?} (widest rim; an approximation, see ptx-metrics' lesion docs)")
        )
    ));
}
