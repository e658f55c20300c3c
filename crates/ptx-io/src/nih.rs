//! The NIH ChestX-ray14 layout: `images/*.png` and the label file `Data_Entry_2017.csv`
//! (`Image Index,Finding Labels,Follow-up #,Patient ID,...`, the findings separated by `|`,
//! `No Finding` for none), read as it is shipped, and a synthetic stand-in in that layout.
//!
//! ```
//! use ptx_io::nih::{read_entries, FINDINGS};
//! let csv = "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]\n\
//!            00000001_000.png,Cardiomegaly|Pneumothorax,0,1,57,M,PA,2682,2749,0.143,0.143\n\
//!            00000002_000.png,No Finding,0,2,81,M,PA,2500,2048,0.171,0.171\n";
//! let entries = ptx_io::nih::parse_entries(csv.as_bytes(), "Data_Entry_2017.csv".as_ref())?;
//! assert_eq!(entries[0].image_id(), "00000001_000");
//! assert!(entries[0].has("Pneumothorax") && !entries[1].has("Pneumothorax"));
//! assert_eq!(entries[1].findings, Vec::<String>::new());
//! assert_eq!(FINDINGS.len(), 14);
//! # Ok::<(), ptx_io::Error>(())
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::fsutil::write_atomic;
use crate::image_file::write_png_gray8;
use crate::synth::draw::case_rng;
use crate::synth::findings::draw_finding;
use crate::synth::{generate, SynthOptions};
use crate::{Error, Result};

/// The 14 findings of ChestX-ray14, in the dataset paper's order.
pub const FINDINGS: [&str; 14] = [
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
];

/// The share of ChestX-ray14's 112,120 images labelled with each of [`FINDINGS`] (same
/// order), measured on `Data_Entry_2017_v2020.csv` (a test measures the file again); 53.84 %
/// are `No Finding`. Rounded to 5 decimals.
pub const PREVALENCE: [f64; 14] = [
    0.10309, 0.02476, 0.11877, 0.17743, 0.05157, 0.05647, 0.01276, 0.04729, 0.04163, 0.02054,
    0.02244, 0.01504, 0.03019, 0.00202,
];

/// The share of each of [`FINDINGS`] among `entries` (0 for every finding when empty).
pub fn prevalence(entries: &[Entry]) -> [f64; 14] {
    let mut out = [0.0; 14];
    for e in entries {
        for (share, finding) in out.iter_mut().zip(FINDINGS) {
            if e.has(finding) {
                *share += 1.0;
            }
        }
    }
    out.iter_mut()
        .for_each(|s| *s /= entries.len().max(1) as f64);
    out
}

/// One row of the label file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The image file's name (`Image Index`, e.g. `00000001_000.png`).
    pub image: String,
    /// The findings (empty for `No Finding`).
    pub findings: Vec<String>,
    /// The patient.
    pub patient_id: u64,
}

impl Entry {
    /// The file stem, the ImageId ptx uses.
    pub fn image_id(&self) -> &str {
        self.image
            .rsplit_once('.')
            .map_or(&self.image, |(stem, _)| stem)
    }

    /// Whether the image has `finding`.
    pub fn has(&self, finding: &str) -> bool {
        self.findings.iter().any(|f| f == finding)
    }
}

/// Reads a ChestX-ray14 label file (`Data_Entry_2017.csv` or its v2020 version).
///
/// # Errors
/// [`Error::Io`]; [`Error::Csv`] naming the line of a row without an image, findings or a
/// numeric patient.
pub fn read_entries(path: impl AsRef<Path>) -> Result<Vec<Entry>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    parse_entries(file, path)
}

