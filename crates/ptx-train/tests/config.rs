//! Configurations that cannot hold invalid combinations: what serde rejects while reading
//! the TOML (naming the key), what `Experiment::check` rejects across sections, and the
//! round trip through `experiment.toml`. No training.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_models::{ModelConfig, UnetConfig};
use ptx_preproc::{Channel, Preset};
use ptx_train::{
    Augmentation, DataConfig, Experiment, Folds, LossConfig, Monitor, Sampling, Truth,
};

const DATA: &str = "[data]\nimages = \"img\"\nannotations = \"train-rle.csv\"\n";

/// The error of reading `text`.
fn rejected(text: &str) -> String {
    Experiment::from_toml(text).err().unwrap().to_string()
}

#[test]
fn the_truth_is_annotations_or_masks_and_rle_goes_with_annotations() {
    let e = Experiment::from_toml(DATA).unwrap();
    assert_eq!(
        e.data.truth,
        Truth::Annotations {
            csv: "train-rle.csv".into(),
            rle: ptx_io::rle::RleForm::Relative
        }
    );
    let e = Experiment::from_toml("[data]\nimages = \"img\"\nmasks = \"m\"\n").unwrap();
    assert_eq!(e.data.truth, Truth::Masks("m".into()));
    let both = "[data]\nimages = \"i\"\nannotations = \"a.csv\"\nmasks = \"m\"\n";
    assert!(rejected(both).contains("exactly one of `annotations`"));
    assert!(rejected("[data]\nimages = \"i\"\n").contains("exactly one of"));
    let rle = "[data]\nimages = \"i\"\nmasks = \"m\"\nrle = \"absolute\"\n";
    assert!(rejected(rle).contains("data.rle"), "{}", rejected(rle));
}

#[test]
fn folds_and_counts_are_checked_as_they_are_read() {
    for (text, key) in [
        ("folds = 1\n", "data.folds"),
        ("folds = 3\nvalidation_fold = 3\n", "data.validation_fold"),
    ] {
        let err = rejected(&format!("{DATA}{text}"));
        assert!(err.contains(key), "{err}");
    }
    for text in ["epochs = 0", "batch_size = 0", "keep_best = 0"] {
        let err = rejected(&format!("{DATA}[train]\n{text}\n"));
        assert!(err.contains("nonzero"), "{text}: {err}");
    }
    let err = rejected(&format!("{DATA}[input]\nsize = [0, 64]\n"));
    assert!(err.contains("nonzero"), "{err}");
    let err = rejected(&format!(
        "{DATA}sampling = {{ kind = \"undersample_negatives\", ratio = 0.0 }}\n"
    ));
    assert!(err.contains("> 0"), "{err}");
    let err = rejected(&format!(
        "{DATA}sampling = {{ kind = \"oversample_positives\", copies = 0 }}\n"
    ));
    assert!(err.contains("nonzero"), "{err}");
    // Five decoder channel counts, one per encoder stage.
    let err = rejected(&format!(
        "{DATA}[model]\narch = \"unet\"\ndecoder = {{ channels = [8, 8] }}\n"
    ));
    assert!(err.contains("channels") || err.contains("5"), "{err}");
    // Folds in code: the held-out fold must exist.
    assert!(Folds::new(4, 4).is_err());
    let folds = Folds::new(4, 1).unwrap();
    assert_eq!((folds.count(), folds.validation()), (4, 1));
    assert_eq!(folds.holding_out(3).unwrap().validation(), 3);
    assert!(folds.holding_out(4).is_err());
}

#[test]
fn augmentation_is_a_preset_or_a_list() {
    let e = Experiment::from_toml(&format!("{DATA}[input]\npreset = \"viel\"\n")).unwrap();
    assert_eq!(e.input.augmentation, Augmentation::Preset(Preset::Viel));
    let list = "[input.augment]\ntransforms = [{ kind = \"horizontal_flip\", p = 0.5 }]\n";
    let e = Experiment::from_toml(&format!("{DATA}{list}")).unwrap();
    assert!(matches!(e.input.augmentation, Augmentation::List(_)));
    let err = rejected(&format!("{DATA}[input]\npreset = \"viel\"\n{list}"));
    assert!(err.contains("`preset` or `augment`"), "{err}");
}

