//! InceptionV3 as timm's `inception_v3` with `features_only=True`, the encoder smp builds for
//! `tu-inception_v3`: `Conv2d_1a_3x3.conv/bn` .. `Mixed_7c.branch_pool.conv/bn`.
//!
//! The stem uses unpadded convolutions, so feature maps are not exact fractions of the input
//! (256 -> 125, 60, 29, 14, 6); the U-Net decoder resizes to each skip's size as smp 0.6 does.

use tch::nn::{self, Path};
use tch::Tensor;

use super::{EncoderSpec, Features, PlainOptions};
use crate::layers::{avg_pool, conv2d_rect, max_pool, BatchNorm2d, ConvBnAct};

const EPS: f64 = 1e-3;

type Unit = ConvBnAct<nn::Conv<[i64; 2]>>;

/// timm's `ConvNormAct`: conv (no bias), `bn` (eps 1e-3), ReLU.
fn unit(
    p: &Path<'_>,
    name: &str,
    cin: i64,
    cout: i64,
    k: [i64; 2],
    stride: i64,
    pad: [i64; 2],
) -> Unit {
    let q = p / name;
    ConvBnAct {
        conv: conv2d_rect(&q / "conv", cin, cout, k, stride, pad, false),
        bn: Some(BatchNorm2d::with(&q / "bn", cout, EPS, 0.1)),
    }
}

fn sq(p: &Path<'_>, name: &str, cin: i64, cout: i64, k: i64, stride: i64, pad: i64) -> Unit {
    unit(p, name, cin, cout, [k, k], stride, [pad, pad])
}

fn chain(units: &[Unit], xs: &Tensor, train: bool) -> Tensor {
    let mut x = xs.shallow_clone();
    for u in units {
        x = u.forward_t(&x, train);
    }
    x
}

/// An Inception block: parallel branches concatenated on channels.
#[allow(clippy::large_enum_variant)] // built once per model
#[derive(Debug)]
enum Mixed {
    /// InceptionA / InceptionC: a 1x1 branch, two convolution chains and a pooled 1x1 branch.
    Pooled {
        b1: Unit,
        chains: [Vec<Unit>; 2],
        pool: Unit,
    },
    /// InceptionB / InceptionD (grid reduction): two strided chains and a max-pool.
    Reduction { chains: [Vec<Unit>; 2] },
    /// InceptionE: branches that split into 1x3 and 3x1 halves.
    Expanded {
        b1: Unit,
        b3_1: Unit,
        b3_2: [Unit; 2],
        dbl_1: [Unit; 2],
        dbl_3: [Unit; 2],
        pool: Unit,
    },
}

impl Mixed {
    fn a(p: Path<'_>, cin: i64, pool: i64) -> Self {
        Mixed::Pooled {
            b1: sq(&p, "branch1x1", cin, 64, 1, 1, 0),
            chains: [
                vec![
                    sq(&p, "branch5x5_1", cin, 48, 1, 1, 0),
                    sq(&p, "branch5x5_2", 48, 64, 5, 1, 2),
                ],
                vec![
                    sq(&p, "branch3x3dbl_1", cin, 64, 1, 1, 0),
                    sq(&p, "branch3x3dbl_2", 64, 96, 3, 1, 1),
                    sq(&p, "branch3x3dbl_3", 96, 96, 3, 1, 1),
                ],
            ],
            pool: sq(&p, "branch_pool", cin, pool, 1, 1, 0),
        }
    }

    fn b(p: Path<'_>, cin: i64) -> Self {
        Mixed::Reduction {
            chains: [
                vec![sq(&p, "branch3x3", cin, 384, 3, 2, 0)],
                vec![
                    sq(&p, "branch3x3dbl_1", cin, 64, 1, 1, 0),
                    sq(&p, "branch3x3dbl_2", 64, 96, 3, 1, 1),
                    sq(&p, "branch3x3dbl_3", 96, 96, 3, 2, 0),
                ],
            ],
        }
    }

