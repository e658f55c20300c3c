//! Pictures for people: a grey image with masks tinted over it, and montages of such tiles.
//! Used by `ptx augment`, the training run's validation montage and `ptx predict --overlays`.

use ndarray::{Array2, Array3, ArrayView2};

use crate::error::{check_same_size, Result};
use crate::resize::{resize, resize_input, Interpolation};

/// Colours of the two masks an overlay can show.
const TRUTH: [f32; 3] = [40.0, 220.0, 60.0];
const PREDICTION: [f32; 3] = [255.0, 40.0, 40.0];
/// Weight of the image where a mask tints it.
const KEEP: f32 = 0.55;

/// An RGB picture `(3, height, width)` of a grey image with an optional truth mask (green) and
/// an optional predicted mask (red) tinted over it; where both are set the two colours mix
/// (yellow). Masks must have the image's size; non-zero is set.
///
/// ```
/// use ndarray::Array2;
/// let image = Array2::from_elem((4, 4), 100u8);
/// let mut pred = Array2::zeros((4, 4));
/// pred[[1, 1]] = 1u8;
/// let rgb = ptx_preproc::overlay(image.view(), None, Some(pred.view()))?;
/// assert_eq!(rgb.dim(), (3, 4, 4));
/// assert!(rgb[[0, 1, 1]] > rgb[[1, 1, 1]]); // red
/// assert_eq!(rgb[[0, 0, 0]], 100);
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] when a mask's size differs from the image's.
pub fn overlay(
    image: ArrayView2<'_, u8>,
    truth: Option<ArrayView2<'_, u8>>,
    prediction: Option<ArrayView2<'_, u8>>,
) -> Result<Array3<u8>> {
    for m in [truth.map(|m| m.dim()), prediction.map(|m| m.dim())]
        .into_iter()
        .flatten()
    {
        check_same_size("overlay mask", image.dim(), m)?;
    }
    let (h, w) = image.dim();
    let mut out = Array3::zeros((3, h, w));
    for ((y, x), &g) in image.indexed_iter() {
        let g = f32::from(g);
        let t = truth.is_some_and(|m| m[[y, x]] != 0);
        let p = prediction.is_some_and(|m| m[[y, x]] != 0);
        let tint = match (t, p) {
            (false, false) => None,
            (true, false) => Some(TRUTH),
            (false, true) => Some(PREDICTION),
            (true, true) => Some([255.0, 220.0, 40.0]),
        };
        for c in 0..3 {
            let v = match tint {
                Some(colour) => KEEP * g + (1.0 - KEEP) * colour[c],
                None => g,
            };
            out[[c, y, x]] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    Ok(out)
}

/// [`overlay`] scaled to fit a `tile` x `tile` square (aspect kept, centred on black): the
/// image by [`resize_input`], the masks by nearest neighbour.
///
/// # Errors
/// As [`overlay`]; [`crate::Error::InvalidOption`] for a zero tile or empty image.
pub fn overlay_tile(
    image: ArrayView2<'_, u8>,
    truth: Option<ArrayView2<'_, u8>>,
    prediction: Option<ArrayView2<'_, u8>>,
    tile: usize,
) -> Result<Array3<u8>> {
    let (h, w) = image.dim();
    if tile == 0 || h == 0 || w == 0 {
        return Err(crate::Error::InvalidOption {
            name: "tile",
            value: format!("{tile} (image {h} x {w})"),
            reason: "the tile and the image must have at least one pixel",
        });
    }
    let scale = tile as f64 / h.max(w) as f64;
    let size = (
        ((h as f64 * scale).round() as usize).clamp(1, tile),
        ((w as f64 * scale).round() as usize).clamp(1, tile),
    );
    let shrink = |m: ArrayView2<'_, u8>| -> Result<Array2<u8>> {
        check_same_size("overlay mask", image.dim(), m.dim())?;
        resize(m, size, Interpolation::Nearest)
    };
    let small = resize_input(image, size)?;
    let truth = truth.map(shrink).transpose()?;
    let prediction = prediction.map(shrink).transpose()?;
    let rgb = overlay(
        small.view(),
        truth.as_ref().map(Array2::view),
        prediction.as_ref().map(Array2::view),
    )?;
    let mut out = Array3::zeros((3, tile, tile));
    let (oy, ox) = ((tile - size.0) / 2, (tile - size.1) / 2);
    paste(&mut out, &rgb, oy, ox);
    Ok(out)
}

/// RGB tiles `(3, tile, tile)` laid out in a near-square grid, row by row, with 4-pixel dark
/// grey gaps. An empty list gives one gap-coloured 4 x 4 picture.
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] when a tile is not `(3, tile, tile)` like the first.
pub fn montage(tiles: &[Array3<u8>]) -> Result<Array3<u8>> {
    let gap = 4;
    let Some(first) = tiles.first() else {
        return Ok(Array3::from_elem((3, gap, gap), 40u8));
    };
    let (_, tile, tile_w) = first.dim();
    for t in tiles {
        check_same_size("montage tile", (tile, tile_w), (t.dim().1, t.dim().2))?;
        check_same_size("montage tile channels", (3, 0), (t.dim().0, 0))?;
    }
    let cols = (tiles.len() as f64).sqrt().ceil() as usize;
    let rows = tiles.len().div_ceil(cols);
    let (h, w) = (
        rows * tile + (rows + 1) * gap,
        cols * tile_w + (cols + 1) * gap,
    );
    let mut out = Array3::from_elem((3, h, w), 40u8);
    for (k, t) in tiles.iter().enumerate() {
        let (y0, x0) = (
            gap + (k / cols) * (tile + gap),
            gap + (k % cols) * (tile_w + gap),
        );
        paste(&mut out, t, y0, x0);
    }
    Ok(out)
}

