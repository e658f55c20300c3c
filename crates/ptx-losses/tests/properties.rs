//! Properties that need no reference library: finite values and gradients on edge inputs,
//! gradients equal to finite differences (float64), the relations between the losses, the
//! configuration format, and errors instead of panics on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_losses::{
    image_labels, Bce, ClassWeights, Combined, EmptyTargets, Error, Focal, Hinge, Intersection,
    Loss, Lovasz, MultiTask, Overlap, Reduction, Term, Tversky,
};
use tch::{Device, Kind, Tensor};

const CPU: (Kind, Device) = (Kind::Double, Device::Cpu);

/// Every kind of loss with non-default options, each a scalar.
fn all_losses() -> Vec<Loss> {
    vec![
        Loss::Bce(Bce::default()),
        Loss::Bce(Bce {
            pos_weight: Some(3.0),
            class_weights: Some(ClassWeights::haghanifar()),
            label_smoothing: 0.05,
            reduction: Reduction::Sum,
        }),
        Loss::Dice(Overlap::default()),
        Loss::Dice(Overlap::monai()),
        Loss::Dice(Overlap {
            smooth: 1.0,
            log_loss: true,
            per_image: true,
            ..Overlap::default()
        }),
        Loss::Jaccard(Overlap {
            intersection: Intersection::Product,
            ..Overlap::default()
        }),
        Loss::Tversky(Tversky {
            alpha: 0.3,
            beta: 0.7,
            gamma: 1.5,
            overlap: Overlap {
                per_image: true,
                smooth: 1.0,
                ..Overlap::default()
            },
        }),
        Loss::Focal(Focal::default()),
        Loss::Focal(Focal {
            alpha: Some(0.25),
            normalized: true,
            ..Focal::default()
        }),
        Loss::Focal(Focal {
            reduced_threshold: Some(0.5),
            reduction: Reduction::Sum,
            ..Focal::default()
        }),
        Loss::Lovasz(Lovasz::default()),
        Loss::Lovasz(Lovasz::symmetric_elu()),
    ]
}

/// Two 16x16 images, a square lesion in the first, none in the second.
fn masks(kind: Kind) -> Tensor {
    let m = Tensor::zeros([2, 1, 16, 16], (kind, Device::Cpu));
    let _ = m.narrow(0, 0, 1).narrow(2, 4, 6).narrow(3, 5, 4).fill_(1);
    m
}

fn value_and_grad(loss: &Loss, logits: &Tensor, targets: &Tensor) -> (f64, Tensor) {
    let x = logits.detach().set_requires_grad(true);
    let v = loss.forward(&x, targets).unwrap();
    v.backward();
    (v.double_value(&[]), x.grad())
}

fn all_finite(t: &Tensor) -> bool {
    bool::try_from(t.isfinite().all()).unwrap()
}

#[test]
fn edge_inputs_give_finite_values_and_gradients() {
    let m = masks(Kind::Float);
    let x = Tensor::randn([2, 1, 16, 16], (Kind::Float, Device::Cpu));
    let sign = Tensor::randn([2, 1, 16, 16], (Kind::Float, Device::Cpu)).sign();
    let inputs = [
        ("all-empty targets", x.shallow_clone(), m.zeros_like()),
        ("all-one targets", x.shallow_clone(), m.ones_like()),
        ("logits +-100", &sign * 100.0, m.shallow_clone()),
        ("logits +-100, empty", &sign * 100.0, m.zeros_like()),
        ("logits +-100, ones", &sign * 100.0, m.ones_like()),
        ("batch of one", x.narrow(0, 0, 1), m.narrow(0, 0, 1)),
        (
            "one pixel",
            x.narrow(2, 0, 1).narrow(3, 0, 1),
            m.narrow(2, 0, 1).narrow(3, 0, 1),
        ),
    ];
    for loss in all_losses() {
        for (what, logits, targets) in &inputs {
            let (v, g) = value_and_grad(&loss, logits, targets);
            assert!(v.is_finite(), "{} on {what}: value {v}", loss.name());
            assert!(
                all_finite(&g),
                "{} on {what}: gradient not finite",
                loss.name()
            );
        }
    }
}

#[test]
fn gradients_equal_finite_differences() {
    tch::manual_seed(7);
    let logits = Tensor::randn([2, 1, 4, 4], CPU) * 2.0;
    let targets = masks(Kind::Double).narrow(2, 4, 4).narrow(3, 4, 4);
    let h = 1e-6;
    for loss in all_losses() {
        let (_, grad) = value_and_grad(&loss, &logits, &targets);
        let flat = logits.reshape([-1]);
        for i in 0..flat.size()[0] {
            let bump = |d: f64| {
                let x = flat.copy();
                let _ = x.narrow(0, i, 1).g_add_scalar_(d);
                loss.forward(&x.reshape([2, 1, 4, 4]), &targets)
                    .unwrap()
                    .double_value(&[])
            };
            let numeric = (bump(h) - bump(-h)) / (2.0 * h);
            let analytic = grad.reshape([-1]).double_value(&[i]);
            assert!(
                (numeric - analytic).abs() <= 1e-6 + 1e-4 * analytic.abs(),
                "{} pixel {i}: autograd {analytic} vs finite difference {numeric}",
                loss.name()
            );
        }
    }
}

