#!/usr/bin/env python3
"""Python side of scripts/bench_pipeline.sh: the per-sample pipeline of
crates/ptx-preproc/examples/pipeline_timing.rs with pydicom + OpenCV + albumentations 2.0.8 in a
PyTorch DataLoader (batch 8, THREADS worker processes, one OpenCV thread each): decode the
DICOM, cv2.resize 1024 -> 512 (INTER_AREA; mask INTER_NEAREST), Haghanifar et al.'s
augmentation list as ptx's `Augment::haghanifar()` writes it, raw + AHE (clip 0) + CLAHE (clip
2) channels on 8x8 tiles, / 255 to float32. One warm-up pass of 16 samples, then SAMPLES.
Usage: bench_pipeline_peer.py SAMPLES THREADS DICOM...; prints one JSON object.
"""
import json
import sys
import time
import warnings

import albumentations as A
import cv2
import numpy as np
import pydicom
import torch
from torch.utils.data import DataLoader, Dataset

warnings.filterwarnings("ignore")


def mask(side):
    """The shared test mask (benches/support/mod.rs `mask`)."""
    y, x = np.mgrid[:side, :side].astype(np.float64)
    dy, dx = (y - 0.25 * side) / (0.15 * side), (x - 0.3 * side) / (0.1 * side)
    return (dy * dy + dx * dx <= 1.0).astype(np.uint8)


def haghanifar():
    return A.Compose([
        A.CoarseDropout(),
        A.HorizontalFlip(),
        A.OneOf([A.RandomBrightnessContrast(brightness_limit=0, contrast_limit=0.2, p=1),
                 A.RandomGamma(p=1),
                 A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0, p=1)], p=0.3),
        A.OneOf([A.ElasticTransform(alpha=120, sigma=120 * 0.05, p=1),
                 A.GridDistortion(p=1),
                 A.OpticalDistortion(distort_limit=2, p=1)], p=0.3),
        A.ShiftScaleRotate(),
    ])


class Dicoms(Dataset):
    def __init__(self, files, samples):
        self.files, self.samples, self.mask = files, samples, mask(1024)
        self.augment = haghanifar()
        self.clahe, self.ahe = cv2.createCLAHE(2.0, (8, 8)), cv2.createCLAHE(0.0, (8, 8))

    def __len__(self):
        return self.samples

    def __getitem__(self, i):
        image = pydicom.dcmread(self.files[i % len(self.files)]).pixel_array.astype(np.uint8)
        image = cv2.resize(image, (512, 512), interpolation=cv2.INTER_AREA)
        m = cv2.resize(self.mask, (512, 512), interpolation=cv2.INTER_NEAREST)
        out = self.augment(image=image, mask=m)
        image, m = out["image"], out["mask"]
        stack = np.stack([image, self.ahe.apply(image), self.clahe.apply(image)])
        return torch.from_numpy(stack.astype(np.float32) / 255.0), torch.from_numpy(m.astype(np.float32)[None])


def init_worker(_):
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def run(files, samples, threads):
    loader = DataLoader(Dicoms(files, samples), batch_size=8, num_workers=threads,
                        worker_init_fn=init_worker, shuffle=False)
    start = time.perf_counter()
    seen = sum(images.shape[0] for images, _ in loader)
    assert seen == samples
    return time.perf_counter() - start


def main():
    samples, threads, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    torch.set_num_threads(1)
    run(files, 16, threads)
    seconds = run(files, samples, threads)
    print(json.dumps({"per_image_s": seconds / samples, "samples": samples, "threads": threads}))


if __name__ == "__main__":
    main()
