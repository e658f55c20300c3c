//! Criterion benchmarks: U-Net ResNet34 (smp's default configuration) at 512 x 512, batch 4, on
//! the CPU: eval forward, and forward + backward + Adam step in training mode. The side-by-side
//! comparison with segmentation_models_pytorch, with peak memory, is `scripts/bench_models.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use criterion::{criterion_main, Criterion};
use ptx_models::{Model, ModelConfig};
use tch::nn::OptimizerConfig;
use tch::{Device, Kind, Tensor};

fn unet(c: &mut Criterion) {
    tch::manual_seed(0);
    let model = Model::new(ModelConfig::default(), Device::Cpu).unwrap();
    let x = Tensor::randn([4, 3, 512, 512], (Kind::Float, Device::Cpu));
    let target = Tensor::rand([4, 1, 512, 512], (Kind::Float, Device::Cpu))
        .gt(0.7)
        .to_kind(Kind::Float);
    let mut opt = tch::nn::Adam::default()
        .build(model.var_store(), 1e-4)
        .unwrap();
    let mut group = c.benchmark_group("unet_resnet34_4x3x512x512");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60));
    group.bench_function("forward_eval", |b| {
        b.iter(|| tch::no_grad(|| model.forward_t(&x, false)).unwrap())
    });
    group.bench_function("forward_backward_adam", |b| {
        b.iter(|| {
            let logits = model.forward_t(&x, true).unwrap().logits;
            let loss = logits.binary_cross_entropy_with_logits::<Tensor>(
                &target,
                None,
                None,
                tch::Reduction::Mean,
            );
            opt.backward_step(&loss);
        })
    });
    group.finish();
}

mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::unet);
}
criterion_main!(group::benches);
