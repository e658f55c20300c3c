//! Behaviour that needs no reference files: optimizer state round trips, frozen parameters,
//! clipping, configs, the LR range test (early stopping and keep-best-k: `stopping.rs`' unit
//! tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_train::{LrRangeTest, Optimizer, OptimizerConfig, ScheduleConfig, Scheduler};
use tch::{Device, Kind, Tensor};

/// Fixed values (not the global RNG, which other test threads reseed concurrently).
fn params() -> Vec<(String, Tensor)> {
    let g = |seed: i64, shape: &[i64]| {
        let n: i64 = shape.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|i| (((i + seed) * 37 % 11) as f32 - 5.0) / 5.0)
            .collect();
        Tensor::from_slice(&values)
            .reshape(shape)
            .set_requires_grad(true)
    };
    vec![("a".into(), g(1, &[4, 3])), ("b".into(), g(2, &[5]))]
}

fn shallow(p: &[(String, Tensor)]) -> Vec<(String, Tensor)> {
    p.iter()
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect()
}

fn loss(p: &[(String, Tensor)], k: usize) -> Tensor {
    let t = k as f64;
    p.iter()
        .map(|(_, x)| ((x - t * 0.1).square() * (1.0 + t)).sum(Kind::Float))
        .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |a, b| a + b)
}

fn configs() -> Vec<OptimizerConfig> {
    [
        r#"{"kind": "adam", "lr": 0.01}"#,
        r#"{"kind": "adamw", "lr": 0.01}"#,
        r#"{"kind": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": true}"#,
        r#"{"kind": "radam", "lr": 0.01, "weight_decay": 0.001}"#,
    ]
    .iter()
    .map(|s| serde_json::from_str(s).unwrap())
    .collect()
}

#[test]
fn resuming_from_saved_state_equals_an_uninterrupted_run() {
    for config in configs() {
        let straight = params();
        let mut opt = Optimizer::new(config.clone(), shallow(&straight)).unwrap();
        for k in 0..10 {
            opt.backward_step(&loss(&straight, k));
        }
        let resumed = params();
        let mut first = Optimizer::new(config.clone(), shallow(&resumed)).unwrap();
        for k in 0..5 {
            first.backward_step(&loss(&resumed, k));
        }
        let (state, tensors) = first.state();
        let json = serde_json::to_string(&state).unwrap();
        // the snapshot is a copy: stepping on does not change it
        let snapshot: Vec<Tensor> = tensors.iter().map(|(_, t)| t.copy()).collect();
        first.backward_step(&loss(&resumed, 99));
        for ((_, t), s) in tensors.iter().zip(&snapshot) {
            assert_eq!(t, s);
        }
        drop(first);
        // undo the extra step on the parameters by restarting them from a fresh run
        let resumed = params();
        let mut replay = Optimizer::new(config.clone(), shallow(&resumed)).unwrap();
        for k in 0..5 {
            replay.backward_step(&loss(&resumed, k));
        }
        drop(replay);
        let mut second = Optimizer::new(config.clone(), shallow(&resumed)).unwrap();
        second
            .load_state(&serde_json::from_str(&json).unwrap(), &tensors)
            .unwrap();
        assert_eq!(second.steps(), 5);
        for k in 5..10 {
            second.backward_step(&loss(&resumed, k));
        }
        for ((_, a), (_, b)) in straight.iter().zip(&resumed) {
            assert_eq!(a, b, "{config:?}");
        }
    }
}

#[test]
fn state_that_does_not_fit_is_rejected() {
    let p = params();
    let mut opt = Optimizer::new(configs()[0].clone(), shallow(&p)).unwrap();
    opt.backward_step(&loss(&p, 0));
    let (state, mut tensors) = opt.state();
    tensors[0].1 = Tensor::zeros([7], (Kind::Float, Device::Cpu));
    let err = opt.load_state(&state, &tensors).unwrap_err();
    assert!(err.to_string().contains("a.exp_avg"), "{err}");
    let (state, mut tensors) = opt.state();
    tensors.push((
        "c.exp_avg".into(),
        Tensor::zeros([1], (Kind::Float, Device::Cpu)),
    ));
    assert!(opt
        .load_state(&state, &tensors)
        .unwrap_err()
        .to_string()
        .contains("c.exp_avg"));
}

#[test]
fn frozen_parameters_do_not_move_and_clipping_bounds_the_norm() {
    let p = params();
    let mut opt = Optimizer::new(configs()[0].clone(), shallow(&p)).unwrap();
    let before = p[1].1.copy();
    let _ = p[1].1.set_requires_grad(false);
    opt.backward_step(&loss(&p, 3));
    assert_eq!(p[1].1, before);
    let _ = p[1].1.set_requires_grad(true);
    opt.zero_grad();
    loss(&p, 9).backward();
    let norm = opt.clip_grad_norm(0.5);
    assert!(norm > 0.5);
    let after: f64 = p
        .iter()
        .map(|(_, t)| t.grad().square().sum(Kind::Double).double_value(&[]))
        .sum::<f64>()
        .sqrt();
    assert!((after - 0.5).abs() < 1e-5, "{after}");
}