    fn c(p: Path<'_>, cin: i64, c7: i64) -> Self {
        let (row, col) = (([1, 7], [0, 3]), ([7, 1], [3, 0]));
        Mixed::Pooled {
            b1: sq(&p, "branch1x1", cin, 192, 1, 1, 0),
            chains: [
                vec![
                    sq(&p, "branch7x7_1", cin, c7, 1, 1, 0),
                    unit(&p, "branch7x7_2", c7, c7, row.0, 1, row.1),
                    unit(&p, "branch7x7_3", c7, 192, col.0, 1, col.1),
                ],
                vec![
                    sq(&p, "branch7x7dbl_1", cin, c7, 1, 1, 0),
                    unit(&p, "branch7x7dbl_2", c7, c7, col.0, 1, col.1),
                    unit(&p, "branch7x7dbl_3", c7, c7, row.0, 1, row.1),
                    unit(&p, "branch7x7dbl_4", c7, c7, col.0, 1, col.1),
                    unit(&p, "branch7x7dbl_5", c7, 192, row.0, 1, row.1),
                ],
            ],
            pool: sq(&p, "branch_pool", cin, 192, 1, 1, 0),
        }
    }

    fn d(p: Path<'_>, cin: i64) -> Self {
        Mixed::Reduction {
            chains: [
                vec![
                    sq(&p, "branch3x3_1", cin, 192, 1, 1, 0),
                    sq(&p, "branch3x3_2", 192, 320, 3, 2, 0),
                ],
                vec![
                    sq(&p, "branch7x7x3_1", cin, 192, 1, 1, 0),
                    unit(&p, "branch7x7x3_2", 192, 192, [1, 7], 1, [0, 3]),
                    unit(&p, "branch7x7x3_3", 192, 192, [7, 1], 1, [3, 0]),
                    sq(&p, "branch7x7x3_4", 192, 192, 3, 2, 0),
                ],
            ],
        }
    }

    fn e(p: Path<'_>, cin: i64) -> Self {
        Mixed::Expanded {
            b1: sq(&p, "branch1x1", cin, 320, 1, 1, 0),
            b3_1: sq(&p, "branch3x3_1", cin, 384, 1, 1, 0),
            b3_2: [
                unit(&p, "branch3x3_2a", 384, 384, [1, 3], 1, [0, 1]),
                unit(&p, "branch3x3_2b", 384, 384, [3, 1], 1, [1, 0]),
            ],
            dbl_1: [
                sq(&p, "branch3x3dbl_1", cin, 448, 1, 1, 0),
                sq(&p, "branch3x3dbl_2", 448, 384, 3, 1, 1),
            ],
            dbl_3: [
                unit(&p, "branch3x3dbl_3a", 384, 384, [1, 3], 1, [0, 1]),
                unit(&p, "branch3x3dbl_3b", 384, 384, [3, 1], 1, [1, 0]),
            ],
            pool: sq(&p, "branch_pool", cin, 192, 1, 1, 0),
        }
    }

    fn forward_t(&self, x: &Tensor, t: bool) -> Tensor {
        let parts = match self {
            Mixed::Pooled { b1, chains, pool } => vec![
                b1.forward_t(x, t),
                chain(&chains[0], x, t),
                chain(&chains[1], x, t),
                pool.forward_t(&avg_pool(x, 3, 1, 1), t),
            ],
            Mixed::Reduction { chains } => vec![
                chain(&chains[0], x, t),
                chain(&chains[1], x, t),
                max_pool(x, 3, 2, 0, false),
            ],
            Mixed::Expanded {
                b1,
                b3_1,
                b3_2,
                dbl_1,
                dbl_3,
                pool,
            } => {
                let y3 = b3_1.forward_t(x, t);
                let yd = chain(dbl_1, x, t);
                vec![
                    b1.forward_t(x, t),
                    Tensor::cat(&[b3_2[0].forward_t(&y3, t), b3_2[1].forward_t(&y3, t)], 1),
                    Tensor::cat(&[dbl_3[0].forward_t(&yd, t), dbl_3[1].forward_t(&yd, t)], 1),
                    pool.forward_t(&avg_pool(x, 3, 1, 1), t),
                ]
            }
        };
        Tensor::cat(&parts, 1)
    }
}

