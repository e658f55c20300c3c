//! The `ptx` binary end to end: outputs, exit codes, one-line errors, no partial files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod common;

use common::{assert_clean_failure, ptx, stderr};

use std::path::Path;

const POSITIVE: &str = "1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319";
const NEGATIVE: &str = "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819";

use ptx_testdata::shared;

#[test]
fn version_reports_libtorch_and_cuda() {
    let o = ptx(&[&"--version"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        out.contains("libtorch 2.11.0") && out.contains("CUDA"),
        "{out}"
    );
}

#[test]
fn info_json_and_errors() {
    let Some(dcm) = shared(&format!("siim/dicom/{POSITIVE}.dcm")) else {
        return;
    };
    let o = ptx(&[&"info", &"--json", &dcm]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["sop_instance_uid"], POSITIVE);
    assert_eq!(v["modality"], "CR");
    assert!(v.get("identifying").is_none());
    let Some(bad) = shared("dicom-edge/no_meta.dcm") else {
        return;
    };
    let o = ptx(&[&"info", &dcm, &bad]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no_meta.dcm"));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(POSITIVE),
        "good files still reported"
    );
}

#[test]
fn convert_npy_png_raw() {
    let Some(ct) = shared("dicom-edge/CT_small.dcm") else {
        return;
    };
    let Some(rg3) = shared("dicom-edge/RG3_UNCR.dcm") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("ct.npy");
    assert!(ptx(&[&"convert", &ct, &npy]).status.success());
    let bytes = std::fs::read(&npy).unwrap();
    assert!(String::from_utf8_lossy(&bytes[..128]).contains("'descr': '<i2'"));
    let stored = ptx_io::dicom::DicomImage::open(&ct)
        .unwrap()
        .pixels()
        .to_le_bytes();
    assert!(bytes.ends_with(&stored));
    let png = dir.path().join("rg3.png");
    assert!(ptx(&[&"convert", &"--raw", &rg3, &png]).status.success());
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!(
        (info.width, info.height, info.bit_depth),
        (1760, 1760, png::BitDepth::Sixteen)
    );
    // Signed stored values do not fit a PNG: a clean error, no file.
    let bad = dir.path().join("ct.png");
    assert_clean_failure(&ptx(&[&"convert", &"--raw", &ct, &bad]));
    assert!(!bad.exists());
    assert_clean_failure(&ptx(&[&"convert", &ct, &dir.path().join("x.jpg")]));
}

#[test]
fn masks_then_encode_gives_rows_back() {
    let Some(csv) = shared("siim/csv/train-rle-sample.JonnoFTW.csv") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let masks = dir.path().join("masks");
    let o = ptx(&[&"masks", &"--annotations", &csv, &"--out", &masks]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&masks).unwrap().count(), 10);
    let out = dir.path().join("again.csv");
    assert!(ptx(&[&"encode", &"--masks", &masks, &"--out", &out])
        .status
        .success());
    let original = ptx_io::annotations::Annotations::read(&csv).unwrap();
    let again = ptx_io::annotations::Annotations::read(&out).unwrap();
    for id in original.image_ids() {
        let norm = |rows: &[String]| {
            rows.iter()
                .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            norm(original.rows(id).unwrap()),
            norm(again.rows(id).unwrap()),
            "{id}"
        );
    }
}

#[test]
fn masks_refuses_bad_input_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("escape.csv", "ImageId,EncodedPixels\nok,1 2\n../evil,1 2\n"),
        ("badrle.csv", "ImageId,EncodedPixels\nok,1 2\nimg9,1 2 x\n"),
        ("past.csv", "ImageId,EncodedPixels\nok,1 2\nimg9,16 5\n"),
    ] {
        let csv = dir.path().join(name);
        std::fs::write(&csv, body).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let err = assert_clean_failure(&ptx(&[
            &"masks",
            &"--annotations",
            &csv,
            &"--out",
            &out,
            &"--size",
            &"4x4",
        ]));
        assert!(err.contains("evil") || err.contains("img9"), "{err}");
        assert!(!out.exists(), "{name}: nothing written");
    }
    assert!(!dir.path().join("evil.png").exists());
}

#[test]
fn index_writes_stratified_folds() {
    let (Some(pos), Some(neg)) = (
        shared(&format!("siim/dicom/{POSITIVE}.dcm")),
        shared(&format!("siim/dicom/{NEGATIVE}.dcm")),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("dicom-images-train");
    for (uid, src) in [(POSITIVE, &pos), (NEGATIVE, &neg)] {
        let leaf = tree.join(format!("study-{uid}/series"));
        std::fs::create_dir_all(&leaf).unwrap();
        std::os::unix::fs::symlink(src, leaf.join(format!("{uid}.dcm"))).unwrap();
    }
    let csv = dir.path().join("train-rle.csv");
    std::fs::write(&csv, format!("ImageId, EncodedPixels\n{POSITIVE}, 100 5\n{POSITIVE}, 300 2\n{NEGATIVE}, -1\nmissing-image, -1\n")).unwrap();
    let index = |folds: &str, out: &Path| {
        ptx(&[
            &"index",
            &"--images",
            &tree,
            &"--annotations",
            &csv,
            &"--folds",
            &folds,
            &"--out",
            &out,
        ])
    };
    let folds = dir.path().join("folds.csv");
    let o = index("2", &folds);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.contains("2 images matched (1 positive)")
            && out.contains("1 annotations without images: missing-image"),
        "{out}"
    );
    let rows = ptx_io::folds::read_folds_csv(&folds).unwrap();
    assert_eq!(rows.len(), 2);
    assert_ne!(rows[0].fold, rows[1].fold);
    let o = index("5", &dir.path().join("f5.csv"));
    assert!(assert_clean_failure(&o).contains("5 folds for 2 samples"));
}
