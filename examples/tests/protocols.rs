//! Each example's paper-scale configuration, as `--print-config` writes it, against the
//! paper's stated protocol and hyperparameters: the paper's sentence beside each assertion.
//! Nothing trains: the configurations are built for a `--data` folder in the SIIM layout and
//! weight files that only need to exist.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use clap::Parser;
use ptx_examples::args::CommonArgs;
use ptx_examples::augmented::{self, SplitMode};
use ptx_examples::papers::{dasic, haghanifar, harmalkar, print_config, shannak, viel, Run};
use ptx_io::annotations::Annotations;
use ptx_io::folds::Split;
use ptx_io::rle::RleForm;
use ptx_losses::{EmptyTargets, Loss, Overlap};
use ptx_models::{
    Center, ClassifierInput, EncoderName, Freeze, ModelConfig, Part, Task, UnetConfig, WeightSource,
};
use ptx_preproc::augment::Transform;
use ptx_preproc::{Channel, Normalize, Preset};
use ptx_train::{
    Augmentation, Dataset, EarlyStop, Experiment, Holdout, LossConfig, Monitor, OptimizerConfig,
    Sampling, ScheduleKind, Select, Truth,
};

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    common: CommonArgs,
}

/// A SIIM-layout `--data` folder, ChestX-ray14-layout pre-training data and weight files for
/// every encoder, all empty: the configurations only name them.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        std::fs::create_dir_all(root.join("siim/dicom-images-train")).unwrap();
        std::fs::write(root.join("siim/train-rle.csv"), "ImageId,EncodedPixels\n").unwrap();
        std::fs::create_dir_all(root.join("nih/images")).unwrap();
        std::fs::write(root.join("nih/Data_Entry_2017.csv"), "Image Index\n").unwrap();
        for e in [
            "resnet34",
            "resnet50",
            "densenet121",
            "se_resnext50_32x4d",
            "vgg16",
            "vgg19",
            "inceptionv3",
        ] {
            std::fs::write(root.join(format!("{e}.pth")), b"").unwrap();
        }
        Self { _tmp: tmp, root }
    }

    /// The example's options: `--data`, every `--weights`, `--out`.
    fn args(&self, example: &str) -> CommonArgs {
        let data = self.root.join("siim").display().to_string();
        let out = self.root.join(example).display().to_string();
        let nih = self.root.join("nih").display().to_string();
        let mut argv = vec![
            "example".to_string(),
            "--data".into(),
            data,
            "--out".into(),
            out,
            "--pretrain-data".into(),
            nih,
        ];
        for e in [
            "resnet34",
            "resnet50",
            "densenet121",
            "se_resnext50_32x4d",
            "vgg16",
            "vgg19",
            "inceptionv3",
        ] {
            argv.push("--weights".into());
            argv.push(format!(
                "{e}={}",
                self.root.join(format!("{e}.pth")).display()
            ));
        }
        Wrapper::parse_from(argv).common
    }

    /// `--print-config`'s files, read back, by run name.
    fn printed(&self, example: &str, runs: &[Run]) -> BTreeMap<String, Experiment> {
        let dir = self.root.join(example).join("config");
        print_config(runs, &dir).unwrap();
        runs.iter()
            .map(|r| {
                let exp = Experiment::from_file(dir.join(format!("{}.toml", r.name))).unwrap();
                exp.check().unwrap();
                (r.name.clone(), exp)
            })
            .collect()
    }
}

fn unet(exp: &Experiment) -> &UnetConfig {
    match &exp.model {
        ModelConfig::Unet(u) => u,
        other => panic!("{other:?}"),
    }
}

fn lr(exp: &Experiment) -> f64 {
    exp.optimizer.lr()
}

fn cosine(exp: &Experiment) -> (usize, f64) {
    match exp.schedule.kind {
        ScheduleKind::Cosine { epochs, eta_min } => (epochs, eta_min),
        ref other => panic!("{other:?}"),
    }
}

