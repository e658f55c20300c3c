//! The DICOM attributes the papers and reports use, as a serde struct.

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject};
use serde::{Deserialize, Serialize};

/// Patient sex as recorded in (0010,0040).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Sex {
    /// `M`.
    Male,
    /// `F`.
    Female,
    /// `O`.
    Other,
}

/// Where [`DicomMeta::pixel_spacing_mm`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SpacingSource {
    /// Pixel Spacing (0028,0030): spacing in the patient.
    PixelSpacing,
    /// Imager Pixel Spacing (0018,1164): spacing at the detector (projection radiographs,
    /// includes the geometric magnification).
    ImagerPixelSpacing,
}

/// Identifying attributes, read only when [`crate::dicom::ReadOptions::identifying`] asks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identifying {
    /// Patient's Name (0010,0010).
    pub patient_name: Option<String>,
    /// Patient ID (0010,0020).
    pub patient_id: Option<String>,
    /// Patient's Birth Date (0010,0030), as written (`YYYYMMDD`).
    pub patient_birth_date: Option<String>,
}

/// Metadata of one DICOM image. Identifying fields are left out unless asked for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DicomMeta {
    /// SOP Instance UID (0008,0018): the SIIM ImageId.
    pub sop_instance_uid: Option<String>,
    /// Study Instance UID (0020,000D).
    pub study_instance_uid: Option<String>,
    /// Series Instance UID (0020,000E).
    pub series_instance_uid: Option<String>,
    /// Transfer Syntax UID of the file meta group.
    pub transfer_syntax_uid: String,
    /// Modality (0008,0060), e.g. `CR`.
    pub modality: Option<String>,
    /// Body Part Examined (0018,0015), e.g. `CHEST`.
    pub body_part_examined: Option<String>,
    /// View Position (0018,5101), e.g. `PA` or `AP`.
    pub view_position: Option<String>,
    /// Patient's Age (0010,1010) in years: `038Y` is 38, `006M` is 0.5; a bare number (as
    /// in the SIIM files) is taken as years.
    pub patient_age_years: Option<f32>,
    /// Patient's Sex (0010,0040).
    pub patient_sex: Option<Sex>,
    /// Rows (0028,0010): image height in pixels.
    pub rows: u32,
    /// Columns (0028,0011): image width in pixels.
    pub columns: u32,
    /// Number of Frames (0028,0008), 1 when absent.
    pub frames: u32,
    /// Samples per Pixel (0028,0002): 1 for grey, 3 for colour.
    pub samples_per_pixel: u16,
    /// Bits Allocated (0028,0100).
    pub bits_allocated: u16,
    /// Bits Stored (0028,0101).
    pub bits_stored: u16,
    /// Pixel Representation (0028,0103): false unsigned, true two's complement.
    pub signed: bool,
    /// Photometric Interpretation (0028,0004) as written, e.g. `MONOCHROME2`.
    pub photometric_interpretation: String,
    /// Spacing between pixel centres in mm, `[row spacing, column spacing]` (i.e. vertical,
    /// horizontal), from Pixel Spacing or else Imager Pixel Spacing.
    pub pixel_spacing_mm: Option<[f64; 2]>,
    /// Which attribute [`Self::pixel_spacing_mm`] came from.
    pub pixel_spacing_source: Option<SpacingSource>,
    /// Name, ID and birth date; `None` unless asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifying: Option<Identifying>,
}

pub(crate) fn string(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<String> {
    let elem = obj.element_opt(tag).ok()??;
    let s = elem.to_str().ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty()).then(|| s.to_owned())
}

