#!/usr/bin/env python3
"""PyTorch reference for ptx-losses: every loss and its gradient with respect to the logits,
computed by the libraries users know (torch.nn.functional, segmentation_models_pytorch 0.6,
torchvision, MONAI) or, where none has it, by a transcription of the definition
(the symmetric and ELU+1 Lovasz variants, from Berman et al.'s reference code as smp ships it).

Inputs (written next to the results so that the Rust tests read the very same tensors):
    real     4 x 1 x 256 x 256: real SIIM masks (first three positive images of the CSV and
             its first negative, united rows, 1024 -> 256 by taking every 4th pixel), logits
             3 * N(0, 1) from torch.Generator seed 20261122, per-pixel weights U[0.5, 2)
    empty    4 x 1 x 64 x 64, all-zero targets     ones    all-one targets
    extreme  logits +-100 on the real masks (64)   single  a batch of one (64)
Each case is a ptx-losses configuration (serde JSON: a Loss, a Combined or a MultiTask), the
value PyTorch gives, and the gradient of the value (of its sum when unreduced) as .npy.

Usage: losses_reference.py --out DIR CSV
Writes DIR/cases.json and DIR/<set>_{logits,targets,...}.npy, DIR/<case>.<set>.grad.npy.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import segmentation_models_pytorch as smp
from segmentation_models_pytorch.losses.lovasz import _lovasz_grad, _lovasz_hinge
from monai.losses import DiceLoss as MonaiDiceLoss
from torchvision.ops import sigmoid_focal_loss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_reference import read_rows, mask_of  # noqa: E402

SEED = 20261122


def real_masks(csv_path):
    rows = read_rows(csv_path)
    positive = [i for i, r in rows.items() if any(x not in ("", "-1") for x in r)][:3]
    negative = [i for i, r in rows.items() if all(x in ("", "-1") for x in r)][:1]
    ids = [positive[0], negative[0], positive[1], positive[2]]
    masks = np.stack([mask_of(rows[i])[::4, ::4] for i in ids]).astype(np.float32)
    return ids, torch.from_numpy(masks[:, None])


def input_sets(csv_path):
    g = torch.Generator().manual_seed(SEED)
    ids, masks = real_masks(csv_path)
    logits = 3.0 * torch.randn(masks.shape, generator=g)
    weights = 0.5 + 1.5 * torch.rand(masks.shape, generator=g)
    cls_logits = 2.0 * torch.randn((4, 1), generator=g)
    small_t = masks[:, :, ::4, ::4].contiguous()
    small_x = 3.0 * torch.randn(small_t.shape, generator=g)
    extreme = torch.where(torch.randn(small_t.shape, generator=g) > 0, 100.0, -100.0)
    sets = {
        "real": dict(logits=logits, targets=masks, weights=weights, cls_logits=cls_logits),
        "empty": dict(logits=small_x, targets=torch.zeros_like(small_t), cls_logits=cls_logits),
        "ones": dict(logits=small_x, targets=torch.ones_like(small_t), cls_logits=cls_logits),
        "extreme": dict(logits=extreme, targets=small_t, cls_logits=100.0 * cls_logits.sign()),
        "single": dict(logits=small_x[:1].contiguous(), targets=small_t[:1].contiguous(),
                       cls_logits=cls_logits[:1].contiguous()),
    }
    return ids, sets


def lovasz_flat_elu(logits, labels):
    """Berman's _lovasz_hinge_flat with elu(e) + 1 in place of relu(e)."""
    signs = 2.0 * labels.float() - 1.0
    errors = 1.0 - logits * signs
    errors_sorted, perm = torch.sort(errors, dim=0, descending=True)
    grad = _lovasz_grad(labels[perm])
    return torch.dot(F.elu(errors_sorted) + 1, grad)


def lovasz_elu_per_image(x, t):
    losses = [lovasz_flat_elu(a.reshape(-1), b.reshape(-1)) for a, b in zip(x, t)]
    return sum(losses[1:], losses[0]) / len(losses)


def symmetric(f):
    return lambda x, t: (f(x, t) + f(-x, 1.0 - t)) / 2


def bce(**kw):
    return lambda x, t: F.binary_cross_entropy_with_logits(x, t, **kw)


def loss(config):
    return {"loss": config}


