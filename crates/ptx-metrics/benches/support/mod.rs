//! Inputs and work shared by the criterion benches and `examples/metrics_timing.rs` (which
//! includes this file with `#[path]`), so both time the same thing.
#![allow(dead_code)]

use ndarray::Array2;
use ptx_io::annotations::Annotations;
use ptx_io::rle::RleForm;
use ptx_metrics::{Confusion, EmptyPolicy, SegmentationMeter, ValidationImage};

/// Side of the SIIM images.
pub const SIDE: usize = 1024;

/// p = 0.5 * truth + 0.5 * u, u from a multiplicative hash of (image, row-major pixel index),
/// computed in f64 (exact) and rounded once to f32: the peer gets the same bits.
pub fn probability_map(truth: &Array2<u8>, image: u64) -> Array2<f32> {
    let mut p = Array2::<f32>::zeros((SIDE, SIDE));
    for ((r, c), v) in p.indexed_iter_mut() {
        let i = (r * SIDE + c) as u64;
        let h = (i * 2_654_435_761 + image * 40_503) % (1 << 32);
        let u = (h >> 8) as f64 / 16_777_216.0;
        *v = (0.5 * f64::from(truth[[r, c]]) + 0.5 * u) as f32;
    }
    p
}

/// Reads both CSVs (truth relative, prediction absolute) and returns the mean Kaggle Dice.
pub fn evaluate(truth_csv: &str, pred_csv: &str) -> f64 {
    let truth = Annotations::read(truth_csv).unwrap();
    let pred = Annotations::read(pred_csv).unwrap();
    let mut meter = SegmentationMeter::new(EmptyPolicy::Kaggle);
    for id in truth.image_ids() {
        let runs =
            |a: &Annotations, form| a.runs(id, SIDE * SIDE, form).unwrap().unwrap_or_default();
        let c = Confusion::from_runs(
            &runs(&truth, RleForm::Relative),
            &runs(&pred, RleForm::Absolute),
            SIDE * SIDE,
        );
        meter.update_counts(c.unwrap());
    }
    meter.compute().mean_dice.unwrap()
}

/// The first `n` truth masks of `truth_csv` (standard layout) and their probability maps.
pub struct ValidationSet {
    /// Truth masks, `(1024, 1024)`.
    pub masks: Vec<Array2<u8>>,
    /// Probability maps made by [`probability_map`].
    pub maps: Vec<Array2<f32>>,
}

impl ValidationSet {
    /// Decodes the masks and makes the maps.
    pub fn new(truth_csv: impl AsRef<std::path::Path>, n: usize) -> Self {
        let truth = Annotations::read(truth_csv).unwrap();
        let masks: Vec<Array2<u8>> = truth
            .image_ids()
            .take(n)
            .map(|id| {
                let m = truth
                    .mask(id, (SIDE, SIDE), RleForm::Relative)
                    .unwrap()
                    .unwrap();
                m.as_standard_layout().into_owned()
            })
            .collect();
        let maps = masks
            .iter()
            .enumerate()
            .map(|(k, m)| probability_map(m, k as u64))
            .collect();
        ValidationSet { masks, maps }
    }

    /// Borrowed views for `grid_search`.
    pub fn images(&self) -> Vec<ValidationImage<'_>> {
        self.maps
            .iter()
            .zip(&self.masks)
            .map(|(p, t)| ValidationImage {
                probability: p.view(),
                truth: t.view(),
                classifier: None,
            })
            .collect()
    }
}

/// The 50 thresholds 0, 0.02, ..., 0.98 (each i / 50 rounded once to f32, as the peer).
pub fn thresholds_50() -> Vec<f32> {
    (0..50).map(|i| (i as f64 / 50.0) as f32).collect()
}

/// A rayon pool of one thread.
pub fn one_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
}