/// InceptionV3 trunk up to `Mixed_7c` (no auxiliary classifier, no `fc`).
#[derive(Debug)]
pub(crate) struct InceptionV3 {
    stem1: [Unit; 3],
    stem2: [Unit; 2],
    mixed5: [Mixed; 3],
    mixed6: [Mixed; 5],
    mixed7: [Mixed; 3],
}

impl InceptionV3 {
    pub(crate) fn new(p: Path<'_>, in_channels: i64) -> Self {
        Self {
            stem1: [
                sq(&p, "Conv2d_1a_3x3", in_channels, 32, 3, 2, 0),
                sq(&p, "Conv2d_2a_3x3", 32, 32, 3, 1, 0),
                sq(&p, "Conv2d_2b_3x3", 32, 64, 3, 1, 1),
            ],
            stem2: [
                sq(&p, "Conv2d_3b_1x1", 64, 80, 1, 1, 0),
                sq(&p, "Conv2d_4a_3x3", 80, 192, 3, 1, 0),
            ],
            mixed5: [
                Mixed::a(&p / "Mixed_5b", 192, 32),
                Mixed::a(&p / "Mixed_5c", 256, 64),
                Mixed::a(&p / "Mixed_5d", 288, 64),
            ],
            mixed6: [
                Mixed::b(&p / "Mixed_6a", 288),
                Mixed::c(&p / "Mixed_6b", 768, 128),
                Mixed::c(&p / "Mixed_6c", 768, 160),
                Mixed::c(&p / "Mixed_6d", 768, 160),
                Mixed::c(&p / "Mixed_6e", 768, 192),
            ],
            mixed7: [
                Mixed::d(&p / "Mixed_7a", 768),
                Mixed::e(&p / "Mixed_7b", 1280),
                Mixed::e(&p / "Mixed_7c", 2048),
            ],
        }
    }
}

impl Features for InceptionV3 {
    fn features(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        let mut out = vec![xs.shallow_clone()];
        let mut x = chain(&self.stem1, xs, train);
        out.push(x.shallow_clone());
        x = chain(&self.stem2, &max_pool(&x, 3, 2, 0, false), train);
        out.push(x.shallow_clone());
        x = max_pool(&x, 3, 2, 0, false);
        for group in [&self.mixed5[..], &self.mixed6[..], &self.mixed7[..]] {
            for m in group {
                x = m.forward_t(&x, train);
            }
            out.push(x.shallow_clone());
        }
        out
    }
}

/// InceptionV3 (timm's `inception_v3`, smp's `tu-inception_v3`) as it knows itself: its
/// layers sit under `model.`, as in smp's timm wrapper.
#[derive(Debug)]
pub(crate) struct InceptionV3Spec;

impl EncoderSpec for InceptionV3Spec {
    fn out_channels(&self, in_channels: i64, _: &PlainOptions) -> [i64; 6] {
        [in_channels, 64, 192, 288, 768, 2048]
    }

    fn first_conv_key(&self) -> &'static str {
        "model.Conv2d_1a_3x3.conv.weight"
    }

    fn last_stage_prefixes(&self) -> Vec<String> {
        ["Mixed_7a.", "Mixed_7b.", "Mixed_7c."]
            .iter()
            .map(|m| format!("model.{m}"))
            .collect()
    }

    /// torchvision's and timm's classifiers have no `model.` level.
    fn classifier_key(&self, key: &str) -> String {
        if key.starts_with("model.") {
            key.to_owned()
        } else {
            format!("model.{key}")
        }
    }

    /// The stem and reduction blocks use unpadded convolutions: 64 px leaves a 1x1 map for
    /// a 3x3 kernel.
    fn min_input(&self) -> i64 {
        96
    }

    fn build(&self, p: Path<'_>, in_channels: i64, _: &PlainOptions) -> Box<dyn Features> {
        Box::new(InceptionV3::new(&p / "model", in_channels))
    }
}
