//! Every model against its PyTorch counterpart, on the files `tests/reference/models_reference.py`
//! writes (run by `scripts/golden.sh`): segmentation_models_pytorch 0.6.0 U-Nets for every
//! encoder, the decoder options, reference modules for ASPP / hypercolumns / the plain U-Net,
//! classifier checkpoints from torchvision / timm / CheXNet, and one Adam step.
//!
//! Tolerances (float32, CPU, both sides libtorch 2.11): forward outputs `max |a - b| <= 1e-4`
//! (absolute, as the issue asks; outputs reach |y| ~ 100); imported weights bit-identical;
//! weights after one training step `max |a - b| <= 1e-4`. Key sets (names and shapes) equal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ptx_models::{Model, ModelConfig, UnetConfig, WeightSource};
use serde::Deserialize;
use tch::{Device, Kind, Tensor};

const FORWARD_ATOL: f64 = 1e-4;
const STEP_ATOL: f64 = 1e-4;

fn npy(path: &Path) -> Tensor {
    let (_, shape, values) = ptx_testdata::read_npy(path);
    let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    Tensor::from_slice(&values)
        .to_kind(Kind::Float)
        .reshape(&shape)
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

#[derive(Deserialize)]
struct CaseFile {
    config: serde_json::Value,
    output_abs_max: f64,
}

fn cases(prefix: &str) -> Option<Vec<PathBuf>> {
    let dir = ptx_testdata::golden("models")?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no {prefix}* cases in {}", dir.display());
    Some(found)
}

/// Builds the case's model, compares key sets, loads the weights, runs eval mode; returns the
/// largest output difference.
fn check_case(dir: &Path) -> f64 {
    let case: CaseFile =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let config: ModelConfig = serde_json::from_value(case.config.clone())
        .unwrap_or_else(|e| panic!("{}: config {}: {e}", dir.display(), case.config));
    let mut model = Model::new(config, Device::Cpu).unwrap();

    let keys: BTreeMap<String, Vec<i64>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("keys.json")).unwrap()).unwrap();
    let ours: BTreeMap<String, Vec<i64>> = model
        .var_store()
        .variables()
        .into_iter()
        .map(|(k, t)| (k, t.size()))
        .collect();
    let only_py: Vec<_> = keys
        .keys()
        .filter(|k| !ours.contains_key(*k))
        .take(5)
        .collect();
    let only_rs: Vec<_> = ours
        .keys()
        .filter(|k| !keys.contains_key(*k))
        .take(5)
        .collect();
    assert!(
        only_py.is_empty() && only_rs.is_empty(),
        "{}: key sets differ; only in PyTorch: {only_py:?}, only in ptx: {only_rs:?}",
        dir.display()
    );
    assert_eq!(ours, keys, "{}: shapes differ", dir.display());

    let report = model
        .load_weights(&dir.join("weights.safetensors"), WeightSource::Model, true)
        .unwrap();
    assert!(
        report.unexpected.is_empty() && report.missing.is_empty(),
        "{report}"
    );
    let x = npy(&dir.join("input.npy"));
    let out = tch::no_grad(|| model.forward_t(&x, false)).unwrap();
    let mut diff = max_diff(&out.logits, &npy(&dir.join("output.npy")));
    let labels = dir.join("labels.npy");
    if labels.exists() {
        diff = diff.max(max_diff(
            out.labels.as_ref().expect("model has no classifier"),
            &npy(&labels),
        ));
    }
    eprintln!(
        "{}: max |diff| {diff:.3e} (outputs up to {:.3})",
        dir.file_name().unwrap().to_string_lossy(),
        case.output_abs_max
    );
    diff
}

fn check_all(prefix: &str) {
    tch::set_num_threads(1);
    let Some(dirs) = cases(prefix) else { return };
    let mut worst = Vec::new();
    for dir in &dirs {
        let d = check_case(dir);
        if d > FORWARD_ATOL {
            worst.push((dir.file_name().unwrap().to_string_lossy().into_owned(), d));
        }
    }
    assert!(
        worst.is_empty(),
        "outputs differ by more than {FORWARD_ATOL}: {worst:?}"
    );
}

#[test]
fn resnet_encoders_match_smp() {
    check_all("enc_resnet");
}

#[test]
fn densenet_senet_inception_encoders_match() {
    check_all("enc_densenet");
    check_all("enc_se_resnext");
    check_all("enc_tu-inception");
}

