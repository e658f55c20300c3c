//! EfficientNet-B0..B7 as smp's `EfficientNetEncoder` (lukemelas' `efficientnet_pytorch`, vendored
//! in smp): `_conv_stem`, `_bn0`, `_blocks.N._expand_conv/_bn0/_depthwise_conv/_bn1/_se_reduce/
//! _se_expand/_project_conv/_bn2`, `_conv_head`, `_bn1`.
//!
//! Convolutions use TensorFlow's "same" padding computed once from the model's nominal image size
//! (224 for B0 .. 600 for B7), exactly as `Conv2dStaticSamePadding` does: for inputs of another
//! size the padding stays the one of the nominal size, as in PyTorch.

use tch::nn::{self, Path};
use tch::Tensor;

use super::{EncoderSpec, Features, PlainOptions};
use crate::layers::{conv2d, BatchNorm2d};

/// Width and depth multipliers, nominal resolution of B0..B7 (`efficientnet_params`).
const PARAMS: [(f64, f64, i64); 8] = [
    (1.0, 1.0, 224),
    (1.0, 1.1, 240),
    (1.1, 1.2, 260),
    (1.2, 1.4, 300),
    (1.4, 1.8, 380),
    (1.6, 2.2, 456),
    (1.8, 2.6, 528),
    (2.0, 3.1, 600),
];

/// smp's feature indexes (`out_indexes`) of B0..B7.
const OUT_INDEXES: [[usize; 4]; 8] = [
    [2, 4, 8, 15],
    [4, 7, 15, 22],
    [4, 7, 15, 22],
    [4, 7, 17, 25],
    [5, 9, 21, 31],
    [7, 12, 26, 38],
    [8, 14, 30, 44],
    [10, 17, 37, 54],
];

