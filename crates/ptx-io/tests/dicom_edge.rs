//! Every DICOM edge-case file against pydicom 3.0.2: the MANIFEST's pixel checksums, and the
//! arrays pydicom decodes here (`tests/reference/pydicom_reference.py`) for lossy codecs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use ptx_testdata as common;

use ptx_io::dicom::{DicomImage, DisplayOptions, ReadOptions};
use ptx_io::Error;

/// Lossy codecs where two conforming decoders may round differently.
fn lossy(transfer_syntax: &str) -> bool {
    matches!(
        transfer_syntax,
        "1.2.840.10008.1.2.4.50"
            | "1.2.840.10008.1.2.4.51"
            | "1.2.840.10008.1.2.4.91"
            | "1.2.840.10008.1.2.4.81"
    )
}

#[test]
fn edge_cases_match_pydicom() {
    let Some(manifest) = common::shared("dicom-edge/MANIFEST.tsv") else {
        return;
    };
    let dir = manifest.parent().unwrap().to_path_buf();
    let rows = common::read_tsv(&manifest);
    assert_eq!(rows.len(), 41);
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for row in &rows {
        let file = &row["file"];
        let result = DicomImage::open(dir.join(file));
        let pydicom_ok = row["pydicom_result"] == "decoded";
        let outcome = match (&result, pydicom_ok) {
            (Ok(img), true) => {
                let px = img.pixels();
                let ours = common::sha256_hex(&px.to_le_bytes());
                let dtype_ok = numpy_name(px.numpy_dtype()) == row["decoded_dtype"];
                let shape = px
                    .pydicom_shape()
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join("x");
                if !dtype_ok || shape != row["decoded_shape"] {
                    failures.push(format!(
                        "{file}: dtype/shape {} {shape} vs pydicom {} {}",
                        px.numpy_dtype(),
                        row["decoded_dtype"],
                        row["decoded_shape"]
                    ));
                    "MISMATCH".to_owned()
                } else if ours == row["pixel_sha256_le"] {
                    "identical".to_owned()
                } else if lossy(&row["transfer_syntax_uid"]) {
                    match max_abs_diff_to_golden(file, px) {
                        Some(d) if d <= 1.0 => format!("within {d} (lossy)"),
                        Some(d) => {
                            failures.push(format!("{file}: max |diff| {d} to pydicom"));
                            format!("max diff {d}")
                        }
                        None => "golden missing".to_owned(),
                    }
                } else {
                    failures.push(format!("{file}: pixel checksum differs from pydicom's"));
                    "CHECKSUM DIFFERS".to_owned()
                }
            }
            (Err(e), true) => match e {
                // Known gaps, stated in the crate docs: JPEG-LS needs the CharLS C++ library,
                // and dicom-rs's JPEG decoder has no 12-bit (extended process 4) support.
                Error::UnsupportedTransferSyntax { .. }
                    if row["transfer_syntax_name"].contains("JPEG-LS") =>
                {
                    format!("known gap, typed error: {e}")
                }
                Error::PixelDecode { .. }
                    if row["transfer_syntax_uid"] == "1.2.840.10008.1.2.4.51"
                        && row["bits_stored"] == "12" =>
                {
                    format!("known gap, typed error: {e}")
                }
                _ => {
                    failures.push(format!("{file}: pydicom decodes it, we fail: {e}"));
                    format!("ERROR {e}")
                }
            },
            (Err(e), false) => format!("typed error as expected: {e}"),
            (Ok(img), false) => {
                // pydicom fails; a decoder that succeeds must still give sane output.
                let (f, r, c, s) = img.pixels().dim();
                assert_eq!(
                    (r, c, s),
                    (
                        img.meta().rows as usize,
                        img.meta().columns as usize,
                        img.meta().samples_per_pixel as usize
                    )
                );
                assert!(f >= 1);
                "decoded (pydicom fails)".to_owned()
            }
        };
        report.push(format!("{file:45} {outcome}"));
        // Whatever decoded must also make a display image without panicking.
        if let Ok(img) = &result {
            img.display(&DisplayOptions::default()).unwrap();
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn numpy_name(descr: &str) -> &'static str {
    match descr {
        "|u1" => "uint8",
        "|i1" => "int8",
        "<u2" => "uint16",
        "<i2" => "int16",
        "<u4" => "uint32",
        "<i4" => "int32",
        _ => "?",
    }
}

fn max_abs_diff_to_golden(file: &str, px: &ptx_io::dicom::StoredPixels) -> Option<f64> {
    let path = common::golden(&format!("pydicom/{file}.npy"))?;
    let (_, shape, reference) = common::read_npy(&path);
    assert_eq!(shape, px.pydicom_shape());
    let ours = ours_as_f64(px);
    Some(
        ours.iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max),
    )
}

fn ours_as_f64(px: &ptx_io::dicom::StoredPixels) -> Vec<f64> {
    common::le_bytes_to_f64(px.numpy_dtype(), &px.to_le_bytes())
}

#[test]
fn identical_pixel_families_agree() {
    let Some(manifest) = common::shared("dicom-edge/MANIFEST.tsv") else {
        return;
    };
    let dir = manifest.parent().unwrap().to_path_buf();
    for (reference, members) in [
        (
            "MR_small.dcm",
            &[
                "MR_small_implicit.dcm",
                "MR_small_bigendian.dcm",
                "MR_small_expb.dcm",
                "MR_small_RLE.dcm",
                "MR_small_jp2klossless.dcm",
                "MR_small_padded.dcm",
            ][..],
        ),
        ("MR2_UNCR.dcm", &["MR2_J2KR.dcm"][..]),
        ("RG3_UNCR.dcm", &["RG3_J2KR.dcm"][..]),
        ("emri_small.dcm", &["emri_small_RLE.dcm"][..]),
        ("JPEG2000_UNC.dcm", &["JPEG2000.dcm"][..]),
    ] {
        let want = DicomImage::open(dir.join(reference)).unwrap();
        for m in members {
            let got = DicomImage::open(dir.join(m)).unwrap_or_else(|e| panic!("{m}: {e}"));
            assert_eq!(got.pixels(), want.pixels(), "{m} differs from {reference}");
        }
    }
}

#[test]
fn invalid_files_give_typed_errors_with_path() {
    let Some(manifest) = common::shared("dicom-edge/MANIFEST.tsv") else {
        return;
    };
    let dir = manifest.parent().unwrap().to_path_buf();
    let truncated = DicomImage::open(dir.join("MR_truncated.dcm")).unwrap_err();
    // dicom-rs already stops at the short element while parsing.
    assert!(
        matches!(
            truncated,
            Error::PixelDataLength { .. } | Error::DicomParse { .. }
        ),
        "{truncated}"
    );
    assert!(truncated.to_string().contains("MR_truncated.dcm"));
    for file in [
        "rtplan_truncated.dcm",
        "ExplVR_LitEndNoMeta.dcm",
        "no_meta.dcm",
        "meta_missing_tsyntax.dcm",
        "badVR.dcm",
    ] {
        let e = DicomImage::open(dir.join(file)).unwrap_err();
        assert!(e.to_string().contains(file), "{file}: {e}");
    }
    let missing = DicomImage::open(dir.join("does-not-exist.dcm")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }));
}

#[test]
fn luts_and_windows() {
    let Some(manifest) = common::shared("dicom-edge/MANIFEST.tsv") else {
        return;
    };
    let dir = manifest.parent().unwrap().to_path_buf();
    let mlut = DicomImage::open(dir.join("mlut_18.dcm")).unwrap();
    assert!(
        matches!(mlut.modality_lut(), ptx_io::dicom::ModalityLut::Table(_)),
        "{:?}",
        mlut.modality_lut()
    );
    let vlut = DicomImage::open(dir.join("vlut_04.dcm")).unwrap();
    assert!(!vlut.voi_tables().is_empty());
    let ct = DicomImage::open(dir.join("CT_small.dcm")).unwrap();
    let hu = ct.modality_values(0).unwrap();
    let stored = ct.frame_f32(0).unwrap();
    let ptx_io::dicom::ModalityLut::Rescale { slope, intercept } = *ct.modality_lut() else {
        panic!()
    };
    assert!((hu[[0, 0]] as f64 - (stored[[0, 0]] as f64 * slope + intercept)).abs() < 1e-3);
    let _ = ReadOptions::default();
}
