//! PCA and DBSCAN for pseudo-labels (Harmalkar et al. cluster auto-encoder latents into 14
//! groups). Both follow scikit-learn: [`pca`] equals `PCA(n).fit_transform` up to rounding
//! (same component signs), [`dbscan`] equals `DBSCAN(eps, min_samples).fit(x).labels_`.

use anyhow::{bail, Result};
use ndarray::{Array1, Array2, Axis};

/// Projects the rows of `x` `(n, d)` onto its first `components` principal axes: `(n,
/// components)`. Axes are the covariance's eigenvectors by decreasing eigenvalue, each
/// signed so that its largest-magnitude entry is positive (scikit-learn's `svd_flip`).
///
/// # Errors
/// Fewer than 2 rows, or `components` above `d`.
pub fn pca(x: &Array2<f64>, components: usize) -> Result<Array2<f64>> {
    let (n, d) = x.dim();
    if n < 2 || components == 0 || components > d {
        bail!("PCA of a {n} x {d} matrix into {components} components");
    }
    let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
    let centred = x - &mean;
    let cov = centred.t().dot(&centred) / (n as f64 - 1.0);
    let (values, vectors) = symmetric_eigen(cov);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let mut axes = Array2::<f64>::zeros((d, components));
    for (k, &j) in order.iter().take(components).enumerate() {
        let mut v = vectors.column(j).to_owned();
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |m, e| if e.abs() > m.abs() { e } else { m });
        if big < 0.0 {
            v.mapv_inplace(|e| -e);
        }
        axes.column_mut(k).assign(&v);
    }
    Ok(centred.dot(&axes))
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let d = a.nrows();
    let mut v = Array2::<f64>::eye(d);
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[[i, j]] * a[[i, j]])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                if a[[p, q]].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[[k, p]], a[[k, q]]);
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[[p, k]], a[[q, k]]);
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[[k, p]], v[[k, q]]);
                    v[[k, p]] = c * vkp - s * vkq;
                    v[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[[i, i]]).collect(), v)
}

/// DBSCAN labels of the rows of `x` (Euclidean distance, a neighbour within `eps`
/// inclusive, a point counting as its own neighbour): clusters `0, 1, ...` numbered in the
/// order scikit-learn finds them, `-1` for noise.
pub fn dbscan(x: &Array2<f64>, eps: f64, min_samples: usize) -> Vec<i64> {
    let n = x.nrows();
    let neighbours: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| distance(x, i, j) <= eps)
                .collect::<Vec<_>>()
        })
        .collect();
    let core: Vec<bool> = neighbours
        .iter()
        .map(|nb| nb.len() >= min_samples)
        .collect();
    let mut labels = vec![-1i64; n];
    let mut next = 0i64;
    let mut stack = Vec::new();
    for start in 0..n {
        if labels[start] != -1 || !core[start] {
            continue;
        }
        let mut i = start;
        loop {
            if labels[i] == -1 {
                labels[i] = next;
                if core[i] {
                    stack.extend(neighbours[i].iter().copied().filter(|&v| labels[v] == -1));
                }
            }
            match stack.pop() {
                Some(v) => i = v,
                None => break,
            }
        }
        next += 1;
    }
    labels
}

fn distance(x: &Array2<f64>, i: usize, j: usize) -> f64 {
    x.row(i)
        .iter()
        .zip(x.row(j))
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt()
}

/// DBSCAN with the `eps` (scanned over the quantiles of the pairwise distances) whose
/// cluster count is closest to `clusters` without exceeding it (a classifier with `clusters`
/// outputs learns the labels), then every noise point given
/// the cluster of its nearest clustered point, so every row has a label `0..k`. Returns
/// the labels, `k` and the `eps` used.
///
/// # Errors
/// Fewer rows than `clusters`.
pub fn dbscan_into(
    x: &Array2<f64>,
    clusters: usize,
    min_samples: usize,
) -> Result<(Vec<i64>, usize, f64)> {
    let n = x.nrows();
    if n < clusters.max(2) {
        bail!("{n} points cannot form {clusters} clusters");
    }
    let mut distances: Vec<f64> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| distance(x, i, j))
        .collect();
    distances.sort_by(f64::total_cmp);
    let count = |eps: f64| -> (usize, Vec<i64>) {
        let labels = dbscan(x, eps, min_samples);
        (
            (labels.iter().copied().max().unwrap_or(-1) + 1) as usize,
            labels,
        )
    };
    // The cluster count first rises then falls with eps: scan quantiles for the closest.
    let mut best: Option<(usize, f64, Vec<i64>)> = None;
    for q in 1..200 {
        let eps = distances[(distances.len() - 1) * q / 200];
        let (k, labels) = count(eps);
        if k > clusters {
            continue;
        }
        let gap = clusters - k;
        if best.as_ref().is_none_or(|(g, _, _)| gap < *g) {
            best = Some((gap, eps, labels));
        }
        if gap == 0 {
            break;
        }
    }
    let Some((_, eps, mut labels)) = best else {
        bail!("no pairwise distances");
    };
    let k = (labels.iter().copied().max().unwrap_or(-1) + 1) as usize;
    if k == 0 {
        bail!("DBSCAN found no cluster with min_samples = {min_samples}");
    }
    let clustered: Vec<usize> = (0..n).filter(|&i| labels[i] >= 0).collect();
    let snapshot = labels.clone();
    for (i, l) in labels.iter_mut().enumerate() {
        if *l < 0 {
            let nearest = clustered
                .iter()
                .copied()
                .min_by(|&a, &b| distance(x, i, a).total_cmp(&distance(x, i, b)));
            *l = nearest.map_or(0, |j| snapshot[j]);
        }
    }
    Ok((labels, k, eps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_blobs_and_an_outlier() {
        let x = ndarray::array![
            [0.0, 0.0],
            [0.1, 0.0],
            [0.0, 0.1],
            [5.0, 5.0],
            [5.1, 5.0],
            [5.0, 5.1],
            [20.0, 20.0]
        ];
        assert_eq!(dbscan(&x, 0.5, 2), vec![0, 0, 0, 1, 1, 1, -1]);
        let (labels, k, _) = dbscan_into(&x, 2, 2).unwrap();
        assert_eq!(k, 2);
        assert_eq!(labels[6], 1, "the outlier joins the nearer blob");
    }

    #[test]
    fn pca_of_a_line_is_its_direction() {
        let x = ndarray::array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]];
        let p = pca(&x, 1).unwrap();
        let expected = [-1.5, -0.5, 0.5, 1.5].map(|t: f64| t * 5f64.sqrt());
        for (a, b) in p.column(0).iter().zip(expected) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }
}