#[test]
fn dice_and_jaccard_are_tversky_special_cases() {
    let logits = Tensor::randn([3, 1, 8, 8], CPU);
    let targets = masks(Kind::Double)
        .narrow(2, 0, 8)
        .narrow(3, 0, 8)
        .repeat([2, 1, 1, 1])
        .narrow(0, 0, 3);
    for per_image in [false, true] {
        let o = Overlap {
            per_image,
            smooth: 0.5,
            ..Overlap::default()
        };
        let tv = |alpha| Tversky {
            alpha,
            beta: alpha,
            gamma: 1.0,
            overlap: o,
        };
        let close = |a: Tensor, b: Tensor| (a - b).abs().double_value(&[]) < 1e-12;
        assert!(close(
            o.dice(&logits, &targets).unwrap(),
            tv(0.5).forward(&logits, &targets).unwrap()
        ));
        assert!(close(
            o.jaccard(&logits, &targets).unwrap(),
            tv(1.0).forward(&logits, &targets).unwrap()
        ));
    }
}

type LossFn = Box<dyn Fn(&Tensor, &Tensor) -> Tensor>;

#[test]
fn per_image_forms_average_single_image_losses() {
    let logits = Tensor::randn([3, 1, 8, 8], CPU);
    let targets = Tensor::rand([3, 1, 8, 8], CPU)
        .gt(0.7)
        .to_kind(Kind::Double);
    let cases: Vec<(LossFn, LossFn)> = vec![
        (
            Box::new(|x, t| {
                Overlap {
                    per_image: true,
                    ..Overlap::default()
                }
                .dice(x, t)
                .unwrap()
            }),
            Box::new(|x, t| Overlap::default().dice(x, t).unwrap()),
        ),
        (
            Box::new(|x, t| {
                Lovasz {
                    per_image: true,
                    ..Lovasz::default()
                }
                .forward(x, t)
                .unwrap()
            }),
            Box::new(|x, t| Lovasz::default().forward(x, t).unwrap()),
        ),
    ];
    for (per_image, batch) in cases {
        let whole = per_image(&logits, &targets).double_value(&[]);
        let mean = (0..3)
            .map(|i| batch(&logits.narrow(0, i, 1), &targets.narrow(0, i, 1)).double_value(&[]))
            .sum::<f64>()
            / 3.0;
        assert!((whole - mean).abs() < 1e-12, "{whole} vs {mean}");
    }
}

#[test]
fn empty_target_policies() {
    let logits = Tensor::full([1, 1, 4, 4], 2.0, CPU);
    let empty = Tensor::zeros([1, 1, 4, 4], CPU);
    let zero = Overlap::default()
        .dice(&logits.set_requires_grad(true), &empty)
        .unwrap();
    assert_eq!(zero.double_value(&[]), 0.0);
    let keep = Overlap {
        smooth: 1.0,
        empty_targets: EmptyTargets::Keep,
        ..Overlap::default()
    };
    let v = keep.dice(&logits, &empty).unwrap().double_value(&[]);
    let p = 16.0 / (1.0 + (-2.0f64).exp());
    assert!((v - (1.0 - 1.0 / (p / 2.0 + 1.0))).abs() < 1e-12);
}

#[test]
fn lovasz_matches_a_hand_computed_example() {
    // Berman et al.'s Alg. 1 by hand: logits (2, -1, 0.5), labels (1, 0, 0):
    // errors 1 - x s = (-1, 0, 1.5); sorted (1.5, 0, -1) with labels (0, 0, 1);
    // Jaccard losses 1 - I/U along the order: 1 - 1/2, 1 - 1/3, 1 - 0/3 = (1/2, 2/3, 1);
    // gradient (1/2, 1/6, 1/3); loss = 1.5 * 1/2 + 0 + 0 = 0.75.
    let x = Tensor::from_slice(&[2.0f64, -1.0, 0.5]).reshape([1, 3]);
    let t = Tensor::from_slice(&[1.0f64, 0.0, 0.0]).reshape([1, 3]);
    let v = Lovasz::default().forward(&x, &t).unwrap().double_value(&[]);
    assert!((v - 0.75).abs() < 1e-12, "{v}");
    let elu = Lovasz {
        hinge: Hinge::EluPlusOne,
        ..Lovasz::default()
    };
    let want = 2.5 * 0.5 + 1.0 / 6.0 + (-1.0f64).exp() / 3.0;
    let v = elu.forward(&x, &t).unwrap().double_value(&[]);
    assert!((v - want).abs() < 1e-12, "{v} vs {want}");
}

