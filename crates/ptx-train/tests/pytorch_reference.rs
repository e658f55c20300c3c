//! Optimizers and schedules against PyTorch 2.11, on the trajectories
//! `tests/reference/train_reference.py` writes (run by `scripts/golden.sh`).
//!
//! Optimizers: 10 configurations x 12 steps on three parameters with seeded gradients, the rate
//! halved before step 8. Tolerance: every parameter within 1e-6 of PyTorch after every step
//! (libtorch's `add(alpha=)`, `addcmul(value=)` and `addcdiv(value=)` fuse a multiply that tch
//! cannot request, so the last bits can differ). Schedules: every epoch's rate within 1e-12.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use ptx_train::{Optimizer, OptimizerConfig, ScheduleConfig, Scheduler};
use serde::Deserialize;
use tch::Tensor;

const PARAM_ATOL: f64 = 1e-6;

#[derive(Deserialize)]
struct OptimFile {
    steps: usize,
    halve_lr_before_step: usize,
    configs: BTreeMap<String, serde_json::Value>,
}

#[test]
fn optimizers_follow_pytorch_step_by_step() {
    let Some(dir) = ptx_testdata::golden("train") else {
        return;
    };
    let spec: OptimFile =
        serde_json::from_str(&std::fs::read_to_string(dir.join("optim.json")).unwrap()).unwrap();
    let tensors: BTreeMap<String, Tensor> = Tensor::read_safetensors(dir.join("optim.safetensors"))
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(spec.configs.len(), 10);
    for (name, config) in &spec.configs {
        let config: OptimizerConfig = serde_json::from_value(config.clone())
            .unwrap_or_else(|e| panic!("{name}: {config}: {e}"));
        let params: Vec<(String, Tensor)> = (0..3)
            .map(|i| {
                (
                    format!("p{i}"),
                    tensors[&format!("init.{i}")].copy().set_requires_grad(true),
                )
            })
            .collect();
        let mut opt = Optimizer::new(
            config,
            params
                .iter()
                .map(|(n, t)| (n.clone(), t.shallow_clone()))
                .collect(),
        )
        .unwrap();
        let mut worst = 0.0f64;
        for k in 0..spec.steps {
            if k == spec.halve_lr_before_step {
                opt.set_lr(opt.lr() * 0.5);
            }
            for (i, (_, p)) in params.iter().enumerate() {
                let mut g = p.grad();
                if !g.defined() {
                    // first step: create the gradient by a backward pass of <p, g>
                    (p * &tensors[&format!("grad.{k}.{i}")])
                        .sum(tch::Kind::Float)
                        .backward();
                } else {
                    tch::no_grad(|| g.copy_(&tensors[&format!("grad.{k}.{i}")]));
                }
            }
            opt.step();
            for (i, (_, p)) in params.iter().enumerate() {
                let want = &tensors[&format!("{name}.{k}.{i}")];
                let d = (p - want).abs().max().double_value(&[]);
                worst = worst.max(d);
                assert!(
                    d <= PARAM_ATOL,
                    "{name}: step {k}, parameter {i}: {d:.3e} from PyTorch"
                );
            }
        }
        eprintln!("{name}: max |diff| over {} steps {worst:.3e}", spec.steps);
    }
}

#[derive(Deserialize)]
struct ScheduleFile {
    base_lr: f64,
    issue_cosine_formula: Vec<f64>,
    cases: BTreeMap<String, ScheduleCase>,
}

#[derive(Deserialize)]
struct ScheduleCase {
    config: serde_json::Value,
    lrs: Vec<f64>,
}

#[test]
fn schedules_equal_pytorch_schedulers() {
    let Some(dir) = ptx_testdata::golden("train") else {
        return;
    };
    let spec: ScheduleFile =
        serde_json::from_str(&std::fs::read_to_string(dir.join("schedules.json")).unwrap())
            .unwrap();
    assert!(spec.cases.len() >= 8);
    for (name, case) in &spec.cases {
        let mut value = case.config.clone();
        let metrics: Option<Vec<f64>> = value
            .as_object_mut()
            .unwrap()
            .remove("metrics")
            .map(|m| serde_json::from_value(m).unwrap());
        let config: ScheduleConfig =
            serde_json::from_value(value).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut s = Scheduler::new(config, spec.base_lr).unwrap();
        for (epoch, want) in case.lrs.iter().enumerate() {
            let got = s.lr(epoch);
            assert!(
                (got - want).abs() <= 1e-12,
                "{name}: epoch {epoch}: {got} vs PyTorch {want}"
            );
            if let Some(m) = &metrics {
                s.observe(m[epoch]);
            }
        }
    }
    // the issue's formula alpha0/2 (cos(pi n/N) + 1) is the cosine with eta_min 0
    let s = Scheduler::new(
        serde_json::from_value(serde_json::json!({"kind": "cosine", "epochs": 10})).unwrap(),
        0.1,
    )
    .unwrap();
    for (n, want) in spec.issue_cosine_formula.iter().enumerate() {
        assert!((s.lr(n) - want).abs() <= 1e-15);
    }
}
