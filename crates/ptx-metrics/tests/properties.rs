//! Property tests: metric identities, and the fast paths (run lists, grid search, component
//! labelling) against naive references written here from the definitions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::{Array2, ShapeBuilder};
use proptest::prelude::*;
use ptx_metrics::{
    grid_search, label_components, Confusion, Connectivity, EmptyPolicy, PostProcess, SearchGrid,
    Triplet, ValidationImage,
};

fn mask(rows: usize, cols: usize) -> impl Strategy<Value = Array2<u8>> {
    proptest::collection::vec(prop_oneof![3 => Just(0u8), 1 => Just(1u8)], rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).unwrap())
}

fn mask_pair() -> impl Strategy<Value = (Array2<u8>, Array2<u8>)> {
    (1usize..12, 1usize..12).prop_flat_map(|(r, c)| (mask(r, c), mask(r, c)))
}

/// Probability maps quantised to a few levels so that thresholds fall on pixel values too.
fn prob_map(rows: usize, cols: usize) -> impl Strategy<Value = Array2<f32>> {
    proptest::collection::vec((0u8..=10).prop_map(|k| f32::from(k) / 10.0), rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).unwrap())
}

/// Runs of a mask in column-major order, as the SIIM encoding numbers pixels.
fn column_major_runs(m: &Array2<u8>) -> Vec<(usize, usize)> {
    let flat: Vec<u8> = m.t().iter().copied().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        if flat[i] != 0 {
            let s = i;
            while i < flat.len() && flat[i] != 0 {
                i += 1;
            }
            runs.push((s, i - s));
        } else {
            i += 1;
        }
    }
    runs
}

/// Component count by flood fill.
fn naive_component_sizes(m: &Array2<u8>, conn: Connectivity) -> Vec<usize> {
    let (rows, cols) = m.dim();
    let mut seen = Array2::<bool>::default((rows, cols));
    let mut sizes = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            if m[[r, c]] == 0 || seen[[r, c]] {
                continue;
            }
            let mut stack = vec![(r, c)];
            seen[[r, c]] = true;
            let mut n = 0;
            while let Some((y, x)) = stack.pop() {
                n += 1;
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        if (dy == 0 && dx == 0)
                            || (conn == Connectivity::Four && dy != 0 && dx != 0)
                        {
                            continue;
                        }
                        let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                        if ny < 0 || nx < 0 || ny >= rows as i64 || nx >= cols as i64 {
                            continue;
                        }
                        let (ny, nx) = (ny as usize, nx as usize);
                        if m[[ny, nx]] != 0 && !seen[[ny, nx]] {
                            seen[[ny, nx]] = true;
                            stack.push((ny, nx));
                        }
                    }
                }
            }
            sizes.push(n);
        }
    }
    sizes
}

