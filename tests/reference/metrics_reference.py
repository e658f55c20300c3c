#!/usr/bin/env python3
"""Independent reference for ptx-metrics and `ptx evaluate`, written from the definitions
(numpy) and scikit-learn, not from ptx's code.

From the real annotation rows it makes perturbed predictions (dilated, eroded, shifted,
dropped, split over two rows, false positives on negatives, extra images), writes them as a
submission in the absolute run-length form, and writes what `ptx evaluate` must report:

    OUT/pred.csv            the perturbed prediction (ImageId,EncodedPixels, absolute form)
    OUT/expected.json       mean Dice (challenge rule), IoU, image-level metrics (sklearn)
    OUT/per_image.csv       ImageId,truth_pixels,pred_pixels,intersection,dice,iou
    OUT/classification.json labels and scores with sklearn's ROC-AUC and threshold metrics

Definitions: per image, Dice = 2|T & P| / (|T| + |P|), IoU = |T & P| / |T | P|, and both are 1
when T and P are empty (the challenge's rule). An image is positive when its mask has a pixel.
"""
import argparse
import csv
import io
import json
import os

import numpy as np
from sklearn import metrics as skm

WIDTH = HEIGHT = 1024


def read_rows(path):
    """{image_id: [encoded rows]} in first-seen order, BOM and spaces tolerated."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    next(reader)
    rows = {}
    for row in reader:
        if not row:
            continue
        rows.setdefault(row[0].strip(), []).append(row[1].strip())
    return rows


def decode(encoded, absolute):
    """Column-major flat 0/1 uint8 mask of one row."""
    flat = np.zeros(WIDTH * HEIGHT, dtype=np.uint8)
    if encoded in ("", "-1"):
        return flat
    values = [int(t) for t in encoded.split()]
    position = 0
    for start, length in zip(values[0::2], values[1::2]):
        position = start - 1 if absolute else position + start
        flat[position:position + length] = 1
        position += length
    return flat


def mask_of(rows, absolute=False):
    """(height, width) union of an image's rows."""
    flat = np.zeros(WIDTH * HEIGHT, dtype=np.uint8)
    for r in rows:
        flat |= decode(r, absolute)
    return flat.reshape(WIDTH, HEIGHT).T


def encode_absolute(mask):
    flat = mask.T.reshape(-1)
    padded = np.concatenate([[0], flat, [0]])
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = changes[0::2], changes[1::2]
    if len(starts) == 0:
        return []
    return [(int(s) + 1, int(e - s)) for s, e in zip(starts, ends)]


def fmt(runs):
    return " ".join(f"{s} {n}" for s, n in runs) if runs else "-1"


def shift(mask, dy, dx):
    out = np.zeros_like(mask)
    h, w = mask.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = mask[ys, xs]
    return out


def dilate(mask, r):
    out = mask.copy()
    for _ in range(r):
        grown = out.copy()
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                grown |= shift(out, dy, dx)
        out = grown
    return out


def erode(mask, r):
    return 1 - dilate(1 - mask, r)


