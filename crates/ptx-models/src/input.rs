//! Input checks and the pad-and-crop option for sizes that are not a multiple of the stride.

use ptx_preproc::{PadMode, Padding};
use tch::Tensor;

use crate::{Error, Result};

/// Checks `xs` is `(N, channels, H, W)` and, without padding, that H and W are multiples of
/// `stride`; with `pad` returns the padded input and the padding to crop off afterwards.
pub(crate) fn prepare(
    xs: &Tensor,
    channels: i64,
    stride: i64,
    pad: Option<PadMode>,
) -> Result<(Tensor, Option<Padding>)> {
    let size = xs.size();
    if size.len() != 4 || size[1] != channels || size[0] == 0 {
        return Err(Error::InputShape {
            expected: format!("(N, {channels}, H, W) with N >= 1"),
            found: size,
        });
    }
    let (h, w) = (size[2], size[3]);
    if h % stride == 0 && w % stride == 0 {
        return Ok((xs.shallow_clone(), None));
    }
    let Some(mode) = pad else {
        let down = |v: i64| (v / stride * stride).max(stride);
        let up = |v: i64| (v + stride - 1) / stride * stride;
        return Err(Error::InputSize {
            height: h,
            width: w,
            stride,
            lower_height: down(h),
            lower_width: down(w),
            upper_height: up(h),
            upper_width: up(w),
        });
    };
    let p = Padding::to_multiple(h as usize, w as usize, stride as usize);
    let spec = [p.left as i64, p.right as i64, p.top as i64, p.bottom as i64];
    let padded = match mode {
        PadMode::Reflect if spec.iter().zip([w, w, h, h]).all(|(&s, len)| s < len) => {
            xs.reflection_pad2d(spec)
        }
        // libtorch's reflection needs the image to be larger than the padding: repeat the edge
        // pixel otherwise.
        PadMode::Reflect => xs.replication_pad2d(spec),
        _ => xs.constant_pad_nd(spec),
    };
    Ok((padded, Some(p)))
}

/// Crops a prediction made on a padded input back to the input's size.
pub(crate) fn crop(ys: Tensor, padding: Option<Padding>) -> Tensor {
    match padding {
        None => ys,
        Some(p) => {
            let (h, w) = crate::layers::hw(&ys);
            ys.narrow(2, p.top as i64, h - (p.top + p.bottom) as i64)
                .narrow(3, p.left as i64, w - (p.left + p.right) as i64)
        }
    }
}
