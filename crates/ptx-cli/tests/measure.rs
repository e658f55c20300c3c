//! `ptx measure` end to end: a band mask made with `ptx masks`, spacing from the command line
//! or from a real SIIM DICOM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod common;

use common::ptx;

use std::path::Path;

use serde_json::Value;

const POSITIVE: &str = "1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319";

/// A 1024x1024 mask PNG of a band 31 rows tall (rows 100-130) and 11 columns wide (50-60).
fn band_mask(dir: &Path) -> std::path::PathBuf {
    let rle = format!("{} 31{}", 50 * 1024 + 100, " 993 31".repeat(10));
    let csv = dir.join("band.csv");
    std::fs::write(&csv, format!("ImageId,EncodedPixels\nband,{rle}\n")).unwrap();
    let o = ptx(&[&"masks", &"--annotations", &csv, &"--out", &dir]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir.join("band.png")
}

#[test]
fn measure_with_given_and_dicom_spacing() {
    let dir = tempfile::tempdir().unwrap();
    let mask = band_mask(dir.path());
    let o = ptx(&[
        &"measure",
        &"--mask",
        &mask,
        &"--spacing",
        &"0.5",
        &"0.5",
        &"--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let lesion = &v["lesions"][0];
    assert_eq!(lesion["area_px"], 341);
    assert_eq!(lesion["rim_width_px"], 11.0);
    assert_eq!(lesion["rim_width_mm"], 5.5);
    assert_eq!(lesion["side"], "left");
    assert_eq!(lesion["bbox"]["top"], 100);
    assert_eq!(lesion["bbox"]["right"], 60);
    assert_eq!(v["bts_size"], "small");

    // Without spacing: pixels only, and the text says so.
    let o = ptx(&[&"measure", &"--mask", &mask]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains("unknown"), "{out}");

    let Some(dcm) = ptx_testdata::shared(&format!("siim/dicom/{POSITIVE}.dcm")) else {
        return;
    };
    let o = ptx(&[&"measure", &"--mask", &mask, &"--dicom", &dcm, &"--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // The SIIM file's Pixel Spacing is 0.143 mm.
    let rim = v["lesions"][0]["rim_width_mm"].as_f64().unwrap();
    assert!((rim - 11.0 * 0.143).abs() < 1e-9, "{rim}");
}

#[test]
fn measure_refuses_a_mask_of_another_size() {
    let Some(dcm) = ptx_testdata::shared(&format!("siim/dicom/{POSITIVE}.dcm")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("small.csv");
    std::fs::write(&csv, "ImageId,EncodedPixels\nsmall,0 3\n").unwrap();
    let o = ptx(&[
        &"masks",
        &"--annotations",
        &csv,
        &"--out",
        &dir.path(),
        &"--size",
        &"4",
    ]);
    assert!(o.status.success());
    let o = ptx(&[
        &"measure",
        &"--mask",
        &dir.path().join("small.png"),
        &"--dicom",
        &dcm,
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("4x4") && err.contains("1024x1024") && !err.contains("panicked"),
        "{err}"
    );
}