# name -> (ptx-losses configuration, PyTorch reference)
CASES = {
    "bce": (loss({"kind": "bce"}), bce()),
    "bce_smooth": (loss({"kind": "bce", "label_smoothing": 0.1}),
                   smp.losses.SoftBCEWithLogitsLoss(smooth_factor=0.1, ignore_index=None)),
    "bce_pos_weight_sum": (loss({"kind": "bce", "pos_weight": 10.0, "reduction": "sum"}),
                           bce(pos_weight=torch.tensor(10.0), reduction="sum")),
    "bce_class_weights": (loss({"kind": "bce", "class_weights": {"positive": 1.0, "negative": 0.01}}),
                          lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight=t * 1.0 + (1 - t) * 0.01)),
    "bce_none": (loss({"kind": "bce", "reduction": "none"}), bce(reduction="none")),
    "dice": (loss({"kind": "dice"}), smp.losses.DiceLoss("binary")),
    "dice_smooth_log": (loss({"kind": "dice", "smooth": 1.0, "log_loss": True}),
                        smp.losses.DiceLoss("binary", smooth=1.0, log_loss=True)),
    "dice_monai": (loss({"kind": "dice", "smooth": 5e-6, "intersection": "product", "eps": 0.0, "per_image": True, "empty_targets": "keep"}),
                   MonaiDiceLoss(sigmoid=True)),
    "dice_monai_batch": (loss({"kind": "dice", "smooth": 5e-6, "intersection": "product", "eps": 0.0, "empty_targets": "keep"}),
                         MonaiDiceLoss(sigmoid=True, batch=True)),
    "dice_monai_none": (loss({"kind": "dice", "smooth": 5e-6, "intersection": "product", "eps": 0.0, "per_image": True,
                              "empty_targets": "keep", "reduction": "none"}),
                        lambda x, t: MonaiDiceLoss(sigmoid=True, reduction="none")(x, t).reshape(-1)),
    "jaccard": (loss({"kind": "jaccard"}), smp.losses.JaccardLoss("binary")),
    "tversky": (loss({"kind": "tversky", "alpha": 0.3, "beta": 0.7, "gamma": 1.5}),
                smp.losses.TverskyLoss("binary", alpha=0.3, beta=0.7, gamma=1.5)),
    "focal": (loss({"kind": "focal"}), smp.losses.FocalLoss("binary")),
    "focal_torchvision": (loss({"kind": "focal", "alpha": 0.25}),
                          lambda x, t: sigmoid_focal_loss(x, t, alpha=0.25, gamma=2, reduction="mean")),
    "focal_normalized": (loss({"kind": "focal", "normalized": True}),
                         smp.losses.FocalLoss("binary", normalized=True)),
    "focal_reduced_sum": (loss({"kind": "focal", "reduced_threshold": 0.5, "reduction": "sum"}),
                          smp.losses.FocalLoss("binary", reduced_threshold=0.5, reduction="sum")),
    "lovasz": (loss({"kind": "lovasz"}), smp.losses.LovaszLoss("binary")),
    "lovasz_per_image": (loss({"kind": "lovasz", "per_image": True}),
                         smp.losses.LovaszLoss("binary", per_image=True)),
    "lovasz_symmetric": (loss({"kind": "lovasz", "per_image": True, "symmetric": True}),
                         symmetric(lambda x, t: _lovasz_hinge(x, t, per_image=True))),
    "lovasz_symmetric_elu": (loss({"kind": "lovasz", "per_image": True, "symmetric": True,
                                   "hinge": "elu_plus_one"}),
                             symmetric(lovasz_elu_per_image)),
    "winning_solution": ({"combined": {"terms": [
        {"weight": 3.0, "loss": {"kind": "bce"}},
        {"weight": 1.0, "loss": {"kind": "dice"}},
        {"weight": 4.0, "loss": {"kind": "focal"}}]}},
        lambda x, t: 3 * F.binary_cross_entropy_with_logits(x, t) + smp.losses.DiceLoss("binary")(x, t)
        + 4 * smp.losses.FocalLoss("binary")(x, t)),
}


def save(path, tensor):
    np.save(path, tensor.detach().numpy().astype(np.float32))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("csv")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ids, sets = input_sets(args.csv)
    for name, tensors in sets.items():
        for key, value in tensors.items():
            save(os.path.join(args.out, f"{name}_{key}.npy"), value)
    cases = []

    def record(case, set_name, value, grads, config):
        files = {}
        for key, grad in grads.items():
            files[key] = f"{case}.{set_name}.{key}.npy"
            save(os.path.join(args.out, files[key]), grad)
        cases.append(dict(case=case, set=set_name, config=config,
                          value=value.detach().reshape(-1).double().tolist(), grads=files))

    for case, (config, reference) in CASES.items():
        for set_name, tensors in sets.items():
            x = tensors["logits"].clone().requires_grad_()
            value = reference(x, tensors["targets"])
            value.sum().backward()
            record(case, set_name, value, {"grad": x.grad}, config)

    # Per-pixel weights (real set only).
    real = sets["real"]
    x = real["logits"].clone().requires_grad_()
    value = F.binary_cross_entropy_with_logits(x, real["targets"], weight=real["weights"])
    value.backward()
    record("bce_pixel_weights", "real", value, {"grad": x.grad},
           dict(loss={"kind": "bce"}, weights="real_weights.npy"))

    # Multi-task: per-image Lovasz + 0.01 BCE on image labels (Viel and Orhan), and BCE + 0.1.
    for case, seg, lam, seg_config in [
        ("multitask_lovasz", lambda x, t: _lovasz_hinge(x, t, per_image=True), 0.01,
         {"terms": [{"weight": 1.0, "loss": {"kind": "lovasz", "per_image": True}}]}),
        ("multitask_bce", lambda x, t: F.binary_cross_entropy_with_logits(x, t), 0.1,
         {"terms": [{"weight": 1.0, "loss": {"kind": "bce"}}]}),
    ]:
        for set_name, tensors in sets.items():
            x = tensors["logits"].clone().requires_grad_()
            c = tensors["cls_logits"].clone().requires_grad_()
            t = tensors["targets"]
            labels = (t.reshape(t.shape[0], -1) > 0.5).any(dim=1, keepdim=True).float()
            value = seg(x, t) + lam * F.binary_cross_entropy_with_logits(c, labels)
            value.backward()
            record(case, set_name, value, {"grad": x.grad, "cls_grad": c.grad},
                   {"multitask": {"segmentation": seg_config, "lambda": lam}})

    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump(dict(torch=torch.__version__, smp=smp.__version__, images=ids, cases=cases), f, indent=1)
    print(f"losses reference: {len(cases)} cases -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
