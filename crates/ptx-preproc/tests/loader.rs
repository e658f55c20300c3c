//! The loader: same batches whatever the thread count, bounded prefetch, orders, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ndarray::Array2;
use ptx_preproc::{
    Augment, Batch, Error, Loaded, Loader, LoaderOptions, OnError, Pipeline, Source,
};

/// Synthetic radiograph-like samples; counts loads; fails on listed indices.
struct Synthetic {
    n: usize,
    size: usize,
    loads: Arc<AtomicUsize>,
    broken: Vec<usize>,
}

/// A sample that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("sample {0} is corrupt")]
struct Corrupt(usize);

impl Source for Synthetic {
    type Meta = usize;
    type Error = Corrupt;

    fn len(&self) -> usize {
        self.n
    }

    fn load(&self, index: usize) -> Result<Loaded<usize>, Corrupt> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        if self.broken.contains(&index) {
            return Err(Corrupt(index));
        }
        let s = self.size;
        let image =
            Array2::from_shape_fn((s, s), |(y, x)| ((x * 7 + y * 3 + index * 29) % 251) as u8);
        let mask =
            Array2::from_shape_fn((s, s), |(y, x)| u8::from(y < s / 3 && x > index % (s / 2)));
        Ok(Loaded {
            image,
            mask,
            meta: index * 10,
        })
    }
}

fn synthetic(n: usize) -> Synthetic {
    Synthetic {
        n,
        size: 96,
        loads: Arc::default(),
        broken: vec![],
    }
}

fn pipeline() -> Pipeline {
    Pipeline {
        size: Some((64, 64)),
        augment: Augment::haghanifar(),
        ..Pipeline::default()
    }
}

fn run(threads: usize, epoch: usize) -> Vec<Batch<usize>> {
    let options = LoaderOptions {
        batch_size: 4,
        threads,
        seed: 17,
        ..LoaderOptions::default()
    };
    let loader = Loader::new(synthetic(11), pipeline(), options).unwrap();
    loader.epoch(epoch).collect::<Result<_, _>>().unwrap()
}

fn bytes(batches: &[Batch<usize>]) -> Vec<u8> {
    batches
        .iter()
        .flat_map(|b| {
            b.images
                .iter()
                .chain(b.masks.iter())
                .flat_map(|v| v.to_le_bytes())
        })
        .collect()
}

#[test]
fn same_batches_with_one_and_four_threads() {
    let one = run(1, 3);
    let four = run(4, 3);
    assert_eq!(one.len(), 3);
    assert_eq!(bytes(&one), bytes(&four), "byte-identical batches");
    assert_eq!(
        one.iter().map(|b| b.indices.clone()).collect::<Vec<_>>(),
        four.iter().map(|b| b.indices.clone()).collect::<Vec<_>>()
    );
    // Each row carries its sample's metadata.
    for b in &one {
        let metas: Vec<usize> = b.indices.iter().map(|i| i * 10).collect();
        assert_eq!(b.metas, metas);
    }
    // Another epoch: another order and other augmentations.
    let other = run(2, 4);
    assert_ne!(one[0].indices, other[0].indices);
    assert_ne!(bytes(&one), bytes(&other));
    // Shapes and value ranges.
    assert_eq!(one[0].images.dim(), (4, 3, 64, 64));
    assert_eq!(one[2].masks.dim(), (3, 1, 64, 64));
    assert!(one
        .iter()
        .all(|b| b.masks.iter().all(|&v| v == 0.0 || v == 1.0)));
    assert!(one
        .iter()
        .all(|b| b.images.iter().all(|&v| (0.0..=1.0).contains(&v))));
}

#[test]
fn batches_equal_the_pipeline_run_alone() {
    // The loader adds nothing: row k is Pipeline::process of that sample with its stream.
    let options = LoaderOptions {
        batch_size: 3,
        threads: 2,
        shuffle: false,
        seed: 5,
        ..LoaderOptions::default()
    };
    let source = synthetic(5);
    let Loaded { image, mask, .. } = source.load(4).unwrap();
    let loader = Loader::new(source, pipeline(), options).unwrap();
    let batches: Vec<Batch<usize>> = loader.epoch(2).collect::<Result<_, _>>().unwrap();
    let (want, want_mask) = pipeline()
        .process(image.view(), mask.view(), 5, (2u64 << 32) | 4)
        .unwrap();
    assert_eq!(batches[1].indices, vec![3, 4]);
    assert_eq!(batches[1].images.index_axis(ndarray::Axis(0), 1), want);
    assert_eq!(
        batches[1]
            .masks
            .index_axis(ndarray::Axis(0), 1)
            .index_axis(ndarray::Axis(0), 0),
        want_mask
    );
}

