//! Properties of the augmentations: masks stay binary under every geometric transform, flips
//! are involutions, seeds reproduce, configs round-trip through TOML and JSON, bad options are
//! errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::{Array2, Array3};
use proptest::prelude::*;
use ptx_preproc::augment::{
    Augment, CoarseDropout, ElasticTransform, Flip, GridDistortion, Limit, OneOf,
    OpticalDistortion, RandomCrop, Rotate, ShiftScaleRotate, Transform,
};
use ptx_preproc::{BorderMode, Error, Preset};

fn image(h: usize, w: usize, seed: u64) -> Array3<u8> {
    Array3::from_shape_fn((2, h, w), |(c, y, x)| {
        ((x * 31 + y * 17 + c * 101) as u64 ^ seed).wrapping_mul(2654435761) as u8
    })
}

/// A disc mask with values 0 / `on`.
fn disc(h: usize, w: usize, on: u8) -> Array2<u8> {
    let (cy, cx, r) = (h as f64 / 2.0, w as f64 / 3.0, h.min(w) as f64 / 3.0);
    Array2::from_shape_fn((h, w), |(y, x)| {
        let d = ((y as f64 - cy).powi(2) + (x as f64 - cx).powi(2)).sqrt();
        if d < r {
            on
        } else {
            0
        }
    })
}

