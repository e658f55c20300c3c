//! torchvision's ResNet (18/34/50) as smp's `ResNetEncoder`: `conv1`, `bn1`, `layer1`..`layer4`.

use tch::nn::{self, Path};
use tch::Tensor;

use super::{EncoderSpec, Features, PlainOptions};
use crate::layers::{add_relu_, conv2d, max_pool, relu_, BatchNorm2d};

/// Residual block kind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BlockKind {
    /// Two 3x3 convolutions (ResNet18/34).
    Basic,
    /// 1x1, 3x3 (strided), 1x1 with expansion 4 (ResNet50, torchvision's "v1.5").
    Bottleneck,
}

impl BlockKind {
    fn expansion(self) -> i64 {
        match self {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => 4,
        }
    }
}

#[derive(Debug)]
struct Block {
    conv1: nn::Conv2D,
    bn1: BatchNorm2d,
    conv2: nn::Conv2D,
    bn2: BatchNorm2d,
    third: Option<(nn::Conv2D, BatchNorm2d)>,
    downsample: Option<(nn::Conv2D, BatchNorm2d)>,
}

impl Block {
    fn new(p: Path<'_>, kind: BlockKind, cin: i64, planes: i64, stride: i64) -> Self {
        let out = planes * kind.expansion();
        let downsample = (stride != 1 || cin != out).then(|| {
            (
                conv2d(&p / "downsample" / "0", cin, out, 1, stride, 0, 1, false),
                BatchNorm2d::new(&p / "downsample" / "1", out),
            )
        });
        match kind {
            BlockKind::Basic => Self {
                conv1: conv2d(&p / "conv1", cin, planes, 3, stride, 1, 1, false),
                bn1: BatchNorm2d::new(&p / "bn1", planes),
                conv2: conv2d(&p / "conv2", planes, planes, 3, 1, 1, 1, false),
                bn2: BatchNorm2d::new(&p / "bn2", planes),
                third: None,
                downsample,
            },
            BlockKind::Bottleneck => Self {
                conv1: conv2d(&p / "conv1", cin, planes, 1, 1, 0, 1, false),
                bn1: BatchNorm2d::new(&p / "bn1", planes),
                conv2: conv2d(&p / "conv2", planes, planes, 3, stride, 1, 1, false),
                bn2: BatchNorm2d::new(&p / "bn2", planes),
                third: Some((
                    conv2d(&p / "conv3", planes, out, 1, 1, 0, 1, false),
                    BatchNorm2d::new(&p / "bn3", out),
                )),
                downsample,
            },
        }
    }

    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut ys = relu_(self.bn1.forward_t(&xs.apply(&self.conv1), train));
        ys = self.bn2.forward_t(&ys.apply(&self.conv2), train);
        if let Some((conv3, bn3)) = &self.third {
            ys = bn3.forward_t(&relu_(ys).apply(conv3), train);
        }
        match &self.downsample {
            Some((conv, bn)) => add_relu_(ys, &bn.forward_t(&xs.apply(conv), train)),
            None => add_relu_(ys, xs),
        }
    }
}

/// ResNet trunk without `avgpool` / `fc`.
#[derive(Debug)]
pub(crate) struct ResNet {
    conv1: nn::Conv2D,
    bn1: BatchNorm2d,
    layers: Vec<Vec<Block>>,
}

impl ResNet {
    pub(crate) fn new(p: Path<'_>, in_channels: i64, kind: BlockKind, layers: [usize; 4]) -> Self {
        let mut cin = 64;
        let mut stages = Vec::with_capacity(4);
        for (i, (&n, planes)) in layers.iter().zip([64, 128, 256, 512]).enumerate() {
            let stride = if i == 0 { 1 } else { 2 };
            let lp = &p / format!("layer{}", i + 1);
            let mut blocks = Vec::with_capacity(n);
            for b in 0..n {
                blocks.push(Block::new(
                    &lp / b,
                    kind,
                    cin,
                    planes,
                    if b == 0 { stride } else { 1 },
                ));
                cin = planes * kind.expansion();
            }
            stages.push(blocks);
        }
        Self {
            conv1: conv2d(&p / "conv1", in_channels, 64, 7, 2, 3, 1, false),
            bn1: BatchNorm2d::new(&p / "bn1", 64),
            layers: stages,
        }
    }
}

impl Features for ResNet {
    fn features(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        let mut out = vec![xs.shallow_clone()];
        let mut x = relu_(self.bn1.forward_t(&xs.apply(&self.conv1), train));
        out.push(x.shallow_clone());
        x = max_pool(&x, 3, 2, 1, false);
        for stage in &self.layers {
            for block in stage {
                x = block.forward_t(&x, train);
            }
            out.push(x.shallow_clone());
        }
        out
    }
}

/// ResNet18/34/50 as smp's `ResNetEncoder` knows itself.
#[derive(Debug)]
pub(crate) struct ResNetSpec {
    kind: BlockKind,
    layers: [usize; 4],
}

/// ResNet18.
pub(crate) const RESNET18: ResNetSpec = ResNetSpec {
    kind: BlockKind::Basic,
    layers: [2, 2, 2, 2],
};
/// ResNet34.
pub(crate) const RESNET34: ResNetSpec = ResNetSpec {
    kind: BlockKind::Basic,
    layers: [3, 4, 6, 3],
};
/// ResNet50.
pub(crate) const RESNET50: ResNetSpec = ResNetSpec {
    kind: BlockKind::Bottleneck,
    layers: [3, 4, 6, 3],
};

impl EncoderSpec for ResNetSpec {
    fn out_channels(&self, in_channels: i64, _: &PlainOptions) -> [i64; 6] {
        let e = self.kind.expansion();
        [in_channels, 64, 64 * e, 128 * e, 256 * e, 512 * e]
    }

    fn first_conv_key(&self) -> &'static str {
        "conv1.weight"
    }

    fn last_stage_prefixes(&self) -> Vec<String> {
        vec!["layer4.".into()]
    }

    fn build(&self, p: Path<'_>, in_channels: i64, _: &PlainOptions) -> Box<dyn Features> {
        Box::new(ResNet::new(p, in_channels, self.kind, self.layers))
    }
}
