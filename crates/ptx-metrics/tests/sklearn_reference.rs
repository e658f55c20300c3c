//! Image-level metrics against scikit-learn (`tests/reference/metrics_reference.py`, run by
//! `scripts/golden.sh`): ROC-AUC on 400 noisy scores with ties, and the confusion counts,
//! precision, recall, accuracy, F1 and F2 at nine thresholds (`score >= t` positive, as
//! `sklearn.metrics.roc_curve`). Counts exact, ratios within 1e-12.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_metrics::{best_threshold, roc_auc, sweep_thresholds, ClassMetric, Confusion};
use serde_json::Value;

#[test]
fn classification_matches_sklearn() {
    let Some(path) = ptx_testdata::golden("metrics/classification.json") else {
        return;
    };
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let labels: Vec<bool> = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_i64() == Some(1))
        .collect();
    let scores: Vec<f64> = v["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_f64().unwrap())
        .collect();
    // sklearn.metrics.roc_auc_score(labels, scores)
    let auc = roc_auc(&labels, &scores).unwrap();
    assert!(
        (auc - v["roc_auc"].as_f64().unwrap()).abs() < 1e-12,
        "{auc} vs {}",
        v["roc_auc"]
    );

    let points = v["points"].as_array().unwrap();
    let thresholds: Vec<f64> = points
        .iter()
        .map(|p| p["threshold"].as_f64().unwrap())
        .collect();
    let sweep = sweep_thresholds(&labels, &scores, &thresholds).unwrap();
    for (ours, theirs) in sweep.iter().zip(points) {
        let c = ours.counts;
        assert_eq!(
            c,
            Confusion::from_scores(&labels, &scores, ours.threshold).unwrap()
        );
        let count = |k: &str| theirs[k].as_u64().unwrap();
        assert_eq!(
            (c.true_pos, c.false_pos, c.false_neg, c.true_neg),
            (
                count("true_pos"),
                count("false_pos"),
                count("false_neg"),
                count("true_neg")
            ),
            "threshold {}",
            ours.threshold
        );
        for (name, value) in [
            ("precision", c.precision()),
            ("recall", c.recall()),
            ("accuracy", c.accuracy()),
            ("f1", c.f1()),
            ("f2", c.f_beta(2.0)),
        ] {
            let r = theirs[name].as_f64().unwrap();
            assert!(
                (value - r).abs() < 1e-12,
                "{name} at {}: {value} vs {r}",
                ours.threshold
            );
        }
    }
    let (best, f2) =
        best_threshold(&labels, &scores, &thresholds, ClassMetric::FBeta(2.0)).unwrap();
    let reference_best = points
        .iter()
        .map(|p| p["f2"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert!((f2 - reference_best).abs() < 1e-12);
    assert!(thresholds.contains(&best.threshold));
}