/// B0's stages: repeats, kernel, stride, expansion, input and output filters (SE ratio 0.25).
const STAGES: [(usize, i64, i64, i64, i64, i64); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

const BN_EPS: f64 = 1e-3;
const BN_MOMENTUM: f64 = 0.01;

fn round_filters(filters: i64, width: f64) -> i64 {
    let f = filters as f64 * width;
    let mut new = ((f + 4.0) as i64 / 8 * 8).max(8);
    if (new as f64) < 0.9 * f {
        new += 8;
    }
    new
}

fn round_repeats(repeats: usize, depth: f64) -> usize {
    (depth * repeats as f64).ceil() as usize
}

/// Output channels of smp's encoder for B0..B7: `[3, stem, stride 4, 8, 16, 32]`.
fn out_channels(variant: usize) -> [i64; 6] {
    let (w, d, _) = PARAMS[variant];
    let mut channels = [3, round_filters(32, w), 0, 0, 0, 0];
    let (mut index, mut next) = (0, 2);
    let outs = OUT_INDEXES[variant];
    for &(r, _, _, _, _, o) in &STAGES {
        for _ in 0..round_repeats(r, d) {
            if outs.contains(&index) && next < channels.len() {
                channels[next] = round_filters(o, w);
                next += 1;
            }
            index += 1;
        }
    }
    // b0's index 8 is the first block of stage 5 (112 filters): covered by the loop above.
    channels
}

/// `Conv2dStaticSamePadding`: zero padding fixed at construction, then a padding-free conv.
#[derive(Debug)]
struct SameConv {
    conv: nn::Conv2D,
    pad: Option<[i64; 4]>,
}

impl SameConv {
    #[allow(clippy::too_many_arguments)]
    fn new(
        p: Path<'_>,
        cin: i64,
        cout: i64,
        k: i64,
        stride: i64,
        groups: i64,
        bias: bool,
        image: i64,
    ) -> Self {
        let out = (image + stride - 1) / stride;
        let pad = ((out - 1) * stride + k - image).max(0);
        Self {
            conv: conv2d(p, cin, cout, k, stride, 0, groups, bias),
            pad: (pad > 0).then_some([pad / 2, pad - pad / 2, pad / 2, pad - pad / 2]),
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        match self.pad {
            Some(pad) => xs.constant_pad_nd(pad).apply(&self.conv),
            None => xs.apply(&self.conv),
        }
    }
}

#[derive(Debug)]
struct MbConv {
    expand: Option<(SameConv, BatchNorm2d)>,
    depthwise: SameConv,
    bn1: BatchNorm2d,
    se_reduce: SameConv,
    se_expand: SameConv,
    project: SameConv,
    bn2: BatchNorm2d,
    skip: bool,
}

impl MbConv {
    #[allow(clippy::too_many_arguments)]
    fn new(p: Path<'_>, cin: i64, cout: i64, k: i64, stride: i64, expand: i64, image: i64) -> Self {
        let mid = cin * expand;
        let squeezed = ((cin as f64 * 0.25) as i64).max(1);
        Self {
            expand: (expand != 1).then(|| {
                (
                    SameConv::new(&p / "_expand_conv", cin, mid, 1, 1, 1, false, image),
                    BatchNorm2d::with(&p / "_bn0", mid, BN_EPS, BN_MOMENTUM),
                )
            }),
            depthwise: SameConv::new(
                &p / "_depthwise_conv",
                mid,
                mid,
                k,
                stride,
                mid,
                false,
                image,
            ),
            bn1: BatchNorm2d::with(&p / "_bn1", mid, BN_EPS, BN_MOMENTUM),
            se_reduce: SameConv::new(&p / "_se_reduce", mid, squeezed, 1, 1, 1, true, 1),
            se_expand: SameConv::new(&p / "_se_expand", squeezed, mid, 1, 1, 1, true, 1),
            project: SameConv::new(
                &p / "_project_conv",
                mid,
                cout,
                1,
                1,
                1,
                false,
                (image + stride - 1) / stride,
            ),
            bn2: BatchNorm2d::with(&p / "_bn2", cout, BN_EPS, BN_MOMENTUM),
            skip: stride == 1 && cin == cout,
        }
    }

    fn forward_t(&self, xs: &Tensor, drop_connect: f64, train: bool) -> Tensor {
        let mut x = match &self.expand {
            Some((conv, bn)) => bn.forward_t(&conv.forward(xs), train).silu(),
            None => xs.shallow_clone(),
        };
        x = self
            .bn1
            .forward_t(&self.depthwise.forward(&x), train)
            .silu();
        let squeezed = self.se_expand.forward(
            &self
                .se_reduce
                .forward(&x.adaptive_avg_pool2d([1, 1]))
                .silu(),
        );
        x = squeezed.sigmoid() * x;
        x = self.bn2.forward_t(&self.project.forward(&x), train);
        if !self.skip {
            return x;
        }
        if train && drop_connect > 0.0 {
            let keep = 1.0 - drop_connect;
            let n = x.size()[0];
            let mask = (Tensor::rand([n, 1, 1, 1], (x.kind(), x.device())) + keep).floor();
            x = x / keep * mask;
        }
        x + xs
    }
}

/// EfficientNet trunk; the unused `_conv_head` / `_bn1` are kept so key sets equal smp's.
#[derive(Debug)]
pub(crate) struct EfficientNet {
    stem: SameConv,
    bn0: BatchNorm2d,
    blocks: Vec<MbConv>,
    out_indexes: [usize; 4],
}

impl EfficientNet {
    /// `variant`: 0 for B0 .. 7 for B7.
    pub(crate) fn new(p: Path<'_>, in_channels: i64, variant: usize) -> Self {
        let (w, d, mut image) = PARAMS[variant];
        let stem_out = round_filters(32, w);
        let stem = SameConv::new(
            &p / "_conv_stem",
            in_channels,
            stem_out,
            3,
            2,
            1,
            false,
            image,
        );
        image = (image + 1) / 2;
        let mut blocks = Vec::new();
        let bp = &p / "_blocks";
        let mut last = 0;
        for &(r, k, s, e, i, o) in &STAGES {
            let (cin, cout) = (round_filters(i, w), round_filters(o, w));
            for rep in 0..round_repeats(r, d) {
                let (block_in, stride) = if rep == 0 { (cin, s) } else { (cout, 1) };
                blocks.push(MbConv::new(
                    &bp / blocks.len(),
                    block_in,
                    cout,
                    k,
                    stride,
                    e,
                    image,
                ));
                image = (image + stride - 1) / stride;
            }
            last = cout;
        }
        let head = round_filters(1280, w);
        let _conv_head = conv2d(&p / "_conv_head", last, head, 1, 1, 0, 1, false);
        let _bn1 = BatchNorm2d::with(&p / "_bn1", head, BN_EPS, BN_MOMENTUM);
        Self {
            stem,
            bn0: BatchNorm2d::with(&p / "_bn0", stem_out, BN_EPS, BN_MOMENTUM),
            blocks,
            out_indexes: OUT_INDEXES[variant],
        }
    }

    /// Index of the first block after the stride-16 feature of variant `variant`, for freezing.
    pub(crate) fn last_stage_blocks(variant: usize) -> std::ops::Range<usize> {
        let depth = PARAMS[variant].1;
        let total = STAGES.iter().map(|s| round_repeats(s.0, depth)).sum();
        OUT_INDEXES[variant][2] + 1..total
    }
}

impl Features for EfficientNet {
    fn features(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        let mut out = vec![xs.shallow_clone()];
        let mut x = self.bn0.forward_t(&self.stem.forward(xs), train).silu();
        out.push(x.shallow_clone());
        let n = self.blocks.len() as f64;
        let last = self.out_indexes[3];
        for (i, block) in self.blocks.iter().enumerate().take(last + 1) {
            x = block.forward_t(&x, 0.2 * i as f64 / n, train);
            if self.out_indexes.contains(&i) {
                out.push(x.shallow_clone());
            }
        }
        out
    }
}

/// EfficientNet-B0..B7 as smp's `EfficientNetEncoder` knows itself: the variant's index.
#[derive(Debug)]
pub(crate) struct EfficientNetSpec(usize);

/// B0 .. B7.
pub(crate) const EFFICIENTNETS: [EfficientNetSpec; 8] = [
    EfficientNetSpec(0),
    EfficientNetSpec(1),
    EfficientNetSpec(2),
    EfficientNetSpec(3),
    EfficientNetSpec(4),
    EfficientNetSpec(5),
    EfficientNetSpec(6),
    EfficientNetSpec(7),
];

impl EncoderSpec for EfficientNetSpec {
    fn out_channels(&self, in_channels: i64, _: &PlainOptions) -> [i64; 6] {
        let mut c = out_channels(self.0);
        c[0] = in_channels;
        c
    }

    fn first_conv_key(&self) -> &'static str {
        "_conv_stem.weight"
    }

    fn last_stage_prefixes(&self) -> Vec<String> {
        EfficientNet::last_stage_blocks(self.0)
            .map(|i| format!("_blocks.{i}."))
            .collect()
    }

    fn build(&self, p: Path<'_>, in_channels: i64, _: &PlainOptions) -> Box<dyn Features> {
        Box::new(EfficientNet::new(p, in_channels, self.0))
    }
}
