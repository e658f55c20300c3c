//! Inputs shared by `benches/preproc.rs` (criterion) and `examples/preproc_timing.rs` (the
//! side-by-side run against OpenCV in `scripts/bench_preproc.sh`).
#![allow(dead_code)]

use ndarray::Array2;

/// A 1024 x 1024 8-bit test image: the positive SIIM DICOM's pixels when `pixels` is given
/// (raw bytes, row-major, as `scripts/bench_preproc_peer.py` writes them), else a smooth
/// synthetic radiograph-like ramp with noise.
pub fn image_1024(pixels: Option<&[u8]>) -> Array2<u8> {
    match pixels {
        Some(p) if p.len() == 1024 * 1024 => {
            Array2::from_shape_vec((1024, 1024), p.to_vec()).unwrap_or_default()
        }
        _ => Array2::from_shape_fn((1024, 1024), |(y, x)| {
            let h = (x as u64 * 2654435761 + y as u64 * 40503) % 17;
            (((x + y) / 8) as u64 + h).min(255) as u8
        }),
    }
}

/// A `side` x `side` mask with an apical crescent-like ellipse set to 1 (what a pneumothorax
/// mask looks like), shared with the Python peer's `mask(side)`.
pub fn mask(side: usize) -> Array2<u8> {
    let s = side as f64;
    Array2::from_shape_fn((side, side), |(y, x)| {
        let (dy, dx) = (
            (y as f64 - 0.25 * s) / (0.15 * s),
            (x as f64 - 0.3 * s) / (0.1 * s),
        );
        u8::from(dy * dy + dx * dx <= 1.0)
    })
}
