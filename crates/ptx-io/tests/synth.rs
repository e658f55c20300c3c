//! The synthetic dataset reads back through the same code paths as SIIM's real files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_io::annotations::Annotations;
use ptx_io::dicom::DicomImage;
use ptx_io::index::DatasetIndex;
use ptx_io::rle::RleForm;
use ptx_io::synth::{generate, write_dataset, SynthOptions};

#[test]
fn synthetic_set_reads_back_as_siim_data() {
    let dir = tempfile::tempdir().unwrap();
    let options = SynthOptions {
        count: 24,
        size: 128,
        seed: 7,
        ..SynthOptions::default()
    };
    let summary = write_dataset(dir.path(), &options).unwrap();
    assert_eq!(summary.images, 24);
    assert!(
        summary.positives >= 2 && summary.positives <= 14,
        "{summary:?}"
    );
    assert!(summary.lesions >= summary.positives);
    let annotations = Annotations::read(&summary.annotations).unwrap();
    assert_eq!(annotations.len(), 24);
    assert_eq!(
        annotations.row_count(),
        24 - summary.positives + summary.lesions
    );
    let index = DatasetIndex::from_dicom_tree(&summary.dicom_root, &annotations, RleForm::Relative)
        .unwrap();
    assert_eq!(index.positives(), summary.positives);
    for i in 0..24 {
        let case = generate(&options, i);
        let path = summary
            .dicom_root
            .join(&case.study_uid)
            .join(&case.series_uid)
            .join(format!("{}.dcm", case.image_id));
        let image = DicomImage::open(&path).unwrap();
        let display = image.display(&Default::default()).unwrap();
        assert_eq!(display, case.image, "{}", case.image_id);
        let mask = annotations
            .mask(&case.image_id, (128, 128), RleForm::Relative)
            .unwrap()
            .unwrap_or_else(|| ndarray::Array2::zeros((128, 128)));
        assert_eq!(mask, case.mask(), "{}", case.image_id);
    }
}

#[test]
fn cases_are_deterministic_and_lesions_sit_in_the_lungs() {
    let options = SynthOptions {
        size: 96,
        seed: 3,
        positive_share: 1.0,
        ..SynthOptions::default()
    };
    let mut lesion_pixels = 0usize;
    for i in 0..10 {
        let a = generate(&options, i);
        assert_eq!(a, generate(&options, i));
        assert!(!a.lesions.is_empty());
        let mask = a.mask();
        let inside: Vec<u8> = a
            .image
            .iter()
            .zip(mask.iter())
            .filter(|(_, &m)| m == 1)
            .map(|(&p, _)| p)
            .collect();
        lesion_pixels += inside.len();
        // lesions are dark (collapsed lung, no markings): darker than the image's mean
        let mean_all = a.image.iter().map(|&p| p as f64).sum::<f64>() / a.image.len() as f64;
        let mean_in = inside.iter().map(|&p| p as f64).sum::<f64>() / inside.len().max(1) as f64;
        assert!(
            mean_in < mean_all,
            "case {i}: lesion {mean_in:.1} vs image {mean_all:.1}"
        );
    }
    assert!(lesion_pixels > 0);
    let other = SynthOptions {
        seed: 4,
        ..options.clone()
    };
    assert_ne!(generate(&options, 0).image, generate(&other, 0).image);
    assert!(write_dataset(
        std::path::Path::new("/nonexistent/x"),
        &SynthOptions {
            count: 0,
            ..options
        }
    )
    .is_err());
}
