//! Writing an 8-bit grey radiograph as a DICOM file shaped like the SIIM challenge's
//! (Secondary Capture, CR, MONOCHROME2, Explicit VR Little Endian, uncompressed).

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use ndarray::Array2;

use crate::{Error, Result};

const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";
const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";

/// Identifiers and demographics of one synthetic file.
pub(crate) struct Header<'a> {
    pub(crate) sop_uid: &'a str,
    pub(crate) study_uid: &'a str,
    pub(crate) series_uid: &'a str,
    pub(crate) patient_id: &'a str,
    pub(crate) sex: &'a str,
    pub(crate) age: u32,
    pub(crate) view: &'a str,
    pub(crate) spacing_mm: f64,
}

/// The file's bytes (preamble, meta group, data set).
pub(crate) fn encode(pixels: &Array2<u8>, h: &Header<'_>) -> Result<Vec<u8>> {
    let (rows, cols) = pixels.dim();
    let fail = |e: String| Error::InvalidArgument {
        name: "synthetic DICOM",
        message: e,
    };
    let mut obj = InMemDicomObject::new_empty();
    let mut put = |tag, vr, value: PrimitiveValue| {
        obj.put(DataElement::new(tag, vr, value));
    };
    let spacing = format!("{:.3}", h.spacing_mm);
    put(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100".into());
    put(tags::SOP_CLASS_UID, VR::UI, SECONDARY_CAPTURE.into());
    put(tags::SOP_INSTANCE_UID, VR::UI, h.sop_uid.into());
    put(tags::STUDY_DATE, VR::DA, "19010101".into());
    put(tags::MODALITY, VR::CS, "CR".into());
    put(tags::CONVERSION_TYPE, VR::CS, "WSD".into());
    put(
        tags::SERIES_DESCRIPTION,
        VR::LO,
        format!("view: {}", h.view).into(),
    );
    put(tags::PATIENT_NAME, VR::PN, h.patient_id.into());
    put(tags::PATIENT_ID, VR::LO, h.patient_id.into());
    put(tags::PATIENT_SEX, VR::CS, h.sex.into());
    put(tags::PATIENT_AGE, VR::AS, format!("{:03}Y", h.age).into());
    put(tags::BODY_PART_EXAMINED, VR::CS, "CHEST".into());
    put(tags::VIEW_POSITION, VR::CS, h.view.into());
    put(tags::STUDY_INSTANCE_UID, VR::UI, h.study_uid.into());
    put(tags::SERIES_INSTANCE_UID, VR::UI, h.series_uid.into());
    put(tags::SERIES_NUMBER, VR::IS, "1".into());
    put(tags::INSTANCE_NUMBER, VR::IS, "1".into());
    put(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16));
    put(
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        "MONOCHROME2".into(),
    );
    put(tags::ROWS, VR::US, PrimitiveValue::from(rows as u16));
    put(tags::COLUMNS, VR::US, PrimitiveValue::from(cols as u16));
    put(
        tags::PIXEL_SPACING,
        VR::DS,
        format!("{spacing}\\{spacing}").into(),
    );
    put(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(8u16));
    put(tags::BITS_STORED, VR::US, PrimitiveValue::from(8u16));
    put(tags::HIGH_BIT, VR::US, PrimitiveValue::from(7u16));
    put(
        tags::PIXEL_REPRESENTATION,
        VR::US,
        PrimitiveValue::from(0u16),
    );
    let mut bytes: Vec<u8> = pixels.iter().copied().collect();
    if bytes.len() % 2 == 1 {
        bytes.push(0); // even value length
    }
    put(tags::PIXEL_DATA, VR::OB, PrimitiveValue::from(bytes));
    let file = obj
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(EXPLICIT_VR_LE))
        .map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::with_capacity(rows * cols + 2048);
    file.write_all(&mut out).map_err(|e| fail(e.to_string()))?;
    Ok(out)
}
