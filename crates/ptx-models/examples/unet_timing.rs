//! Times U-Net ResNet34 forward (eval, no grad) or forward + backward (train mode, BCE with
//! logits) and reports milliseconds per iteration and peak memory, as JSON, for
//! `scripts/bench_models.sh`, which runs `scripts/bench_models_peer.py` (smp) beside it.
//!
//! Usage: unet_timing MODE(forward|train) SIZE BATCH ITERS THREADS [DEVICE(cpu|cuda)] [bf16]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use ptx_models::{Model, ModelConfig};
use tch::nn::OptimizerConfig;
use tch::{Device, Kind, Tensor};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("forward", String::as_str).to_owned();
    let arg = |i: usize, d: i64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (size, batch, iters, threads) = (arg(2, 512), arg(3, 4), arg(4, 3) as usize, arg(5, 2));
    let device = if args.get(6).is_some_and(|d| d == "cuda") {
        Device::Cuda(0)
    } else {
        Device::Cpu
    };
    let bf16 = args.get(7).is_some_and(|d| d == "bf16");
    tch::set_num_threads(threads as i32);
    tch::manual_seed(0);
    let mut model = Model::new(ModelConfig::default(), device).unwrap();
    let x = Tensor::randn([batch, 3, size, size], (Kind::Float, device));
    let x = if device.is_cuda() {
        model.to_channels_last();
        ptx_models::channels_last(&x)
    } else {
        x
    };
    let target = Tensor::rand([batch, 1, size, size], (Kind::Float, device))
        .gt(0.7)
        .to_kind(Kind::Float);
    let mut opt = tch::nn::Adam::default()
        .build(model.var_store(), 1e-4)
        .unwrap();
    let mut step = || {
        if mode == "forward" {
            let y = tch::no_grad(|| model.forward_t(&x, false)).unwrap().logits;
            y.sum(Kind::Float).double_value(&[]);
        } else {
            let run = || {
                let logits = model.forward_t(&x, true).unwrap().logits;
                logits
                    .to_kind(Kind::Float)
                    .binary_cross_entropy_with_logits::<Tensor>(
                        &target,
                        None,
                        None,
                        tch::Reduction::Mean,
                    )
            };
            let loss = if bf16 {
                tch::autocast(true, run)
            } else {
                run()
            };
            opt.backward_step(&loss);
            loss.double_value(&[]);
        }
        if device.is_cuda() {
            tch::Cuda::synchronize(0);
        }
    };
    step(); // warm-up
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        step();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"side\": \"ptx\", \"mode\": \"{mode}\", \"size\": {size}, \"batch\": {batch}, \"threads\": {threads}, \
         \"median_s\": {median:.5}, \"images_per_s\": {:.3}, \"peak_rss_mib\": {:.1}}}",
        batch as f64 / median,
        peak_rss_mib()
    );
}