#[test]
fn preparation_is_part_of_the_evaluation_input() {
    let e = Experiment::from_toml(DATA).unwrap();
    assert_eq!(e.input.prepare, Channel::Raw);
    // The default is not written, so experiment files from before the key read the same.
    assert!(!e.to_toml().unwrap().contains("prepare"));
    let p = Experiment::from_toml(&format!("{DATA}[input]\nprepare = \"clahe\"\n")).unwrap();
    assert_eq!(p.input.prepare, Channel::Clahe);
    assert_eq!(p.input.train_pipeline().prepare, Channel::Clahe);
    assert_eq!(p.input.eval_pipeline().prepare, Channel::Clahe);
    assert!(!p.input.same_eval_input(&e.input));
    let again = Experiment::from_toml(&p.to_toml().unwrap()).unwrap();
    assert_eq!(again.input, p.input);
}

#[test]
fn each_objective_takes_its_own_loss_keys() {
    let loss = |text: &str| Experiment::from_toml(&format!("{DATA}[loss]\n{text}\n"));
    assert_eq!(loss("").unwrap().loss, LossConfig::default());
    let multi = loss("classification_weight = 0.5").unwrap().loss;
    assert!(matches!(
        multi,
        LossConfig::Segmentation { classification: Some(ref t), .. } if t.weight() == 0.5
    ));
    assert!(matches!(
        loss("objective = \"classification\"").unwrap().loss,
        LossConfig::Classification { .. }
    ));
    for (text, key) in [
        ("classification_weight = -1.0", "loss.classification_weight"),
        (
            "classification = { pos_weight = 2.0 }",
            "loss.classification",
        ),
        (
            "objective = \"reconstruct_image\"\nclassification_weight = 0.5",
            "loss.classification_weight",
        ),
        (
            "objective = \"classification\"\nsegmentation = { terms = [] }",
            "loss.segmentation",
        ),
        (
            "objective = \"reconstruct_mask\"\nclassification = { pos_weight = 2.0 }",
            "loss.classification",
        ),
    ] {
        let err = loss(text).err().unwrap().to_string();
        assert!(err.contains(key), "{text}: {err}");
    }
}

#[test]
fn cross_section_checks_run_in_check_and_name_the_key() {
    let base = || {
        Experiment::new(
            "x",
            DataConfig::new("img", Truth::Masks("m".into())),
            ModelConfig::Unet(UnetConfig::default()),
        )
    };
    base().check().unwrap();
    let mut e = base();
    e.input.channels = ptx_preproc::ChannelStack::replicate(1);
    assert!(e
        .check()
        .unwrap_err()
        .to_string()
        .contains("input channels"));
    let mut e = base();
    let bce = ptx_losses::Combined::single(ptx_losses::Loss::Bce(Default::default()));
    e.loss = LossConfig::segmentation(bce, 1.0).unwrap();
    assert!(e
        .check()
        .unwrap_err()
        .to_string()
        .contains("classifier head"));
    let mut e = base();
    e.loss = LossConfig::Classification {
        loss: Default::default(),
    };
    assert!(e
        .check()
        .unwrap_err()
        .to_string()
        .contains("classifier head"));
    let mut e = base();
    e.loss = LossConfig::ReconstructImage;
    assert!(e.check().unwrap_err().to_string().contains("task"));
    let mut e = base();
    e.data.labels = Some("classes.csv".into());
    assert!(e.check().unwrap_err().to_string().contains("data.labels"));
    // A monitor the objective does not measure.
    let mut e = base();
    e.model = ModelConfig::Unet(UnetConfig {
        classifier: Some(Default::default()),
        ..UnetConfig::default()
    });
    e.loss = LossConfig::Classification {
        loss: Default::default(),
    };
    e.train.monitor = Monitor::ValDice;
    assert!(e.check().unwrap_err().to_string().contains("val_dice"));
    e.train.monitor = Monitor::ValF2;
    e.check().unwrap();
    e.data.labels = Some("classes.csv".into());
    assert!(e.check().unwrap_err().to_string().contains("val_f2"));
}

