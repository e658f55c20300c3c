//! `ptx info FILE... [--json]`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use ptx_io::dicom::{DicomImage, DicomMeta, ReadOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// DICOM files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per file, one per line.
    #[arg(long)]
    json: bool,
    /// Include patient name, ID and birth date (left out by default).
    #[arg(long)]
    identifying: bool,
}

pub fn run(args: Args) -> Result<()> {
    let options = ReadOptions::default()
        .identifying(args.identifying)
        .metadata_only(true);
    let mut failed = 0;
    for file in &args.files {
        match DicomImage::open_with(file, &options) {
            Ok(image) => {
                if args.json {
                    let mut value = serde_json::to_value(image.meta())?;
                    value["path"] = serde_json::Value::String(file.display().to_string());
                    super::emit(format_args!("{value}"));
                } else {
                    print_text(file, image.meta());
                }
            }
            Err(e) => {
                eprintln!("ptx: error: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} files could not be read", args.files.len());
    }
    Ok(())
}

fn print_text(file: &std::path::Path, m: &DicomMeta) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    super::emit(format_args!("{}", file.display()));
    super::emit(format_args!(
        "  SOP Instance UID   {}",
        opt(&m.sop_instance_uid)
    ));
    super::emit(format_args!(
        "  modality           {}   body part {}   view {}",
        opt(&m.modality),
        opt(&m.body_part_examined),
        opt(&m.view_position)
    ));
    super::emit(format_args!(
        "  patient            age {}   sex {}",
        m.patient_age_years.map_or("-".into(), |a| format!("{a} y")),
        m.patient_sex.map_or("-".into(), |s| format!("{s:?}"))
    ));
    super::emit(format_args!(
        "  image              {} x {} (columns x rows), {} frame(s), {} sample(s), {} bits stored of {}{}, {}",
        m.columns,
        m.rows,
        m.frames,
        m.samples_per_pixel,
        m.bits_stored,
        m.bits_allocated,
        if m.signed { " signed" } else { "" },
        m.photometric_interpretation
    ));
    super::emit(format_args!(
        "  pixel spacing      {}",
        match (m.pixel_spacing_mm, m.pixel_spacing_source) {
            (Some([r, c]), Some(src)) => format!("{r} x {c} mm (row x column, {src:?})"),
            _ => "unknown".into(),
        }
    ));
    super::emit(format_args!(
        "  transfer syntax    {}",
        m.transfer_syntax_uid
    ));
    if let Some(id) = &m.identifying {
        super::emit(format_args!(
            "  patient name / id  {} / {}   born {}",
            opt(&id.patient_name),
            opt(&id.patient_id),
            opt(&id.patient_birth_date)
        ));
    }
}