/// Copies `from` into `into` with its top-left corner at `(y0, x0)`.
fn paste(into: &mut Array3<u8>, from: &Array3<u8>, y0: usize, x0: usize) {
    for ((c, y, x), &v) in from.indexed_iter() {
        into[[c, y0 + y, x0 + x]] = v;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn colours_and_layout() {
        let image = Array2::from_elem((6, 3), 200u8);
        let mut truth = Array2::zeros((6, 3));
        truth[[0, 0]] = 1u8;
        truth[[1, 1]] = 1;
        let mut pred = Array2::zeros((6, 3));
        pred[[1, 1]] = 255u8;
        pred[[2, 2]] = 1;
        let rgb = overlay(image.view(), Some(truth.view()), Some(pred.view())).unwrap();
        let px = |y: usize, x: usize| [rgb[[0, y, x]], rgb[[1, y, x]], rgb[[2, y, x]]];
        assert_eq!(px(5, 0), [200, 200, 200]);
        assert!(px(0, 0)[1] > px(0, 0)[0]); // green
        assert!(px(2, 2)[0] > px(2, 2)[1]); // red
        assert!(px(1, 1)[0] > px(1, 1)[2] && px(1, 1)[1] > px(1, 1)[2]); // yellow
        let tile = overlay_tile(image.view(), Some(truth.view()), None, 12).unwrap();
        assert_eq!(tile.dim(), (3, 12, 12));
        assert_eq!(tile[[0, 0, 0]], 0); // black margin: 6x3 scaled to 12x6, centred
        assert_eq!(tile[[0, 11, 5]], 200);
        let m = montage(&[tile.clone(), tile.clone(), tile]).unwrap();
        assert_eq!(m.dim(), (3, 2 * 12 + 3 * 4, 2 * 12 + 3 * 4));
        assert_eq!(m[[0, 0, 0]], 40);
        assert!(overlay(image.view(), Some(Array2::zeros((2, 2)).view()), None).is_err());
        assert!(overlay_tile(image.view(), None, None, 0).is_err());
    }
}
