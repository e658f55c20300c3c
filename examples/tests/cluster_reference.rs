//! `ptx_examples::cluster` against scikit-learn 1.9.1 (`tests/reference/cluster_reference.py`,
//! run by `scripts/golden.sh`): `PCA(n, svd_solver="full").fit_transform(x)` within 1e-9
//! (same component signs), and `DBSCAN(eps, min_samples).fit(pca).labels_` equal label for
//! label, noise and cluster numbering included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ndarray::Array2;
use ptx_examples::cluster::{dbscan, pca};
use serde_json::Value;

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    let (n, d) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, d), rows.into_iter().flatten().collect()).unwrap()
}

#[test]
fn pca_and_dbscan_equal_scikit_learn() {
    let Some(path) = ptx_testdata::golden("cluster/cluster.json") else {
        return;
    };
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x = matrix(&case["x"]);
        let expected = matrix(&case["pca"]);
        let k = case["components"].as_u64().unwrap() as usize;
        let projected = pca(&x, k).unwrap();
        assert_eq!(projected.dim(), expected.dim(), "{name}");
        let worst = (&projected - &expected)
            .iter()
            .fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(worst < 1e-9, "{name}: PCA differs by {worst}");
        let runs = case["dbscan"].as_array().unwrap();
        assert!(!runs.is_empty());
        for run in runs {
            let eps = run["eps"].as_f64().unwrap();
            let min_samples = run["min_samples"].as_u64().unwrap() as usize;
            let labels: Vec<i64> = serde_json::from_value(run["labels"].clone()).unwrap();
            assert_eq!(
                dbscan(&expected, eps, min_samples),
                labels,
                "{name}: DBSCAN(eps={eps}, min_samples={min_samples})"
            );
        }
    }
}
