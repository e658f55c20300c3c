"""Reference trajectories for ptx-train: PyTorch 2.11's optimizers and LR schedulers.

Optimizers: three parameters (4x3, 5, 2x3x3x3) from a fixed seed, 12 steps with seeded
gradients, the learning rate halved before step 8 (as a scheduler would); the parameters after
every step are saved for each configuration. Schedulers: the learning rate per epoch.

Usage: train_reference.py --out DIR  ->  DIR/optim.safetensors, DIR/optim.json, DIR/schedules.json
"""
import argparse
import json
import math
import os

import torch
from safetensors.torch import save_file

torch.set_num_threads(1)
STEPS = 12
SHAPES = [(4, 3), (5,), (2, 3, 3, 3)]

OPTIMIZERS = {
    "adam": ("Adam", {"lr": 1e-2}),
    "adam_l2": ("Adam", {"lr": 1e-2, "weight_decay": 1e-2}),
    "adam_betas": ("Adam", {"lr": 3e-3, "betas": (0.8, 0.99), "eps": 1e-6}),
    "adamw": ("AdamW", {"lr": 1e-2, "weight_decay": 1e-2}),
    "sgd": ("SGD", {"lr": 1e-1}),
    "sgd_momentum": ("SGD", {"lr": 1e-1, "momentum": 0.9}),
    "sgd_nesterov_wd": ("SGD", {"lr": 1e-1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    "radam": ("RAdam", {"lr": 1e-2}),
    "radam_wd": ("RAdam", {"lr": 1e-2, "weight_decay": 1e-2}),
    "radam_decoupled": ("RAdam", {"lr": 1e-2, "weight_decay": 1e-2, "decoupled_weight_decay": True}),
}


def optimizers(out):
    g = torch.Generator().manual_seed(0)
    init = [torch.randn(s, generator=g) for s in SHAPES]
    grads = [[torch.randn(s, generator=g) for s in SHAPES] for _ in range(STEPS)]
    tensors = {f"init.{i}": t for i, t in enumerate(init)}
    for k, gs in enumerate(grads):
        for i, t in enumerate(gs):
            tensors[f"grad.{k}.{i}"] = t
    configs = {}
    for name, (cls, kw) in OPTIMIZERS.items():
        params = [torch.nn.Parameter(t.clone()) for t in init]
        opt = getattr(torch.optim, cls)(params, foreach=False, **kw)
        for k in range(STEPS):
            if k == 7:
                for group in opt.param_groups:
                    group["lr"] *= 0.5
            for p, gr in zip(params, grads[k]):
                p.grad = gr.clone()
            opt.step()
            for i, p in enumerate(params):
                tensors[f"{name}.{k}.{i}"] = p.detach().clone()
        cfg = {"kind": cls.lower()}
        for key, value in kw.items():
            cfg[key] = list(value) if isinstance(value, tuple) else value
        configs[name] = cfg
    save_file(tensors, os.path.join(out, "optim.safetensors"))
    with open(os.path.join(out, "optim.json"), "w") as f:
        json.dump({"steps": STEPS, "halve_lr_before_step": 7, "configs": configs}, f, indent=1)


def lrs(make, epochs, metrics=None, base=0.1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    out = []
    for e in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[e])
    return out


def schedules(out):
    S = torch.optim.lr_scheduler
    plateau_metrics = [1.0, 0.9, 0.85, 0.85, 0.86, 0.85, 0.851, 0.849, 0.85, 0.85, 0.85, 0.7, 0.7, 0.7, 0.7,
                       0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    cases = {
        "cosine": ({"kind": "cosine", "epochs": 10}, lrs(lambda o: S.CosineAnnealingLR(o, T_max=10), 11)),
        "cosine_eta_min": ({"kind": "cosine", "epochs": 8, "eta_min": 1e-4},
                           lrs(lambda o: S.CosineAnnealingLR(o, T_max=8, eta_min=1e-4), 9)),
        "restarts": ({"kind": "cosine_restarts", "t0": 3, "t_mult": 2, "eta_min": 1e-5},
                     lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-5), 25)),
        "restarts_t1": ({"kind": "cosine_restarts", "t0": 4, "t_mult": 1},
                        lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4), 13)),
        "plateau": ({"kind": "plateau", "factor": 0.1, "patience": 5, "metrics": plateau_metrics},
                    lrs(lambda o: S.ReduceLROnPlateau(o, factor=0.1, patience=5), 25, plateau_metrics)),
        "plateau_p2_min": ({"kind": "plateau", "factor": 0.5, "patience": 2, "min_lr": 0.02, "metrics": plateau_metrics},
                           lrs(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2, min_lr=0.02), 25,
                               plateau_metrics)),
        "warmup": ({"kind": "constant", "warmup_epochs": 5, "warmup_start_factor": 0.1},
                   lrs(lambda o: S.LinearLR(o, start_factor=0.1, total_iters=5), 8)),
        "warmup_cosine": ({"kind": "cosine", "epochs": 7, "warmup_epochs": 3, "warmup_start_factor": 0.25},
                          lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=3),
                                                           S.CosineAnnealingLR(o, T_max=7)], milestones=[3]), 11)),
    }
    closed = [0.05 * (math.cos(math.pi * n / 10) + 1) for n in range(11)]
    with open(os.path.join(out, "schedules.json"), "w") as f:
        json.dump({"base_lr": 0.1, "issue_cosine_formula": closed,
                   "cases": {k: {"config": c, "lrs": v} for k, (c, v) in cases.items()}}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    optimizers(a.out)
    schedules(a.out)
    print(f"train references in {a.out}")


if __name__ == "__main__":
    main()
