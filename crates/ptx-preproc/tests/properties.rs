//! Properties of the intensity transforms that need no reference library.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::{Array2, Array3, Axis};
use proptest::prelude::*;
use ptx_preproc::{
    equalize_hist, oversample_positives, pad_to_multiple, resize, undersample_negatives, Channel,
    ChannelStack, Clahe, Error, Interpolation, Normalize, PadMode, PatchGrid, PositiveShare,
    Stitcher, TileGrid, WeightedSampler,
};

/// Naive mirror index without edge repeat: walk and bounce.
fn mirror(mut i: i64, len: usize) -> usize {
    let n = len as i64;
    if n == 1 {
        return 0;
    }
    loop {
        if i < 0 {
            i = -i;
        } else if i >= n {
            i = 2 * (n - 1) - i;
        } else {
            return i as usize;
        }
    }
}

fn image(h: usize, w: usize, seed: u64) -> Array2<u8> {
    Array2::from_shape_fn((h, w), |(y, x)| {
        ((x as u64 * 2654435761 + y as u64 * 40503 + seed * 97) % 251) as u8
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any size (including smaller than the grid) and any grid: same shape, no panic.
    #[test]
    fn clahe_keeps_shape(h in 1usize..40, w in 1usize..40, cols in 1usize..10, rows in 1usize..10,
                         clip in 0.0f64..8.0, seed in 0u64..1000) {
        let img = image(h, w, seed);
        let out = Clahe { clip_limit: clip, tiles: TileGrid { cols, rows } }.apply(img.view()).unwrap();
        prop_assert_eq!(out.dim(), (h, w));
        let wide = img.mapv(|v| u16::from(v) * 257);
        let out16 = Clahe { clip_limit: clip, tiles: TileGrid { cols, rows } }.apply(wide.view()).unwrap();
        prop_assert_eq!(out16.dim(), (h, w));
    }

    /// CLAHE maps levels monotonically within a tile's reach: with one tile the mapping is
    /// one non-decreasing table, so the order of pixel values is kept.
    #[test]
    fn one_tile_clahe_is_monotone(h in 2usize..30, w in 2usize..30, clip in 0.0f64..5.0, seed in 0u64..1000) {
        let img = image(h, w, seed);
        let out = Clahe { clip_limit: clip, tiles: TileGrid::square(1) }.apply(img.view()).unwrap();
        let mut pairs: Vec<(u8, u8)> = img.iter().copied().zip(out.iter().copied()).collect();
        pairs.sort();
        prop_assert!(pairs.windows(2).all(|p| p[0].1 <= p[1].1));
    }

    /// Nearest-neighbour resizing of a mask only copies values: it stays binary.
    #[test]
    fn nearest_keeps_masks_binary(h in 1usize..40, w in 1usize..40, oh in 1usize..60, ow in 1usize..60,
                                  seed in 0u64..1000) {
        let mask = image(h, w, seed).mapv(|v| u8::from(v > 120));
        let out = resize(mask.view(), (oh, ow), Interpolation::Nearest).unwrap();
        prop_assert_eq!(out.dim(), (oh, ow));
        prop_assert!(out.iter().all(|&v| v <= 1));
    }

    /// Every interpolation returns the image itself at its own size, and any size without
    /// panicking.
    #[test]
    fn resize_shapes_and_identity(h in 1usize..30, w in 1usize..30, oh in 1usize..45, ow in 1usize..45,
                                  seed in 0u64..1000) {
        let img = image(h, w, seed);
        for interp in [Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Area] {
            prop_assert_eq!(&resize(img.view(), (h, w), interp).unwrap(), &img);
            prop_assert_eq!(resize(img.view(), (oh, ow), interp).unwrap().dim(), (oh, ow));
        }
    }

    /// Padding to a multiple, then cropping, gives the image back; reflection matches a
    /// naive mirror.
    #[test]
    fn pad_then_crop_is_identity(h in 1usize..50, w in 1usize..50, multiple in 1usize..40, seed in 0u64..1000) {
        let img = image(h, w, seed);
        for mode in [PadMode::Zero, PadMode::Reflect] {
            let (padded, padding) = pad_to_multiple(img.view(), multiple, mode).unwrap();
            prop_assert_eq!(padded.dim().0 % multiple, 0);
            prop_assert_eq!(padded.dim().1 % multiple, 0);
            prop_assert!(padding.top <= padding.bottom && padding.bottom <= padding.top + 1);
            prop_assert_eq!(&padding.crop(padded.view()).unwrap(), &img);
            for ((y, x), &v) in padded.indexed_iter() {
                let (sy, sx) = (y as i64 - padding.top as i64, x as i64 - padding.left as i64);
                let inside = (0..h as i64).contains(&sy) && (0..w as i64).contains(&sx);
                let want = match (mode, inside) {
                    (_, true) => img[[sy as usize, sx as usize]],
                    (PadMode::Zero, false) => 0,
                    (PadMode::Reflect, false) => img[[mirror(sy, h), mirror(sx, w)]],
                };
                prop_assert_eq!(v, want);
            }
        }
    }

    /// Split into patches then stitch: the image back, whatever the size and overlap; every
    /// patch has the grid's size.
    #[test]
    fn split_then_stitch_is_identity(h in 8usize..80, w in 8usize..80, ph in 1usize..9, pw in 1usize..9,
                                     sy in 1usize..12, sx in 1usize..12, seed in 0u64..100) {
        let img = image(h, w, seed).mapv(f32::from);
        let grid = PatchGrid { size: (ph, pw), stride: (sy, sx) };
        let mut stitcher = Stitcher::new((h, w));
        let patches = grid.split(img.view()).unwrap();
        for (origin, patch) in &patches {
            prop_assert_eq!(patch.dim(), (ph, pw));
            stitcher.add(*origin, patch.view()).unwrap();
        }
        // Naive coverage: a stride larger than the patch leaves gaps, which stitching reports.
        let covered = img.indexed_iter().all(|((y, x), _)| {
            patches.iter().any(|((oy, ox), _)| (*oy..oy + ph).contains(&y) && (*ox..ox + pw).contains(&x))
        });
        match stitcher.finish() {
            Ok(out) => {
                prop_assert!(covered);
                prop_assert_eq!(out, img);
            }
            Err(_) => prop_assert!(!covered),
        }
    }

    /// Equalisation is monotone and spans 0..=255 when the image has two levels or more.
    #[test]
    fn equalize_spans_the_range(h in 1usize..30, w in 2usize..30, seed in 0u64..1000) {
        let img = image(h, w, seed);
        let out = equalize_hist(img.view()).unwrap();
        let (lo, hi) = (img.iter().min().unwrap(), img.iter().max().unwrap());
        if lo != hi {
            prop_assert_eq!(*out.iter().max().unwrap(), 255);
            prop_assert_eq!(*out.iter().min().unwrap(), 0);
        } else {
            prop_assert_eq!(&out, &img);
        }
    }
}

#[test]
fn patch_grid_of_the_paper() {
    let grid = PatchGrid::square(128);
    let origins = grid.origins((512, 512)).unwrap();
    assert_eq!(origins.len(), 16);
    assert_eq!(origins[5], (128, 128));
    let overlapping = PatchGrid {
        size: (128, 128),
        stride: (96, 96),
    };
    let o = overlapping.origins((512, 500)).unwrap();
    assert_eq!(o.last(), Some(&(384, 372)));
    assert!(grid.origins((100, 512)).is_err());
    assert!(PatchGrid {
        size: (0, 4),
        stride: (1, 1)
    }
    .origins((8, 8))
    .is_err());
    let mut s = Stitcher::new((4, 4));
    assert!(s
        .add((2, 2), ndarray::Array2::<f32>::zeros((3, 3)).view())
        .is_err());
}

#[test]
fn samplers_are_seeded_and_keep_their_shares() {
    let labels: Vec<bool> = (0..1000).map(|i| i % 10 < 2).collect(); // 200 positives
    let a = undersample_negatives(&labels, 1.0, 5).unwrap();
    assert_eq!(a, undersample_negatives(&labels, 1.0, 5).unwrap());
    assert_ne!(a, undersample_negatives(&labels, 1.0, 6).unwrap());
    assert_eq!(a.len(), 400);
    assert_eq!(a.iter().filter(|&&i| labels[i]).count(), 200);
    let mut unique = a.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 400, "drawn without replacement");

    let b = oversample_positives(&labels, 3, 1);
    assert_eq!(b.len(), 1000 + 2 * 200);
    assert_eq!(b.iter().filter(|&&i| labels[i]).count(), 600);

    let sampler = WeightedSampler::class_balanced(&labels).unwrap();
    let draws = sampler.sample(20_000, 3, 0);
    let share = draws.iter().filter(|&&i| labels[i]).count() as f64 / 20_000.0;
    assert!((share - 0.5).abs() < 0.02, "{share}");
    assert_eq!(draws, sampler.sample(20_000, 3, 0));
    assert_ne!(draws, sampler.sample(20_000, 3, 1));
    let one = WeightedSampler::new(&[0.0, 0.0, 5.0, 0.0]).unwrap();
    assert!(one.sample(100, 1, 0).iter().all(|&i| i == 2));

    let schedule = PositiveShare {
        start: 0.8,
        end: 0.4,
        epochs: 3,
    };
    assert!((schedule.share(1) - 0.6).abs() < 1e-12);
    assert!((schedule.share(10) - 0.4).abs() < 1e-12);
    let epoch = schedule.epoch(&labels, 1, 500, 9).unwrap();
    assert_eq!(epoch.iter().filter(|&&i| labels[i]).count(), 300);
    assert_eq!(epoch, schedule.epoch(&labels, 1, 500, 9).unwrap());

    let none = vec![false; 10];
    assert!(undersample_negatives(&none, 1.0, 0).is_err());
    assert!(WeightedSampler::class_balanced(&none).is_err());
    assert!(WeightedSampler::new(&[0.0, 0.0]).is_err());
    assert!(WeightedSampler::new(&[1.0, f64::NAN]).is_err());
    assert!(schedule.epoch(&none, 0, 10, 0).is_err());
    let bad = PositiveShare {
        start: 1.5,
        end: 0.4,
        epochs: 3,
    };
    assert!(bad.epoch(&labels, 0, 10, 0).is_err());
}

#[test]
fn layouts_do_not_change_results() {
    let img = image(37, 53, 3);
    let transposed = img.t().to_owned();
    let view_of_t = transposed.t(); // same values as img, column-major memory
    let clahe = Clahe::default();
    assert_eq!(
        clahe.apply(view_of_t).unwrap(),
        clahe.apply(img.view()).unwrap()
    );
    assert_eq!(
        equalize_hist(view_of_t).unwrap(),
        equalize_hist(img.view()).unwrap()
    );
}

#[test]
fn channel_stacks() {
    let img = image(32, 48, 1);
    let rep = ChannelStack::replicate(3).apply(img.view()).unwrap();
    for c in 0..3 {
        assert_eq!(rep.index_axis(Axis(0), c), img);
    }
    let stack = ChannelStack {
        channels: vec![
            Channel::Clahe,
            Channel::Raw,
            Channel::Clahe,
            Channel::Equalized,
        ],
        clip_limit: 3.0,
        tiles: TileGrid::square(4),
    };
    let out = stack.apply(img.view()).unwrap();
    let clahe = Clahe {
        clip_limit: 3.0,
        tiles: TileGrid::square(4),
    }
    .apply(img.view())
    .unwrap();
    assert_eq!(out.index_axis(Axis(0), 0), clahe);
    assert_eq!(out.index_axis(Axis(0), 1), img);
    assert_eq!(out.index_axis(Axis(0), 2), clahe);
    assert_eq!(
        out.index_axis(Axis(0), 3),
        equalize_hist(img.view()).unwrap()
    );
    let ahe = ChannelStack {
        channels: vec![Channel::Ahe],
        ..ChannelStack::default()
    };
    assert_eq!(
        ahe.apply(img.view()).unwrap().index_axis(Axis(0), 0),
        Clahe::ahe(TileGrid::square(8)).apply(img.view()).unwrap()
    );
    assert_eq!("CLAHE".parse::<Channel>().unwrap(), Channel::Clahe);
    assert_eq!(" he".parse::<Channel>().unwrap(), Channel::Equalized);
    assert!("sobel".parse::<Channel>().is_err());
    let json = serde_json::to_string(&ChannelStack::default()).unwrap();
    assert_eq!(
        serde_json::from_str::<ChannelStack>(&json).unwrap(),
        ChannelStack::default()
    );
}

#[test]
fn normalization() {
    let img = Array3::from_shape_fn((3, 2, 2), |(c, y, x)| (c * 60 + y * 20 + x * 5) as u8);
    let unit = Normalize::UnitRange.apply(img.view()).unwrap();
    assert!((unit[[2, 1, 1]] - 145.0 / 255.0).abs() < 1e-7);
    let net = Normalize::imagenet().apply(img.view()).unwrap();
    assert!((net[[1, 0, 0]] - (60.0 / 255.0 - 0.456) / 0.224).abs() < 1e-6);
    let sh = Normalize::shannak().apply(img.view()).unwrap();
    assert!((sh[[0, 0, 0]] - (0.0 - 0.4828) / 0.2488).abs() < 1e-6);
}

#[test]
fn bad_options_and_inputs_are_errors() {
    let img = image(8, 8, 0);
    let empty = Array2::<u8>::zeros((0, 5));
    assert!(matches!(
        Clahe::default().apply(empty.view()),
        Err(Error::EmptyImage { .. })
    ));
    assert!(matches!(
        equalize_hist(empty.view()),
        Err(Error::EmptyImage { .. })
    ));
    for bad in [
        Clahe {
            clip_limit: -1.0,
            ..Clahe::default()
        },
        Clahe {
            clip_limit: f64::NAN,
            ..Clahe::default()
        },
        Clahe {
            tiles: TileGrid { cols: 0, rows: 8 },
            ..Clahe::default()
        },
    ] {
        assert!(
            matches!(bad.apply(img.view()), Err(Error::InvalidOption { .. })),
            "{bad:?}"
        );
    }
    let stack = ChannelStack {
        channels: vec![],
        ..ChannelStack::default()
    };
    assert!(matches!(
        stack.apply(img.view()),
        Err(Error::InvalidOption { .. })
    ));
    let three = Array3::<u8>::zeros((3, 4, 4));
    let two = Normalize::PerChannel {
        mean: vec![0.5; 2],
        std: vec![0.2; 2],
    };
    assert!(matches!(
        two.apply(three.view()),
        Err(Error::InvalidOption { .. })
    ));
    let zero_std = Normalize::MeanStd {
        mean: 0.5,
        std: 0.0,
    };
    assert!(matches!(
        zero_std.apply(three.view()),
        Err(Error::InvalidOption { .. })
    ));
}
