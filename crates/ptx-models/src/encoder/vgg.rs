//! torchvision's VGG16/19 (with or without batch norm) as smp's `VGGEncoder`: `features.N`.

use tch::nn::{self, Path};
use tch::Tensor;

use super::{EncoderSpec, Features, PlainOptions};
use crate::layers::{conv2d, max_pool, relu_, BatchNorm2d};

#[allow(clippy::large_enum_variant)] // built once per model
#[derive(Debug)]
enum Layer {
    Conv(nn::Conv2D, Option<BatchNorm2d>),
    Pool,
}

/// VGG `features` (convolutions 3x3 + ReLU, max-pool 2x2), classifier removed.
#[derive(Debug)]
pub(crate) struct Vgg {
    layers: Vec<Layer>,
}

impl Vgg {
    /// `convs_per_stage`: torchvision's config "D" (VGG16) = [2, 2, 3, 3, 3], "E" (VGG19) =
    /// [2, 2, 4, 4, 4].
    pub(crate) fn new(
        p: Path<'_>,
        in_channels: i64,
        convs_per_stage: [usize; 5],
        bn: bool,
    ) -> Self {
        let f = &p / "features";
        let mut layers = Vec::new();
        let mut index = 0usize;
        let mut cin = in_channels;
        for (&n, cout) in convs_per_stage.iter().zip([64, 128, 256, 512, 512]) {
            for _ in 0..n {
                let conv = conv2d(&f / index, cin, cout, 3, 1, 1, 1, true);
                let norm = bn.then(|| BatchNorm2d::new(&f / (index + 1), cout));
                index += if bn { 3 } else { 2 };
                layers.push(Layer::Conv(conv, norm));
                cin = cout;
            }
            layers.push(Layer::Pool);
            index += 1;
        }
        Self { layers }
    }
}

impl Features for Vgg {
    fn features(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        // smp's VGG features: the map before every max-pool, then the last pool's output
        // (no input map: the first feature has full resolution and 64 channels).
        let mut out = Vec::with_capacity(6);
        let mut x = xs.shallow_clone();
        for layer in &self.layers {
            match layer {
                Layer::Conv(conv, norm) => {
                    x = x.apply(conv);
                    if let Some(bn) = norm {
                        x = bn.forward_t(&x, train);
                    }
                    x = relu_(x);
                }
                Layer::Pool => {
                    out.push(x.shallow_clone());
                    x = max_pool(&x, 2, 2, 0, false);
                }
            }
        }
        out.push(x);
        out
    }
}

/// VGG16/19 with or without batch norm as smp's `VGGEncoder` knows itself.
#[derive(Debug)]
pub(crate) struct VggSpec {
    /// Convolutions per stage: torchvision's config "D" (VGG16) or "E" (VGG19).
    convs: [usize; 5],
    bn: bool,
}

/// VGG16.
pub(crate) const VGG16: VggSpec = VggSpec {
    convs: [2, 2, 3, 3, 3],
    bn: false,
};
/// VGG16 with batch norm.
pub(crate) const VGG16_BN: VggSpec = VggSpec {
    convs: [2, 2, 3, 3, 3],
    bn: true,
};
/// VGG19.
pub(crate) const VGG19: VggSpec = VggSpec {
    convs: [2, 2, 4, 4, 4],
    bn: false,
};
/// VGG19 with batch norm.
pub(crate) const VGG19_BN: VggSpec = VggSpec {
    convs: [2, 2, 4, 4, 4],
    bn: true,
};

impl EncoderSpec for VggSpec {
    fn out_channels(&self, _: i64, _: &PlainOptions) -> [i64; 6] {
        [64, 128, 256, 512, 512, 512]
    }

    fn first_conv_key(&self) -> &'static str {
        "features.0.weight"
    }

    /// The `features.N` indices of the last stage's convolutions (and their batch norms and
    /// ReLUs): each stage is its convolutions (2 or 3 layers each) then a pool.
    fn last_stage_prefixes(&self) -> Vec<String> {
        let per_conv = if self.bn { 3 } else { 2 };
        let start: usize = self.convs[..4].iter().map(|n| n * per_conv + 1).sum();
        (start..start + self.convs[4] * per_conv)
            .map(|i| format!("features.{i}."))
            .collect()
    }

    fn first_feature_computed(&self) -> bool {
        true
    }

    fn build(&self, p: Path<'_>, in_channels: i64, _: &PlainOptions) -> Box<dyn Features> {
        Box::new(Vgg::new(p, in_channels, self.convs, self.bn))
    }
}
