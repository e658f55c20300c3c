//! The real SIIM-ACR DICOMs: JPEG baseline decode within 1 grey level of libjpeg, metadata,
//! MONOCHROME1 inversion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use ptx_testdata as common;

use ptx_io::dicom::{DicomImage, DisplayOptions, ReadOptions, Sex, Voi};

const POSITIVE: &str = "1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319";
const NEGATIVE: &str = "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819";

#[test]
fn jpeg_baseline_within_one_grey_level_of_libjpeg() {
    for uid in [POSITIVE, NEGATIVE] {
        let Some(dcm) = common::shared(&format!("siim/dicom/{uid}.dcm")) else {
            return;
        };
        let Some(png) = common::shared(&format!("siim/decoded/{uid}.png")) else {
            return;
        };
        let image = DicomImage::open(&dcm).unwrap();
        let ours = image.pixels().frame_u8(0).expect("8-bit grey");
        let libjpeg = ptx_io::image_file::read_png_gray8(&png).unwrap();
        assert_eq!(ours.dim(), (1024, 1024));
        let max = ours
            .iter()
            .zip(libjpeg.iter())
            .map(|(&a, &b)| a.abs_diff(b))
            .max()
            .unwrap();
        let differing = ours
            .iter()
            .zip(libjpeg.iter())
            .filter(|(a, b)| a != b)
            .count();
        eprintln!("{uid}: max |diff| {max} to libjpeg, {differing} of 1048576 pixels differ");
        assert!(max <= 1);
        // 8-bit MONOCHROME2 without VOI attributes: the display image is the stored image.
        assert_eq!(
            image.display(&DisplayOptions::default()).unwrap().view(),
            ours
        );
        // The any-image reader gives the display image, by extension and by the preamble.
        assert_eq!(
            ptx_io::image_file::read_image_gray8(&dcm).unwrap().view(),
            ours
        );
        let dir = tempfile::tempdir().unwrap();
        let renamed = dir.path().join(format!("{uid}.bin"));
        std::fs::copy(&dcm, &renamed).unwrap();
        assert_eq!(
            ptx_io::image_file::read_image_gray8(&renamed)
                .unwrap()
                .view(),
            ours
        );
    }
}

#[test]
fn metadata_of_positive_image() {
    let Some(dcm) = common::shared(&format!("siim/dicom/{POSITIVE}.dcm")) else {
        return;
    };
    let meta = DicomImage::open_with(&dcm, &ReadOptions::default().metadata_only(true))
        .unwrap()
        .meta()
        .clone();
    assert_eq!(meta.sop_instance_uid.as_deref(), Some(POSITIVE));
    assert_eq!(meta.modality.as_deref(), Some("CR"));
    assert_eq!(
        (
            meta.rows,
            meta.columns,
            meta.bits_allocated,
            meta.samples_per_pixel
        ),
        (1024, 1024, 8, 1)
    );
    assert_eq!(meta.transfer_syntax_uid, "1.2.840.10008.1.2.4.50");
    assert_eq!(meta.photometric_interpretation, "MONOCHROME2");
    assert!(
        meta.patient_age_years.is_some_and(|a| a > 0.0 && a < 120.0),
        "{:?}",
        meta.patient_age_years
    );
    assert!(matches!(meta.patient_sex, Some(Sex::Male | Sex::Female)));
    assert!(
        matches!(meta.view_position.as_deref(), Some("PA" | "AP")),
        "{:?}",
        meta.view_position
    );
    assert!(
        meta.pixel_spacing_mm.is_some(),
        "SIIM files carry Pixel Spacing"
    );
    assert!(
        meta.identifying.is_none(),
        "identifying fields stay out unless asked"
    );
    let json = serde_json::to_string(&meta).unwrap();
    assert!(!json.contains("patient_name"));
    let with_ids = DicomImage::open_with(
        &dcm,
        &ReadOptions::default().identifying(true).metadata_only(true),
    )
    .unwrap();
    assert!(with_ids
        .meta()
        .identifying
        .as_ref()
        .unwrap()
        .patient_id
        .is_some());
}

#[test]
fn monochrome1_display_is_inverted() {
    let Some(m1) = common::shared("siim/dicom-variants/torchxrayvision_Fake_MONOHR1.dcm") else {
        return;
    };
    let Some(m2) = common::shared(&format!("siim/dicom/{NEGATIVE}.dcm")) else {
        return;
    };
    let m1 = DicomImage::open(m1).unwrap();
    let m2 = DicomImage::open(m2).unwrap();
    assert_eq!(m1.pixels(), m2.pixels(), "same stored values");
    let d1 = m1.display(&DisplayOptions::default()).unwrap();
    let d2 = m2.display(&DisplayOptions::default()).unwrap();
    assert!(d1.iter().zip(d2.iter()).all(|(&a, &b)| a == 255 - b));
    let mut keep = DisplayOptions::default().voi(Voi::Identity);
    keep.invert_monochrome1 = false;
    assert_eq!(m1.display(&keep).unwrap(), d2);
}

#[test]
fn bytes_and_path_agree() {
    let Some(dcm) = common::shared(&format!("siim/dicom/{NEGATIVE}.dcm")) else {
        return;
    };
    let bytes = std::fs::read(&dcm).unwrap();
    let a = DicomImage::from_bytes(&bytes, &ReadOptions::default()).unwrap();
    let b = DicomImage::open(&dcm).unwrap();
    assert_eq!(a.pixels(), b.pixels());
    assert_eq!(a.path().to_str(), Some("<memory>"));
    // Truncations of a real file give errors, never panics (a JPEG stream cut short of its
    // last bytes may still decode, as libjpeg does, so only deeper cuts must fail).
    for cut in [0, 10, 132, 400, 2000, bytes.len() / 2] {
        assert!(
            DicomImage::from_bytes(&bytes[..cut], &ReadOptions::default()).is_err(),
            "cut {cut}"
        );
    }
    for cut in (bytes.len() - 64)..bytes.len() {
        let _ = DicomImage::from_bytes(&bytes[..cut], &ReadOptions::default());
    }
}

#[test]
fn decoded_size_limit() {
    let Some(dcm) = common::shared(&format!("siim/dicom/{NEGATIVE}.dcm")) else {
        return;
    };
    let e =
        DicomImage::open_with(&dcm, &ReadOptions::default().max_decoded_bytes(1 << 20)).unwrap();
    assert_eq!(
        e.pixels().dim(),
        (1, 1024, 1024, 1),
        "exactly 1 MiB is allowed"
    );
    let e = DicomImage::open_with(
        &dcm,
        &ReadOptions::default().max_decoded_bytes((1 << 20) - 1),
    )
    .unwrap_err();
    assert!(matches!(e, ptx_io::Error::UnsupportedPixels { .. }), "{e}");
}
