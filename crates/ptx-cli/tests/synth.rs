//! `ptx synth`: a synthetic SIIM-like set that the other commands read as real data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_clean_failure, ptx, stderr};

#[test]
fn synth_writes_a_set_that_index_and_info_read() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("set");
    let o = ptx(&[
        &"synth",
        &"--out",
        &out,
        &"-n",
        &"12",
        &"--size",
        &"64",
        &"--seed",
        &"5",
        &"--positive-share",
        &"0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("12 images ("), "{text}");
    let folds = tmp.path().join("folds.csv");
    let o = ptx(&[
        &"index",
        &"--images",
        &out.join("dicom-images-train"),
        &"--annotations",
        &out.join("train-rle.csv"),
        &"--folds",
        &"3",
        &"--out",
        &folds,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&folds).unwrap().lines().count(), 13);
    let dcm = walk(&out.join("dicom-images-train"));
    assert_eq!(dcm.len(), 12);
    let o = ptx(&[&"info", &dcm[0], &"--json"]);
    let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info["modality"], "CR");
    assert_eq!(info["rows"], 64);
    // same seed: same bytes
    let again = tmp.path().join("again");
    assert!(ptx(&[
        &"synth",
        &"--out",
        &again,
        &"-n",
        &"12",
        &"--size",
        &"64",
        &"--seed",
        &"5",
        &"--positive-share",
        &"0.5"
    ])
    .status
    .success());
    assert_eq!(
        std::fs::read(out.join("train-rle.csv")).unwrap(),
        std::fs::read(again.join("train-rle.csv")).unwrap()
    );
    let err = assert_clean_failure(&ptx(&[&"synth", &"--out", &again, &"-n", &"0"]));
    assert!(err.contains("count 0"), "{err}");
    let err = assert_clean_failure(&ptx(&[
        &"synth",
        &"--out",
        &again,
        &"--positive-share",
        &"2",
    ]));
    assert!(err.contains("positive-share"), "{err}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
