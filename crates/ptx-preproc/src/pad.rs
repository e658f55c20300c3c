//! Padding to a multiple of the network's stride, and cropping back.

use ndarray::{Array2, ArrayView2, Slice};
use serde::{Deserialize, Serialize};

use crate::error::{check_not_empty, Error, Result};

/// What fills the padding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// The type's zero (black, background).
    #[default]
    Zero,
    /// Mirror reflection without repeating the edge (OpenCV's `BORDER_REFLECT_101`,
    /// albumentations' default); falls back to the edge pixel where the image is thinner
    /// than the padding.
    Reflect,
}

/// The padding added on each side, in pixels, as [`pad_to_multiple`] returns it; it crops a
/// padded image (or a prediction made on it) back to the original size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Padding {
    /// Rows added above.
    pub top: usize,
    /// Rows added below.
    pub bottom: usize,
    /// Columns added on the left.
    pub left: usize,
    /// Columns added on the right.
    pub right: usize,
}

impl Padding {
    /// The centred padding [`pad_to_multiple`] adds to a `height` x `width` image so that both
    /// sides become multiples of `multiple` (the odd pixel below / right). `multiple` 0 is treated
    /// as 1 (no padding).
    ///
    /// ```
    /// let p = ptx_preproc::Padding::to_multiple(100, 70, 32);
    /// assert_eq!((p.top, p.bottom, p.left, p.right), (14, 14, 13, 13));
    /// ```
    pub fn to_multiple(height: usize, width: usize, multiple: usize) -> Self {
        let multiple = multiple.max(1);
        let split = |len: usize| {
            let extra = len.div_ceil(multiple) * multiple - len;
            (extra / 2, extra - extra / 2)
        };
        let ((top, bottom), (left, right)) = (split(height), split(width));
        Self {
            top,
            bottom,
            left,
            right,
        }
    }

    /// Removes the padding from `padded` (any element type, e.g. an `f32` probability map
    /// predicted on the padded image).
    pub fn crop<T: Clone>(&self, padded: ArrayView2<'_, T>) -> Result<Array2<T>> {
        let (h, w) = padded.dim();
        if self.top + self.bottom >= h.max(1) || self.left + self.right >= w.max(1) {
            return Err(Error::InvalidOption {
                name: "padding",
                value: format!("{self:?} on {h}x{w}"),
                reason: "is larger than the image it should be cropped from",
            });
        }
        let (top, bottom, left, right) = (self.top, self.bottom, self.left, self.right);
        Ok(padded
            .slice_each_axis(|axis| match axis.axis.index() {
                0 => Slice::from(top..h - bottom),
                _ => Slice::from(left..w - right),
            })
            .to_owned())
    }
}

/// Pads `image` `(height, width)` so that both sides are multiples of `multiple` (32 for a
/// U-Net with five downsamplings), centring the image as albumentations'
/// `PadIfNeeded(pad_height_divisor=...)` does (the odd pixel goes below / right).
///
/// ```
/// use ndarray::Array2;
/// use ptx_preproc::{pad_to_multiple, PadMode};
/// let image = Array2::<u8>::ones((100, 70));
/// let (padded, padding) = pad_to_multiple(image.view(), 32, PadMode::Zero)?;
/// assert_eq!(padded.dim(), (128, 96));
/// assert_eq!((padding.top, padding.bottom, padding.left, padding.right), (14, 14, 13, 13));
/// assert_eq!(padding.crop(padded.view())?, image);
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
pub fn pad_to_multiple<T: Clone + Default>(
    image: ArrayView2<'_, T>,
    multiple: usize,
    mode: PadMode,
) -> Result<(Array2<T>, Padding)> {
    check_not_empty("pad input", image.dim())?;
    if multiple == 0 {
        return Err(Error::InvalidOption {
            name: "multiple",
            value: "0".into(),
            reason: "must be at least 1",
        });
    }
    let (h, w) = image.dim();
    let padding = Padding::to_multiple(h, w, multiple);
    let (top, bottom, left, right) = (padding.top, padding.bottom, padding.left, padding.right);
    let index = |i: usize, before: usize, len: usize| -> Option<usize> {
        let j = i as i64 - before as i64;
        match mode {
            _ if (0..len as i64).contains(&j) => Some(j as usize),
            PadMode::Zero => None,
            PadMode::Reflect => Some(reflect_101_signed(j, len)),
        }
    };
    let (ph, pw) = (h + top + bottom, w + left + right);
    let padded = Array2::from_shape_fn((ph, pw), |(y, x)| {
        match (index(y, top, h), index(x, left, w)) {
            (Some(sy), Some(sx)) => image[[sy, sx]].clone(),
            _ => T::default(),
        }
    });
    Ok((padded, padding))
}

/// Reflect-101 of a possibly negative index; the edge pixel when the axis has one pixel.
pub(crate) fn reflect_101_signed(i: i64, len: usize) -> usize {
    if len == 1 {
        return 0;
    }
    let period = 2 * (len as i64 - 1);
    let j = i.rem_euclid(period);
    (if j < len as i64 { j } else { period - j }) as usize
}
