//! SE-ResNeXt50 (32x4d) as in smp's `SENetEncoder` (the `pretrainedmodels` port): `layer0.conv1`,
//! `layer0.bn1`, `layer1`..`layer4` of `SEResNeXtBottleneck`s with `se_module.fc1/fc2`.

use tch::nn::{self, Path};
use tch::Tensor;

use super::{EncoderSpec, Features, PlainOptions};
use crate::layers::{add_relu_, conv2d, max_pool, relu_, BatchNorm2d};

#[derive(Debug)]
struct SeBottleneck {
    conv1: nn::Conv2D,
    bn1: BatchNorm2d,
    conv2: nn::Conv2D,
    bn2: BatchNorm2d,
    conv3: nn::Conv2D,
    bn3: BatchNorm2d,
    fc1: nn::Conv2D,
    fc2: nn::Conv2D,
    downsample: Option<(nn::Conv2D, BatchNorm2d)>,
}

impl SeBottleneck {
    fn new(p: Path<'_>, cin: i64, planes: i64, groups: i64, stride: i64) -> Self {
        // width = floor(planes * base_width / 64) * groups with base_width 4
        let width = planes * 4 / 64 * groups;
        let out = planes * 4;
        let se = &p / "se_module";
        Self {
            conv1: conv2d(&p / "conv1", cin, width, 1, 1, 0, 1, false),
            bn1: BatchNorm2d::new(&p / "bn1", width),
            conv2: conv2d(&p / "conv2", width, width, 3, stride, 1, groups, false),
            bn2: BatchNorm2d::new(&p / "bn2", width),
            conv3: conv2d(&p / "conv3", width, out, 1, 1, 0, 1, false),
            bn3: BatchNorm2d::new(&p / "bn3", out),
            fc1: conv2d(&se / "fc1", out, out / 16, 1, 1, 0, 1, true),
            fc2: conv2d(&se / "fc2", out / 16, out, 1, 1, 0, 1, true),
            downsample: (stride != 1 || cin != out).then(|| {
                (
                    conv2d(&p / "downsample" / "0", cin, out, 1, stride, 0, 1, false),
                    BatchNorm2d::new(&p / "downsample" / "1", out),
                )
            }),
        }
    }

    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = relu_(self.bn1.forward_t(&xs.apply(&self.conv1), train));
        let ys = relu_(self.bn2.forward_t(&ys.apply(&self.conv2), train));
        let ys = self.bn3.forward_t(&ys.apply(&self.conv3), train);
        let gate = ys
            .adaptive_avg_pool2d([1, 1])
            .apply(&self.fc1)
            .relu()
            .apply(&self.fc2)
            .sigmoid();
        match &self.downsample {
            Some((conv, bn)) => add_relu_(ys * gate, &bn.forward_t(&xs.apply(conv), train)),
            None => add_relu_(ys * gate, xs),
        }
    }
}

/// SE-ResNeXt trunk without `avg_pool` / `last_linear`.
#[derive(Debug)]
pub(crate) struct SeResNeXt {
    conv1: nn::Conv2D,
    bn1: BatchNorm2d,
    layers: Vec<Vec<SeBottleneck>>,
}

impl SeResNeXt {
    pub(crate) fn new(p: Path<'_>, in_channels: i64, layers: [usize; 4], groups: i64) -> Self {
        let l0 = &p / "layer0";
        let mut cin = 64;
        let mut stages = Vec::with_capacity(4);
        for (i, (&n, planes)) in layers.iter().zip([64, 128, 256, 512]).enumerate() {
            let lp = &p / format!("layer{}", i + 1);
            let mut blocks = Vec::with_capacity(n);
            for b in 0..n {
                let stride = if i > 0 && b == 0 { 2 } else { 1 };
                blocks.push(SeBottleneck::new(&lp / b, cin, planes, groups, stride));
                cin = planes * 4;
            }
            stages.push(blocks);
        }
        Self {
            conv1: conv2d(&l0 / "conv1", in_channels, 64, 7, 2, 3, 1, false),
            bn1: BatchNorm2d::new(&l0 / "bn1", 64),
            layers: stages,
        }
    }
}

impl Features for SeResNeXt {
    fn features(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        let mut out = vec![xs.shallow_clone()];
        let mut x = relu_(self.bn1.forward_t(&xs.apply(&self.conv1), train));
        out.push(x.shallow_clone());
        // Caffe-compatible pooling: ceil_mode instead of padding.
        x = max_pool(&x, 3, 2, 0, true);
        for stage in &self.layers {
            for block in stage {
                x = block.forward_t(&x, train);
            }
            out.push(x.shallow_clone());
        }
        out
    }
}

/// SE-ResNeXt50 32x4d as smp's `SENetEncoder` knows itself.
#[derive(Debug)]
pub(crate) struct SeResNeXtSpec;

impl EncoderSpec for SeResNeXtSpec {
    fn out_channels(&self, in_channels: i64, _: &PlainOptions) -> [i64; 6] {
        [in_channels, 64, 256, 512, 1024, 2048]
    }

    fn first_conv_key(&self) -> &'static str {
        "layer0.conv1.weight"
    }

    fn last_stage_prefixes(&self) -> Vec<String> {
        vec!["layer4.".into()]
    }

    /// timm's `seresnext50_32x4d` names the stem `conv1` / `bn1` and the SE block `se`;
    /// `pretrainedmodels` (smp) names them `layer0.conv1` / `layer0.bn1` and `se_module`.
    fn classifier_key(&self, key: &str) -> String {
        let mut k = key.to_owned();
        for (from, to) in [("conv1.", "layer0.conv1."), ("bn1.", "layer0.bn1.")] {
            if let Some(rest) = k.strip_prefix(from) {
                k = format!("{to}{rest}");
            }
        }
        k.replace(".se.fc", ".se_module.fc")
    }

    fn build(&self, p: Path<'_>, in_channels: i64, _: &PlainOptions) -> Box<dyn Features> {
        Box::new(SeResNeXt::new(p, in_channels, [3, 4, 6, 3], 32))
    }
}