#[test]
fn prefetch_bounds_memory() {
    // The consumer holds the first batch and waits: the loader stops after prefetch batches
    // beyond the one being built, whatever the dataset size.
    let loads = Arc::new(AtomicUsize::new(0));
    let source = Synthetic {
        n: 1000,
        size: 16,
        loads: Arc::clone(&loads),
        broken: vec![],
    };
    let options = LoaderOptions {
        batch_size: 5,
        threads: 2,
        prefetch: 2,
        ..LoaderOptions::default()
    };
    let pipeline = Pipeline {
        size: None,
        ..Pipeline::default()
    };
    let loader = Loader::new(source, pipeline, options).unwrap();
    let mut batches = loader.epoch(0);
    let first = batches.next().unwrap().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let loaded = loads.load(Ordering::SeqCst);
    // One consumed, two queued, one blocked in send and the window of prefetch + 1 = 3
    // batches being worked on (the documented 2 prefetch + 2): at most 6 batches of 5.
    assert!(loaded <= 6 * 5, "{loaded} samples loaded ahead");
    assert!(loaded >= 3 * 5, "prefetch did not run ahead: {loaded}");
    assert_eq!(first.indices.len(), 5);
    drop(batches); // stops the producer without draining 200 batches
    assert!(loads.load(Ordering::SeqCst) <= 6 * 5);
}

#[test]
fn orders_from_samplers_and_drop_last() {
    let options = LoaderOptions {
        batch_size: 4,
        drop_last: true,
        shuffle: false,
        ..LoaderOptions::default()
    };
    let pipeline = Pipeline {
        size: None,
        ..Pipeline::default()
    };
    let loader = Loader::new(synthetic(6), pipeline, options).unwrap();
    let order = vec![5, 5, 1, 0, 2, 5, 3];
    let batches: Vec<Batch<usize>> = loader
        .epoch_with_order(0, order)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(batches.len(), 1, "the incomplete batch of 3 is dropped");
    assert_eq!(batches[0].indices, vec![5, 5, 1, 0]);
    assert_eq!(
        batches[0].images.index_axis(ndarray::Axis(0), 0),
        batches[0].images.index_axis(ndarray::Axis(0), 1)
    );
    assert_eq!(loader.batch_count(7), 1);
    assert_eq!(loader.epoch(0).len(), 1);
}

#[test]
fn failing_samples_fail_or_are_skipped() {
    let pipeline = Pipeline {
        size: Some((32, 32)),
        ..Pipeline::default()
    };
    let broken = || Synthetic {
        n: 6,
        size: 40,
        loads: Arc::default(),
        broken: vec![4],
    };
    let fail = LoaderOptions {
        batch_size: 3,
        shuffle: false,
        ..LoaderOptions::default()
    };
    let loader = Loader::new(broken(), pipeline.clone(), fail).unwrap();
    let results: Vec<_> = loader.epoch(0).collect();
    assert!(results[0].is_ok());
    match &results[1] {
        Err(Error::Load {
            index: Some(4),
            cause,
        }) => {
            assert_eq!(cause.to_string(), "sample 4 is corrupt");
            assert!(cause.downcast_ref::<Corrupt>().is_some(), "typed");
        }
        other => panic!("{other:?}"),
    }
    let skip = LoaderOptions {
        on_error: OnError::Skip,
        ..fail
    };
    let loader = Loader::new(broken(), pipeline, skip).unwrap();
    let batches: Vec<Batch<usize>> = loader.epoch(0).collect::<Result<_, _>>().unwrap();
    assert_eq!(batches[1].indices, vec![3, 5]);
    assert_eq!(batches[1].images.dim().0, 2);
    assert_eq!(batches[1].skipped.len(), 1);
    assert_eq!(batches[1].skipped[0].0, 4);
    let reason = &batches[1].skipped[0].1;
    assert!(reason.to_string().contains("corrupt"), "{reason}");
    // Bad options.
    for options in [
        LoaderOptions {
            batch_size: 0,
            ..LoaderOptions::default()
        },
        LoaderOptions {
            prefetch: 0,
            ..LoaderOptions::default()
        },
    ] {
        assert!(matches!(
            Loader::new(synthetic(1), Pipeline::default(), options),
            Err(Error::InvalidOption { .. })
        ));
    }
    // Samples of different sizes without a pipeline size: an error naming the sample.
    let mixed: Vec<(Array2<u8>, Array2<u8>)> = vec![
        (Array2::zeros((8, 8)), Array2::zeros((8, 8))),
        (Array2::zeros((9, 8)), Array2::zeros((9, 8))),
    ];
    let loader = Loader::new(
        mixed,
        Pipeline {
            size: None,
            ..Pipeline::default()
        },
        LoaderOptions {
            shuffle: false,
            ..LoaderOptions::default()
        },
    )
    .unwrap();
    let err = loader.epoch(0).next().unwrap().unwrap_err();
    assert!(matches!(err, Error::Load { index: Some(1), .. }), "{err}");
}