/// [`read_entries`] from any reader; `path` names it in errors.
///
/// # Errors
/// As [`read_entries`].
pub fn parse_entries(reader: impl Read, path: &Path) -> Result<Vec<Entry>> {
    // The header's `OriginalImage[Width,Height]` holds a comma: the rows have two fields
    // more than the header names. Fields are read by position.
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let bad = |line: u64, message: String| Error::Csv {
        path: path.into(),
        line,
        message,
    };
    let mut entries = Vec::new();
    for record in csv.records() {
        let record =
            record.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let (Some(image), Some(labels), Some(patient)) =
            (record.get(0), record.get(1), record.get(3))
        else {
            return Err(bad(
                line,
                "expected Image Index, Finding Labels, Follow-up #, Patient ID".into(),
            ));
        };
        if image.is_empty() {
            return Err(bad(line, "empty Image Index".into()));
        }
        let patient_id = patient
            .parse()
            .map_err(|_| bad(line, format!("Patient ID {patient:?} is not a number")))?;
        let findings = labels
            .split('|')
            .map(str::trim)
            .filter(|f| !f.is_empty() && *f != "No Finding")
            .map(str::to_owned)
            .collect();
        entries.push(Entry {
            image: image.to_owned(),
            findings,
            patient_id,
        });
    }
    Ok(entries)
}

/// What [`write_synthetic`] wrote.
#[derive(Debug, Clone)]
pub struct NihSummary {
    /// The images folder.
    pub images: PathBuf,
    /// The label file.
    pub labels: PathBuf,
    /// Images written.
    pub count: usize,
    /// Images labelled `Pneumothorax`.
    pub pneumothorax: usize,
}

/// Writes a synthetic stand-in for ChestX-ray14 in its layout under `out`: `images/NNNNNNNN_000.png`
/// (the synthetic radiographs of [`crate::synth`], one patient each) and `Data_Entry_2017.csv`
/// with the real header. An image with a drawn pneumothorax is labelled `Pneumothorax` (so
/// that finding's share is `options.positive_share`); each of the other 13 findings is drawn
/// independently with its real share ([`PREVALENCE`]), `No Finding` when none is, and drawn
/// onto the image as a caricature of its sign: an opacity of its own shape and place
/// (Atelectasis a low band, Cardiomegaly a larger heart, Effusion a basal opacity,
/// Infiltration scattered patches, Mass and Nodule round blobs of two sizes, Pneumonia and
/// Consolidation soft and dense areas, Edema perihilar haze, Fibrosis fine lines,
/// Pleural_Thickening a lateral rim, Hernia a retrocardiac blob) or darker lungs
/// (Emphysema), so that images with different findings differ as their labels do. Their
/// co-occurrence is not the real one: drawn independently, 51 % of images get at least one of
/// them against 46 % in the real file.
///
/// # Errors
/// [`Error::Io`], [`Error::Png`].
pub fn write_synthetic(out: &Path, options: &SynthOptions) -> Result<NihSummary> {
    let images = out.join("images");
    std::fs::create_dir_all(&images).map_err(|e| Error::io(&images, e))?;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x0c4e_57a1);
    let mut rows = Vec::with_capacity(options.count);
    let mut pneumothorax = 0;
    for index in 0..options.count {
        let case = generate(options, index);
        let name = format!("{:08}_000.png", index + 1);
        let mut findings: Vec<&str> = Vec::new();
        for (finding, share) in FINDINGS.iter().zip(PREVALENCE) {
            let drawn = rng.random_bool(share); // drawn for every finding: one stream per image
            if *finding == "Pneumothorax" {
                if !case.lesions.is_empty() {
                    pneumothorax += 1;
                    findings.push(finding);
                }
            } else if drawn {
                findings.push(finding);
            }
        }
        // the other findings' looks from their own stream, so that the labels stay as drawn
        let mut image = case.image;
        let mut looks = case_rng(options.seed ^ 0x5f1d_1a65, index);
        for finding in &findings {
            draw_finding(&mut image, finding, &mut looks);
        }
        write_png_gray8(images.join(&name), &image.view())?;
        let labels = if findings.is_empty() {
            "No Finding".to_owned()
        } else {
            findings.join("|")
        };
        let side = options.size;
        rows.push(format!(
            "{name},{labels},0,{},50,M,PA,{side},{side},0.143,0.143",
            index + 1
        ));
    }
    let labels = out.join("Data_Entry_2017.csv");
    write_atomic(&labels, |f| {
        writeln!(f, "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]")?;
        for row in &rows {
            writeln!(f, "{row}")?;
        }
        Ok(())
    })?;
    Ok(NihSummary {
        images,
        labels,
        count: options.count,
        pneumothorax,
    })
}