def perturb(mask, k, rng):
    """The k-th kind of prediction error, chosen by image index."""
    kind = k % 8
    if mask.any():
        if kind == 0:
            return mask, "identical"
        if kind == 1:
            return dilate(mask, int(rng.integers(1, 6))), "dilated"
        if kind == 2:
            return erode(mask, int(rng.integers(1, 6))), "eroded"
        if kind == 3:
            return shift(mask, int(rng.integers(-40, 41)), int(rng.integers(-40, 41))), "shifted"
        if kind == 4:
            return np.zeros_like(mask), "dropped"
    else:
        if kind in (1, 5):
            fp = np.zeros_like(mask)
            y, x = int(rng.integers(0, HEIGHT - 60)), int(rng.integers(0, WIDTH - 80))
            fp[y:y + int(rng.integers(1, 60)), x:x + int(rng.integers(1, 80))] = 1
            return fp, "false positive"
        if kind == 3:
            fp = np.zeros_like(mask)
            fp[HEIGHT - 1, WIDTH - 3:] = 1  # reaches the last pixel
            return fp, "last pixel"
    return mask, "identical"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("truth_csv")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    truth_rows = read_rows(args.truth_csv)

    pred_lines = []
    per_image = []
    truth_labels, pred_labels = [], []
    for k, (image_id, rows) in enumerate(truth_rows.items()):
        truth = mask_of(rows)
        pred, _ = perturb(truth, k, rng)
        runs = encode_absolute(pred)
        if len(runs) >= 2 and k % 3 == 0:
            # Split the prediction over two rows, overlapping by one run: the union is scored.
            half = len(runs) // 2
            pred_lines.append((image_id, fmt(runs[:half + 1])))
            pred_lines.append((image_id, fmt(runs[half:])))
        else:
            pred_lines.append((image_id, fmt(runs)))
        t = truth.astype(bool)
        p = pred.astype(bool)
        inter = int((t & p).sum())
        union = int((t | p).sum())
        tsum, psum = int(t.sum()), int(p.sum())
        dice = 1.0 if tsum + psum == 0 else 2.0 * inter / (tsum + psum)
        iou = 1.0 if union == 0 else inter / union
        per_image.append((image_id, tsum, psum, inter, dice, iou))
        truth_labels.append(int(tsum > 0))
        pred_labels.append(int(psum > 0))
    # Two images that are not in the truth: `ptx evaluate` warns and ignores them.
    pred_lines.append(("not.in.truth.1", "1 10"))
    pred_lines.append(("not.in.truth.2", "-1"))

    with open(os.path.join(args.out, "pred.csv"), "w", newline="") as f:
        f.write("ImageId,EncodedPixels\n")
        for image_id, enc in pred_lines:
            f.write(f"{image_id},{enc}\n")
    with open(os.path.join(args.out, "per_image.csv"), "w", newline="") as f:
        f.write("ImageId,truth_pixels,pred_pixels,intersection,dice,iou\n")
        for row in per_image:
            f.write(",".join([row[0], str(row[1]), str(row[2]), str(row[3]), repr(row[4]), repr(row[5])]) + "\n")

    y, yp = np.array(truth_labels), np.array(pred_labels)
    tn, fp, fn, tp = skm.confusion_matrix(y, yp, labels=[0, 1]).ravel()
    dices = np.array([r[4] for r in per_image])
    ious = np.array([r[5] for r in per_image])
    positive = np.array([r[1] > 0 for r in per_image])
    inter_all = sum(r[3] for r in per_image)
    sums_all = sum(r[1] + r[2] for r in per_image)
    expected = {
        "images": len(per_image),
        "positive_images": int(y.sum()),
        "mean_dice": float(dices.mean()),
        "mean_iou": float(ious.mean()),
        "mean_dice_positive": float(dices[positive].mean()),
        "pooled_dice": 2.0 * inter_all / sums_all,
        "image_confusion": {"true_pos": int(tp), "false_pos": int(fp), "false_neg": int(fn),
                            "true_neg": int(tn)},
        "precision": float(skm.precision_score(y, yp, zero_division=0)),
        "recall": float(skm.recall_score(y, yp, zero_division=0)),
        "specificity": float(tn / (tn + fp)),
        "accuracy": float(skm.accuracy_score(y, yp)),
        "f2": float(skm.fbeta_score(y, yp, beta=2, zero_division=0)),
        "missing_in_prediction": 0,
        "extra_in_prediction": 2,
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)

    # Image-level scores: noisy, with ties, for ROC-AUC and threshold metrics.
    labels = rng.integers(0, 2, 400)
    scores = np.round(np.clip(labels * 0.3 + rng.normal(0.35, 0.2, 400), 0, 1), 2)
    thresholds = [0.0, 0.1, 0.25, 0.33, 0.5, 0.61, 0.75, 0.9, 1.0]
    points = []
    for th in thresholds:
        pl = (scores >= th).astype(int)
        tn_, fp_, fn_, tp_ = skm.confusion_matrix(labels, pl, labels=[0, 1]).ravel()
        points.append({
            "threshold": th, "true_pos": int(tp_), "false_pos": int(fp_), "false_neg": int(fn_),
            "true_neg": int(tn_),
            "precision": float(skm.precision_score(labels, pl, zero_division=0)),
            "recall": float(skm.recall_score(labels, pl, zero_division=0)),
            "accuracy": float(skm.accuracy_score(labels, pl)),
            "f1": float(skm.f1_score(labels, pl, zero_division=0)),
            "f2": float(skm.fbeta_score(labels, pl, beta=2, zero_division=0)),
        })
    with open(os.path.join(args.out, "classification.json"), "w") as f:
        json.dump({"labels": labels.tolist(), "scores": scores.tolist(),
                   "roc_auc": float(skm.roc_auc_score(labels, scores)), "points": points}, f)


if __name__ == "__main__":
    main()
