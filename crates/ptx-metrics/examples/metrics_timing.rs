//! Timing side of `scripts/bench_metrics.sh` (the Python peer is
//! `scripts/bench_metrics_peer.py`; both compute the same numbers on the same inputs).
//!
//! ```text
//! cargo run --release -p ptx-metrics --example metrics_timing -- TRUTH.csv PRED.csv MAPS
//! ```
//!
//! 1. evaluate: read both CSVs and score every truth image (mean Kaggle Dice), best of 5;
//! 2. sweep: 50 thresholds over `MAPS` probability maps of 1024x1024 made from the first
//!    truth masks with a formula both sides compute bit for bit, on one thread;
//! 3. sweep with small-component removal (areas 0, 64, 256, 1024): Rust only, the peer has
//!    no equivalent vectorised path.
//!
//! Prints one JSON object with seconds and results.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use ptx_metrics::{grid_search, SearchGrid};

#[path = "../benches/support/mod.rs"]
mod support;

use support::{evaluate, one_thread, thresholds_50, ValidationSet};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (truth_csv, pred_csv) = (&args[1], &args[2]);
    let n_maps: usize = args[3].parse().unwrap();

    let mut eval_s = f64::INFINITY;
    let mut mean_dice = 0.0;
    for _ in 0..5 {
        let t = Instant::now();
        mean_dice = evaluate(truth_csv, pred_csv);
        eval_s = eval_s.min(t.elapsed().as_secs_f64());
    }

    let set = ValidationSet::new(truth_csv, n_maps);
    let images = set.images();
    let thresholds = thresholds_50();
    let one = one_thread();
    let grid = SearchGrid {
        thresholds: thresholds.clone(),
        ..Default::default()
    };
    let t = Instant::now();
    let plain = one.install(|| grid_search(&images, &grid)).unwrap();
    let sweep_s = t.elapsed().as_secs_f64();

    let grid = SearchGrid {
        thresholds,
        min_component_areas: vec![0, 64, 256, 1024],
        ..Default::default()
    };
    let t = Instant::now();
    let with_areas = one.install(|| grid_search(&images, &grid)).unwrap();
    let components_s = t.elapsed().as_secs_f64();

    let dice: Vec<String> = plain
        .points
        .iter()
        .map(|p| format!("{}", p.mean_dice))
        .collect();
    println!(
        "{{\"evaluate_s\": {eval_s}, \"mean_dice\": {mean_dice}, \"maps\": {n_maps}, \"sweep_s\": {sweep_s}, \
         \"sweep_components_s\": {components_s}, \"best_with_areas\": {}, \"sweep_dice\": [{}]}}",
        with_areas.best.mean_dice,
        dice.join(", ")
    );
}