pub(crate) fn int<T: TryFrom<i64>>(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<T> {
    T::try_from(obj.element_opt(tag).ok()??.to_int::<i64>().ok()?).ok()
}

/// A multi-valued decimal attribute. Decimal strings are parsed from their text, so `0.143`
/// stays 0.143 (not the nearest `f32`).
pub(crate) fn floats(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<Vec<f64>> {
    let elem = obj.element_opt(tag).ok()??;
    let v = match elem.value() {
        dicom_core::DicomValue::Primitive(
            dicom_core::value::PrimitiveValue::Strs(_) | dicom_core::value::PrimitiveValue::Str(_),
        ) => elem
            .to_str()
            .ok()?
            .split('\\')
            .map(|t| {
                t.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                    .parse::<f64>()
            })
            .collect::<Result<Vec<_>, _>>()
            .ok()?,
        _ => elem.to_multi_float64().ok()?,
    };
    (!v.is_empty()).then_some(v)
}

/// Parses an Age String: `nnnD|W|M|Y`, or a bare number taken as years.
pub(crate) fn parse_age_years(s: &str) -> Option<f32> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_uppercase()),
        _ => (s, 'Y'),
    };
    let n: f32 = digits.trim().parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Some(match unit {
        'Y' => n,
        'M' => n / 12.0,
        'W' => n * 7.0 / 365.25,
        'D' => n / 365.25,
        _ => return None,
    })
}

fn spacing(obj: &InMemDicomObject) -> (Option<[f64; 2]>, Option<SpacingSource>) {
    for (tag, source) in [
        (tags::PIXEL_SPACING, SpacingSource::PixelSpacing),
        (
            tags::IMAGER_PIXEL_SPACING,
            SpacingSource::ImagerPixelSpacing,
        ),
    ] {
        if let Some(v) = floats(obj, tag) {
            if v.len() >= 2 && v[0] > 0.0 && v[1] > 0.0 && v[0].is_finite() && v[1].is_finite() {
                return (Some([v[0], v[1]]), Some(source));
            }
        }
    }
    (None, None)
}

impl DicomMeta {
    pub(crate) fn from_object(obj: &DefaultDicomObject, identifying: bool) -> Self {
        let sex =
            string(obj, tags::PATIENT_SEX).and_then(|s| match s.to_ascii_uppercase().as_str() {
                "M" => Some(Sex::Male),
                "F" => Some(Sex::Female),
                "O" => Some(Sex::Other),
                _ => None,
            });
        let (pixel_spacing_mm, pixel_spacing_source) = spacing(obj);
        DicomMeta {
            sop_instance_uid: string(obj, tags::SOP_INSTANCE_UID),
            study_instance_uid: string(obj, tags::STUDY_INSTANCE_UID),
            series_instance_uid: string(obj, tags::SERIES_INSTANCE_UID),
            transfer_syntax_uid: obj
                .meta()
                .transfer_syntax()
                .trim_end_matches('\0')
                .to_owned(),
            modality: string(obj, tags::MODALITY),
            body_part_examined: string(obj, tags::BODY_PART_EXAMINED),
            view_position: string(obj, tags::VIEW_POSITION),
            patient_age_years: string(obj, tags::PATIENT_AGE).and_then(|s| parse_age_years(&s)),
            patient_sex: sex,
            rows: int(obj, tags::ROWS).unwrap_or(0),
            columns: int(obj, tags::COLUMNS).unwrap_or(0),
            frames: string(obj, tags::NUMBER_OF_FRAMES)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1),
            samples_per_pixel: int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1),
            bits_allocated: int(obj, tags::BITS_ALLOCATED).unwrap_or(0),
            bits_stored: int(obj, tags::BITS_STORED).unwrap_or(0),
            signed: int::<u16>(obj, tags::PIXEL_REPRESENTATION) == Some(1),
            photometric_interpretation: string(obj, tags::PHOTOMETRIC_INTERPRETATION)
                .unwrap_or_default(),
            pixel_spacing_mm,
            pixel_spacing_source,
            identifying: identifying.then(|| Identifying {
                patient_name: string(obj, tags::PATIENT_NAME),
                patient_id: string(obj, tags::PATIENT_ID),
                patient_birth_date: string(obj, tags::PATIENT_BIRTH_DATE),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_age_years;

    #[test]
    fn ages() {
        assert_eq!(parse_age_years("038Y"), Some(38.0));
        assert_eq!(parse_age_years("38"), Some(38.0));
        assert_eq!(parse_age_years("006M"), Some(0.5));
        assert_eq!(parse_age_years("abc"), None);
        assert_eq!(parse_age_years(""), None);
        assert_eq!(parse_age_years("-3Y"), None);
    }
}
