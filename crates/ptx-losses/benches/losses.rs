//! Criterion benchmarks: each loss, forward + backward, batch 8 x 1 x 512 x 512, CPU.
//! The side-by-side comparison with PyTorch is `scripts/bench_losses.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_main, Criterion};

mod support;

fn losses(c: &mut Criterion) {
    let (logits, targets) = support::inputs();
    let mut group = c.benchmark_group("loss_8x1x512x512_fwd_bwd");
    group.sample_size(10);
    for (name, loss) in support::cases() {
        group.bench_function(name, |b| {
            b.iter(|| support::step(&loss, &logits, &targets).unwrap())
        });
    }
    group.finish();
}

mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::losses);
}
criterion_main!(group::benches);
