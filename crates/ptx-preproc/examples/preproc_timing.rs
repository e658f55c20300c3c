//! Times CLAHE, AHE, equalisation and resizing on a 1024 x 1024 8-bit image, one thread, the way
//! `scripts/bench_preproc_peer.py` times OpenCV: 3 warm-up runs, then the median of RUNS.
//! Usage: preproc_timing RAW_PIXELS_FILE [RUNS=50]; prints one JSON object {name: seconds}.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use ptx_preproc::{equalize_hist, resize, Clahe, Interpolation, TileGrid};

#[path = "../benches/support/mod.rs"]
mod support;

fn median(mut f: impl FnMut(), runs: usize) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pixels = args.next().map(|p| std::fs::read(p).expect("raw pixels"));
    let runs: usize = args.next().map_or(50, |a| a.parse().expect("RUNS"));
    let image = support::image_1024(pixels.as_deref());
    let clahe = Clahe {
        clip_limit: 2.0,
        tiles: TileGrid::square(8),
    };
    let ahe = Clahe::ahe(TileGrid::square(8));
    let mut out = vec![
        (
            "clahe_2_8x8",
            median(|| drop(clahe.apply(image.view()).unwrap()), runs),
        ),
        (
            "ahe_8x8",
            median(|| drop(ahe.apply(image.view()).unwrap()), runs),
        ),
        (
            "equalize_hist",
            median(|| drop(equalize_hist(image.view()).unwrap()), runs),
        ),
    ];
    use Interpolation::{Area, Bilinear, Nearest};
    for (name, side, how) in [
        ("resize_area_512", 512, Area),
        ("resize_area_256", 256, Area),
        ("resize_bilinear_512", 512, Bilinear),
        ("resize_bilinear_700", 700, Bilinear),
        ("resize_area_700", 700, Area),
        ("resize_nearest_512", 512, Nearest),
    ] {
        let resized = || drop(resize(image.view(), (side, side), how).unwrap());
        out.push((name, median(resized, runs)));
    }
    let fields: Vec<String> = out
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v:.7}"))
        .collect();
    println!("{{{}}}", fields.join(", "));
}
