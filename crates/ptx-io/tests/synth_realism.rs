//! The synthetic set's lesions against the challenge's real ones: the statistics
//! [`LesionStatistics::siim`] holds are those of the full `train-rle.csv`, and the lesions
//! `generate` draws match them (counts, areas, sides, places).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_io::annotations::Annotations;
use ptx_io::rle::RleForm;
use ptx_io::synth::{
    generate, image_lesions, ks_distance, ImageLesions, LesionShape, LesionStatistics,
    SynthOptions, AREA_PROBABILITIES, AREA_QUANTILES,
};

fn real_images() -> Option<Vec<ImageLesions>> {
    let csv = ptx_testdata::shared("siim/csv/train-rle.full.torchxrayvision.csv")?;
    let ann = Annotations::read(csv).unwrap();
    assert_eq!((ann.len(), ann.row_count()), (12_047, 12_954));
    Some(image_lesions(&ann, (1024, 1024), RleForm::Relative).unwrap())
}

#[test]
fn siim_statistics_are_the_full_files() {
    let Some(images) = real_images() else { return };
    let measured = LesionStatistics::from_images(&images).unwrap();
    let siim = LesionStatistics::siim();
    let lesions: usize = images.iter().map(|i| i.lesions.len()).sum();
    assert_eq!(lesions, 3_576);
    assert!((measured.positive_share - siim.positive_share).abs() <= 5e-5);
    let (m, s) = (&measured.lesions, &siim.lesions);
    for (a, b) in m.lesions_per_image.iter().zip(&s.lesions_per_image) {
        assert!(
            (a - b).abs() <= 5e-5,
            "{:?} vs {:?}",
            m.lesions_per_image,
            s.lesions_per_image
        );
    }
    for (a, b) in m.area_quantiles.iter().zip(&s.area_quantiles) {
        assert!(
            (a - b).abs() <= 5e-7,
            "{:?} vs {:?}",
            m.area_quantiles,
            s.area_quantiles
        );
    }
    assert!((m.image_left_share - s.image_left_share).abs() <= 5e-5);
    assert!((m.apical_share - s.apical_share).abs() <= 5e-5);
}

#[test]
fn synthetic_lesions_are_shaped_like_the_real_ones() {
    let Some(images) = real_images() else { return };
    let real: Vec<LesionShape> = images.iter().flat_map(|i| i.lesions.clone()).collect();
    // 900 images at 256 px, SIIM's defaults
    let options = SynthOptions {
        count: 900,
        size: 256,
        seed: 21,
        ..SynthOptions::default()
    };
    let synthetic: Vec<ImageLesions> = (0..options.count)
        .map(|i| {
            let case = generate(&options, i);
            // the rows of an image are separate collections, as the challenge's are
            let pixels: usize = case
                .lesions
                .iter()
                .map(|m| m.iter().filter(|&&v| v != 0).count())
                .sum();
            assert_eq!(
                pixels,
                case.mask().iter().filter(|&&v| v != 0).count(),
                "case {i}"
            );
            case.image_lesions()
        })
        .collect();
    let got = LesionStatistics::from_images(&synthetic).unwrap();
    let want = LesionStatistics::siim();
    let drawn: Vec<LesionShape> = synthetic.iter().flat_map(|i| i.lesions.clone()).collect();
    let area = |v: &[LesionShape]| v.iter().map(|l| l.area_fraction).collect::<Vec<f64>>();
    let d = ks_distance(&area(&real), &area(&drawn));
    let (n, m) = (real.len() as f64, drawn.len() as f64);
    // Kolmogorov–Smirnov's critical distance at alpha = 0.01: 1.63 sqrt((n + m) / (n m))
    let critical = 1.63 * ((n + m) / (n * m)).sqrt();
    println!(
        "areas: KS distance {d:.4} (critical {critical:.4} at alpha 0.01; {} real, {} synthetic lesions)\nsynthetic {got:?}",
        real.len(),
        drawn.len()
    );
    assert!(d < critical, "area KS distance {d:.4} >= {critical:.4}");
    // shares within 4 binomial standard deviations
    let near = |what: &str, got: f64, want: f64, count: f64| {
        let sigma = (want * (1.0 - want) / count).sqrt();
        assert!(
            (got - want).abs() <= 4.0 * sigma,
            "{what}: {got:.4} vs {want:.4}"
        );
    };
    let positives = synthetic.iter().filter(|i| !i.lesions.is_empty()).count() as f64;
    near(
        "positive share",
        got.positive_share,
        want.positive_share,
        900.0,
    );
    near(
        "several lesions",
        1.0 - got.lesions.lesions_per_image[0],
        1.0 - want.lesions.lesions_per_image[0],
        positives,
    );
    near(
        "image left",
        got.lesions.image_left_share,
        want.lesions.image_left_share,
        m,
    );
    near(
        "apical",
        got.lesions.apical_share,
        want.lesions.apical_share,
        m,
    );
    // the median, the upper quartile and the 97.5 % quantile of the areas within 20 %
    for q in [10, 15, AREA_QUANTILES - 3] {
        let (g, w) = (
            got.lesions.area_quantiles[q],
            want.lesions.area_quantiles[q],
        );
        let p = AREA_PROBABILITIES[q];
        assert!((g / w - 1.0).abs() < 0.2, "quantile {p}: {g:.5} vs {w:.5}");
    }
}
