//! Times the whole per-sample pipeline through the [`Loader`] the way
//! `scripts/bench_pipeline_peer.py` times albumentations + OpenCV in a PyTorch `DataLoader`:
//! decode a SIIM DICOM (ptx-io), resize 1024 -> 512 (area; mask nearest), Haghanifar et al.'s
//! augmentation list, raw + AHE + CLAHE channels, `/ 255` to `f32`, batches of 8 on THREADS
//! threads. One warm-up epoch of 16 samples, then SAMPLES samples.
//! Usage: pipeline_timing SAMPLES THREADS DICOM...; prints one JSON object.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use ndarray::Array2;
use ptx_preproc::{Augment, Loaded, Loader, LoaderOptions, Pipeline, Source};

#[path = "../benches/support/mod.rs"]
mod support;

/// `samples` samples cycling over the DICOM files, each with the shared test mask.
struct Dicoms {
    files: Vec<PathBuf>,
    samples: usize,
    mask: Array2<u8>,
}

impl Source for Dicoms {
    type Meta = ();
    type Error = ptx_io::Error;

    fn len(&self) -> usize {
        self.samples
    }

    fn load(&self, index: usize) -> Result<Loaded<()>, ptx_io::Error> {
        let path = &self.files[index % self.files.len()];
        Ok(Loaded {
            image: ptx_io::image_file::read_image_gray8(path)?,
            mask: self.mask.clone(),
            meta: (),
        })
    }
}

fn run(files: &[PathBuf], samples: usize, threads: usize) -> f64 {
    let source = Dicoms {
        files: files.to_vec(),
        samples,
        mask: support::mask(1024),
    };
    let pipeline = Pipeline {
        augment: Augment::haghanifar(),
        ..Pipeline::default()
    };
    let options = LoaderOptions {
        batch_size: 8,
        threads,
        shuffle: false,
        ..LoaderOptions::default()
    };
    let loader = Loader::new(source, pipeline, options).unwrap();
    let start = Instant::now();
    let mut seen = 0;
    for batch in loader.epoch(0) {
        seen += batch.unwrap().images.dim().0;
    }
    assert_eq!(seen, samples);
    start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let samples: usize = args.next().map_or(64, |a| a.parse().expect("SAMPLES"));
    let threads: usize = args.next().map_or(2, |a| a.parse().expect("THREADS"));
    let files: Vec<PathBuf> = args.map(PathBuf::from).collect();
    assert!(
        !files.is_empty(),
        "usage: pipeline_timing SAMPLES THREADS DICOM..."
    );
    run(&files, 16, threads);
    let seconds = run(&files, samples, threads);
    println!(
        "{{\"per_image_s\": {}, \"samples\": {samples}, \"threads\": {threads}}}",
        seconds / samples as f64
    );
}
