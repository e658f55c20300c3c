//! Atrous spatial pyramid pooling as torchvision's DeepLabV3 `ASPP(in, [6, 12, 18], 256)`: a 1x1
//! branch, three 3x3 branches at dilations 6, 12, 18 and an image-pooling branch, each conv + BN +
//! ReLU with 256 filters, concatenated and projected back to 256 (`convs.0.0` .. `convs.4.1`,
//! `project.0/1`; dropout 0.5 after the projection in training).

use tch::nn::{self, Path};
use tch::Tensor;

use crate::layers::{hw, upsample_bilinear, BatchNorm2d};

/// The ASPP centre block of Viel & Orhan.
#[derive(Debug)]
pub(crate) struct Aspp {
    branches: Vec<(nn::Conv2D, BatchNorm2d)>,
    pool: (nn::Conv2D, BatchNorm2d),
    project: (nn::Conv2D, BatchNorm2d),
}

/// Output channels of [`Aspp`].
pub(crate) const ASPP_CHANNELS: i64 = 256;
const RATES: [i64; 3] = [6, 12, 18];

impl Aspp {
    pub(crate) fn new(p: Path<'_>, cin: i64) -> Self {
        let out = ASPP_CHANNELS;
        let cp = &p / "convs";
        let conv = |q: Path<'_>, k: i64, dilation: i64, cin: i64| {
            let cfg = nn::ConvConfig {
                padding: if k == 3 { dilation } else { 0 },
                dilation,
                bias: false,
                ..Default::default()
            };
            (
                nn::conv2d(&q / "0", cin, out, k, cfg),
                BatchNorm2d::new(&q / "1", out),
            )
        };
        let mut branches = vec![conv(&cp / 0, 1, 1, cin)];
        for (i, rate) in RATES.iter().enumerate() {
            branches.push(conv(&cp / (i + 1), 3, *rate, cin));
        }
        let pq = &cp / (RATES.len() + 1);
        let pool = (
            nn::conv2d(
                &pq / "1",
                cin,
                out,
                1,
                nn::ConvConfig {
                    bias: false,
                    ..Default::default()
                },
            ),
            BatchNorm2d::new(&pq / "2", out),
        );
        let project = conv(&p / "project", 1, 1, out * (RATES.len() as i64 + 2));
        Self {
            branches,
            pool,
            project,
        }
    }

    pub(crate) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let (h, w) = hw(xs);
        let mut maps: Vec<Tensor> = self
            .branches
            .iter()
            .map(|(c, bn)| bn.forward_t(&xs.apply(c), train).relu())
            .collect();
        let pooled = self
            .pool
            .1
            .forward_t(&xs.adaptive_avg_pool2d([1, 1]).apply(&self.pool.0), train)
            .relu();
        maps.push(upsample_bilinear(&pooled, h, w));
        let y = self
            .project
            .1
            .forward_t(&Tensor::cat(&maps, 1).apply(&self.project.0), train)
            .relu();
        y.dropout(0.5, train)
    }
}
