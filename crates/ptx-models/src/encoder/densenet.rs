//! torchvision's DenseNet121 as smp's `DenseNetEncoder` (`features.conv0`, `features.denseblockN.
//! denselayerM.norm1/conv1/norm2/conv2`, `features.transitionN`, `features.norm5`): the encoder of
//! CheXNet.

use tch::nn::{self, Path};
use tch::Tensor;

use super::{EncoderSpec, Features, PlainOptions};
use crate::layers::{avg_pool, conv2d, max_pool, relu_, BatchNorm2d};

#[derive(Debug)]
struct DenseLayer {
    norm1: BatchNorm2d,
    conv1: nn::Conv2D,
    norm2: BatchNorm2d,
    conv2: nn::Conv2D,
}

#[derive(Debug)]
struct Transition {
    norm: BatchNorm2d,
    conv: nn::Conv2D,
}

/// DenseNet trunk (`growth_rate` 32, `bn_size` 4) without the classifier.
#[derive(Debug)]
pub(crate) struct DenseNet {
    conv0: nn::Conv2D,
    norm0: BatchNorm2d,
    blocks: Vec<Vec<DenseLayer>>,
    transitions: Vec<Transition>,
    norm5: BatchNorm2d,
}

impl DenseNet {
    pub(crate) fn new(p: Path<'_>, in_channels: i64, block_config: [usize; 4]) -> Self {
        let (growth, bn_size, init) = (32, 4, 64);
        let f = &p / "features";
        let mut c = init;
        let mut blocks = Vec::new();
        let mut transitions = Vec::new();
        for (i, &n) in block_config.iter().enumerate() {
            let bp = &f / format!("denseblock{}", i + 1);
            let mut layers = Vec::with_capacity(n);
            for l in 0..n {
                let lp = &bp / format!("denselayer{}", l + 1);
                let cin = c + l as i64 * growth;
                layers.push(DenseLayer {
                    norm1: BatchNorm2d::new(&lp / "norm1", cin),
                    conv1: conv2d(&lp / "conv1", cin, bn_size * growth, 1, 1, 0, 1, false),
                    norm2: BatchNorm2d::new(&lp / "norm2", bn_size * growth),
                    conv2: conv2d(&lp / "conv2", bn_size * growth, growth, 3, 1, 1, 1, false),
                });
            }
            blocks.push(layers);
            c += n as i64 * growth;
            if i + 1 < block_config.len() {
                let tp = &f / format!("transition{}", i + 1);
                transitions.push(Transition {
                    norm: BatchNorm2d::new(&tp / "norm", c),
                    conv: conv2d(&tp / "conv", c, c / 2, 1, 1, 0, 1, false),
                });
                c /= 2;
            }
        }
        Self {
            conv0: conv2d(&f / "conv0", in_channels, init, 7, 2, 3, 1, false),
            norm0: BatchNorm2d::new(&f / "norm0", init),
            blocks,
            transitions,
            norm5: BatchNorm2d::new(&f / "norm5", c),
        }
    }
}

fn dense_block(layers: &[DenseLayer], xs: Tensor, train: bool) -> Tensor {
    let mut maps = vec![xs];
    for l in layers {
        let cat = Tensor::cat(&maps, 1);
        let y = relu_(l.norm1.forward_t(&cat, train)).apply(&l.conv1);
        let y = relu_(l.norm2.forward_t(&y, train)).apply(&l.conv2);
        maps.push(y);
    }
    Tensor::cat(&maps, 1)
}

impl Features for DenseNet {
    fn features(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        let mut out = vec![xs.shallow_clone()];
        let mut x = relu_(self.norm0.forward_t(&xs.apply(&self.conv0), train));
        out.push(x.shallow_clone());
        x = max_pool(&x, 3, 2, 1, false);
        for (i, block) in self.blocks.iter().enumerate() {
            x = dense_block(block, x, train);
            match self.transitions.get(i) {
                // smp takes the feature after the transition's norm + ReLU, before its conv.
                Some(t) => {
                    let y = relu_(t.norm.forward_t(&x, train));
                    out.push(y.shallow_clone());
                    x = avg_pool(&y.apply(&t.conv), 2, 2, 0);
                }
                None => {
                    x = self.norm5.forward_t(&x, train);
                    out.push(x.shallow_clone());
                }
            }
        }
        out
    }
}

/// DenseNet121 (CheXNet's trunk) as smp's `DenseNetEncoder` knows itself.
#[derive(Debug)]
pub(crate) struct DenseNetSpec;

impl EncoderSpec for DenseNetSpec {
    fn out_channels(&self, in_channels: i64, _: &PlainOptions) -> [i64; 6] {
        [in_channels, 64, 256, 512, 1024, 1024]
    }

    fn first_conv_key(&self) -> &'static str {
        "features.conv0.weight"
    }

    fn last_stage_prefixes(&self) -> Vec<String> {
        vec!["features.denseblock4.".into(), "features.norm5.".into()]
    }

    /// torchvision before 0.3 (the public CheXNet checkpoint, torchvision's own download)
    /// named `denselayerN.norm.1`, `conv.2`, ...: renamed `norm1`, `conv2`.
    fn classifier_key(&self, key: &str) -> String {
        let parts: Vec<&str> = key.split('.').collect();
        let mut out: Vec<String> = Vec::with_capacity(parts.len());
        let mut i = 0;
        while i < parts.len() {
            let p = parts[i];
            let after_layer = i > 0 && parts[i - 1].starts_with("denselayer");
            if after_layer
                && ["norm", "relu", "conv"].contains(&p)
                && matches!(parts.get(i + 1), Some(&"1") | Some(&"2"))
            {
                out.push(format!("{p}{}", parts[i + 1]));
                i += 2;
            } else {
                out.push(p.to_owned());
                i += 1;
            }
        }
        out.join(".")
    }

    fn build(&self, p: Path<'_>, in_channels: i64, _: &PlainOptions) -> Box<dyn Features> {
        Box::new(DenseNet::new(p, in_channels, [6, 12, 24, 16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_dense_layer_names() {
        assert_eq!(
            DenseNetSpec.classifier_key("features.denseblock1.denselayer12.norm.1.running_var"),
            "features.denseblock1.denselayer12.norm1.running_var"
        );
        assert_eq!(
            DenseNetSpec.classifier_key("features.transition1.norm.weight"),
            "features.transition1.norm.weight"
        );
    }
}
