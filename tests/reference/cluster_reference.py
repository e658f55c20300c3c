"""Reference PCA and DBSCAN for the Harmalkar et al. example (ptx_examples::cluster):
scikit-learn's PCA(n).fit_transform and DBSCAN(eps, min_samples).labels_ on seeded data.

Cases: four Gaussian blobs in 16 dimensions (80 points, the shape of auto-encoder latents
before PCA into 8 components), and one anisotropic Gaussian cloud (50 x 10, 3 components).
DBSCAN runs on each PCA projection at several eps / min_samples.

Usage: cluster_reference.py --out DIR  ->  DIR/cluster.json
"""
import argparse
import json
import os

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.decomposition import PCA


def blobs(rng):
    centres = rng.normal(0.0, 4.0, size=(4, 16))
    return np.concatenate([c + rng.normal(0.0, 1.0, size=(20, 16)) for c in centres])


def cloud(rng):
    return rng.normal(size=(50, 10)) * np.linspace(3.0, 0.2, 10) + rng.normal(size=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(2024)
    cases = []
    for name, x, k, eps_list in [("blobs", blobs(rng), 8, [1.0, 2.0, 3.0, 5.0]),
                                 ("cloud", cloud(rng), 3, [1.5, 2.0, 3.0])]:
        p = PCA(n_components=k, svd_solver="full").fit_transform(x)
        runs = []
        for eps in eps_list:
            for min_samples in (3, 5):
                labels = DBSCAN(eps=eps, min_samples=min_samples).fit(p).labels_
                runs.append({"eps": eps, "min_samples": min_samples, "labels": labels.tolist()})
        cases.append({"name": name, "x": x.tolist(), "components": k, "pca": p.tolist(), "dbscan": runs})
    with open(os.path.join(a.out, "cluster.json"), "w") as f:
        json.dump({"cases": cases}, f)
    print(f"cluster references in {a.out}")


if __name__ == "__main__":
    main()