#[test]
fn experiment_toml_round_trips() {
    let text = format!(
        "name = \"rt\"\nseed = 3\n{DATA}folds = 4\nvalidation_fold = 2\nfolds_file = \"f.csv\"\nsampling = {{ kind = \"undersample_negatives\", ratio = 1.5 }}\n[input]\nsize = [64, 96]\npreset = \"dasic\"\n[model]\narch = \"unet\"\nencoder = \"resnet18\"\nclassifier = {{ pooling = \"avg\" }}\ndecoder = {{ channels = [32, 16, 16, 8, 8] }}\n[loss]\nclassification_weight = 0.25\n[train]\nepochs = 3\nbatch_size = 2\n"
    );
    let e = Experiment::from_toml(&text).unwrap();
    assert_eq!(e.input.size(), (64, 96));
    assert_eq!(e.data.folds.file(), Some(std::path::Path::new("f.csv")));
    assert_eq!(
        e.data.sampling,
        Sampling::UndersampleNegatives { ratio: 1.5 }
    );
    let again = Experiment::from_toml(&e.to_toml().unwrap()).unwrap();
    assert_eq!(again, e);
    e.check().unwrap();
}

#[test]
fn run_folders_written_before_the_redesign_still_read() {
    // What the earlier `experiment.toml` held: every key, at its default where unused.
    let mut old: toml::Table = toml::from_str(
        r#"
name = "old"
seed = 0

[data]
images = "png"
masks = "masks"
rle = "relative"
folds = 5
validation_fold = 0
positives_only = false
on_error = "skip"
sampling = { kind = "all" }

[input]
size = [64, 64]
preset = "none"

[input.augment]
transforms = [{ kind = "horizontal_flip", p = 0.5 }]
"#,
    )
    .unwrap();
    let mut loss = toml::Table::new();
    loss.insert("objective".into(), "reconstruct_image".into());
    loss.insert("classification_weight".into(), 0.0.into());
    loss.insert(
        "segmentation".into(),
        toml::Value::try_from(ptx_losses::Combined::bce_dice()).unwrap(),
    );
    loss.insert(
        "classification".into(),
        toml::Value::try_from(ptx_losses::Bce::default()).unwrap(),
    );
    old.insert("loss".into(), loss.into());
    let old = toml::to_string(&old).unwrap();
    let e = Experiment::from_toml(&old).unwrap();
    assert_eq!(e.data.truth, Truth::Masks("masks".into()));
    assert!(matches!(e.input.augmentation, Augmentation::List(_)));
    assert_eq!(e.loss, LossConfig::ReconstructImage);
    // A key that does not apply and is not at its default is still refused.
    let custom = old.replace("classification_weight = 0.0", "classification_weight = 0.5");
    assert!(Experiment::from_toml(&custom).is_err());
    let err = rejected(&format!("{DATA}[train]\nclip_grad_norm = 0.0\n"));
    assert!(err.contains("> 0"), "{err}");
}

#[test]
fn values_out_of_range_are_refused_by_check_naming_the_section() {
    for (text, section, what) in [
        (
            "[optimizer]\nkind = \"adam\"\nlr = -1.0\n",
            "optimizer",
            "lr",
        ),
        ("[loss]\nsegmentation = { terms = [] }\n", "loss", ""),
        (
            "[input.augment]\ntransforms = [{ kind = \"horizontal_flip\", p = 2.0 }]\n",
            "input.augment",
            "",
        ),
        (
            "[train]\nearly_stopping = { patience = 3, min_delta = -0.5 }\n",
            "train.early_stopping.min_delta",
            "",
        ),
        (
            "[model]\narch = \"unet\"\nencoder = \"resnet18\"\ndecoder = { dropout = 1.5 }\n",
            "model",
            "dropout",
        ),
    ] {
        let e = Experiment::from_toml(&format!("{DATA}{text}"))
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let err = e
            .check()
            .err()
            .unwrap_or_else(|| panic!("{text}: accepted"))
            .to_string();
        assert!(err.contains(section) && err.contains(what), "{text}: {err}");
    }
}

#[test]
fn data_built_in_code_is_held_to_the_readers_rules() {
    let model = || ModelConfig::Unet(UnetConfig::default());
    let e = Experiment::new("x", DataConfig::new("img", Truth::None), model());
    assert!(e.check().unwrap_err().to_string().contains("data.labels"));
    let mut data = DataConfig::new("img", Truth::Masks("m".into()));
    data.holdout = Some(ptx_train::Holdout::Count(3));
    data.folds = Folds::new(5, 0).unwrap().from_file("folds.csv");
    let e = Experiment::new("x", data, model());
    assert!(e.check().unwrap_err().to_string().contains("data.holdout"));
}
