#!/usr/bin/env python3
"""albumentations 2.0.8 reference for ptx-preproc's augmentations.

Each case runs one albumentations transform with p=1 and a range of one point (limit=(a, a)),
which makes it deterministic, on a real radiograph with its real lung mask (JSRT, 256x256 and
an odd 181x203 crop), on a 3-channel stack of it, and on seeded random images. The case's
`transform` is the same transform in ptx's config form, so the Rust test runs exactly what the
user would write.

Usage: augment_reference.py --out DIR DATA_DIR. Writes DIR/cases.json and .npy files.
"""
import argparse
import json
import os
import warnings

import albumentations as A
import cv2
import numpy as np

warnings.filterwarnings("ignore")
BORDERS = {"constant": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE, "reflect_101": cv2.BORDER_REFLECT_101}


def inputs(data):
    base = os.path.join(data, "cxr-masks/imlab-uiip_lung-segmentation-2d")
    image = cv2.imread(os.path.join(base, "1.jpg"), cv2.IMREAD_GRAYSCALE)
    mask = (cv2.imread(os.path.join(base, "1-mask.png"), cv2.IMREAD_GRAYSCALE) > 127).astype(np.uint8)
    small = cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask, (256, 256), interpolation=cv2.INTER_NEAREST)
    rng = np.random.default_rng(20261122)
    blobs = (cv2.GaussianBlur(rng.random((97, 131)).astype(np.float32), (0, 0), 6) > 0.5).astype(np.uint8)
    return {
        "jsrt256": (small, small_mask),
        "jsrt_odd": (image[40:221, 100:303].copy(), mask[40:221, 100:303].copy()),
        "jsrt256_rgb": (np.stack([small, cv2.createCLAHE(2.0, (8, 8)).apply(small), 255 - small], axis=-1),
                        small_mask),
        "rand97x131": (rng.integers(0, 256, (97, 131), dtype=np.uint8), blobs),
    }


def cases():
    """(albumentations transform, ptx config, exact?, which inputs)."""
    out = []
    everywhere = ["jsrt256", "jsrt_odd", "jsrt256_rgb", "rand97x131"]
    grey = ["jsrt256", "jsrt_odd", "rand97x131"]
    out.append((A.HorizontalFlip(p=1), {"kind": "horizontal_flip", "p": 1}, True, everywhere))
    out.append((A.VerticalFlip(p=1), {"kind": "vertical_flip", "p": 1}, True, grey))
    for angle in [5.0, -17.5, 33.0, 90.0]:
        for border in ["constant", "reflect_101", "replicate"]:
            if border != "constant" and angle != -17.5:
                continue
            t = A.Rotate(limit=(angle, angle), border_mode=BORDERS[border], fill=0, fill_mask=0, p=1)
            cfg = {"kind": "rotate", "limit": [angle, angle], "border_mode": border, "p": 1}
            out.append((t, cfg, False, everywhere if border == "constant" else grey))
    for shift, scale, rotate in [(0.05, 0.1, 12.0), (-0.1, -0.2, -30.0), (0.0, 0.15, 0.0), (0.03, 0.0, 45.0)]:
        t = A.ShiftScaleRotate(shift_limit=(shift, shift), scale_limit=(scale, scale),
                               rotate_limit=(rotate, rotate), border_mode=cv2.BORDER_CONSTANT, p=1)
        cfg = {"kind": "shift_scale_rotate", "shift_limit": [shift, shift], "scale_limit": [scale, scale],
               "rotate_limit": [rotate, rotate], "p": 1}
        out.append((t, cfg, False, everywhere))
    for b, c in [(0.1, 0.0), (-0.15, 0.0), (0.0, 0.2), (0.0, -0.3), (0.12, 0.25), (-0.2, -0.1)]:
        t = A.RandomBrightnessContrast(brightness_limit=(b, b), contrast_limit=(c, c), p=1)
        cfg = {"kind": "random_brightness_contrast", "brightness_limit": [b, b], "contrast_limit": [c, c], "p": 1}
        out.append((t, cfg, True, everywhere))
    for g in [80.0, 100.0, 120.0, 57.0, 150.0]:
        t = A.RandomGamma(gamma_limit=(g, g), p=1)
        out.append((t, {"kind": "random_gamma", "gamma_limit": [g, g], "p": 1}, True, everywhere))
    for clip, tiles in [(2.0, 8), (3.5, 8), (1.0, 4)]:
        t = A.CLAHE(clip_limit=(clip, clip), tile_grid_size=(tiles, tiles), p=1)
        cfg = {"kind": "clahe", "clip_limit": [clip, clip], "tile_grid_size": {"cols": tiles, "rows": tiles}, "p": 1}
        out.append((t, cfg, True, grey))
    for k in [0.05, -0.05, -0.3, 0.5, 2.0]:
        t = A.OpticalDistortion(distort_limit=(k, k), mode="camera", p=1)
        out.append((t, {"kind": "optical_distortion", "distort_limit": [k, k], "p": 1}, False, everywhere))
    for k in [0.3, -0.2]:
        t = A.OpticalDistortion(distort_limit=(k, k), mode="fisheye", p=1)
        cfg = {"kind": "optical_distortion", "distort_limit": [k, k], "mode": "fisheye", "p": 1}
        out.append((t, cfg, False, grey))
    for d, steps, normalized in [(0.3, 5, True), (-0.2, 7, True), (0.25, 5, False), (0.1, 3, True)]:
        t = A.GridDistortion(num_steps=steps, distort_limit=(d, d), normalized=normalized, p=1)
        cfg = {"kind": "grid_distortion", "num_steps": steps, "distort_limit": [d, d], "normalized": normalized,
               "p": 1}
        out.append((t, cfg, False, everywhere))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("data")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    images = inputs(args.data)
    for name, (image, mask) in images.items():
        # ptx takes (channels, height, width).
        chw = image.transpose(2, 0, 1) if image.ndim == 3 else image[None]
        np.save(os.path.join(args.out, f"{name}.npy"), np.ascontiguousarray(chw))
        np.save(os.path.join(args.out, f"{name}_mask.npy"), mask)
    listed = []
    for i, (transform, cfg, exact, names) in enumerate(cases()):
        for name in names:
            image, mask = images[name]
            result = transform(image=image, mask=mask)
            out_image = result["image"]
            out_image = out_image.transpose(2, 0, 1) if out_image.ndim == 3 else out_image[None]
            stem = f"case{i:02d}_{name}"
            np.save(os.path.join(args.out, f"{stem}.npy"), np.ascontiguousarray(out_image))
            np.save(os.path.join(args.out, f"{stem}_mask.npy"), np.ascontiguousarray(result["mask"]))
            listed.append({"input": name, "transform": cfg, "exact": exact, "output": stem})
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump({"albumentations": A.__version__, "opencv": cv2.__version__, "cases": listed}, f, indent=1)
    print(f"augment reference: {len(listed)} cases in {args.out}")


if __name__ == "__main__":
    main()