#[test]
fn var_store_parameters_exclude_buffers() {
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let _w = root.var("w", &[2], tch::nn::Init::Const(1.0));
    let _b = root.zeros_no_train("running_mean", &[2]);
    let opt = Optimizer::for_var_store(configs()[0].clone(), &vs).unwrap();
    assert_eq!(opt.state().1.len(), 0);
    let mut opt = opt;
    let loss = vs.variables()["w"].sum(Kind::Float);
    opt.backward_step(&loss);
    let names: Vec<String> = opt.state().1.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["w.exp_avg", "w.exp_avg_sq"]);
}

#[test]
fn configs_reject_typos_and_bad_values() {
    let err = toml::from_str::<OptimizerConfig>("kind = \"adam\"\nlr = 1e-3\nbeta = [0.9, 0.99]\n")
        .unwrap_err();
    assert!(err.to_string().contains("beta"), "{err}");
    assert!(toml::from_str::<OptimizerConfig>("kind = \"adagrad\"\nlr = 1e-3\n").is_err());
    let p = params();
    for bad in [
        r#"{"kind": "adam", "lr": -1}"#,
        r#"{"kind": "sgd", "lr": 0.1, "nesterov": true}"#,
        r#"{"kind": "radam", "lr": 0.1, "betas": [0.9, 1.0]}"#,
    ] {
        let c: OptimizerConfig = serde_json::from_str(bad).unwrap();
        assert!(Optimizer::new(c, shallow(&p)).is_err(), "{bad}");
    }
    let err = toml::from_str::<ScheduleConfig>("kind = \"cosine\"\nepochs = 10\neta_mn = 0.1\n")
        .unwrap_err();
    assert!(err.to_string().contains("eta_mn"), "{err}");
    let c: ScheduleConfig = toml::from_str("kind = \"cosine\"\nepochs = 0\n").unwrap();
    assert!(Scheduler::new(c, 0.1).is_err());
    // the plateau state survives a checkpoint
    let c: ScheduleConfig = toml::from_str("kind = \"plateau\"\npatience = 1\n").unwrap();
    let mut s = Scheduler::new(c.clone(), 1.0).unwrap();
    for m in [1.0, 1.0, 1.0] {
        s.observe(m);
    }
    assert!((s.lr(3) - 0.1).abs() < 1e-12);
    let mut t = Scheduler::new(c, 1.0).unwrap();
    t.set_state(serde_json::from_str(&serde_json::to_string(s.state()).unwrap()).unwrap());
    assert_eq!(t, s);
}

#[test]
fn lr_range_test_sweeps_geometrically_and_suggests_the_steepest_fall() {
    let test = LrRangeTest {
        steps: 61,
        start: 1e-6,
        end: 1.0,
        ..Default::default()
    };
    let mut sweep = test.sweep().unwrap();
    assert!((sweep.lr(0) - 1e-6).abs() < 1e-18 && (sweep.lr(60) - 1.0).abs() < 1e-12);
    assert!((sweep.lr(30) - 1e-3).abs() < 1e-12);
    // a loss that falls fastest around 1e-4 and blows up past 1e-1
    let mut i = 0;
    loop {
        let x = sweep.lr(i).log10();
        let loss = 1.0 - 0.5 * (1.0 + ((x + 4.0) * 2.0).tanh())
            + if x > -1.0 { (x + 1.0) * 50.0 } else { 0.0 };
        i += 1;
        if !sweep.record(loss) {
            break;
        }
    }
    assert!(i < 61, "the divergence stops the sweep early ({i} steps)");
    let s = sweep.suggestion().unwrap();
    assert!((1e-5..1e-3).contains(&s), "{s}");
    // the lowest loss is just before the blow-up past 1e-1: a tenth of it
    let m = sweep.minimum_tenth().unwrap();
    assert!((3e-3..3e-2).contains(&m), "{m}");
    // a first batch luckier than all the rest does not make the minimum: the first tenth
    // of the points is left out
    let mut lucky = test.sweep().unwrap();
    for i in 0..40 {
        let loss = if i == 0 {
            0.8
        } else {
            1.0 - 0.005 * i.min(30) as f64
        };
        assert!(lucky.record(loss), "step {i}");
    }
    let m = lucky.minimum_tenth().unwrap();
    assert!(m > lucky.lr(3) / 10.0, "{m}");
    let mut nan = test.sweep().unwrap();
    assert!(!nan.record(f64::NAN));
    assert!(LrRangeTest {
        start: 1.0,
        end: 0.1,
        ..Default::default()
    }
    .sweep()
    .is_err());
}