/// Every geometric transform at full probability, with a non-trivial range.
fn geometric() -> Vec<Transform> {
    vec![
        Transform::HorizontalFlip(Flip { p: 1.0 }),
        Transform::VerticalFlip(Flip { p: 1.0 }),
        Transform::Rotate(Rotate {
            p: 1.0,
            ..Rotate::default()
        }),
        Transform::Rotate(Rotate {
            p: 1.0,
            border_mode: BorderMode::Reflect101,
            ..Rotate::default()
        }),
        Transform::ShiftScaleRotate(ShiftScaleRotate {
            p: 1.0,
            ..ShiftScaleRotate::default()
        }),
        Transform::GridDistortion(GridDistortion {
            p: 1.0,
            ..GridDistortion::default()
        }),
        Transform::OpticalDistortion(OpticalDistortion {
            distort_limit: Limit::Value(1.0),
            p: 1.0,
            ..OpticalDistortion::default()
        }),
        Transform::ElasticTransform(ElasticTransform {
            alpha: 60.0,
            sigma: 4.0,
            p: 1.0,
            ..ElasticTransform::default()
        }),
        Transform::RandomCrop(RandomCrop::new(9, 7)),
        Transform::CoarseDropout(CoarseDropout {
            fill_mask: Some(0),
            p: 1.0,
            ..CoarseDropout::default()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn geometric_transforms_keep_masks_binary(
        h in 10usize..48, w in 10usize..48, seed in any::<u64>(), on in prop::sample::select(vec![1u8, 255]),
    ) {
        let img = image(h, w, seed);
        let mask = disc(h, w, on);
        for t in geometric() {
            let (out, out_mask) = Augment::new(vec![t.clone()])
                .apply_seeded(img.view(), mask.view(), seed, 3)
                .unwrap();
            prop_assert!(out_mask.iter().all(|&v| v == 0 || v == on), "{t:?}");
            prop_assert_eq!(out.dim().0, 2);
            prop_assert_eq!((out.dim().1, out.dim().2), out_mask.dim());
        }
    }

    #[test]
    fn flipping_twice_is_the_identity(h in 1usize..40, w in 1usize..40, seed in any::<u64>()) {
        let img = image(h, w, seed);
        let mask = disc(h, w, 1);
        for flip in [Transform::HorizontalFlip(Flip { p: 1.0 }), Transform::VerticalFlip(Flip { p: 1.0 })] {
            let twice = Augment::new(vec![flip.clone(), flip]);
            let (out, out_mask) = twice.apply_seeded(img.view(), mask.view(), seed, 0).unwrap();
            prop_assert_eq!(&out, &img);
            prop_assert_eq!(&out_mask, &mask);
        }
    }

    #[test]
    fn presets_are_reproducible_per_stream(seed in any::<u64>(), stream in 0u64..1000) {
        let img = image(40, 36, 5);
        let mask = disc(40, 36, 1);
        for preset in Preset::ALL {
            let augment = preset.augment();
            let a = augment.apply_seeded(img.view(), mask.view(), seed, stream).unwrap();
            let b = augment.apply_seeded(img.view(), mask.view(), seed, stream).unwrap();
            prop_assert_eq!(a, b);
        }
    }
}

#[test]
fn streams_and_seeds_give_different_augmentations() {
    let img = image(64, 64, 1);
    let mask = disc(64, 64, 1);
    let augment = Augment::haghanifar();
    let outputs: Vec<_> = (0..8)
        .map(|stream| {
            augment
                .apply_seeded(img.view(), mask.view(), 42, stream)
                .unwrap()
        })
        .collect();
    let distinct = outputs
        .iter()
        .enumerate()
        .filter(|(i, o)| outputs[..*i].iter().all(|p| p != *o))
        .count();
    assert!(distinct >= 7, "{distinct} distinct of 8");
    assert_ne!(
        augment.apply_seeded(img.view(), mask.view(), 1, 0).unwrap(),
        augment.apply_seeded(img.view(), mask.view(), 2, 0).unwrap()
    );
}

#[test]
fn probabilities_are_honoured() {
    // Over 2000 streams a p = 0.3 flip fires 30% +- 3% of the time, a p = 0 one never.
    let img = Array3::from_shape_fn((1, 1, 2), |(_, _, x)| x as u8);
    let mask = Array2::zeros((1, 2));
    let count = |p: f64| {
        let augment = Augment::new(vec![Transform::HorizontalFlip(Flip { p })]);
        (0..2000)
            .filter(|&s| {
                augment
                    .apply_seeded(img.view(), mask.view(), 9, s)
                    .unwrap()
                    .0[[0, 0, 0]]
                    == 1
            })
            .count()
    };
    let share = count(0.3) as f64 / 2000.0;
    assert!((share - 0.3).abs() < 0.03, "{share}");
    assert_eq!(count(0.0), 0);
    assert_eq!(count(1.0), 2000);
}

#[test]
fn one_of_applies_exactly_one_member() {
    // Two flips in a one-of at p = 1: always exactly one fires (never none, never both).
    let img = Array3::from_shape_fn((1, 3, 3), |(_, y, x)| (3 * y + x) as u8);
    let mask = Array2::zeros((3, 3));
    let augment = Augment::new(vec![Transform::OneOf(OneOf {
        transforms: vec![
            Transform::HorizontalFlip(Flip { p: 1.0 }),
            Transform::VerticalFlip(Flip { p: 3.0 / 4.0 }),
        ],
        p: 1.0,
    })]);
    let mut horizontal = 0;
    for s in 0..400 {
        let out = augment
            .apply_seeded(img.view(), mask.view(), 5, s)
            .unwrap()
            .0;
        match out[[0, 0, 0]] {
            2 => horizontal += 1,
            6 => {}
            v => panic!("neither flip alone: corner {v}"),
        }
    }
    // Weights 1 : 0.75 give 4/7 horizontal.
    let share = horizontal as f64 / 400.0;
    assert!((share - 4.0 / 7.0).abs() < 0.07, "{share}");
}

#[test]
fn random_crop_and_dropout_sizes() {
    let img = image(50, 40, 2);
    let mask = disc(50, 40, 1);
    for s in 0..50 {
        let (out, m) = Augment::new(vec![Transform::RandomCrop(RandomCrop::new(32, 24))])
            .apply_seeded(img.view(), mask.view(), 1, s)
            .unwrap();
        assert_eq!(out.dim(), (2, 32, 24));
        assert_eq!(m.dim(), (32, 24));
        // The crop is a window of the input.
        let found = (0..=18).any(|y| {
            (0..=16).any(|x| {
                out[[0, 0, 0]] == img[[0, y, x]] && out[[1, 31, 23]] == img[[1, y + 31, x + 23]]
            })
        });
        assert!(found);
    }
    let white = Array3::from_elem((1, 100, 100), 200u8);
    let dropout = CoarseDropout {
        num_holes_range: [1, 1],
        hole_height_range: [0.2, 0.2],
        hole_width_range: [0.1, 0.1],
        p: 1.0,
        ..CoarseDropout::default()
    };
    let (out, m) = Augment::new(vec![Transform::CoarseDropout(dropout)])
        .apply_seeded(
            white.view(),
            Array2::from_elem((100, 100), 1u8).view(),
            3,
            0,
        )
        .unwrap();
    assert_eq!(out.iter().filter(|&&v| v == 0).count(), 20 * 10);
    assert!(m.iter().all(|&v| v == 1), "fill_mask None leaves the mask");
}

#[test]
fn elastic_displacements_are_small_and_smooth() {
    // The Haghanifar preset's elastic transform (alpha 120, sigma 6) on a ramp: the image
    // moves by a few pixels at most, so the ramp's values stay close.
    let ramp = Array3::from_shape_fn((1, 96, 96), |(_, y, x)| (x + y) as u8);
    let elastic = ElasticTransform {
        alpha: 120.0,
        sigma: 6.0,
        p: 1.0,
        border_mode: BorderMode::Replicate,
        ..ElasticTransform::default()
    };
    let (out, _) = Augment::new(vec![Transform::ElasticTransform(elastic)])
        .apply_seeded(ramp.view(), Array2::zeros((96, 96)).view(), 11, 0)
        .unwrap();
    let max = out
        .iter()
        .zip(&ramp)
        .map(|(&a, &b)| (a as i32 - b as i32).abs())
        .max()
        .unwrap();
    let moved = out.iter().zip(&ramp).filter(|(a, b)| a != b).count();
    // A ramp of slope 1 per axis changes by |dx| + |dy|. The field is normalised to [-1, 1]
    // and smoothed (sigma 6 divides its spread by ~20), so displacements stay around a pixel
    // and far below alpha = 120: at most 12 pixels per axis here, about 1.3 on average.
    let mean = out
        .iter()
        .zip(&ramp)
        .map(|(&a, &b)| (a as f64 - b as f64).abs())
        .sum::<f64>()
        / out.len() as f64;
    assert!(max <= 24, "largest change {max}");
    assert!(mean < 4.0, "mean change {mean}");
    assert!(moved > 96 * 96 / 4, "only {moved} pixels moved");
}

#[test]
fn presets_round_trip_through_toml_and_json() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct File {
        augment: Augment,
    }
    for preset in Preset::ALL {
        let augment = preset.augment();
        let toml_text = toml::to_string(&File {
            augment: augment.clone(),
        })
        .unwrap();
        let back: File = toml::from_str(&toml_text).unwrap();
        assert_eq!(back.augment, augment, "{toml_text}");
        let json = serde_json::to_string(&augment).unwrap();
        assert_eq!(serde_json::from_str::<Augment>(&json).unwrap(), augment);
        assert_eq!(preset.name().parse::<Preset>().unwrap(), preset);
    }
    assert!("nope"
        .parse::<Preset>()
        .unwrap_err()
        .to_string()
        .contains("haghanifar"));
}

#[test]
fn configs_read_as_albumentations_writes_them() {
    let text = r#"
        [[transforms]]
        kind = "horizontal_flip"

        [[transforms]]
        kind = "one_of"
        p = 0.3
        transforms = [
          { kind = "random_gamma", gamma_limit = [80, 120] },
          { kind = "random_brightness_contrast", brightness_limit = 0.2, contrast_limit = 0 },
        ]

        [[transforms]]
        kind = "shift_scale_rotate"
        rotate_limit = 10
        border_mode = "reflect_101"
    "#;
    let augment: Augment = toml::from_str(text).unwrap();
    augment.validate().unwrap();
    assert_eq!(
        augment.transforms[0],
        Transform::HorizontalFlip(Flip { p: 0.5 })
    );
    let Transform::ShiftScaleRotate(ssr) = &augment.transforms[2] else {
        panic!()
    };
    assert_eq!(ssr.rotate_limit, Limit::Value(10.0));
    assert_eq!(ssr.border_mode, BorderMode::Reflect101);
    assert_eq!(ssr.scale_limit, Limit::range(-0.1, 0.1));
    // Typos and unknown transforms are errors that name them.
    let typo =
        toml::from_str::<Augment>("[[transforms]]\nkind = \"rotate\"\nlimt = 3\n").unwrap_err();
    assert!(typo.to_string().contains("limt"), "{typo}");
    let unknown = toml::from_str::<Augment>("[[transforms]]\nkind = \"rotat\"\n").unwrap_err();
    assert!(unknown.to_string().contains("rotat"), "{unknown}");
}

#[test]
fn bad_options_and_inputs_are_errors() {
    let img = image(20, 20, 0);
    let mask = disc(20, 20, 1);
    let run = |t: Transform| Augment::new(vec![t]).apply_seeded(img.view(), mask.view(), 0, 0);
    let invalid = |r: Result<_, Error>| matches!(r, Err(Error::InvalidOption { .. }));
    assert!(invalid(run(Transform::HorizontalFlip(Flip { p: 1.5 }))));
    assert!(invalid(run(Transform::Rotate(Rotate {
        limit: Limit::range(10.0, -10.0),
        ..Rotate::default()
    }))));
    assert!(invalid(run(Transform::Rotate(Rotate {
        limit: Limit::Value(f64::NAN),
        ..Rotate::default()
    }))));
    assert!(invalid(run(Transform::ShiftScaleRotate(
        ShiftScaleRotate {
            scale_limit: Limit::Value(1.0),
            ..ShiftScaleRotate::default()
        }
    ))));
    assert!(invalid(run(Transform::GridDistortion(GridDistortion {
        num_steps: 0,
        ..GridDistortion::default()
    }))));
    assert!(invalid(run(Transform::ElasticTransform(
        ElasticTransform {
            sigma: 0.0,
            ..ElasticTransform::default()
        }
    ))));
    assert!(invalid(run(Transform::CoarseDropout(CoarseDropout {
        num_holes_range: [3, 1],
        ..CoarseDropout::default()
    }))));
    assert!(invalid(run(Transform::RandomCrop(RandomCrop::new(0, 4)))));
    // A crop larger than the image, a mask of another size, an empty image.
    assert!(matches!(
        run(Transform::RandomCrop(RandomCrop::new(30, 4))),
        Err(Error::ShapeMismatch { .. })
    ));
    let augment = Augment::viel();
    assert!(matches!(
        augment.apply_seeded(img.view(), Array2::zeros((20, 19)).view(), 0, 0),
        Err(Error::ShapeMismatch {
            expected: (20, 20),
            found: (20, 19),
            ..
        })
    ));
    assert!(matches!(
        augment.apply_seeded(
            Array3::zeros((1, 0, 5)).view(),
            Array2::zeros((0, 5)).view(),
            0,
            0
        ),
        Err(Error::EmptyImage { .. })
    ));
    // Degenerate geometry is not an error: a zero scale is refused above, a tiny image passes.
    let tiny = Array3::from_elem((1, 1, 1), 7u8);
    for t in geometric()
        .into_iter()
        .filter(|t| !matches!(t, Transform::RandomCrop(_)))
    {
        let (out, _) = Augment::new(vec![t])
            .apply_seeded(tiny.view(), Array2::zeros((1, 1)).view(), 0, 0)
            .unwrap();
        assert_eq!(out.dim(), (1, 1, 1));
    }
}
