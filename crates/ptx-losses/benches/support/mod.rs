//! The work timed by `benches/losses.rs` (criterion) and `examples/loss_timing.rs` (the side
//! by side run against PyTorch in `scripts/bench_losses.sh`): each loss forward and backward
//! on a batch of 8 x 1 x 512 x 512 logits. `scripts/bench_losses_peer.py` builds the same
//! inputs (same seed, same generator) and the same losses in PyTorch.
#![allow(dead_code)]

use ptx_losses::{Bce, ClassWeights, Combined, Focal, Loss, Lovasz, Overlap, Result, Tversky};
use tch::{Device, Kind, Tensor};

/// Batch shape of the timings.
pub const SHAPE: [i64; 4] = [8, 1, 512, 512];

/// Logits `3 N(0, 1)` from seed 0 and masks with a 100 x 150 lesion in the first 4 images.
pub fn inputs() -> (Tensor, Tensor) {
    tch::manual_seed(0);
    let logits = Tensor::randn(SHAPE, (Kind::Float, Device::Cpu)) * 3.0;
    let targets = Tensor::zeros(SHAPE, (Kind::Float, Device::Cpu));
    let _ = targets
        .narrow(0, 0, 4)
        .narrow(2, 100, 100)
        .narrow(3, 150, 150)
        .fill_(1.0);
    (logits, targets)
}

/// The timed losses, by the names the Python peer uses.
pub fn cases() -> Vec<(&'static str, Combined)> {
    let one = Combined::single;
    vec![
        ("bce", one(Loss::Bce(Bce::default()))),
        (
            "bce_class_weights",
            one(Loss::Bce(Bce {
                class_weights: Some(ClassWeights::haghanifar()),
                ..Bce::default()
            })),
        ),
        ("dice", one(Loss::Dice(Overlap::default()))),
        ("dice_monai", one(Loss::Dice(Overlap::monai()))),
        ("jaccard", one(Loss::Jaccard(Overlap::default()))),
        (
            "tversky",
            one(Loss::Tversky(Tversky {
                alpha: 0.3,
                beta: 0.7,
                gamma: 1.5,
                ..Tversky::default()
            })),
        ),
        ("focal", one(Loss::Focal(Focal::default()))),
        ("lovasz", one(Loss::Lovasz(Lovasz::default()))),
        (
            "lovasz_per_image",
            one(Loss::Lovasz(Lovasz {
                per_image: true,
                ..Lovasz::default()
            })),
        ),
        (
            "lovasz_symmetric_elu",
            one(Loss::Lovasz(Lovasz::symmetric_elu())),
        ),
        ("winning_solution", Combined::winning_solution()),
    ]
}

/// One forward and backward pass from fresh leaf logits.
pub fn step(loss: &Combined, logits: &Tensor, targets: &Tensor) -> Result<()> {
    let x = logits.detach().set_requires_grad(true);
    loss.forward(&x, targets)?.backward();
    Ok(())
}
