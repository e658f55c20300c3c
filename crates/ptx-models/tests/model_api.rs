//! Behaviour of the public API that needs no reference files: checkpoints, input checks,
//! padding, freezing, transfer, the two-stage system, bad files and configs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_models::{
    Center, ClassifierOptions, EncoderName, Error, Freeze, FreezeSchedule, Model, ModelConfig,
    PadMode, Part, PlainUnetConfig, Summary, Task, UnetConfig, WeightSource,
};
use tch::{Device, Kind, Tensor};

fn unet(encoder: EncoderName) -> UnetConfig {
    UnetConfig::with_encoder(encoder)
}

fn model(config: UnetConfig) -> Model {
    tch::manual_seed(0);
    Model::new(ModelConfig::Unet(config), Device::Cpu).unwrap()
}

fn input(n: i64, c: i64, h: i64, w: i64) -> Tensor {
    tch::manual_seed(1);
    Tensor::randn([n, c, h, w], (Kind::Float, Device::Cpu))
}

fn eval(m: &Model, x: &Tensor) -> Tensor {
    tch::no_grad(|| m.forward_t(x, false)).unwrap().logits
}

#[test]
fn checkpoint_round_trip_is_exact_and_self_describing() {
    let config = UnetConfig {
        classifier: Some(ClassifierOptions::default()),
        ..unet(EncoderName::Resnet18)
    };
    let m = model(config.clone());
    let dir = tempfile::tempdir().unwrap();
    m.save(dir.path()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["config.json", "model.safetensors"],
        "no temporary files left"
    );
    let back = Model::load(dir.path(), Device::Cpu).unwrap();
    assert_eq!(back.config(), &ModelConfig::Unet(config));
    let x = input(1, 3, 64, 64);
    assert_eq!(eval(&m, &x), eval(&back, &x));
    // a checkpoint whose config names another encoder fails to load, naming keys
    let other = serde_json::to_string(&ModelConfig::Unet(unet(EncoderName::Resnet34))).unwrap();
    std::fs::write(dir.path().join("config.json"), other).unwrap();
    let err = Model::load(dir.path(), Device::Cpu).unwrap_err();
    assert!(matches!(err, Error::MissingKeys { .. }), "{err}");
    assert!(err.to_string().contains("missing key"), "{err}");
}

#[test]
fn parameter_count_equals_smp() {
    // python: sum(p.numel() for p in smp.Unet("resnet34", encoder_weights=None).parameters())
    let s = Summary::of(&ModelConfig::default(), 64, 64).unwrap();
    assert_eq!(s.parameters, 24_436_369);
    assert_eq!(s.output, [1, 1, 64, 64]);
    assert_eq!(s.features.len(), 6);
    assert_eq!(s.features[5], [1, 512, 2, 2]);
    // python: smp.Unet("densenet121", encoder_weights=None, aux_params={"classes": 1})
    let config = UnetConfig {
        classifier: Some(ClassifierOptions::default()),
        ..unet(EncoderName::Densenet121)
    };
    let s = Summary::of(&ModelConfig::Unet(config), 64, 64).unwrap();
    assert_eq!(s.parameters, 13_608_658);
    assert_eq!(s.labels, Some(vec![1, 1]));
    let text = s.to_string();
    assert!(
        text.contains("encoder.features.denseblock4") && text.contains("13608658"),
        "{text}"
    );
}

