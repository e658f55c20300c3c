#!/usr/bin/env python3
"""PyTorch side of scripts/bench_losses.sh: the losses of
crates/ptx-losses/benches/support/mod.rs with the reference libraries (torch.nn.functional,
segmentation_models_pytorch, MONAI; the symmetric ELU+1 Lovasz as transcribed in
tests/reference/losses_reference.py), forward + backward on the same 8 x 1 x 512 x 512
inputs (same seed and generator), 3 warm-up runs of every loss, then the median of RUNS.
Usage: bench_losses_peer.py [THREADS=2] [RUNS=15]. Prints one JSON object {name: seconds}.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
import segmentation_models_pytorch as smp
from monai.losses import DiceLoss as MonaiDiceLoss

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from losses_reference import lovasz_elu_per_image, symmetric  # noqa: E402

SHAPE = (8, 1, 512, 512)


def inputs():
    torch.manual_seed(0)
    logits = torch.randn(SHAPE) * 3.0
    targets = torch.zeros(SHAPE)
    targets[:4, :, 100:200, 150:300] = 1.0
    return logits, targets


def cases():
    dice, focal = smp.losses.DiceLoss("binary"), smp.losses.FocalLoss("binary")
    return {
        "bce": lambda x, t: F.binary_cross_entropy_with_logits(x, t),
        "bce_class_weights": lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight=t * 1.0 + (1 - t) * 0.01),
        "dice": dice,
        "dice_monai": MonaiDiceLoss(sigmoid=True),
        "jaccard": smp.losses.JaccardLoss("binary"),
        "tversky": smp.losses.TverskyLoss("binary", alpha=0.3, beta=0.7, gamma=1.5),
        "focal": focal,
        "lovasz": smp.losses.LovaszLoss("binary"),
        "lovasz_per_image": smp.losses.LovaszLoss("binary", per_image=True),
        "lovasz_symmetric_elu": symmetric(lovasz_elu_per_image),
        "winning_solution": lambda x, t: 3 * F.binary_cross_entropy_with_logits(x, t) + dice(x, t) + 4 * focal(x, t),
    }


def step(loss, logits, targets):
    x = logits.detach().requires_grad_()
    loss(x, targets).backward()


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    torch.set_num_threads(threads)
    logits, targets = inputs()
    losses = cases()
    for loss in losses.values():  # warm every case up first, as the Rust side does
        for _ in range(3):
            step(loss, logits, targets)
    out = {}
    for name, loss in losses.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            step(loss, logits, targets)
            times.append(time.perf_counter() - start)
        out[name] = sorted(times)[runs // 2]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