proptest! {
    #[test]
    fn dice_iou_identities((t, p) in mask_pair()) {
        let c = Confusion::from_masks(t.view(), p.view()).unwrap();
        let back = Confusion::from_masks(p.view(), t.view()).unwrap();
        for policy in [EmptyPolicy::Kaggle, EmptyPolicy::Zero] {
            let d = c.dice(policy).unwrap();
            let i = c.iou(policy).unwrap();
            prop_assert!((0.0..=1.0).contains(&d) && (0.0..=1.0).contains(&i));
            prop_assert!((d - 2.0 * i / (1.0 + i)).abs() < 1e-12);
        }
        // Symmetric when both masks are non-empty (the policy treats truth and prediction
        // differently only on empty masks).
        if c.truth_positives() > 0 && c.predicted_positives() > 0 {
            prop_assert_eq!(c.dice(EmptyPolicy::Kaggle), back.dice(EmptyPolicy::Kaggle));
            prop_assert_eq!(c.iou(EmptyPolicy::Kaggle), back.iou(EmptyPolicy::Kaggle));
        }
        let same = Confusion::from_masks(t.view(), t.view()).unwrap();
        prop_assert_eq!(same.dice(EmptyPolicy::Kaggle), Some(1.0));
        prop_assert_eq!(same.iou(EmptyPolicy::Kaggle), Some(1.0));
    }

    #[test]
    fn runs_equal_masks((t, p) in mask_pair()) {
        let pixels = t.len();
        let from_runs = Confusion::from_runs(&column_major_runs(&t), &column_major_runs(&p), pixels).unwrap();
        prop_assert_eq!(from_runs, Confusion::from_masks(t.view(), p.view()).unwrap());
        // Column-major storage of the same masks gives the same counts.
        let mut tf = Array2::<u8>::zeros(t.dim().f());
        tf.assign(&t);
        prop_assert_eq!(Confusion::from_masks(tf.view(), p.view()).unwrap(), from_runs);
    }

    #[test]
    fn components_match_flood_fill(m in (1usize..14, 1usize..14).prop_flat_map(|(r, c)| mask(r, c))) {
        for conn in [Connectivity::Four, Connectivity::Eight] {
            let mut fast = label_components(m.view(), conn).sizes;
            let mut slow = naive_component_sizes(&m, conn);
            fast.sort_unstable();
            slow.sort_unstable();
            prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn grid_search_equals_applying_each_point(
        data in (2usize..10, 2usize..10, 1usize..5).prop_flat_map(|(r, c, n)| {
            proptest::collection::vec((prob_map(r, c), mask(r, c), 0.0f64..1.0), n)
        }),
        areas in proptest::collection::vec(0usize..6, 1..3),
        use_triplet in any::<bool>(),
        use_gate in any::<bool>(),
        four in any::<bool>(),
    ) {
        let images: Vec<ValidationImage<'_>> = data
            .iter()
            .map(|(p, t, cls)| ValidationImage { probability: p.view(), truth: t.view(), classifier: Some(*cls) })
            .collect();
        let grid = SearchGrid {
            thresholds: vec![0.25, 0.5, 0.0, 0.7],
            min_component_areas: areas,
            triplet_tops: if use_triplet { vec![0.6, 0.85] } else { vec![] },
            triplet_min_areas: if use_triplet { vec![1, 3] } else { vec![] },
            classifier_thresholds: if use_gate { vec![0.3, 0.6] } else { vec![] },
            connectivity: if four { Connectivity::Four } else { Connectivity::Eight },
        };
        let found = grid_search(&images, &grid).unwrap();
        let expected_points = grid.thresholds.len() * grid.min_component_areas.len()
            * if use_triplet { 4 } else { 1 } * if use_gate { 2 } else { 1 };
        prop_assert_eq!(found.points.len(), expected_points);
        for point in &found.points {
            let mut sum = 0.0;
            for im in &images {
                let pred = point.params.apply(im.probability, im.classifier).unwrap();
                sum += Confusion::from_masks(im.truth, pred.view()).unwrap().dice(EmptyPolicy::Kaggle).unwrap();
            }
            let mean = sum / images.len() as f64;
            prop_assert!((mean - point.mean_dice).abs() < 1e-12, "{:?}: {} vs {}", point.params, mean, point.mean_dice);
        }
        let best = found.points.iter().map(|p| p.mean_dice).fold(f64::MIN, f64::max);
        prop_assert_eq!(found.best.mean_dice, best);
    }
}

#[test]
fn grid_search_is_the_same_on_any_thread_count() {
    let maps: Vec<(Array2<f32>, Array2<u8>)> = (0..16)
        .map(|k| {
            let p = Array2::from_shape_fn((32, 32), |(r, c)| {
                ((r * 7 + c * 13 + k * 5) % 23) as f32 / 22.0
            });
            let t = p.mapv(|v| u8::from(v > 0.6));
            (p, t)
        })
        .collect();
    let images: Vec<ValidationImage<'_>> = maps
        .iter()
        .map(|(p, t)| ValidationImage {
            probability: p.view(),
            truth: t.view(),
            classifier: None,
        })
        .collect();
    let grid = SearchGrid {
        min_component_areas: vec![0, 4, 10],
        ..Default::default()
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let four = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    let a = one.install(|| grid_search(&images, &grid)).unwrap();
    let b = four.install(|| grid_search(&images, &grid)).unwrap();
    assert_eq!(a, b);
    assert!(a.best.mean_dice > 0.99, "{:?}", a.best);
}

#[test]
fn gated_search_needs_classifier_scores() {
    let p = Array2::<f32>::zeros((2, 2));
    let t = Array2::<u8>::zeros((2, 2));
    let images = [ValidationImage {
        probability: p.view(),
        truth: t.view(),
        classifier: None,
    }];
    let grid = SearchGrid {
        classifier_thresholds: vec![0.5],
        ..Default::default()
    };
    assert!(matches!(
        grid_search(&images, &grid),
        Err(ptx_metrics::Error::MissingClassifierScore { image: Some(0) })
    ));
    let bad = SearchGrid {
        triplet_tops: vec![0.5],
        ..Default::default()
    };
    assert!(grid_search(&images, &bad).is_err());
    let pp = PostProcess {
        triplet: Some(Triplet {
            top: 0.5,
            min_area: 0,
        }),
        ..Default::default()
    };
    assert_eq!(pp.apply(p.view(), None).unwrap().sum(), 0);
}
