//! ptx-io benchmarks on the real SIIM data (`../shared/data`):
//! - `rle/decode_encode_1500_rows`: decode every row of the 1,500-row annotation subset into a
//!   1024x1024 mask and encode it back (relative form);
//! - `dicom/decode_siim_jpeg`: parse and decode one SIIM DICOM (JPEG baseline, 1024x1024)
//!   from memory.
//!
//! `scripts/bench_io.sh` runs these beside numpy/pydicom on the same inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ptx_io::annotations::Annotations;
use ptx_io::dicom::{DicomImage, ReadOptions};
use ptx_io::rle::{self, RleForm};

fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} missing", p.display());
        None
    }
}

fn rle_bench(c: &mut Criterion) {
    let Some(csv) = shared("siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv") else {
        return;
    };
    let ann = Annotations::read(csv).expect("annotations");
    let rows: Vec<String> = ann
        .image_ids()
        .flat_map(|id| ann.rows(id).unwrap_or_default().to_vec())
        .collect();
    assert_eq!(rows.len(), 1500);
    c.bench_function("rle/decode_encode_1500_rows", |b| {
        b.iter(|| {
            let mut total = 0;
            for row in &rows {
                let mask = rle::decode(black_box(row), (1024, 1024), RleForm::Relative)
                    .expect("valid row");
                total += rle::encode(&mask.view(), RleForm::Relative).len();
            }
            total
        })
    });
}

fn dicom_bench(c: &mut Criterion) {
    let Some(path) = shared("siim/dicom/1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319.dcm")
    else {
        return;
    };
    let bytes = std::fs::read(path).expect("dicom");
    c.bench_function("dicom/decode_siim_jpeg", |b| {
        b.iter(|| {
            DicomImage::from_bytes(black_box(&bytes), &ReadOptions::default()).expect("decodes")
        })
    });
}

mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, rle_bench, dicom_bench);
}
criterion_main!(group::benches);
