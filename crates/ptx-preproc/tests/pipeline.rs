//! The pipeline's preparation step: the prepared channel replaces the grey image before the
//! augmentation, exactly as if the file had held the prepared image.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::Array2;
use ptx_preproc::{Augment, Channel, ChannelStack, Clahe, Normalize, Pipeline};

/// A 72 x 64 image with smooth structure and noise (deterministic).
fn image() -> Array2<u8> {
    let mut state = 12345u32;
    Array2::from_shape_fn((72, 64), |(y, x)| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let noise = (state >> 24) as usize % 24;
        ((y * 2 + x + noise) % 200 + 20) as u8
    })
}

fn pipeline(prepare: Channel, augment: Augment) -> Pipeline {
    Pipeline {
        size: None,
        prepare,
        augment,
        channels: ChannelStack::replicate(1),
        normalize: Normalize::UnitRange,
    }
}

#[test]
fn prepared_clahe_is_the_clahe_image() {
    let img = image();
    let mask = Array2::<u8>::zeros(img.dim());
    let stack = ChannelStack::replicate(1);
    let clahe = Clahe {
        clip_limit: stack.clip_limit,
        tiles: stack.tiles,
    }
    .apply(img.view())
    .unwrap();
    let (x, _) = pipeline(Channel::Clahe, Augment::default())
        .process(img.view(), mask.view(), 7, 0)
        .unwrap();
    let expected = clahe.mapv(|v| f32::from(v) / 255.0);
    assert_eq!(x.index_axis(ndarray::Axis(0), 0), expected);
}

#[test]
fn preparation_comes_before_the_augmentation() {
    // Dasic et al.'s list has brightness changes, which do not commute with CLAHE: the
    // prepared pipeline must equal the unprepared one fed the CLAHE image, draw for draw.
    let img = image();
    let mask = Array2::from_shape_fn(img.dim(), |(y, x)| u8::from(y > 30 && x < 20));
    let stack = ChannelStack::replicate(1);
    let clahe = Clahe {
        clip_limit: stack.clip_limit,
        tiles: stack.tiles,
    }
    .apply(img.view())
    .unwrap();
    let mut differs = false;
    for stream in 0..8 {
        let prepared = pipeline(Channel::Clahe, Augment::dasic())
            .process(img.view(), mask.view(), 3, stream)
            .unwrap();
        let by_hand = pipeline(Channel::Raw, Augment::dasic())
            .process(clahe.view(), mask.view(), 3, stream)
            .unwrap();
        assert_eq!(prepared, by_hand, "stream {stream}");
        let unprepared = pipeline(Channel::Raw, Augment::dasic())
            .process(img.view(), mask.view(), 3, stream)
            .unwrap();
        differs |= unprepared.0 != prepared.0;
    }
    assert!(differs, "the preparation changed nothing");
}
