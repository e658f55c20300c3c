//! `ptx forward` and `ptx model summary`, on the reference models of
//! `tests/reference/models_reference.py` (run by `scripts/golden.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_clean_failure, ptx, stderr};

fn same_npy(a: &std::path::Path, b: &std::path::Path) -> f64 {
    let (_, sa, va) = ptx_testdata::read_npy(a);
    let (_, sb, vb) = ptx_testdata::read_npy(b);
    assert_eq!(sa, sb);
    va.iter()
        .zip(&vb)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn forward_reproduces_pytorch_outputs() {
    let Some(dir) = ptx_testdata::golden("models") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("y.npy");
    let labels = tmp.path().join("l.npy");
    // smp Unet(resnet34, decoder_attention_type="scse"), one libtorch thread as in the script
    let case = dir.join("dec_scse");
    let o = ptx(&[
        &"forward",
        &"--threads",
        &"1",
        &"--attention",
        &"scse",
        &"--weights",
        &case.join("weights.safetensors"),
        &"--input",
        &case.join("input.npy"),
        &"--output",
        &out,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(same_npy(&out, &case.join("output.npy")), 0.0);
    // with the auxiliary classifier (max pooling, 2 classes) and its logits
    let case = dir.join("dec_aux_max");
    let o = ptx(&[
        &"forward",
        &"--threads",
        &"1",
        &"--aux",
        &"--aux-pooling",
        &"max",
        &"--weights",
        &case.join("weights.safetensors"),
        &"--input",
        &case.join("input.npy"),
        &"--output",
        &out,
        &"--labels",
        &labels,
    ]);
    // two classes in the reference's classifier: the default one-logit head does not fit
    let err = assert_clean_failure(&o);
    assert!(err.contains("classification_head.3"), "{err}");
    // a config file gives what the flags cannot
    let config = tmp.path().join("aux.toml");
    std::fs::write(
        &config,
        "arch = \"unet\"\nencoder = \"resnet34\"\n[classifier]\nclasses = 2\npooling = \"max\"\n",
    )
    .unwrap();
    let o = ptx(&[
        &"forward",
        &"--threads",
        &"1",
        &"--config",
        &config,
        &"--weights",
        &case.join("weights.safetensors"),
        &"--input",
        &case.join("input.npy"),
        &"--output",
        &out,
        &"--labels",
        &labels,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(same_npy(&out, &case.join("output.npy")), 0.0);
    assert_eq!(same_npy(&labels, &case.join("labels.npy")), 0.0);
}

#[test]
fn forward_rejects_mismatched_weights_and_inputs() {
    let Some(dir) = ptx_testdata::golden("models") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("y.npy");
    let case = dir.join("dec_scse");
    let weights = case.join("weights.safetensors");
    let input = case.join("input.npy");
    // scSE weights into a model without scSE: strict by default
    let err = assert_clean_failure(&ptx(&[
        &"forward",
        &"--weights",
        &weights,
        &"--input",
        &input,
        &"--output",
        &out,
    ]));
    assert!(
        err.contains("unexpected key") && err.contains("attention"),
        "{err}"
    );
    // --lenient loads what fits and says what did not
    let o = ptx(&[
        &"forward",
        &"--lenient",
        &"--weights",
        &weights,
        &"--input",
        &input,
        &"--output",
        &out,
    ]);
    assert!(
        o.status.success() && stderr(&o).contains("60 unexpected"),
        "{}",
        stderr(&o)
    );
    // wrong encoder: shapes differ, the key is named
    let err = assert_clean_failure(&ptx(&[
        &"forward",
        &"--encoder",
        &"resnet50",
        &"--weights",
        &weights,
        &"--input",
        &input,
        &"--output",
        &out,
    ]));
    assert!(
        err.contains("shape") && err.contains("the model expects"),
        "{err}"
    );
    let err = assert_clean_failure(&ptx(&[
        &"forward",
        &"--encoder",
        &"resnet35",
        &"--weights",
        &weights,
        &"--input",
        &input,
        &"--output",
        &out,
    ]));
    assert!(err.contains("unknown encoder `resnet35`"), "{err}");
    let missing = tmp.path().join("none.pth");
    let err = assert_clean_failure(&ptx(&[
        &"forward",
        &"--weights",
        &missing,
        &"--input",
        &input,
        &"--output",
        &out,
    ]));
    assert!(err.contains("none.pth"), "{err}");
    // an input whose size is not a multiple of 32
    let odd = tmp.path().join("odd.npy");
    let labels = dir.join("dec_aux_max/labels.npy"); // (2, 2): not NCHW
    let err = assert_clean_failure(&ptx(&[
        &"forward",
        &"--weights",
        &weights,
        &"--input",
        &labels,
        &"--output",
        &out,
    ]));
    assert!(err.contains("expected (N, C, H, W)"), "{err}");
    std::fs::write(&odd, b"\x93NUMPY garbage").unwrap();
    let err = assert_clean_failure(&ptx(&[
        &"forward",
        &"--weights",
        &weights,
        &"--input",
        &odd,
        &"--output",
        &out,
    ]));
    assert!(err.contains("odd.npy"), "{err}");
}

#[test]
fn model_summary_counts_parameters_like_pytorch() {
    // python: sum(p.numel() for p in smp.Unet("resnet34", encoder_weights=None).parameters())
    let o = ptx(&[&"model", &"summary", &"--size", &"256"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("total") && text.contains("24436369"),
        "{text}"
    );
    assert!(text.contains("output   [1, 1, 256, 256]"), "{text}");
    let o = ptx(&[
        &"model",
        &"summary",
        &"--encoder",
        &"efficientnet-b0",
        &"--center",
        &"aspp",
        &"--aux",
        &"--json",
        &"--size",
        &"64x96",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["output"], serde_json::json!([1, 1, 64, 96]));
    assert_eq!(v["labels"], serde_json::json!([1, 1]));
    assert!(v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "decoder.center"));
    let o = ptx(&[
        &"model",
        &"summary",
        &"--arch",
        &"plain-unet",
        &"--size",
        &"100",
    ]);
    let err = assert_clean_failure(&o);
    assert!(err.contains("96x96 or 112x112"), "{err}");
}

#[test]
fn forward_reads_a_ptx_checkpoint_folder() {
    use ptx_models::{EncoderName, Model, ModelConfig, UnetConfig};
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = tmp.path().join("ckpt");
    let config = UnetConfig {
        in_channels: 1,
        pad_input: Some(ptx_models::PadMode::Reflect),
        ..UnetConfig::with_encoder(EncoderName::Resnet18)
    };
    tch::manual_seed(3);
    let model = Model::new(ModelConfig::Unet(config), tch::Device::Cpu).unwrap();
    model.save(&ckpt).unwrap();
    let x = tch::Tensor::randn([1, 1, 50, 40], (tch::Kind::Float, tch::Device::Cpu));
    let input = tmp.path().join("x.npy");
    x.write_npy(&input).unwrap();
    let out = tmp.path().join("y.npy");
    let o = ptx(&[
        &"forward",
        &"--weights",
        &ckpt,
        &"--input",
        &input,
        &"--output",
        &out,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let y = tch::Tensor::read_npy(&out).unwrap();
    let want = tch::no_grad(|| model.forward_t(&x, false)).unwrap().logits;
    assert_eq!(y.size(), [1, 1, 50, 40]);
    let d = (y - want).abs().max().double_value(&[]);
    assert!(d < 1e-4, "{d}");
}
