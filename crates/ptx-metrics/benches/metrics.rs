//! Criterion benches of ptx-metrics (regression tracking; the side-by-side comparison with
//! numpy is `scripts/bench_metrics.sh`).
//!
//! - `evaluate/1500_rows`: read the real truth CSV and the reference prediction, score all;
//! - `sweep/50_thresholds_4_maps`: 50-threshold grid search over four 1024x1024 maps, one thread;
//! - `sweep/50_thresholds_4_areas_4_maps`: the same with four component areas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use ptx_metrics::{grid_search, SearchGrid};
use support::{evaluate, one_thread, thresholds_50, ValidationSet};

const TRUTH: &str = "siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv";

fn bench_evaluate(c: &mut Criterion) {
    let (Some(truth), Some(pred)) = (
        ptx_testdata::shared(TRUTH),
        ptx_testdata::golden("metrics/pred.csv"),
    ) else {
        return;
    };
    let (truth, pred) = (
        truth.to_str().unwrap().to_owned(),
        pred.to_str().unwrap().to_owned(),
    );
    c.bench_function("evaluate/1500_rows", |b| b.iter(|| evaluate(&truth, &pred)));
}

fn bench_sweep(c: &mut Criterion) {
    let Some(truth) = ptx_testdata::shared(TRUTH) else {
        return;
    };
    let set = ValidationSet::new(truth, 4);
    let images = set.images();
    let thresholds = thresholds_50();
    let one = one_thread();
    let plain = SearchGrid {
        thresholds: thresholds.clone(),
        ..Default::default()
    };
    c.bench_function("sweep/50_thresholds_4_maps", |b| {
        b.iter(|| one.install(|| grid_search(&images, &plain).unwrap()))
    });
    let areas = SearchGrid {
        thresholds,
        min_component_areas: vec![0, 64, 256, 1024],
        ..Default::default()
    };
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.bench_function("50_thresholds_4_areas_4_maps", |b| {
        b.iter(|| one.install(|| grid_search(&images, &areas).unwrap()))
    });
    group.finish();
}

mod group {
    #![allow(missing_docs)] // criterion_group! makes an undocumented public function
    use super::*;
    criterion_group!(benches, bench_evaluate, bench_sweep);
}
criterion_main!(group::benches);