#[test]
fn input_size_errors_name_valid_sizes_and_padding_crops_back() {
    let m = model(unet(EncoderName::Resnet18));
    let err = m.forward_t(&input(1, 3, 100, 70), false).unwrap_err();
    match &err {
        Error::InputSize {
            lower_height,
            upper_height,
            lower_width,
            upper_width,
            ..
        } => {
            assert_eq!(
                (*lower_height, *upper_height, *lower_width, *upper_width),
                (96, 128, 64, 96)
            );
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("96x64 or 128x96"), "{err}");
    let err = m.forward_t(&input(1, 1, 64, 64), false).unwrap_err();
    assert!(matches!(err, Error::InputShape { .. }), "{err}");
    assert!(m
        .forward_t(
            &Tensor::zeros([3, 64, 64], (Kind::Float, Device::Cpu)),
            false
        )
        .is_err());

    for mode in [PadMode::Zero, PadMode::Reflect] {
        let padded = model(UnetConfig {
            pad_input: Some(mode),
            ..unet(EncoderName::Resnet18)
        });
        let x = input(2, 3, 100, 70);
        let y = eval(&padded, &x);
        assert_eq!(y.size(), [2, 1, 100, 70]);
        // same as padding by hand (centred: 14 / 14 rows, 13 / 13 columns) and cropping
        let spec = [13, 13, 14, 14];
        let manual = match mode {
            PadMode::Zero => x.constant_pad_nd(spec),
            _ => x.reflection_pad2d(spec),
        };
        let full = eval(&padded, &manual);
        assert_eq!(y, full.narrow(2, 14, 100).narrow(3, 13, 70));
    }
}

#[test]
fn freezing_policies_select_the_papers_parts() {
    for encoder in [
        EncoderName::Resnet18,
        EncoderName::Densenet121,
        EncoderName::Vgg16Bn,
        EncoderName::EfficientnetB0,
    ] {
        let m = model(unet(encoder));
        let trainable = |name: &str| m.var_store().variables()[name].requires_grad();
        let all = m.var_store().trainable_variables().len();
        let frozen = m.freeze(Freeze::Encoder);
        let encoder_params = m
            .var_store()
            .variables()
            .iter()
            .filter(|(k, _)| {
                k.starts_with("encoder.")
                    && !k.contains("running_")
                    && !k.ends_with("num_batches_tracked")
            })
            .count();
        assert_eq!(frozen, encoder_params, "{encoder}");
        assert!(!trainable(&format!("encoder.{}", encoder.first_conv_key())));
        assert!(trainable("segmentation_head.0.weight"));
        let partly = m.freeze(Freeze::AllButLastBlock);
        assert!(
            0 < partly && partly < frozen,
            "{encoder}: {partly} of {frozen}"
        );
        assert!(!trainable(&format!("encoder.{}", encoder.first_conv_key())));
        let last = m
            .var_store()
            .variables()
            .into_keys()
            .find(|k| {
                encoder.last_stage_prefixes().iter().any(|p| {
                    k.strip_prefix("encoder.")
                        .is_some_and(|r| r.starts_with(p.as_str()))
                }) && k.ends_with("weight")
            })
            .unwrap();
        assert!(trainable(&last), "{encoder}: {last}");
        assert_eq!(m.unfreeze(), 0);
        assert_eq!(
            m.var_store()
                .trainable_variables()
                .iter()
                .filter(|t| t.requires_grad())
                .count(),
            all
        );
    }
    let schedule = FreezeSchedule {
        freeze: Freeze::Parts(vec![Part::Decoder]),
        epochs: 3,
    };
    assert_eq!(schedule.at(2), Freeze::Parts(vec![Part::Decoder]));
    assert_eq!(schedule.at(3), Freeze::Nothing);
}

#[test]
fn a_frozen_encoder_does_not_move_in_training() {
    use tch::nn::OptimizerConfig;
    let m = model(unet(EncoderName::Resnet18));
    m.freeze(Freeze::Encoder);
    let snapshot = |name: &str| m.var_store().variables()[name].copy();
    let (enc, dec) = (
        "encoder.layer1.0.conv1.weight",
        "decoder.blocks.0.conv1.0.weight",
    );
    let (enc0, dec0) = (snapshot(enc), snapshot(dec));
    let mut opt = tch::nn::Adam::default().build(m.var_store(), 1e-2).unwrap();
    let out = m.forward_t(&input(2, 3, 64, 64), true).unwrap();
    opt.backward_step(&out.logits.square().mean(Kind::Float));
    assert_eq!(snapshot(enc), enc0);
    assert_ne!(snapshot(dec), dec0);
}

#[test]
fn reconstruction_weights_transfer_to_segmentation() {
    let ae = model(UnetConfig {
        task: Task::Reconstruction,
        classes: 1,
        in_channels: 1,
        ..unet(EncoderName::Resnet18)
    });
    let keys: Vec<String> = ae.var_store().variables().into_keys().collect();
    assert!(keys.iter().any(|k| k.starts_with("reconstruction_head.")));
    let mut seg = Model::new(
        ModelConfig::Unet(UnetConfig {
            in_channels: 1,
            ..unet(EncoderName::Resnet18)
        }),
        Device::Cpu,
    )
    .unwrap();
    // zero everything first, so that what is copied (and only that) becomes non-zero
    tch::no_grad(|| {
        for (_, mut v) in seg.var_store().variables() {
            let _ = v.zero_();
        }
    });
    let copied = seg.transfer_from(&ae, &[Part::Encoder]).unwrap();
    let (a, s) = (ae.var_store().variables(), seg.var_store().variables());
    assert_eq!(
        copied,
        a.keys().filter(|k| k.starts_with("encoder.")).count()
    );
    for key in [
        "encoder.layer4.1.conv2.weight",
        "encoder.layer4.1.bn2.running_var",
    ] {
        assert_eq!(a[key], s[key], "{key}");
    }
    let dec = "decoder.blocks.0.conv1.0.weight";
    assert_eq!(s[dec].abs().max().double_value(&[]), 0.0);
    seg.transfer_from(&ae, &[Part::Decoder]).unwrap();
    assert_eq!(a[dec], seg.var_store().variables()[dec]);
    // the plain U-Net too: its auto-encoder's encoder + decoder go into the segmenter
    let plain = |task| {
        Model::new(
            ModelConfig::PlainUnet(PlainUnetConfig {
                task,
                ..Default::default()
            }),
            Device::Cpu,
        )
        .unwrap()
    };
    let (pa, mut ps) = (plain(Task::Reconstruction), plain(Task::Segmentation));
    let n = ps
        .transfer_from(&pa, &[Part::Encoder, Part::Decoder])
        .unwrap();
    assert_eq!(n, pa.var_store().variables().len() - 2);
}

#[test]
fn loading_reports_and_rejects_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let src = model(UnetConfig {
        classes: 2,
        ..unet(EncoderName::Resnet18)
    });
    src.save(dir.path()).unwrap();
    let weights = dir.path().join("model.safetensors");
    let mut dst = model(unet(EncoderName::Resnet18));
    let err = dst
        .load_weights(&weights, WeightSource::Model, false)
        .unwrap_err();
    match &err {
        Error::ShapeMismatch {
            key,
            expected,
            found,
            ..
        } => {
            assert!(key.starts_with("segmentation_head.0."), "{key}");
            assert_eq!((expected[0], found[0]), (1, 2));
        }
        other => panic!("{other}"),
    }
    // a ResNet18 model file into a ResNet34 model: strict fails, lenient reports
    let small = tempfile::tempdir().unwrap();
    model(unet(EncoderName::Resnet18))
        .save(small.path())
        .unwrap();
    let mut big = model(unet(EncoderName::Resnet34));
    let file = small.path().join("model.safetensors");
    assert!(matches!(
        big.load_weights(&file, WeightSource::Auto, true),
        Err(Error::MissingKeys { .. })
    ));
    let report = big.load_weights(&file, WeightSource::Auto, false).unwrap();
    assert!(
        report
            .missing
            .iter()
            .any(|k| k.starts_with("encoder.layer1.2.")),
        "{report}"
    );
    assert!(report.unexpected.is_empty());
    // every ResNet18 key exists in ResNet34 with the same shape
    let small_keys = model(unet(EncoderName::Resnet18))
        .var_store()
        .variables()
        .len();
    assert_eq!(report.loaded, small_keys, "{report}");
}