#[test]
fn configuration_round_trips_and_rejects_typos() {
    for combined in [
        Combined::bce_dice(),
        Combined::weighted_bce(),
        Combined::focal_dice(),
        Combined::winning_solution(),
        Combined::lovasz(),
    ] {
        let json = serde_json::to_string(&combined).unwrap();
        assert_eq!(
            serde_json::from_str::<Combined>(&json).unwrap(),
            combined,
            "{json}"
        );
    }
    let focal: Loss = serde_json::from_str(r#"{"kind": "focal", "alpha": 0.25}"#).unwrap();
    assert_eq!(
        focal,
        Loss::Focal(Focal {
            alpha: Some(0.25),
            ..Focal::default()
        })
    );
    for bad in [
        r#"{"kind": "focal", "gama": 2}"#,
        r#"{"kind": "dice", "smoth": 1}"#,
        r#"{"kind": "hinge"}"#,
        r#"{"kind": "lovasz", "hinge": "softplus"}"#,
    ] {
        assert!(
            serde_json::from_str::<Loss>(bad).is_err(),
            "{bad} was accepted"
        );
    }
    let multitask: MultiTask = serde_json::from_str(
        r#"{"segmentation": {"terms": [{"weight": 1, "loss": {"kind": "lovasz", "per_image": true}}]}, "lambda": 0.01}"#,
    )
    .unwrap();
    assert_eq!(multitask, MultiTask::viel(Combined::lovasz(), 0.01));
}

#[test]
fn combined_is_the_weighted_sum_of_its_terms() {
    let logits = Tensor::randn([2, 1, 8, 8], CPU);
    let targets = masks(Kind::Uint8).narrow(2, 0, 8).narrow(3, 0, 8);
    let loss = Combined::winning_solution();
    let total = loss.forward(&logits, &targets).unwrap().double_value(&[]);
    let by_hand = 3.0
        * Bce::default()
            .forward(&logits, &targets)
            .unwrap()
            .double_value(&[])
        + Overlap::default()
            .dice(&logits, &targets)
            .unwrap()
            .double_value(&[])
        + 4.0
            * Focal::default()
                .forward(&logits, &targets)
                .unwrap()
                .double_value(&[]);
    assert!((total - by_hand).abs() < 1e-12);
}

#[test]
fn image_labels_mark_images_with_a_positive_pixel() {
    let labels = image_labels(&masks(Kind::Uint8)).unwrap();
    assert_eq!(labels.size(), [2, 1]);
    assert_eq!(labels.kind(), Kind::Float);
    assert_eq!(
        Vec::<f32>::try_from(labels.reshape([-1])).unwrap(),
        [1.0, 0.0]
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let x = Tensor::zeros([2, 1, 4, 4], CPU);
    let t = Tensor::zeros([2, 1, 4, 4], CPU);
    let dice = Overlap::default();
    assert!(matches!(
        dice.dice(&x, &t.narrow(3, 0, 3)),
        Err(Error::ShapeMismatch {
            what: "targets",
            ..
        })
    ));
    assert!(matches!(
        dice.dice(&x.to_kind(Kind::Int64), &t),
        Err(Error::NotFloat { .. })
    ));
    assert!(matches!(
        dice.dice(&x.reshape([-1]), &t.reshape([-1])),
        Err(Error::BadShape { .. })
    ));
    assert!(matches!(
        Bce::default().forward(&x.narrow(0, 0, 0), &t.narrow(0, 0, 0)),
        Err(Error::BadShape { .. })
    ));
    assert!(matches!(
        Bce::default().forward_weighted(&x, &t, &Tensor::ones([3, 4], CPU)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(Bce::default()
        .forward_weighted(&x, &t, &Tensor::ones([4, 4], CPU))
        .is_ok());
    for (loss, name) in [
        (
            Loss::Focal(Focal {
                alpha: Some(1.5),
                ..Focal::default()
            }),
            "focal.alpha",
        ),
        (
            Loss::Focal(Focal {
                gamma: f64::NAN,
                ..Focal::default()
            }),
            "focal.gamma",
        ),
        (
            Loss::Bce(Bce {
                label_smoothing: 1.0,
                ..Bce::default()
            }),
            "bce.label_smoothing",
        ),
        (
            Loss::Bce(Bce {
                pos_weight: Some(-1.0),
                ..Bce::default()
            }),
            "bce.pos_weight",
        ),
        (
            Loss::Dice(Overlap {
                smooth: -1.0,
                ..Overlap::default()
            }),
            "smooth",
        ),
        (
            Loss::Tversky(Tversky {
                gamma: 0.0,
                ..Tversky::default()
            }),
            "tversky.gamma",
        ),
    ] {
        match loss.forward(&x, &t) {
            Err(Error::InvalidOption { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(matches!(
        Combined::default().forward(&x, &t),
        Err(Error::BadCombination(_))
    ));
    let unreduced = Combined {
        terms: vec![Term {
            weight: 1.0,
            loss: Loss::Bce(Bce {
                reduction: Reduction::None,
                ..Bce::default()
            }),
        }],
    };
    assert!(matches!(
        unreduced.forward(&x, &t),
        Err(Error::BadCombination(_))
    ));
    let multitask = MultiTask::viel(Combined::bce_dice(), 0.1);
    assert!(matches!(
        multitask.forward(
            &x,
            &t,
            &Tensor::zeros([3, 1], CPU),
            &Tensor::zeros([3, 1], CPU)
        ),
        Err(Error::ShapeMismatch { .. })
    ));
}
