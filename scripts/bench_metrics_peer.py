#!/usr/bin/env python3
"""numpy side of scripts/bench_metrics.sh: the same work as
crates/ptx-metrics/examples/metrics_timing.rs on the same inputs, one thread.

1. evaluate: read the truth and prediction CSVs, decode every mask, mean Kaggle Dice (best of 2);
2. sweep: 50 thresholds over N probability maps of 1024x1024 (same formula, same bits),
   two ways: the direct loop (`p > t` per threshold) and a histogram (searchsorted + bincount).
Prints one JSON object.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
import numpy as np  # noqa: E402
from metrics_reference import read_rows, mask_of  # noqa: E402

SIDE = 1024


def evaluate(truth_csv, pred_csv):
    truth, pred = read_rows(truth_csv), read_rows(pred_csv)
    dices = []
    for image_id, rows in truth.items():
        t = mask_of(rows).astype(bool)
        p = mask_of(pred.get(image_id, []), absolute=True).astype(bool)
        s = int(t.sum()) + int(p.sum())
        dices.append(1.0 if s == 0 else 2.0 * int((t & p).sum()) / s)
    return float(np.mean(dices))


def probability_map(truth, image):
    i = np.arange(SIDE * SIDE, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64(image * 40503)) % np.uint64(1 << 32)
    u = (h >> np.uint64(8)).astype(np.float64) / 16777216.0
    return (0.5 * truth.reshape(-1).astype(np.float64) + 0.5 * u).astype(np.float32)


def dice(truth_n, pred_n, inter):
    return np.where(truth_n + pred_n == 0, 1.0, 2.0 * inter / np.maximum(truth_n + pred_n, 1))


def main():
    truth_csv, pred_csv, n_maps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    eval_s = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        mean_dice = evaluate(truth_csv, pred_csv)
        eval_s = min(eval_s, time.perf_counter() - t0)

    rows = read_rows(truth_csv)
    thresholds = np.array([np.float32(i / 50) for i in range(50)], dtype=np.float32)
    direct_s = hist_s = 0.0
    direct_sum = np.zeros(50)
    hist_sum = np.zeros(50)
    for k, image_id in enumerate(list(rows)[:n_maps]):
        truth = np.ascontiguousarray(mask_of(rows[image_id]))
        p = probability_map(truth, k)
        tb = truth.reshape(-1).astype(bool)
        tn = int(tb.sum())
        t0 = time.perf_counter()
        for j, th in enumerate(thresholds):
            pred = p > th
            direct_sum[j] += dice(tn, int(pred.sum()), int((pred & tb).sum()))
        t1 = time.perf_counter()
        bins = np.searchsorted(thresholds, p, side="left")  # thresholds strictly below p
        hist = np.bincount(bins * 2 + tb, minlength=2 * 51).reshape(51, 2)
        above = np.cumsum(hist[::-1], axis=0)[::-1]  # above[b] = pixels in bins >= b
        pred_n, inter = above[1:, 0] + above[1:, 1], above[1:, 1]
        hist_sum += dice(tn, pred_n, inter)
        hist_s += time.perf_counter() - t1
        direct_s += t1 - t0
    print(json.dumps({
        "evaluate_s": eval_s, "mean_dice": mean_dice, "maps": n_maps,
        "sweep_direct_s": direct_s, "sweep_hist_s": hist_s,
        "sweep_dice": (hist_sum / n_maps).tolist(),
        "direct_vs_hist_max_diff": float(np.abs(direct_sum - hist_sum).max() / n_maps),
        "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