#[test]
fn bad_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = model(unet(EncoderName::Resnet18));
    let missing = dir.path().join("none.pth");
    assert!(matches!(
        m.load_weights(&missing, WeightSource::Auto, false),
        Err(Error::Io { .. })
    ));
    for (name, bytes) in [
        ("garbage.pth", b"not a checkpoint at all".to_vec()),
        ("empty.pt", Vec::new()),
        ("zip.pth", b"PK\x03\x04 truncated".to_vec()),
        ("pickle.pth", vec![0x80, 0x02, b'}', b'q', 0x00]),
        (
            "bad.safetensors",
            b"\x10\x00\x00\x00\x00\x00\x00\x00{oops".to_vec(),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = m
            .load_weights(&path, WeightSource::Auto, false)
            .unwrap_err();
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
}

#[test]
fn configs_reject_unknown_names() {
    let err = "resnet35".parse::<EncoderName>().unwrap_err();
    assert!(
        err.to_string().contains("resnet35") && err.to_string().contains("efficientnet-b7"),
        "{err}"
    );
    assert_eq!(
        "tu-inception_v3".parse::<EncoderName>().unwrap(),
        EncoderName::InceptionV3
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    std::fs::write(
        &path,
        "arch = \"unet\"\nencoder = \"resnet34\"\n[decoder]\nattenton = \"scse\"\n",
    )
    .unwrap();
    let err = ModelConfig::from_file(&path).unwrap_err();
    assert!(err.to_string().contains("attenton"), "{err}");
    std::fs::write(&path, "arch = \"unet\"\nencoder = \"vgg16\"\n[decoder]\ncenter = \"aspp\"\nattention = \"scse\"\nhypercolumns = true\n").unwrap();
    let ModelConfig::Unet(c) = ModelConfig::from_file(&path).unwrap() else {
        panic!()
    };
    assert_eq!(c.decoder.center, Center::Aspp);
    // Five decoder channel counts, one per encoder stage: other lengths do not parse.
    std::fs::write(
        &path,
        "arch = \"unet\"\nencoder = \"resnet18\"\n[decoder]\nchannels = [8, 8]\n",
    )
    .unwrap();
    let err = ModelConfig::from_file(&path).unwrap_err();
    assert!(err.to_string().contains("channels"), "{err}");
    let bad = UnetConfig {
        decoder: ptx_models::DecoderOptions {
            channels: [8, 8, 8, 8, 0],
            ..Default::default()
        },
        ..UnetConfig::default()
    };
    assert!(Model::new(ModelConfig::Unet(bad), Device::Cpu).is_err());
}

#[test]
fn channels_last_keeps_values() {
    let mut m = model(unet(EncoderName::Resnet18));
    let x = input(2, 3, 64, 64);
    let y = eval(&m, &x);
    m.to_channels_last();
    let w = &m.var_store().variables()["encoder.conv1.weight"];
    assert_eq!(w.stride()[1], 1, "NHWC strides: {:?}", w.stride());
    let y2 = eval(&m, &ptx_models::channels_last(&x));
    // NHWC convolutions sum in another order: equal up to float32 rounding relative to |y|
    // (PyTorch's own smp Unet(resnet18) moves by 8e-6 relative under channels_last; ptx 1e-5)
    let scale = y.abs().max().double_value(&[]).max(1.0);
    let d = (y - y2).abs().max().double_value(&[]);
    assert!(d <= 5e-5 * scale, "{d} with outputs up to {scale}");
}

#[test]
fn decoder_and_classifier_dropout_act_in_training_only() {
    let mut config = unet(EncoderName::Resnet18);
    config.decoder.dropout = 0.5;
    config.classifier = Some(ClassifierOptions {
        dropout: 0.5,
        ..ClassifierOptions::default()
    });
    let m = model(config);
    let x = input(2, 3, 64, 64);
    let run = |train| tch::no_grad(|| m.forward_t(&x, train)).unwrap();
    let (a, b) = (run(false), run(false));
    assert_eq!(a.logits, b.logits);
    assert_eq!(a.labels, b.labels);
    let (c, d) = (run(true), run(true));
    assert_ne!(c.logits, d.logits);
    assert_ne!(c.labels, d.labels);
}

#[test]
fn inception_below_96_pixels_is_an_error_not_a_panic() {
    let m = model(unet(EncoderName::InceptionV3));
    let err = m.forward_t(&input(1, 3, 64, 96), false).unwrap_err();
    assert!(
        matches!(err, Error::InputTooSmall { minimum: 96, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("at least 96x96"), "{err}");
    let out = m.forward_t(&input(1, 3, 96, 96), false).unwrap();
    assert_eq!(out.logits.size(), [1, 1, 96, 96]);
}

#[test]
fn every_encoder_knows_its_channels_first_conv_and_last_stage() {
    // What each encoder says about itself (smp's EncoderMixin) against the built trunk: the
    // channels of the maps it returns, the first convolution's key, the last stage's keys.
    for &name in EncoderName::ALL {
        let (in_channels, side) = (
            2,
            if name == EncoderName::InceptionV3 {
                96
            } else {
                64
            },
        );
        let plain = ptx_models::PlainOptions {
            base_channels: 8,
            ..Default::default()
        };
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let encoder = ptx_models::Encoder::new(vs.root(), name, in_channels, &plain);
        let maps = tch::no_grad(|| encoder.forward_t(&input(1, in_channels, side, side), false));
        let channels: Vec<i64> = maps.iter().map(|m| m.size()[1]).collect();
        assert_eq!(channels, encoder.out_channels().to_vec(), "{name}");
        assert_eq!(
            *encoder.out_channels(),
            name.out_channels(in_channels, &plain)
        );
        let vars = vs.variables();
        let first = &vars[name.first_conv_key()];
        assert_eq!(first.size()[1], in_channels, "{name}");
        // The last stage's prefixes name variables (VGG's also name its parameter-free
        // ReLUs, as torchvision numbers them).
        let prefixes = name.last_stage_prefixes();
        let last: Vec<&String> = vars
            .keys()
            .filter(|k| prefixes.iter().any(|p| k.starts_with(p.as_str())))
            .collect();
        assert!(!last.is_empty(), "{name}: nothing under {prefixes:?}");
        assert!(
            last.len() < vars.len(),
            "{name}: the last stage is not the whole"
        );
        assert!(name.min_input() >= name.output_stride());
    }
}

#[test]
fn a_config_answers_its_task_and_classes() {
    let config = ModelConfig::Unet(UnetConfig {
        classes: 2,
        classifier: Some(ClassifierOptions {
            classes: 3,
            ..Default::default()
        }),
        ..unet(EncoderName::Resnet18)
    });
    assert_eq!(config.task(), Task::Segmentation);
    assert_eq!(config.classes(), 2);
    assert_eq!(config.classifier_classes(), Some(3));
    let plain = ModelConfig::PlainUnet(PlainUnetConfig {
        task: Task::Reconstruction,
        ..Default::default()
    });
    assert_eq!(plain.task(), Task::Reconstruction);
    assert_eq!(plain.classifier_classes(), None);
}
