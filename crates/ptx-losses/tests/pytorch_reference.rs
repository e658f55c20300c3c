//! Every loss against PyTorch: value and gradient with respect to the logits, on the inputs
//! and with the libraries of `tests/reference/losses_reference.py` (torch 2.11,
//! segmentation_models_pytorch 0.6, torchvision 0.26, MONAI 1.6), run by `scripts/golden.sh`.
//!
//! Inputs: real SIIM masks (4 x 1 x 256 x 256: three positive images and one negative) with
//! logits 3 N(0, 1); edge sets at 64 x 64: all-empty targets, all-one targets, logits
//! +-100, a batch of one. Each case's configuration is the serde JSON the script wrote, so
//! the configuration format is tested too.
//!
//! Tolerances, float32 on both sides: value `|a - b| <= 1e-5 |b| + 1e-7`; gradient
//! `max |a - b| <= 1e-5 max |b| + 1e-12` (relative to the gradient's largest component).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ptx_losses::{Combined, Loss, MultiTask};
use serde::Deserialize;
use tch::Tensor;

const VALUE_RTOL: f64 = 1e-5;
const GRAD_RTOL: f64 = 1e-5;

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    case: String,
    set: String,
    config: Config,
    value: Vec<f64>,
    grads: HashMap<String, String>,
}

#[derive(Deserialize)]
struct Config {
    loss: Option<Loss>,
    combined: Option<Combined>,
    multitask: Option<MultiTask>,
    weights: Option<String>,
}

fn npy(dir: &Path, name: &str) -> Tensor {
    Tensor::read_npy(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(tch::Kind::Double).reshape([-1])).unwrap()
}

/// Largest |a - b| and largest |b|.
fn max_diff(a: &Tensor, b: &Tensor) -> (f64, f64) {
    assert_eq!(a.size(), b.size());
    let d = (a - b).abs().max().double_value(&[]);
    (d, b.abs().max().double_value(&[]))
}

fn load() -> Option<(PathBuf, Reference)> {
    let path = ptx_testdata::golden("losses/cases.json")?;
    let text = std::fs::read_to_string(&path).unwrap();
    let reference: Reference = serde_json::from_str(&text).unwrap();
    Some((path.parent().unwrap().to_path_buf(), reference))
}

#[test]
fn every_loss_matches_pytorch_in_value_and_gradient() {
    let Some((dir, reference)) = load() else {
        return;
    };
    let mut failures = Vec::new();
    let mut worst_value = 0.0f64;
    let mut worst_grad = 0.0f64;
    for case in &reference.cases {
        let logits = npy(&dir, &format!("{}_logits.npy", case.set)).set_requires_grad(true);
        let targets = npy(&dir, &format!("{}_targets.npy", case.set));
        let cls_logits = npy(&dir, &format!("{}_cls_logits.npy", case.set)).set_requires_grad(true);
        let c = &case.config;
        let value = if let Some(multitask) = &c.multitask {
            let labels = ptx_losses::image_labels(&targets).unwrap();
            multitask
                .forward(&logits, &targets, &cls_logits, &labels)
                .unwrap()
                .total
        } else if let Some(combined) = &c.combined {
            combined.forward(&logits, &targets).unwrap()
        } else {
            let loss = c
                .loss
                .as_ref()
                .expect("a loss, combined or multitask config");
            match (&c.weights, loss) {
                (Some(w), Loss::Bce(bce)) => bce
                    .forward_weighted(&logits, &targets, &npy(&dir, w))
                    .unwrap(),
                _ => loss.forward(&logits, &targets).unwrap(),
            }
        };
        value.sum(None).backward();

        let ours = values(&value);
        let label = format!("{} on {}", case.case, case.set);
        assert_eq!(ours.len(), case.value.len(), "{label}: value shape");
        for (a, b) in ours.iter().zip(&case.value) {
            assert!(a.is_finite(), "{label}: value {a} is not finite");
            let err = (a - b).abs();
            worst_value = worst_value.max(err / b.abs().max(1e-7));
            if err > VALUE_RTOL * b.abs() + 1e-7 {
                failures.push(format!("{label}: value {a} vs PyTorch {b}"));
                break;
            }
        }
        for (key, file) in &case.grads {
            let ours = if key == "cls_grad" {
                cls_logits.grad()
            } else {
                logits.grad()
            };
            let want = npy(&dir, file);
            assert!(
                bool::try_from(ours.isfinite().all()).unwrap(),
                "{label}: {key} has non-finite values"
            );
            let (diff, scale) = max_diff(&ours, &want);
            if scale > 0.0 {
                worst_grad = worst_grad.max(diff / scale);
            }
            if diff > GRAD_RTOL * scale + 1e-12 {
                failures.push(format!(
                    "{label}: {key} max |diff| {diff:.3e} vs max |grad| {scale:.3e}"
                ));
            }
        }
    }
    eprintln!(
        "{} cases; worst value rel. error {worst_value:.2e}, worst gradient error / max |grad| {worst_grad:.2e}",
        reference.cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
