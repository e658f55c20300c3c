//! Building blocks shared by encoders, decoders and heads, named as in PyTorch.
//!
//! Every layer registers its variables under the path it is given, with PyTorch's names
//! (`weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`), so a module built at
//! `&p / "layer1" / "0" / "conv1"` owns `layer1.0.conv1.weight` exactly as `state_dict()` names it.

use tch::nn::{self, Path};
use tch::{Kind, Tensor};

/// `torch.nn.BatchNorm2d`, including the `num_batches_tracked` buffer so that key sets equal
/// PyTorch's. In training mode the batch statistics normalise and update the running ones with
/// `momentum` (PyTorch's convention: `running = (1 - momentum) * running + momentum * batch`).
#[derive(Debug)]
pub(crate) struct BatchNorm2d {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    num_batches_tracked: Tensor,
    momentum: f64,
    eps: f64,
}

impl BatchNorm2d {
    /// PyTorch's defaults: eps 1e-5, momentum 0.1.
    pub(crate) fn new(p: Path<'_>, channels: i64) -> Self {
        Self::with(p, channels, 1e-5, 0.1)
    }

    pub(crate) fn with(p: Path<'_>, channels: i64, eps: f64, momentum: f64) -> Self {
        let counter = Tensor::zeros([], (Kind::Int64, p.device()));
        Self {
            weight: p.var("weight", &[channels], nn::Init::Const(1.0)),
            bias: p.var("bias", &[channels], nn::Init::Const(0.0)),
            running_mean: p.zeros_no_train("running_mean", &[channels]),
            running_var: p.ones_no_train("running_var", &[channels]),
            num_batches_tracked: p.add("num_batches_tracked", counter, false),
            momentum,
            eps,
        }
    }

    pub(crate) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        if train {
            tch::no_grad(|| {
                let _ = self.num_batches_tracked.shallow_clone().g_add_scalar_(1);
            });
        }
        Tensor::batch_norm(
            xs,
            Some(&self.weight),
            Some(&self.bias),
            Some(&self.running_mean),
            Some(&self.running_var),
            train,
            self.momentum,
            self.eps,
            false,
        )
    }
}

/// Convolution config with PyTorch's `Conv2d` arguments; `bias` defaults to false because almost
/// every convolution here is followed by a batch norm.
pub(crate) fn conv_cfg(stride: i64, padding: i64, groups: i64, bias: bool) -> nn::ConvConfig {
    nn::ConvConfig {
        stride,
        padding,
        groups,
        bias,
        ..Default::default()
    }
}

/// `nn.Conv2d(cin, cout, k, stride, padding, groups=groups, bias=bias)` at `p`.
#[allow(clippy::too_many_arguments)] // mirrors PyTorch's signature
pub(crate) fn conv2d(
    p: Path<'_>,
    cin: i64,
    cout: i64,
    k: i64,
    stride: i64,
    padding: i64,
    groups: i64,
    bias: bool,
) -> nn::Conv2D {
    nn::conv2d(p, cin, cout, k, conv_cfg(stride, padding, groups, bias))
}

/// A convolution with a rectangular kernel, `(kh, kw)`, padding `(ph, pw)`.
pub(crate) fn conv2d_rect(
    p: Path<'_>,
    cin: i64,
    cout: i64,
    k: [i64; 2],
    stride: i64,
    padding: [i64; 2],
    bias: bool,
) -> nn::Conv<[i64; 2]> {
    let cfg = nn::ConvConfigND::<[i64; 2]> {
        stride: [stride, stride],
        padding,
        bias,
        ..Default::default()
    };
    nn::conv(p, cin, cout, k, cfg)
}

/// Convolution (any kernel), batch norm, ReLU: smp's `Conv2dReLU` (children `0`, `1`),
/// timm's `ConvNormAct` (`conv`, `bn`), torchvision's `ConvBNReLU`.
#[derive(Debug)]
pub(crate) struct ConvBnAct<C: tch::nn::Module> {
    pub(crate) conv: C,
    pub(crate) bn: Option<BatchNorm2d>,
}

impl<C: tch::nn::Module> ConvBnAct<C> {
    pub(crate) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = self.conv.forward(xs);
        let ys = match &self.bn {
            Some(bn) => bn.forward_t(&ys, train),
            None => ys,
        };
        relu_(ys)
    }
}

/// smp's `Conv2dReLU`: `0` = conv (bias only without norm), `1` = batch norm, then ReLU.
pub(crate) fn conv_bn_relu_seq(
    p: Path<'_>,
    cin: i64,
    cout: i64,
    k: i64,
    padding: i64,
    use_norm: bool,
) -> ConvBnAct<nn::Conv2D> {
    ConvBnAct {
        conv: conv2d(&p / "0", cin, cout, k, 1, padding, 1, !use_norm),
        bn: use_norm.then(|| BatchNorm2d::new(&p / "1", cout)),
    }
}

/// `nn.MaxPool2d(k, stride, padding, ceil_mode)`.
pub(crate) fn max_pool(xs: &Tensor, k: i64, stride: i64, padding: i64, ceil: bool) -> Tensor {
    xs.max_pool2d([k, k], [stride, stride], [padding, padding], [1, 1], ceil)
}

/// `F.avg_pool2d(x, k, stride, padding)` with PyTorch's defaults (`count_include_pad=True`).
pub(crate) fn avg_pool(xs: &Tensor, k: i64, stride: i64, padding: i64) -> Tensor {
    xs.avg_pool2d(
        [k, k],
        [stride, stride],
        [padding, padding],
        false,
        true,
        None,
    )
}

/// `F.interpolate(x, size=(h, w), mode="nearest")`.
pub(crate) fn upsample_nearest(xs: &Tensor, h: i64, w: i64) -> Tensor {
    xs.upsample_nearest2d([h, w], None, None)
}

/// `F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)`.
pub(crate) fn upsample_bilinear(xs: &Tensor, h: i64, w: i64) -> Tensor {
    xs.upsample_bilinear2d([h, w], false, None, None)
}

/// Spatial size `(H, W)` of an NCHW tensor.
pub(crate) fn hw(xs: &Tensor) -> (i64, i64) {
    let s = xs.size();
    (s[s.len() - 2], s[s.len() - 1])
}

/// `nn.Dropout2d(p)` (whole channels) in training, identity otherwise.
pub(crate) fn dropout2d(xs: Tensor, p: f64, train: bool) -> Tensor {
    if p > 0.0 && train {
        xs.feature_dropout(p, train)
    } else {
        xs
    }
}

/// ReLU in place, as PyTorch's `nn.ReLU(inplace=True)`: saves an allocation per activation.
/// Only for tensors this code just created (an in-place op on a shared map would change it).
pub(crate) fn relu_(mut xs: Tensor) -> Tensor {
    let _ = xs.relu_();
    xs
}

/// `relu(a + b)` computed in `a`'s storage (`out += identity; relu(out)` in torchvision).
pub(crate) fn add_relu_(mut a: Tensor, b: &Tensor) -> Tensor {
    let _ = a.g_add_(b);
    relu_(a)
}
