//! Cutting images into overlapping patches and stitching predictions back.

use ndarray::{Array2, ArrayView2, Slice};
use serde::{Deserialize, Serialize};

use crate::error::{check_not_empty, Error, Result};

/// A patch's top-left corner `(y, x)` and its pixels.
pub type Patch<T> = ((usize, usize), Array2<T>);

/// A regular grid of square or rectangular patches, as Dasic et al.'s 128 x 128 patch
/// training: patches of `size` every `stride` pixels; the last row and column of patches are
/// moved back to end at the image's edge, so every pixel is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchGrid {
    /// Patch `(height, width)` in pixels.
    pub size: (usize, usize),
    /// Step between patch origins `(down, across)`; equal to `size` for no overlap.
    pub stride: (usize, usize),
}

impl PatchGrid {
    /// `side x side` patches without overlap.
    pub fn square(side: usize) -> Self {
        Self {
            size: (side, side),
            stride: (side, side),
        }
    }

    /// Top-left corners `(y, x)` of the patches of an image of `(height, width)`, row by row.
    /// The image must be at least one patch large (pad it first with
    /// [`pad_to_multiple`](crate::pad_to_multiple) otherwise).
    pub fn origins(&self, (h, w): (usize, usize)) -> Result<Vec<(usize, usize)>> {
        let (ph, pw) = self.size;
        let (sy, sx) = self.stride;
        if ph == 0 || pw == 0 || sy == 0 || sx == 0 {
            return Err(Error::InvalidOption {
                name: "patch size / stride",
                value: format!("{:?} / {:?}", self.size, self.stride),
                reason: "must be at least 1",
            });
        }
        if h < ph || w < pw {
            return Err(Error::InvalidOption {
                name: "patch size",
                value: format!("{ph}x{pw} on a {h}x{w} image"),
                reason: "is larger than the image; pad the image first",
            });
        }
        let axis = |len: usize, size: usize, step: usize| {
            let mut starts: Vec<usize> = (0..=len - size).step_by(step).collect();
            if starts.last() != Some(&(len - size)) {
                starts.push(len - size);
            }
            starts
        };
        let ys = axis(h, ph, sy);
        let xs = axis(w, pw, sx);
        Ok(ys
            .iter()
            .flat_map(|&y| xs.iter().map(move |&x| (y, x)))
            .collect())
    }

    /// The patches of `image` with their origins, in [`PatchGrid::origins`] order.
    pub fn split<T: Clone>(&self, image: ArrayView2<'_, T>) -> Result<Vec<Patch<T>>> {
        check_not_empty("patch input", image.dim())?;
        let (ph, pw) = self.size;
        Ok(self
            .origins(image.dim())?
            .into_iter()
            .map(|(y, x)| {
                let patch = image.slice_each_axis(|axis| match axis.axis.index() {
                    0 => Slice::from(y..y + ph),
                    _ => Slice::from(x..x + pw),
                });
                ((y, x), patch.to_owned())
            })
            .collect())
    }
}

/// Puts predicted patches back into a full-size map, averaging where they overlap.
///
/// ```
/// use ndarray::Array2;
/// use ptx_preproc::{PatchGrid, Stitcher};
/// let image = Array2::from_shape_fn((100, 90), |(y, x)| (y * 90 + x) as f32);
/// let grid = PatchGrid { size: (32, 32), stride: (24, 24) };
/// let mut stitcher = Stitcher::new(image.dim());
/// for (origin, patch) in grid.split(image.view())? {
///     stitcher.add(origin, patch.view())?; // a model's prediction would go here
/// }
/// assert_eq!(stitcher.finish()?, image);
/// # Ok::<(), ptx_preproc::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Stitcher {
    sum: Array2<f32>,
    count: Array2<u32>,
}

impl Stitcher {
    /// An empty map of `(height, width)`.
    pub fn new(size: (usize, usize)) -> Self {
        Self {
            sum: Array2::zeros(size),
            count: Array2::zeros(size),
        }
    }

    /// Adds a patch whose top-left corner is `origin = (y, x)`.
    pub fn add(&mut self, (y, x): (usize, usize), patch: ArrayView2<'_, f32>) -> Result<()> {
        let (ph, pw) = patch.dim();
        let (h, w) = self.sum.dim();
        if y + ph > h || x + pw > w {
            return Err(Error::InvalidOption {
                name: "patch origin",
                value: format!("({y}, {x}) + {ph}x{pw}"),
                reason: "reaches outside the stitched map",
            });
        }
        let window = |axis: ndarray::AxisDescription| match axis.axis.index() {
            0 => Slice::from(y..y + ph),
            _ => Slice::from(x..x + pw),
        };
        self.sum
            .slice_each_axis_mut(window)
            .zip_mut_with(&patch, |s, &p| *s += p);
        self.count
            .slice_each_axis_mut(window)
            .mapv_inplace(|c| c + 1);
        Ok(())
    }

    /// The averaged map; an error if some pixel was never covered.
    pub fn finish(self) -> Result<Array2<f32>> {
        if let Some(((y, x), _)) = self.count.indexed_iter().find(|(_, &c)| c == 0) {
            return Err(Error::InvalidOption {
                name: "patches",
                value: format!("pixel ({y}, {x})"),
                reason: "is covered by no patch",
            });
        }
        let mut out = self.sum;
        out.zip_mut_with(&self.count, |s, &c| *s /= c as f32);
        Ok(out)
    }
}
