//! Criterion benchmarks of the intensity transforms and resizing on a 1024 x 1024 8-bit image (a
//! synthetic ramp with noise; `scripts/bench_preproc.sh` runs the real SIIM image beside
//! OpenCV).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_main, Criterion};
use ptx_preproc::{equalize_hist, resize, ChannelStack, Clahe, Interpolation, Normalize, TileGrid};

mod support;

fn intensity(c: &mut Criterion) {
    let image = support::image_1024(None);
    let mut group = c.benchmark_group("intensity_1024x1024_u8");
    let clahe = Clahe {
        clip_limit: 2.0,
        tiles: TileGrid::square(8),
    };
    group.bench_function("clahe_2_8x8", |b| {
        b.iter(|| clahe.apply(image.view()).unwrap())
    });
    let ahe = Clahe::ahe(TileGrid::square(8));
    group.bench_function("ahe_8x8", |b| b.iter(|| ahe.apply(image.view()).unwrap()));
    group.bench_function("equalize_hist", |b| {
        b.iter(|| equalize_hist(image.view()).unwrap())
    });
    let stack = ChannelStack::default();
    group.bench_function("raw_ahe_clahe_stack", |b| {
        b.iter(|| stack.apply(image.view()).unwrap())
    });
    let channels = stack.apply(image.view()).unwrap();
    let imagenet = Normalize::imagenet();
    group.bench_function("normalize_imagenet_3ch", |b| {
        b.iter(|| imagenet.apply(channels.view()).unwrap())
    });
    let wide = image.mapv(|v| u16::from(v) << 4);
    group.bench_function("clahe_2_8x8_u16_12bit", |b| {
        b.iter(|| clahe.apply(wide.view()).unwrap())
    });
    for (name, side, how) in [
        ("resize_area_512", 512, Interpolation::Area),
        ("resize_area_256", 256, Interpolation::Area),
        ("resize_area_700", 700, Interpolation::Area),
        ("resize_bilinear_512", 512, Interpolation::Bilinear),
        ("resize_nearest_512", 512, Interpolation::Nearest),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| resize(image.view(), (side, side), how).unwrap())
        });
    }
    group.finish();
}

mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::intensity);
}
criterion_main!(group::benches);
