//! smp's `SCSEModule` (concurrent spatial and channel squeeze-and-excitation, Roy et al. 2018):
//! `cSE.1`, `cSE.3` (1x1 convs with reduction 16), `sSE.0` (1x1 conv to one channel).

use tch::nn::{self, Path};
use tch::Tensor;

use crate::layers::conv2d;

/// `x * cSE(x) + x * sSE(x)`.
#[derive(Debug)]
pub(crate) struct Scse {
    c1: nn::Conv2D,
    c2: nn::Conv2D,
    s: nn::Conv2D,
}

impl Scse {
    pub(crate) fn new(p: Path<'_>, channels: i64) -> Self {
        let reduced = channels / 16;
        Self {
            c1: conv2d(&p / "cSE" / "1", channels, reduced, 1, 1, 0, 1, true),
            c2: conv2d(&p / "cSE" / "3", reduced, channels, 1, 1, 0, 1, true),
            s: conv2d(&p / "sSE" / "0", channels, 1, 1, 1, 0, 1, true),
        }
    }

    pub(crate) fn forward(&self, xs: &Tensor) -> Tensor {
        let c = xs
            .adaptive_avg_pool2d([1, 1])
            .apply(&self.c1)
            .relu()
            .apply(&self.c2)
            .sigmoid();
        let s = xs.apply(&self.s).sigmoid();
        xs * c + xs * s
    }
}
