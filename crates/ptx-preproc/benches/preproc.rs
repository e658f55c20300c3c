//! Criterion benchmarks of the intensity transforms and resizing on a 1024 x 1024 8-bit image (a
//! synthetic ramp with noise; `scripts/bench_preproc.sh` runs the real SIIM image beside
//! OpenCV).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_main, Criterion};
use ndarray::Axis;
use ptx_preproc::augment::{
    ElasticTransform, Flip, GridDistortion, Limit, OpticalDistortion, Rotate, ShiftScaleRotate,
    Transform,
};
use ptx_preproc::{
    equalize_hist, resize, Augment, ChannelStack, Clahe, Interpolation, Normalize, Pipeline,
    TileGrid,
};

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

/// Each geometric augmentation at p = 1 on 512 x 512, and the whole per-sample pipeline.
fn augment(c: &mut Criterion) {
    let image = resize(
        support::image_1024(None).view(),
        (512, 512),
        Interpolation::Area,
    )
    .unwrap();
    let mask = support::mask(512);
    let grey = image.view().insert_axis(Axis(0));
    let mut group = c.benchmark_group("augment_512x512_u8");
    let transforms = [
        ("hflip", Transform::HorizontalFlip(Flip { p: 1.0 })),
        (
            "rotate",
            Transform::Rotate(Rotate {
                p: 1.0,
                ..Rotate::default()
            }),
        ),
        (
            "shift_scale_rotate",
            Transform::ShiftScaleRotate(ShiftScaleRotate {
                p: 1.0,
                ..ShiftScaleRotate::default()
            }),
        ),
        (
            "grid_distortion",
            Transform::GridDistortion(GridDistortion {
                p: 1.0,
                ..GridDistortion::default()
            }),
        ),
        (
            "optical_distortion",
            Transform::OpticalDistortion(OpticalDistortion {
                distort_limit: Limit::Value(2.0),
                p: 1.0,
                ..OpticalDistortion::default()
            }),
        ),
        (
            "elastic_120_6",
            Transform::ElasticTransform(ElasticTransform {
                alpha: 120.0,
                sigma: 6.0,
                p: 1.0,
                ..ElasticTransform::default()
            }),
        ),
    ];
    for (name, t) in transforms {
        let augment = Augment::new(vec![t]);
        let mut k = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                k += 1;
                augment.apply_seeded(grey, mask.view(), 0, k).unwrap()
            })
        });
    }
    let pipeline = Pipeline {
        augment: Augment::haghanifar(),
        ..Pipeline::default()
    };
    let full = support::image_1024(None);
    let full_mask = support::mask(1024);
    let mut k = 0;
    group.bench_function("pipeline_1024_to_512_haghanifar_3ch", |b| {
        b.iter(|| {
            k += 1;
            pipeline
                .process(full.view(), full_mask.view(), 0, k)
                .unwrap()
        })
    });
    group.finish();
}

mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::intensity, super::augment);
}
criterion_main!(group::benches);
