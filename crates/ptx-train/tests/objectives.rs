//! The options the paper examples need: initial weights (`[[init]]`), the reconstruction and
//! classification objectives, class labels from a CSV, per-epoch sampling, folds from a file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ptx_io::folds::Split;
use ptx_io::synth::{write_dataset, SynthOptions};
use ptx_models::{Part, WeightSource};
use ptx_train::{Error, Experiment, Folds, InitFrom, LossConfig, Resume, Sampling, Trainer};

/// libtorch's generator is global; these tests take turns (see tests/training.rs).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// 16 synthetic images (a quarter positive) of 64 px under `dir`.
fn synth(dir: &Path) {
    write_dataset(
        dir,
        &SynthOptions {
            count: 16,
            size: 64,
            seed: 5,
            positive_share: 0.25,
            ..SynthOptions::default()
        },
    )
    .unwrap();
}

/// A 32 px experiment on `data` with `model` and `objective`; grey input when `grey`.
fn experiment(data: &Path, model: &str, grey: bool, objective: &str) -> Experiment {
    let channels = if grey {
        r#"channels = { channels = ["raw"] }"#
    } else {
        ""
    };
    Experiment::from_toml(&format!(
        r#"
seed = 4

[data]
images = "{images}"
annotations = "{csv}"
folds = 4

[input]
size = [32, 32]
{channels}

[model]
{model}

[loss]
objective = "{objective}"

[train]
epochs = 1
batch_size = 4
loader_threads = 1
device = "cpu"
progress = false
montage = 0
monitor = "val_loss"
"#,
        images = data.join("dicom-images-train").display(),
        csv = data.join("train-rle.csv").display(),
    ))
    .unwrap()
}

const RESNET: &str = r#"arch = "unet"
encoder = "resnet18"
decoder = { channels = [16, 16, 8, 8, 8] }"#;

fn weights(dir: &Path) -> std::collections::BTreeMap<String, tch::Tensor> {
    tch::Tensor::read_safetensors(dir.join("model.safetensors"))
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn init_copies_the_parts_asked_for_and_refuses_missing_files() {
    let _turn = serial();
    let tmp = tempfile::tempdir().unwrap();
    synth(tmp.path());
    let a = Trainer::new(
        experiment(tmp.path(), RESNET, false, "segmentation"),
        tmp.path().join("a"),
        Resume::Never,
    )
    .unwrap()
    .fit()
    .unwrap();
    let source = a.best_dir().unwrap().to_path_buf();
    let mut exp = experiment(tmp.path(), RESNET, false, "segmentation");
    exp.seed = 99; // a different random initialisation
    exp.init = vec![InitFrom {
        from: source.clone(),
        parts: vec![Part::Encoder],
        source: WeightSource::Model,
        strict: true,
    }];
    let b = Trainer::new(exp.clone(), tmp.path().join("b"), Resume::Never).unwrap();
    let (src, now) = (weights(&source), b.model().var_store().variables());
    let mut copied = 0;
    for (name, t) in &now {
        let equal = t.equal(&src[name]);
        if name.starts_with("encoder.") {
            assert!(equal, "{name} was not copied");
            copied += 1;
        } else if name.ends_with(".weight") && !name.contains("bn") {
            assert!(!equal, "{name} should keep its own initialisation");
        }
    }
    assert!(copied > 50, "{copied}");

    exp.init[0].from = tmp.path().join("missing");
    let err = Trainer::new(exp.clone(), tmp.path().join("c"), Resume::Never)
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::Config { .. }) && err.to_string().contains("missing"),
        "{err}"
    );
    exp.init[0].from = source.join("model.safetensors");
    let err = exp.check().unwrap_err();
    assert!(err.to_string().contains("parts"), "{err}");
}

#[test]
fn reconstruction_trains_on_mse_and_checks_the_head() {
    let _turn = serial();
    let tmp = tempfile::tempdir().unwrap();
    synth(tmp.path());
    let plain = r#"arch = "plain_unet"
in_channels = 1
task = "reconstruction"
blocks = { convs_per_block = 2, base_channels = 8 }
depth = 2"#;
    for objective in ["reconstruct_image", "reconstruct_mask"] {
        let exp = experiment(tmp.path(), plain, true, objective);
        let fit = Trainer::new(exp, tmp.path().join(objective), Resume::Never)
            .unwrap()
            .fit()
            .unwrap();
        let r = &fit.history[0];
        assert!(r.val_loss.is_finite() && r.val_loss >= 0.0, "{r:?}");
        assert!(r.val_dice.is_nan() && r.val_accuracy.is_none(), "{r:?}");
    }
    // A segmentation head with a reconstruction objective, or the Dice monitor: refused.
    let mut exp = experiment(tmp.path(), RESNET, false, "segmentation");
    exp.loss = LossConfig::ReconstructImage;
    assert!(exp.check().unwrap_err().to_string().contains("task"));
    let mut exp = experiment(tmp.path(), plain, true, "reconstruct_mask");
    exp.train.monitor = ptx_train::Monitor::ValDice;
    assert!(exp.check().unwrap_err().to_string().contains("val_dice"));
}

