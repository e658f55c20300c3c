//! Global histogram equalisation, equal to OpenCV's `equalizeHist`.

use ndarray::{Array2, ArrayView2};

use crate::error::{check_not_empty, Result};
use crate::pixel::Pixel;

/// Histogram equalisation of an 8-bit image (OpenCV's `equalizeHist`): with `c(v)` the
/// number of pixels at or below level `v` and `v0` the darkest level present, level `v`
/// becomes `round(255 (c(v) - c(v0)) / (N - c(v0)))`; an image of one level is unchanged.
///
/// ```
/// use ndarray::array;
/// let out = ptx_preproc::equalize_hist(array![[10u8, 10], [20, 30]].view())?;
/// assert_eq!(out, array![[0u8, 0], [128, 255]]);
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
pub fn equalize_hist(image: ArrayView2<'_, u8>) -> Result<Array2<u8>> {
    check_not_empty("equalize_hist input", image.dim())?;
    let image = image.as_standard_layout();
    let pixels = image.as_slice().unwrap_or_default();
    let mut counter = crate::histogram::Histogram::new::<u8>();
    counter.add(pixels);
    let mut hist = [0u32; 256];
    counter.counts(&mut hist);
    let hist = hist.map(|c| c as usize);
    let total = pixels.len();
    let first = hist.iter().position(|&c| c > 0).unwrap_or(0);
    if hist[first] == total {
        return Ok(image.to_owned());
    }
    let scale = 255.0f32 / (total - hist[first]) as f32;
    let mut lut = [0u8; 256];
    let mut sum = 0usize;
    for v in first + 1..256 {
        sum += hist[v];
        lut[v] = u8::saturate(sum as f32 * scale);
    }
    let out = pixels.iter().map(|&p| lut[usize::from(p)]).collect();
    Ok(Array2::from_shape_vec(image.dim(), out).unwrap_or_default())
}
