"""The PyTorch side of scripts/bench_models.sh: smp Unet(resnet34) forward (eval, no grad) or
forward + backward + Adam step (train, BCE with logits), median seconds per iteration, peak RSS.

Usage: bench_models_peer.py MODE SIZE BATCH ITERS THREADS [DEVICE] [bf16]
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
import segmentation_models_pytorch as smp


def main():
    mode = sys.argv[1]
    size, batch, iters, threads = (int(a) for a in sys.argv[2:6])
    device = sys.argv[6] if len(sys.argv) > 6 else "cpu"
    bf16 = len(sys.argv) > 7 and sys.argv[7] == "bf16"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = smp.Unet("resnet34", encoder_weights=None).to(device)
    x = torch.randn(batch, 3, size, size, device=device)
    if device == "cuda":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    target = (torch.rand(batch, 1, size, size, device=device) > 0.7).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        if mode == "forward":
            model.eval()
            with torch.no_grad():
                float(model(x).sum())
        else:
            model.train()
            opt.zero_grad()
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
                logits = model(x)
            loss = F.binary_cross_entropy_with_logits(logits.float(), target)
            loss.backward()
            opt.step()
            float(loss)
        if device == "cuda":
            torch.cuda.synchronize()

    step()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"side": "pytorch", "mode": mode, "size": size, "batch": batch, "threads": threads,
                      "median_s": round(median, 5), "images_per_s": round(batch / median, 3),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