#[test]
fn classification_on_csv_classes_with_class_balanced_sampling() {
    let _turn = serial();
    let tmp = tempfile::tempdir().unwrap();
    synth(tmp.path());
    let ids: Vec<String> = std::fs::read_to_string(tmp.path().join("train-rle.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let mut csv = "ImageId,class\n".to_string();
    let mut unique: Vec<&String> = ids.iter().collect();
    unique.dedup();
    for (i, id) in unique.iter().enumerate() {
        csv += &format!("{id},{}\n", i % 3);
    }
    std::fs::write(tmp.path().join("classes.csv"), &csv).unwrap();
    let model = format!("{RESNET}\nclassifier = {{ classes = 3 }}");
    let mut exp = experiment(tmp.path(), &model, false, "classification");
    exp.data.labels = Some(tmp.path().join("classes.csv"));
    exp.data.sampling = Sampling::ClassBalanced;
    exp.train.monitor = ptx_train::Monitor::ValAccuracy;
    let fit = Trainer::new(exp.clone(), tmp.path().join("cls"), Resume::Never)
        .unwrap()
        .fit()
        .unwrap();
    let r = &fit.history[0];
    let acc = r.val_accuracy.unwrap();
    assert!(
        (0.0..=1.0).contains(&acc) && r.val_loss.is_finite(),
        "{r:?}"
    );
    assert_eq!(r.train_images, 12, "as many draws as training images");

    // A class the classifier cannot output is refused, naming it.
    std::fs::write(tmp.path().join("bad.csv"), csv.replacen(",2\n", ",7\n", 1)).unwrap();
    exp.data.labels = Some(tmp.path().join("bad.csv"));
    let err = Trainer::new(exp, tmp.path().join("bad"), Resume::Never)
        .err()
        .unwrap();
    assert!(err.to_string().contains("class 7"), "{err}");
}

#[test]
fn oversampling_and_folds_from_a_file() {
    let _turn = serial();
    let tmp = tempfile::tempdir().unwrap();
    synth(tmp.path());
    let mut exp = experiment(tmp.path(), RESNET, false, "segmentation");
    exp.train.batch_size = std::num::NonZeroUsize::MIN;
    exp.data.sampling = Sampling::OversamplePositives {
        copies: std::num::NonZeroUsize::new(3).unwrap(),
    };
    let trainer = Trainer::new(exp.clone(), tmp.path().join("over"), Resume::Never).unwrap();
    let d = trainer.dataset().clone();
    let train: Vec<usize> = d.split(0, false, false);
    let positives = train.iter().filter(|&&i| d.samples()[i].positive).count();
    let mut trainer = trainer;
    let fit = trainer.fit().unwrap();
    assert_eq!(fit.history[0].train_images, train.len() + 2 * positives);

    // Every image in fold 1 except the first, which goes to fold 0, and the last, which is
    // held out for the test.
    let mut rows: Vec<ptx_io::folds::FoldRow> = d
        .samples()
        .iter()
        .map(|s| ptx_io::folds::FoldRow {
            image_id: s.image_id.clone(),
            label: s.positive,
            fold: Split::Fold(1),
        })
        .collect();
    rows[0].fold = Split::Fold(0);
    let last = rows.len() - 1;
    rows[last].fold = Split::Test;
    ptx_io::folds::write_folds_csv(tmp.path().join("folds.csv"), &rows).unwrap();
    exp.data.sampling = Sampling::All;
    exp.data.folds = Folds::new(4, 0)
        .unwrap()
        .from_file(tmp.path().join("folds.csv"));
    let t = Trainer::new(exp, tmp.path().join("folds"), Resume::Never).unwrap();
    assert_eq!(t.dataset().split(0, true, false), vec![0]);
    assert_eq!(t.dataset().test(false), vec![last]);
    assert!(!t.dataset().split(0, false, false).contains(&last));
}