fn segmentation_loss(exp: &Experiment) -> (Vec<(f64, Loss)>, Option<f64>) {
    match &exp.loss {
        LossConfig::Segmentation {
            loss,
            classification,
        } => (
            loss.terms
                .iter()
                .map(|t| (t.weight, t.loss.clone()))
                .collect(),
            classification.as_ref().map(|c| c.weight()),
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn viel_and_orhan() {
    let f = Fixture::new();
    let runs = f.printed("viel", &viel::runs(&f.args("viel")).unwrap());
    assert_eq!(runs.len(), 32, "16 combinations x 2 stages (Table 6)");
    for (name, e) in &runs {
        // "we use images of size 256 x 256, and 2669 samples of each class, resulting in a
        // 5338 images dataset. We use half of it for training, and report performance on the
        // other half."
        assert_eq!(e.input.size(), (256, 256));
        assert_eq!(e.data.subset.unwrap().negatives_per_positive, 1.0);
        assert_eq!(e.data.folds.count(), 2);
        assert_eq!(e.data.sampling, Sampling::All);
        assert_eq!(
            e.train.select,
            Select::Last,
            "nothing chosen on the reported half"
        );
        // Table 1: "Batch size 32", "Classification loss BCE", "Segmentation loss BCE".
        assert_eq!(e.train.batch_size.get(), 32);
        // "We use the Rectified Adam optimizer with a cosine linear annealing scheduler"
        assert!(matches!(e.optimizer, OptimizerConfig::Radam { .. }));
        assert_eq!(lr(e), 5e-4, "Table 1: Learning rate 5e-4 (both stages)");
        // "Our backbone is a pretrained ResNet-34 ... We add a classification branch after the
        // center block" and "we use the same structure for the center block"
        let u = unet(e);
        assert_eq!(u.encoder, EncoderName::Resnet34);
        assert_eq!(
            u.classifier.as_ref().unwrap().input,
            ClassifierInput::Center
        );
        let aspp = name.contains("aspp");
        assert_eq!(
            u.decoder.center,
            if aspp { Center::Aspp } else { Center::Conv }
        );
        assert_eq!(u.decoder.hypercolumns, name.contains("hypercolumns"));
        // "we still decided to apply horizontal flipping with a probability of 0.5"
        assert_eq!(e.input.augmentation, Augmentation::Preset(Preset::Viel));
        // The authors' code normalises with ImageNet's statistics (three grey channels).
        assert_eq!(e.input.normalize, Normalize::imagenet());
        assert_eq!(e.input.channels.channels, vec![Channel::Raw; 3]);
        // "We weighted the classification loss with lambda_cls = 0.1 for the binary
        // cross-entropy (BCE) and lambda_cls = 0.01 when using the Lovasz loss."
        let (terms, lambda) = segmentation_loss(e);
        if name.contains("lovasz") {
            assert_eq!(lambda, Some(0.01));
            assert!(
                matches!(terms[..], [(1.0, Loss::Lovasz(l))] if l == ptx_losses::Lovasz::symmetric_elu())
            );
        } else {
            assert_eq!(lambda, Some(0.1));
            assert!(matches!(terms[..], [(1.0, Loss::Bce(_))]));
        }
        if name.ends_with("stage1") {
            // "Stage 1 Epochs 3 ... Minimal learning rate 1e-4"; "We first freeze the decoder"
            assert_eq!(e.train.epochs.get(), 3);
            assert_eq!(cosine(e), (3, 1e-4));
            let freeze = e.train.freeze.as_ref().unwrap();
            assert_eq!(
                (freeze.freeze.clone(), freeze.epochs),
                (Freeze::Parts(vec![Part::Decoder]), 3)
            );
            // "The encoder is pretrained on ImageNet"
            assert_eq!(e.init.len(), 1);
            assert_eq!(e.init[0].source, WeightSource::Classifier);
        } else {
            // "Stage 2 Epochs 40 ... Minimal learning rate 5e-5", "then jointly train"
            assert_eq!(e.train.epochs.get(), 40);
            assert_eq!(cosine(e), (40, 5e-5));
            assert!(e.train.freeze.is_none());
            assert!(e.init[0].from.ends_with("stage1"), "starts from stage 1");
        }
    }
}

#[test]
fn dasic_et_al() {
    let f = Fixture::new();
    let runs = f.printed("dasic", &dasic::runs(&f.args("dasic")).unwrap());
    assert_eq!(runs.len(), 12, "6 backbones x (whole, patches)");
    let encoders: Vec<EncoderName> = runs
        .iter()
        .filter(|(n, _)| n.ends_with("whole"))
        .map(|(_, e)| unet(e).encoder)
        .collect();
    for e in [
        EncoderName::Vgg19,
        EncoderName::Resnet34,
        EncoderName::Resnet50,
        EncoderName::Densenet121,
        EncoderName::InceptionV3,
    ] {
        // "Five different pretrained backbones have been chosen: VGG19, ResNet34, ResNet50,
        // DenseNet121 and Inceptionv3"
        assert!(encoders.contains(&e), "{e}");
    }
    for (name, e) in &runs {
        // "The models were trained for 75 epochs with a batch size of 8 using Adam optimizer
        // with a learning rate of 0.001."
        assert_eq!(e.train.epochs.get(), 75);
        assert_eq!(e.train.batch_size.get(), 8);
        assert!(matches!(e.optimizer, OptimizerConfig::Adam { .. }));
        assert_eq!(lr(e), 1e-3);
        assert_eq!(e.train.select, Select::Last, "nothing chosen on the 20 %");
        // "images have been halved to a size of 512 x 512 ... Patch size of 128 x 128"
        let side = if name.ends_with("patches") { 128 } else { 512 };
        assert_eq!(e.input.size(), (side, side));
        if name.ends_with("whole") {
            // "all of the samples containing pneumothorax were used, while 2,669 X-rays of
            // healthy patients were randomly selected ... 80% of samples were used as
            // training dataset and the remaining 20% serve as the test dataset."
            assert_eq!(e.data.subset.unwrap().negatives_per_positive, 1.0);
            assert_eq!(e.data.folds.count(), 5);
            assert!(e.data.folds.file().is_none());
        } else {
            // The patches are cut from the same images and keep their image's split.
            assert!(matches!(e.data.truth, Truth::Masks(_)));
            assert!(e.data.folds.file().unwrap().ends_with("patches/folds.csv"));
            assert_eq!(e.data.folds.count(), 5);
        }
        assert_eq!(
            e.data.sampling,
            Sampling::All,
            "balanced once, before the split"
        );
        // "In order to improve contrast of the image ... CLAHE filter was used" (the data
        // preparation: every image, before the augmentation, in evaluation too; the
        // evaluation pipeline is built from the same input section)
        assert_eq!(e.input.prepare, Channel::Clahe);
        assert_eq!(e.input.eval_pipeline().prepare, Channel::Clahe);
        assert_eq!(e.input.channels.clip_limit, 2.0);
        // "rotation 0-20, brightness +-15 %, zoom +-10 %, horizontal flip"
        let Augmentation::List(a) = &e.input.augmentation else {
            panic!("{:?}", e.input.augmentation)
        };
        assert_eq!(a.transforms, ptx_preproc::Augment::dasic().transforms);
        assert!(
            !a.transforms
                .iter()
                .any(|t| matches!(t, Transform::Clahe(_))),
            "CLAHE is not an augmentation here"
        );
        // "a custom weighted loss function that combines categorical focal loss with dice loss"
        let (terms, lambda) = segmentation_loss(e);
        assert_eq!(lambda, None);
        assert!(matches!(terms[..], [(1.0, Loss::Dice(_)), (w, Loss::Focal(_))] if w > 0.0));
    }
}

#[test]
fn shannak_et_al() {
    let f = Fixture::new();
    let runs = f.printed(
        "shannak",
        &shannak::runs(&f.args("shannak"), SplitMode::LeakFree).unwrap(),
    );
    assert_eq!(runs.len(), 8, "two auto-encoders and Table 4's six models");
    // Table 2: "Test 1952 870 1082" of "Totals 17385 8007 9378".
    assert_eq!(augmented::TEST_POSITIVES, (870, 8007));
    assert_eq!(augmented::TEST_NEGATIVES, (1082, 9378));
    for (name, e) in &runs {
        // "all CXR images and mask ... converted ... to (512 x 512)"; "normalized with the
        // global mean and standard deviation of the training dataset with values of (0.4828)
        // and (0.2488)"
        assert_eq!(e.input.size(), (512, 512));
        assert_eq!(e.input.channels.channels, vec![Channel::Raw]);
        assert_eq!(
            e.input.normalize,
            Normalize::MeanStd {
                mean: 0.4828,
                std: 0.2488
            }
        );
        // The positives' copies are written before training: nothing on the fly.
        assert_eq!(e.input.augmentation, Augmentation::Preset(Preset::None));
        assert!(e.data.folds.file().unwrap().ends_with("folds.csv"));
        // Table 3: "Batch size 32", "Learning rate 1e-4", "Max Epochs 50"
        assert_eq!(e.train.batch_size.get(), 32);
        assert_eq!(lr(e), 1e-4);
        assert!(matches!(e.optimizer, OptimizerConfig::Adam { .. }));
        assert_eq!(e.train.epochs.get(), 50);
        // "monitoring changes in the validation set loss and stopping if the loss doesn't
        // decrease by 0.001 in 5 epochs"
        assert_eq!(e.train.monitor, Monitor::ValLoss);
        assert_eq!(
            e.train.early_stopping,
            Some(EarlyStop {
                patience: 5,
                min_delta: 0.001
            })
        );
        // Table 3: "Loss function MSE" (auto-encoders), "BCE + DICE" (segmentation)
        match name.as_str() {
            "autoencoder-xray" => assert_eq!(e.loss, LossConfig::ReconstructImage),
            "autoencoder-mask" => assert_eq!(e.loss, LossConfig::ReconstructMask),
            _ => {
                let (terms, _) = segmentation_loss(e);
                assert!(matches!(
                    terms[..],
                    [(1.0, Loss::Bce(_)), (1.0, Loss::Dice(_))]
                ));
            }
        }
        if name != "segmentation-0" {
            // "The main architecture ... U-Net" with three convolutions per block.
            let ModelConfig::PlainUnet(p) = &e.model else {
                panic!("{name}")
            };
            assert_eq!(p.blocks.convs_per_block, 3);
            assert_eq!(p.blocks.base_channels, 64);
            let reconstruct = name.starts_with("autoencoder");
            assert_eq!(p.task == Task::Reconstruction, reconstruct);
        } else {
            // "a ResNet-50 model is trained without freezing as the base encoder"
            assert_eq!(unet(e).encoder, EncoderName::Resnet50);
            assert!(e.train.freeze.is_none());
        }
    }
    // The scenarios: encoder only, encoder + mask decoder, encoder and decoder, frozen.
    let init = |n: &str| &runs[n].init;
    assert_eq!(init("segmentation-1")[0].parts, vec![Part::Encoder]);
    assert!(init("segmentation-2")[1].from.ends_with("autoencoder-mask"));
    assert!(init("segmentation-3").is_empty(), "randomly initialized");
    assert_eq!(
        init("segmentation-4")[0].parts,
        vec![Part::Encoder, Part::Decoder]
    );
    assert_eq!(
        runs["segmentation-5"].train.freeze.as_ref().unwrap().freeze,
        Freeze::Encoder
    );
}

#[test]
fn harmalkar_et_al() {
    let f = Fixture::new();
    let runs = f.printed("harmalkar", &harmalkar::runs(&f.args("harmalkar")).unwrap());
    assert_eq!(runs.len(), 7, "3 classifiers, 4 segmentation models");
    for (name, e) in &runs {
        assert_eq!(
            unet(e).encoder,
            EncoderName::Resnet34,
            "\"A U-Net with a ResNet-34 encoder\""
        );
        assert_eq!(
            e.input.augmentation,
            Augmentation::Preset(Preset::Harmalkar)
        );
        if name.starts_with("classifier") {
            // "the training was conducted on 10000 images and evaluated on 1000 images with
            // cross-entropy loss, SGD optimizer, learning rate of 1e-3 and momentum of 0.9 ...
            // reduces by a factor of 10 if the validation loss does not decrease for 5 epochs"
            assert_eq!(e.data.truth, Truth::None, "ChestX-ray14: labels, no masks");
            assert!(e.data.images.ends_with("nih/images"));
            assert_eq!(e.data.folds.count(), 11, "1,000 of 11,000 evaluate");
            // One split for every pre-training run: the auto-encoders never train on the
            // images any classifier evaluates on.
            assert!(e.data.folds.file().unwrap().ends_with("pretrain-folds.csv"));
            assert!(
                matches!(e.optimizer, OptimizerConfig::Sgd { momentum, .. } if momentum == 0.9)
            );
            assert_eq!(lr(e), 1e-3);
            assert!(
                matches!(e.schedule.kind, ScheduleKind::Plateau { factor, patience: 5, .. } if factor == 0.1)
            );
            assert_eq!(e.train.monitor, Monitor::ValLoss);
            assert!(matches!(e.loss, LossConfig::Classification { .. }));
            let classes = unet(e).classifier.as_ref().unwrap().classes;
            if name == "classifier-labels" {
                // "a weighted sampler was used to oversample the positive samples"
                assert_eq!(e.data.sampling, Sampling::ClassBalanced);
                assert_eq!(classes, 2, "\"2-class classification (PTX vs. no PTX)\"");
            } else {
                // "cluster into 14 distinct pseudo-labels": no sampling by the true label.
                assert_eq!(e.data.sampling, Sampling::All);
                assert_eq!(classes, 14);
                assert!(e
                    .data
                    .labels
                    .as_ref()
                    .unwrap()
                    .to_string_lossy()
                    .contains("pseudo-labels"));
            }
        } else {
            // "Since official test data is not public, a training subset was used as the test
            // set (N=1159)."
            assert_eq!(e.data.holdout, Some(Holdout::Count(1159)));
            // "The network is trained with Adam and learning rate of 1e-4. The images are
            // downsampled to 512x512 pixels and trained with batch size of 8."
            assert!(matches!(e.optimizer, OptimizerConfig::Adam { .. }));
            assert_eq!(lr(e), 1e-4);
            assert_eq!(e.input.size(), (512, 512));
            assert_eq!(e.train.batch_size.get(), 8);
            // "a weighted sum of focal loss and dice loss" — the cited kernel's
            // `10 * focal - log(dice)`, its Dice `(2 I + 1) / (sum p + sum t + 1)` (ptx's
            // smooth enters twice: 0.5), empty batches scored like the others.
            let (terms, lambda) = segmentation_loss(e);
            assert_eq!(lambda, None);
            assert!(
                matches!(&terms[..], [(10.0, Loss::Focal(_)), (1.0, Loss::Dice(Overlap { log_loss: true, smooth, empty_targets: EmptyTargets::Keep, .. }))] if *smooth == 0.5)
            );
        }
    }
    // Pre-trained encoders go into the segmentation models.
    assert!(runs["segmentation-1"].init[0]
        .from
        .ends_with("classifier-labels"));
    assert!(runs["segmentation-3"].init[0]
        .from
        .ends_with("classifier-pseudo-labels-vae"));
}

#[test]
fn haghanifar_et_al() {
    let f = Fixture::new();
    let runs = f.printed(
        "haghanifar",
        &haghanifar::runs(&f.args("haghanifar"), Default::default()).unwrap(),
    );
    assert_eq!(runs.len(), 4, "three stage-1 freezing modes, stage 2");
    for (name, e) in &runs {
        // "resized images to 512x512 and 256x256 are tested, where smaller images resulted in
        // faster training time without a noticeable change"
        assert_eq!(e.input.size(), (256, 256));
        // "Main image along with AHE-applied and CLAHE-applied ones are concatenated"
        assert_eq!(
            e.input.channels.channels,
            vec![Channel::Raw, Channel::Ahe, Channel::Clahe]
        );
        assert_eq!(
            e.input.augmentation,
            Augmentation::Preset(Preset::Haghanifar)
        );
        // "Batch size of 32 is selected and training is continued for 100 epochs, while
        // early stopping is present"
        assert_eq!(e.train.batch_size.get(), 32);
        assert_eq!(e.train.epochs.get(), 100);
        assert!(e.train.early_stopping.is_some());
        // "k-fold cross-validation method, where k is 5"; the test part the size of the
        // paper's Table 1 fold ("on 20% of the dataset").
        assert_eq!(e.data.folds.count(), 5);
        assert_eq!(e.data.holdout, Some(Holdout::Fraction(0.2)));
        // "dropout layers are also devised after each convolutional and deconvolutional blocks"
        assert!(unet(e).decoder.dropout > 0.0);
        assert!(matches!(e.optimizer, OptimizerConfig::Adam { .. }));
        let (terms, lambda) = segmentation_loss(e);
        // "we use class weights for binary cross-entropy loss. Class weight is set as 0.01"
        let Loss::Bce(bce) = &terms[0].1 else {
            panic!("{terms:?}")
        };
        assert_eq!(bce.class_weights.unwrap().negative, 0.01);
        if name.starts_with("stage1") {
            // "A U-net is used in the stage one with backbone set to DenseNet121 with weights
            // coming from a pretrained network on chest x-rays"; "Optimizer is set to Adam with
            // default learning rate of 0.001"; multi-task.
            assert_eq!(unet(e).encoder, EncoderName::Densenet121);
            assert!(unet(e).classifier.is_some());
            assert_eq!(lr(e), 1e-3);
            assert!(lambda.is_some());
            assert_eq!(e.train.monitor, Monitor::ValF2, "\"Best f2-score\"");
            assert!(!e.data.positives_only);
        } else {
            // "SeResNeXt ... Segmentation is only applied on images which are supposed to have
            // at least one pneumothorax"; "setting backbone as non-trainable along with learning
            // rate schedule"; "cosine annealing"; "add both loss functions with equal weights".
            assert_eq!(unet(e).encoder, EncoderName::SeResnext50);
            assert!(e.data.positives_only);
            assert_eq!(e.train.freeze.as_ref().unwrap().freeze, Freeze::Encoder);
            assert_eq!(cosine(e).0, 100);
            assert!(matches!(
                terms[..],
                [(1.0, Loss::Bce(_)), (1.0, Loss::Dice(_))]
            ));
            assert_eq!(lambda, None);
        }
    }
    // "setting the whole backbone network as non-trainable, setting the network non-trainable
    // except the last convolutional block, or setting the whole network to trainable"
    let modes: Vec<Freeze> = (0..3)
        .map(|i| {
            runs[&format!("stage1-{i}")]
                .train
                .freeze
                .as_ref()
                .unwrap()
                .freeze
                .clone()
        })
        .collect();
    assert_eq!(
        modes,
        vec![Freeze::Nothing, Freeze::AllButLastBlock, Freeze::Encoder]
    );
}

/// The fixture's paths are what the printed files name.
#[test]
fn printed_files_name_the_given_data() {
    let f = Fixture::new();
    let runs = viel::runs(&f.args("viel")).unwrap();
    let printed = f.printed("viel", &runs[..1]);
    let e = printed.values().next().unwrap();
    assert!(e.data.images.starts_with(Path::new(&f.root)));
}

// ---- The papers' splits built from the challenge's real image list (no pixels needed) ----

/// The challenge's 12,047 training images and whether each is positive, from the full
/// `train-rle.csv` (`None` locally without the shared data; under `CI=true` a failure).
fn real_labels() -> Option<Vec<(String, bool)>> {
    let csv = ptx_testdata::shared("siim/csv/train-rle.full.torchxrayvision.csv")?;
    let ann = Annotations::read(csv).unwrap();
    Some(
        ann.image_ids()
            .map(|id| {
                let label = ann.label(id, RleForm::Relative).unwrap().unwrap();
                (id.to_owned(), label)
            })
            .collect(),
    )
}

/// `(images, positives)` of the plan's rows whose split `keep` accepts.
fn tally(
    plan: &[(String, Split)],
    labels: &[(String, bool)],
    keep: impl Fn(Split) -> bool,
) -> (usize, usize) {
    let positive: HashMap<&str, bool> = labels.iter().map(|(id, l)| (id.as_str(), *l)).collect();
    let rows: Vec<&(String, Split)> = plan.iter().filter(|(_, s)| keep(*s)).collect();
    let positives = rows.iter().filter(|(id, _)| positive[id.as_str()]).count();
    (rows.len(), positives)
}

#[test]
fn the_papers_splits_of_the_real_image_list() {
    let Some(labels) = real_labels() else { return };
    assert_eq!(labels.len(), 12_047);
    assert_eq!(labels.iter().filter(|(_, l)| *l).count(), 2_669);
    let f = Fixture::new();
    let plan_of = |e: &Experiment| Dataset::plan(&labels, &e.data, e.seed).unwrap();

    // Viel & Orhan: "2669 samples of each class, resulting in a 5338 images dataset. We use
    // half of it for training, and report performance on the other half."
    let viel = viel::runs(&f.args("viel")).unwrap();
    let plan = plan_of(&viel[0].experiment);
    assert_eq!(tally(&plan, &labels, |_| true), (5_338, 2_669));
    assert_eq!(
        tally(&plan, &labels, |s| s == Split::Fold(0)),
        (2_669, 1_335)
    );
    assert_eq!(
        tally(&plan, &labels, |s| s == Split::Fold(1)),
        (2_669, 1_334)
    );
    for run in &viel {
        assert_eq!(
            plan_of(&run.experiment),
            plan,
            "{}: one split for every row",
            run.name
        );
    }

    // Dasic et al.: "all of the samples containing pneumothorax were used, while 2,669 X-rays
    // of healthy patients were randomly selected ... 80% of samples were used as training
    // dataset and the remaining 20% serve as the test dataset."
    let dasic = dasic::runs(&f.args("dasic")).unwrap();
    let whole = &dasic
        .iter()
        .find(|r| r.name.ends_with("whole"))
        .unwrap()
        .experiment;
    let plan = plan_of(whole);
    assert_eq!(tally(&plan, &labels, |_| true), (5_338, 2_669));
    let test = tally(&plan, &labels, |s| s == Split::Fold(0));
    assert!(
        (1_067..=1_068).contains(&test.0) && (533..=534).contains(&test.1),
        "{test:?}"
    );

    // Haghanifar et al.: Table 1's validation part, "20% of the dataset": 2,410 images of
    // 12,047 (the paper's confusion matrix sums to 2,410 with 484 positives; a stratified
    // draw keeps the set's 22.2 % positive share instead of the paper's 20.1 %).
    let haghanifar = haghanifar::runs(&f.args("haghanifar"), Default::default()).unwrap();
    let plan = plan_of(&haghanifar[0].experiment);
    let test = tally(&plan, &labels, |s| s == Split::Test);
    assert_eq!(test, (2_409, 534), "round(0.2 x 12,047) images, stratified");
    assert_eq!(tally(&plan, &labels, |s| s != Split::Test).0, 9_638);

    // Harmalkar et al.: "Since official test data is not public, a training subset was used
    // as the test set (N=1159)."
    let harmalkar = harmalkar::runs(&f.args("harmalkar")).unwrap();
    let seg = &harmalkar
        .iter()
        .find(|r| !r.name.starts_with("classifier"))
        .unwrap()
        .experiment;
    let test = tally(&plan_of(seg), &labels, |s| s == Split::Test);
    assert_eq!(test, (1_159, 257), "1,159 images, stratified");

    // `--print-config` writes each run's split as a folds file, equal to the plan
    let csv = ptx_testdata::shared("siim/csv/train-rle.full.torchxrayvision.csv").unwrap();
    std::fs::copy(csv, f.root.join("siim/train-rle.csv")).unwrap();
    let dir = f.root.join("viel-splits");
    print_config(&viel, &dir).unwrap();
    let name = &viel[0].name;
    let rows = ptx_io::folds::read_folds_csv(dir.join(format!("{name}.splits.csv"))).unwrap();
    let plan = plan_of(&viel[0].experiment);
    assert_eq!(rows.len(), 5_338);
    for (row, (id, split)) in rows.iter().zip(&plan) {
        assert_eq!((&row.image_id, row.fold), (id, *split));
    }
}

#[test]
fn shannaks_split_of_the_real_image_list() {
    let Some(labels) = real_labels() else { return };
    // Every positive with a flipped and a rotated copy: "8007 images with pneumothorax and
    // 9378 without"; test part (Table 2) 870 positive and 1,082 negative images.
    let mut written = Vec::new();
    for (original, (id, positive)) in labels.iter().enumerate() {
        written.push((id.clone(), *positive, original));
        if *positive {
            for suffix in ["flip", "rotate"] {
                written.push((format!("{id}-{suffix}"), true, original));
            }
        }
    }
    assert_eq!(written.iter().filter(|w| w.1).count(), 8_007);
    assert_eq!(written.iter().filter(|w| !w.1).count(), 9_378);
    for mode in [SplitMode::Paper, SplitMode::LeakFree] {
        let rows = augmented::split(&written, 7, mode).unwrap();
        let test: Vec<&ptx_io::folds::FoldRow> =
            rows.iter().filter(|r| r.fold == Split::Test).collect();
        let positives = test.iter().filter(|r| r.label).count();
        assert_eq!(
            (positives, test.len() - positives),
            (870, 1_082),
            "{mode:?}"
        );
        let originals_in = |test_side: bool| -> std::collections::HashSet<usize> {
            rows.iter()
                .zip(&written)
                .filter(|(r, _)| (r.fold == Split::Test) == test_side)
                .map(|(_, w)| w.2)
                .collect()
        };
        let shared = originals_in(true)
            .intersection(&originals_in(false))
            .count();
        match mode {
            // the paper's leak: copies of training images in the test part
            SplitMode::Paper => assert!(shared > 100, "{shared}"),
            SplitMode::LeakFree => assert_eq!(shared, 0),
        }
    }
}

#[test]
fn harmalkars_pseudo_labelling_as_printed() {
    let f = Fixture::new();
    let dir = f.root.join("harmalkar-config");
    harmalkar::print_config(&f.args("harmalkar"), &dir).unwrap();
    for (name, beta) in [("ae", None), ("vae", Some(4.0))] {
        let text = std::fs::read_to_string(dir.join(format!("pseudo-labels-{name}.json"))).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        // "training an AE (with BCE Loss) and a VAE (β-VAE with ELBO loss)"
        assert_eq!(v["latent"]["beta"].as_f64(), beta, "{name}");
        // "The network was trained for over 50 epochs until loss convergence."
        assert_eq!(v["latent"]["epochs"], 50, "{name}");
        // "We used PCA on the encoding to reduce the dimensions and cluster into 14 distinct
        // pseudo-labels"
        assert_eq!(v["pca_components"], 8, "{name}");
        assert_eq!(v["clusters"], 14, "{name}");
    }
    assert!(dir.join("classifier-labels.toml").is_file());
}
