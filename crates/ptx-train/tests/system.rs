//! The one predictor: each image in with what its file says, its mask out at its own size;
//! the classifier gate and the pixel threshold as `PostProcess` applies them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::num::NonZeroUsize;
use std::path::Path;

use ndarray::Array2;
use ptx_io::synth::{write_dataset, SynthOptions};
use ptx_metrics::PostProcess;
use ptx_models::{ClassifierOptions, EncoderName, Model, ModelConfig, UnetConfig};
use ptx_preproc::{resize, ChannelStack, Interpolation};
use ptx_train::{
    image_score, DataConfig, Dataset, Ensemble, InputConfig, SampleSource, System, SystemConfig,
    Truth,
};
use tch::Device;

/// A random-initialised ResNet18 U-Net (with a classifier head when `head`) saved in `dir`.
fn saved_model(dir: &Path, head: bool, seed: i64) {
    tch::manual_seed(seed);
    let config = UnetConfig {
        encoder: EncoderName::Resnet18,
        in_channels: 1,
        classifier: head.then(ClassifierOptions::default),
        decoder: ptx_models::DecoderOptions {
            channels: [16, 16, 8, 8, 8],
            ..Default::default()
        },
        ..UnetConfig::default()
    };
    Model::new(ModelConfig::Unet(config), Device::Cpu)
        .unwrap()
        .save(dir)
        .unwrap();
}

fn input() -> InputConfig {
    InputConfig {
        size: InputConfig::square(64).unwrap(),
        channels: ChannelStack::replicate(1),
        ..InputConfig::default()
    }
}

/// Ten 96-px synthetic DICOMs, all of them.
fn source(dir: &Path) -> SampleSource {
    write_dataset(
        dir,
        &SynthOptions {
            count: 10,
            size: 96,
            seed: 11,
            positive_share: 0.5,
            ..SynthOptions::default()
        },
    )
    .unwrap();
    let data = DataConfig::new(
        dir.join("dicom-images-train"),
        Truth::Annotations {
            csv: dir.join("train-rle.csv"),
            rle: Default::default(),
        },
    );
    let dataset = Dataset::open(&data, 0).unwrap();
    let all: Vec<usize> = (0..dataset.samples().len()).collect();
    dataset.source(&all).unwrap()
}

#[test]
fn masks_at_the_images_own_size_with_their_metadata_and_the_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let (cls, seg) = (tmp.path().join("cls"), tmp.path().join("seg"));
    saved_model(&cls, true, 1);
    saved_model(&seg, false, 2);
    let source = source(&tmp.path().join("data"));
    let config = |threshold| SystemConfig {
        classifier: vec![cls.clone()],
        segmenter: vec![seg.clone()],
        input: input(),
        hflip: true,
        postprocess: PostProcess {
            classifier_threshold: threshold,
            ..PostProcess::threshold(0.5)
        },
        batch_size: NonZeroUsize::new(3).unwrap(),
    };
    // Without a gate: every image's probabilities at the input size, and its score from the
    // classifier's head.
    let open = System::new(config(None), Device::Cpu).unwrap();
    let (maps, skipped) = open.probabilities(source.clone(), 1).unwrap();
    assert_eq!((maps.len(), skipped.len()), (10, 0));
    let classifier = Ensemble::load(std::slice::from_ref(&cls), Device::Cpu, true).unwrap();
    let mut scores: Vec<f64> = Vec::new();
    for p in &maps {
        assert_eq!(p.probability.dim(), (64, 64));
        scores.push(p.score());
        assert_eq!(Some(p.score()), p.classifier);
    }
    let (by_classifier, _) = classifier
        .predict(source.clone(), input().eval_pipeline(), 3, 1)
        .unwrap();
    let head: Vec<f64> = by_classifier
        .iter()
        .map(|p| p.classifier.unwrap())
        .collect();
    assert_eq!(head, scores);

    // A gate between the scores: exactly the images at or above it keep a mask, and each
    // kept mask is the thresholded map resized (nearest) to the image's own 96 x 96.
    let mut sorted = scores.clone();
    sorted.sort_by(f64::total_cmp);
    let gate = sorted[5];
    let system = System::new(config(Some(gate)), Device::Cpu).unwrap();
    let (predictions, _) = system.predict(source.clone(), 1).unwrap();
    assert_eq!(predictions.len(), 10);
    for (p, map) in predictions.iter().zip(&maps) {
        assert_eq!(p.meta.size, (96, 96));
        assert_eq!(p.mask.dim(), (96, 96));
        assert_eq!(p.score, map.score());
        let sample = source.sample(map.index).unwrap();
        assert_eq!(p.meta.image_id, sample.image_id);
        assert_eq!(p.meta.sop_instance_uid(), Some(sample.image_id.as_str()));
        let spacing = p.meta.pixel_spacing().unwrap();
        assert!(
            (spacing.row_mm - 0.143 * 1024.0 / 96.0).abs() < 1e-3,
            "{spacing:?}"
        );
        let expected: Array2<u8> = if p.score >= gate {
            let at_input = map.probability.mapv(|v| u8::from(v > 0.5));
            resize(at_input.view(), (96, 96), Interpolation::Nearest).unwrap()
        } else {
            Array2::zeros((96, 96))
        };
        assert_eq!(p.mask, expected, "{}", p.meta.image_id);
    }
    // Streaming gives the same, one image at a time, with the pixels when asked for.
    let mut seen = 0;
    system
        .predict_each(source.keeping_pixels(), 1, |p| {
            assert_eq!(p.mask, predictions[seen].mask);
            assert_eq!(p.meta.pixels.as_ref().map(Array2::dim), Some((96, 96)));
            seen += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, 10);
}

#[test]
fn without_a_classifier_the_score_is_the_segmenters_highest_pixel() {
    let tmp = tempfile::tempdir().unwrap();
    let seg = tmp.path().join("seg");
    saved_model(&seg, false, 3);
    let source = source(&tmp.path().join("data"));
    let system = System::new(
        SystemConfig {
            classifier: Vec::new(),
            segmenter: vec![seg],
            input: input(),
            hflip: false,
            postprocess: PostProcess::threshold(0.5),
            batch_size: NonZeroUsize::new(4).unwrap(),
        },
        Device::Cpu,
    )
    .unwrap();
    let (maps, _) = system.probabilities(source.clone(), 1).unwrap();
    let (predictions, _) = system.predict(source, 1).unwrap();
    for (p, map) in predictions.iter().zip(&maps) {
        assert_eq!(map.classifier, None);
        let highest = map.probability.iter().copied().fold(0.0f32, f32::max);
        assert_eq!(p.score, f64::from(highest));
        assert_eq!(image_score(map.probability.view(), None), p.score);
    }
    // system.json round trip, with a batch size of 0 refused as it is read.
    system.config().write(tmp.path()).unwrap();
    let text = std::fs::read_to_string(tmp.path().join(ptx_train::SYSTEM_FILE)).unwrap();
    let back: SystemConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(
        back.segmenter,
        vec![std::path::PathBuf::from("seg")],
        "relative to the folder"
    );
    let zero = text.replace("\"batch_size\": 4", "\"batch_size\": 0");
    assert!(serde_json::from_str::<SystemConfig>(&zero).is_err());
}