#[test]
fn vgg_and_plain_encoders_match_smp() {
    check_all("enc_vgg");
    check_all("enc_plain");
}

#[test]
fn efficientnet_encoders_match_smp() {
    check_all("enc_efficientnet");
}

#[test]
fn decoder_options_match() {
    check_all("dec_");
}

#[test]
fn plain_unets_match_reference_module() {
    check_all("plain_unet");
}

#[derive(Deserialize)]
struct Import {
    file: String,
    encoder: String,
    in_channels: i64,
}

#[test]
fn classifier_and_model_checkpoints_import_exactly() {
    let Some(dir) = ptx_testdata::golden("models/imports") else {
        return;
    };
    let spec: BTreeMap<String, Import> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("imports.json")).unwrap()).unwrap();
    assert!(spec.len() >= 7);
    for (name, imp) in spec {
        let config = UnetConfig {
            encoder: imp.encoder.parse().unwrap(),
            in_channels: imp.in_channels,
            ..UnetConfig::default()
        };
        let mut model = Model::new(ModelConfig::Unet(config), Device::Cpu).unwrap();
        let whole = name.starts_with("smp_");
        let report = model
            .load_weights(&dir.join(&imp.file), WeightSource::Auto, whole)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // every encoder variable came from the file (classifier layers ignored, nothing missing)
        assert!(report.missing.is_empty(), "{name}: {report}");
        assert!(report.unexpected.is_empty(), "{name}: {report}");
        if !whole {
            assert!(
                !report.ignored.is_empty(),
                "{name}: classifier layers should be ignored"
            );
        }
        assert_eq!(
            report.adapted.len(),
            usize::from(imp.in_channels != 3),
            "{name}: {report}"
        );
        let expected =
            Tensor::read_safetensors(dir.join(format!("{name}.expected.safetensors"))).unwrap();
        let vars = model.var_store().variables();
        for (key, want) in &expected {
            let have = vars
                .get(key)
                .unwrap_or_else(|| panic!("{name}: no variable {key}"));
            assert_eq!(have.size(), want.size(), "{name}: {key}");
            assert!(
                max_diff(have, want) == 0.0,
                "{name}: {key} differs by {}",
                max_diff(have, want)
            );
        }
        eprintln!("{name}: {report}; {} tensors identical", expected.len());
    }
}

#[test]
fn one_adam_step_moves_weights_as_pytorch() {
    use tch::nn::OptimizerConfig;
    let Some(dir) = ptx_testdata::golden("models/train_step") else {
        return;
    };
    tch::set_num_threads(1);
    let mut model = Model::new(ModelConfig::Unet(UnetConfig::default()), Device::Cpu).unwrap();
    model
        .load_weights(&dir.join("before.safetensors"), WeightSource::Model, true)
        .unwrap();
    let x = npy(&dir.join("input.npy"));
    let target = npy(&dir.join("target.npy"));
    let mut opt = tch::nn::Adam::default()
        .build(model.var_store(), 1e-3)
        .unwrap();
    let logits = model.forward_t(&x, true).unwrap().logits;
    let loss = logits.binary_cross_entropy_with_logits::<Tensor>(
        &target,
        None,
        None,
        tch::Reduction::Mean,
    );
    opt.backward_step(&loss);
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let py_loss = case["loss"].as_f64().unwrap();
    assert!((loss.double_value(&[]) - py_loss).abs() <= 1e-5 * py_loss.abs().max(1.0));
    let after = Tensor::read_safetensors(dir.join("after.safetensors")).unwrap();
    let before: BTreeMap<String, Tensor> = Tensor::read_safetensors(dir.join("before.safetensors"))
        .unwrap()
        .into_iter()
        .collect();
    let vars = model.var_store().variables();
    let (mut worst, mut moved) = (0.0f64, 0usize);
    for (key, want) in &after {
        let have = &vars[key];
        let d = max_diff(have, want);
        worst = worst.max(d);
        assert!(
            d <= STEP_ATOL,
            "{key}: differs from PyTorch by {d:.3e} after one step"
        );
        if max_diff(want, &before[key]) > 0.0 {
            moved += 1;
        }
    }
    eprintln!("one Adam step: {moved} tensors moved, max |diff| {worst:.3e}, loss {py_loss:.6}");
    assert!(
        moved > 200,
        "the step should move weights and statistics ({moved})"
    );
}
