//! `ptx evaluate` against the independent Python reference (numpy from the definitions and
//! scikit-learn, `tests/reference/metrics_reference.py`, run by `scripts/golden.sh`) on
//! perturbed predictions of the 1,500 real annotation rows. Tolerance 1e-9 on every number;
//! counts exact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod common;

use common::ptx;

use std::collections::HashMap;

use ptx_testdata::{golden, shared};
use serde_json::Value;

const TRUTH: &str = "siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv";

fn close(name: &str, ours: &Value, theirs: &Value) {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-9, "{name}: ptx {a} vs reference {b}");
        }
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                close(&format!("{name}.{k}"), &a[k], v);
            }
        }
        _ => assert_eq!(ours, theirs, "{name}"),
    }
}

#[test]
fn evaluate_matches_numpy_and_sklearn() {
    let (Some(truth), Some(pred), Some(expected), Some(per_image)) = (
        shared(TRUTH),
        golden("metrics/pred.csv"),
        golden("metrics/expected.json"),
        golden("metrics/per_image.csv"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ours_csv = dir.path().join("per_image.csv");
    let o = ptx(&[
        &"evaluate",
        &"--truth",
        &truth,
        &"--pred",
        &pred,
        &"--pred-rle",
        &"absolute",
        &"--json",
        &"--per-image",
        &ours_csv,
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("2 images of the prediction are not in the truth"),
        "{err}"
    );
    let ours: Value = serde_json::from_slice(&o.stdout).unwrap();
    let theirs: Value = serde_json::from_str(&std::fs::read_to_string(expected).unwrap()).unwrap();
    for (k, v) in theirs.as_object().unwrap() {
        close(k, &ours[k], v);
    }

    let rows = |text: String| -> HashMap<String, Vec<f64>> {
        text.lines()
            .skip(1)
            .map(|l| {
                let mut f = l.split(',');
                let id = f.next().unwrap().to_owned();
                (id, f.map(|v| v.parse().unwrap()).collect())
            })
            .collect()
    };
    let ours = rows(std::fs::read_to_string(ours_csv).unwrap());
    let theirs = rows(std::fs::read_to_string(per_image).unwrap());
    assert_eq!(ours.len(), 1500);
    assert_eq!(ours.len(), theirs.len());
    for (id, t) in &theirs {
        let o = &ours[id];
        assert_eq!(o[..3], t[..3], "{id}: pixel counts");
        for k in 3..5 {
            assert!(
                (o[k] - t[k]).abs() <= 1e-9,
                "{id}: column {k}: {} vs {}",
                o[k],
                t[k]
            );
        }
    }
}

#[test]
fn evaluate_missing_images_fail_or_score_empty() {
    let Some(truth) = shared(TRUTH) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pred = dir.path().join("pred.csv");
    // Only one image predicted (correctly empty or not, it does not matter here).
    let text = std::fs::read_to_string(&truth).unwrap();
    let first = text.lines().nth(1).unwrap();
    std::fs::write(&pred, format!("ImageId,EncodedPixels\n{first}\n")).unwrap();
    let o = ptx(&[&"evaluate", &"--truth", &truth, &"--pred", &pred]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("1499 of 1500 truth images are not in the prediction"),
        "{err}"
    );
    assert!(err.contains("and 1494 more"), "{err}");

    let o = ptx(&[
        &"evaluate",
        &"--truth",
        &truth,
        &"--pred",
        &pred,
        &"--missing-as-empty",
        &"--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["missing_in_prediction"], 1499);
    // Every missing negative scores 1, every missing positive 0; the one given scores 1.
    let positives = v["positive_images"].as_u64().unwrap() as f64;
    let first_positive = !first.trim_end().ends_with("-1");
    let expected = (1500.0 - positives + f64::from(u8::from(first_positive))) / 1500.0;
    assert!((v["mean_dice"].as_f64().unwrap() - expected).abs() < 1e-12);
}

#[test]
fn evaluate_bad_rle_names_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.csv");
    let pred = dir.path().join("pred.csv");
    std::fs::write(&truth, "ImageId,EncodedPixels\nimg.a,0 4\nimg.b,-1\n").unwrap();
    std::fs::write(&pred, "ImageId,EncodedPixels\nimg.a,0 4\nimg.b,3 x\n").unwrap();
    let evaluate_4x4 = || {
        let args: [&dyn AsRef<std::ffi::OsStr>; 7] = [
            &"evaluate",
            &"--truth",
            &truth,
            &"--pred",
            &pred,
            &"--size",
            &"4",
        ];
        ptx(&args)
    };
    let o = evaluate_4x4();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("img.b") && !err.contains("panicked"), "{err}");
    std::fs::write(&pred, "ImageId,EncodedPixels\nimg.a,2 4\nimg.b,-1\n").unwrap();
    let o = evaluate_4x4();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // img.a: truth pixels 0-3, prediction 2-5: Dice 0.5; img.b both empty: 1.
    assert!(out.contains("mean Dice          0.750000"), "{out}");
}

const FULL: &str = "siim/csv/train-rle.full.torchxrayvision.csv";

#[test]
fn evaluate_the_full_annotation_file() {
    let Some(truth) = shared(FULL) else {
        return;
    };
    // the file against itself: every image scores 1 (several rows of an image united)
    let o = ptx(&[
        &"evaluate",
        &"--truth",
        &truth,
        &"--pred",
        &truth,
        &"--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["images"], 12_047, "{v}");
    assert_eq!(v["positive_images"], 2_669, "{v}");
    assert_eq!(v["mean_dice"].as_f64(), Some(1.0), "{v}");
    assert_eq!(v["mean_iou"].as_f64(), Some(1.0), "{v}");
    // an all-empty submission: the 9,378 negatives score 1, the positives 0
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    let text = std::fs::read_to_string(&truth).unwrap();
    let mut ids: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut csv = String::from("ImageId,EncodedPixels\n");
    for id in &ids {
        csv.push_str(&format!("{id},-1\n"));
    }
    std::fs::write(&empty, csv).unwrap();
    let o = ptx(&[
        &"evaluate",
        &"--truth",
        &truth,
        &"--pred",
        &empty,
        &"--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let expected = 9_378.0 / 12_047.0;
    assert!(
        (v["mean_dice"].as_f64().unwrap() - expected).abs() < 1e-12,
        "{v}"
    );
}

#[test]
fn masks_and_encode_round_trip_the_real_positives() {
    let Some(truth) = shared(FULL) else {
        return;
    };
    // Every 20th of the 2,669 positive images, with all its rows (the library's round trip
    // of all 12,954 rows is `ptx-io`'s `full_scale` test; this is the command line's, kept
    // to ~15 s: a debug `ptx masks` + `encode` takes ~0.1 s per 1024² image).
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&truth).unwrap();
    let positive_rows: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim_end().ends_with("-1"))
        .collect();
    assert_eq!(positive_rows.len(), 3_576);
    let mut ids: Vec<&str> = positive_rows
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2_669);
    let chosen: std::collections::HashSet<&str> = ids.iter().step_by(20).copied().collect();
    let rows_of_chosen: Vec<&str> = positive_rows
        .iter()
        .filter(|l| chosen.contains(l.split(',').next().unwrap()))
        .copied()
        .collect();
    assert!(
        rows_of_chosen.len() > chosen.len(),
        "some images have several rows"
    );
    let rows = dir.path().join("positives.csv");
    std::fs::write(
        &rows,
        format!("ImageId,EncodedPixels\n{}\n", rows_of_chosen.join("\n")),
    )
    .unwrap();
    let masks = dir.path().join("masks");
    let o = ptx(&[&"masks", &"--annotations", &rows, &"--out", &masks]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_dir(&masks).unwrap().count(), chosen.len());
    let encoded = dir.path().join("encoded.csv");
    let o = ptx(&[&"encode", &"--masks", &masks, &"--out", &encoded]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // one united row per image, scoring 1 against the original rows
    let o = ptx(&[
        &"evaluate",
        &"--truth",
        &rows,
        &"--pred",
        &encoded,
        &"--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["images"], chosen.len(), "{v}");
    assert_eq!(v["mean_dice"].as_f64(), Some(1.0), "{v}");
}
