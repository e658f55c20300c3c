#!/usr/bin/env python3
"""OpenCV reference for ptx-preproc: cv2.createCLAHE(clip, grid).apply (AHE = clip 0) on 8-
and 16-bit images, cv2.equalizeHist, cv2.resize (area, bilinear, nearest; shrinking by integer
and non-integer factors, growing) and numpy normalisation.

Inputs (saved as .npy next to the results, so that Rust reads the very pixels OpenCV saw):
    jsrt_1..4      real 512x512 radiographs (cxr-masks, cv2.imread grayscale)
    v7labs         a real 1036x885 radiograph (sizes not divisible by the grid)
    siim_pos/neg   the two real SIIM DICOMs, 1024x1024 (pydicom)
    rg3_u16        a real 1760x1760 CR radiograph, 16-bit (pydicom-data RG3_UNCR)
    rand_*         seeded random images of odd sizes, 8- and 16-bit (full and 12-bit range)
Usage: preproc_reference.py --out DIR DATA_DIR. Writes DIR/cases.json and the .npy files.
"""
import argparse
import glob
import json
import os

import cv2
import numpy as np
import pydicom

CONFIGS_8 = [(2.0, (8, 8)), (0.0, (8, 8)), (4.0, (4, 4)), (40.0, (8, 8)), (2.0, (3, 5)), (1.0, (16, 16))]
NORMALIZED = ("jsrt_1", "rand_u8_37x53")
CONFIGS_16 = [(2.0, (8, 8)), (0.0, (8, 8)), (3.0, (5, 3))]


INTERPOLATIONS = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}


def resize_targets(shape):
    """Shrinking by 2 and 4 (integer area), to 512 and to odd sizes (general area), growing."""
    h, w = shape
    targets = {(max(h // 2, 1), max(w // 2, 1)), (max(h // 4, 1), max(w // 4, 1)),
               (int(h * 0.7) + 1, int(w * 0.55) + 1), (h + 3, w + 5)}
    if min(h, w) > 512:
        targets.add((512, 512))
    if max(h, w) <= 512:
        targets.add((2 * h, 2 * w))
    return sorted(t for t in targets if t != (h, w))


def inputs(data):
    out = {}
    for path in sorted(glob.glob(os.path.join(data, "cxr-masks/imlab-uiip_lung-segmentation-2d/*.jpg"))):
        out["jsrt_" + os.path.basename(path)[:-4]] = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    out["v7labs"] = cv2.imread(os.path.join(data, "cxr-masks/torchxrayvision_v7labs_lungs/16747_3_1.jpg"),
                               cv2.IMREAD_GRAYSCALE)
    for path in sorted(glob.glob(os.path.join(data, "siim/dicom/*.dcm"))):
        out["siim_" + os.path.basename(path).split(".")[-2]] = pydicom.dcmread(path).pixel_array.astype(np.uint8)
    out["rg3_u16"] = pydicom.dcmread(os.path.join(data, "dicom-edge/RG3_UNCR.dcm")).pixel_array.astype(np.uint16)
    rng = np.random.default_rng(20261122)
    for h, w in [(37, 53), (101, 67), (300, 512), (5, 3), (1, 9)]:
        out[f"rand_u8_{h}x{w}"] = rng.integers(0, 256, (h, w), dtype=np.uint8)
    # Smooth random images (blurred noise) have the peaked histograms clipping acts on.
    out["smooth_u8_257x129"] = cv2.GaussianBlur(rng.integers(0, 256, (257, 129), dtype=np.uint8), (0, 0), 4)
    out["rand_u16_129x257"] = rng.integers(0, 65536, (129, 257), dtype=np.uint16)
    out["rand_u12_64x80"] = rng.integers(0, 4096, (64, 80), dtype=np.uint16)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("data")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cases = []
    for name, image in inputs(args.data).items():
        image = np.ascontiguousarray(image)
        np.save(os.path.join(args.out, f"{name}.npy"), image)
        configs = CONFIGS_8 if image.dtype == np.uint8 else CONFIGS_16
        for clip, (cols, rows) in configs:
            result = cv2.createCLAHE(clipLimit=clip, tileGridSize=(cols, rows)).apply(image)
            file = f"{name}.clahe_{clip:g}_{cols}x{rows}.npy"
            np.save(os.path.join(args.out, file), result)
            cases.append(dict(op="clahe", input=f"{name}.npy", clip=clip, cols=cols, rows=rows, output=file))
        if image.dtype == np.uint8:
            for (h, w) in resize_targets(image.shape):
                for interp, flag in INTERPOLATIONS.items():
                    file = f"{name}.resize_{interp}_{h}x{w}.npy"
                    np.save(os.path.join(args.out, file), cv2.resize(image, (w, h), interpolation=flag))
                    cases.append(dict(op="resize", input=f"{name}.npy", interpolation=interp,
                                      height=h, width=w, output=file))
            file = f"{name}.equalize.npy"
            np.save(os.path.join(args.out, file), cv2.equalizeHist(image))
            cases.append(dict(op="equalize", input=f"{name}.npy", output=file))
            for mean, std in [(0.0, 1.0), (0.4828, 0.2488), (0.485, 0.229)] if name in NORMALIZED else []:
                file = f"{name}.normalize_{mean:g}_{std:g}.npy"
                normalized = (image.astype(np.float32) / np.float32(255) - np.float32(mean)) / np.float32(std)
                np.save(os.path.join(args.out, file), normalized[None])
                cases.append(dict(op="normalize", input=f"{name}.npy", mean=mean, std=std, output=file))
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump(dict(opencv=cv2.__version__, cases=cases), f, indent=1)
    print(f"preproc reference: {len(cases)} cases (OpenCV {cv2.__version__}) -> {args.out}")


if __name__ == "__main__":
    main()
