//! Connected components of binary masks: labelling, and removal of the small ones.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// Which neighbours join pixels into one component.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Connectivity {
    /// Edge neighbours only (up, down, left, right).
    Four,
    /// Edge and corner neighbours: OpenCV's `connectedComponents` default, used by the
    /// challenge solutions' post-processing.
    #[default]
    Eight,
}

impl Connectivity {
    /// Offsets `(drow, dcol)` of the neighbours already visited in a raster scan.
    pub(crate) fn previous(self) -> &'static [(isize, isize)] {
        match self {
            Connectivity::Four => &[(0, -1), (-1, 0)],
            Connectivity::Eight => &[(0, -1), (-1, -1), (-1, 0), (-1, 1)],
        }
    }

    /// Offsets of all neighbours.
    pub(crate) fn all(self) -> &'static [(isize, isize)] {
        match self {
            Connectivity::Four => &[(0, -1), (-1, 0), (0, 1), (1, 0)],
            Connectivity::Eight => &[
                (0, -1),
                (-1, -1),
                (-1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
                (1, 0),
                (1, -1),
            ],
        }
    }
}

/// Index of the neighbour of `i` (row-major in a `rows x cols` grid) at `(dr, dc)`, if inside.
#[inline]
pub(crate) fn neighbour(
    i: usize,
    cols: usize,
    rows: usize,
    (dr, dc): (isize, isize),
) -> Option<usize> {
    let r = (i / cols).checked_add_signed(dr)?;
    let c = (i % cols).checked_add_signed(dc)?;
    (r < rows && c < cols).then(|| r * cols + c)
}

/// Union-find over pixel indices with union by size and path halving. `u32::MAX` marks a
/// pixel not (yet) in any set.
#[derive(Debug, Clone)]
pub(crate) struct DisjointSets {
    parent: Vec<u32>,
    size: Vec<u32>,
}

pub(crate) const NOT_SET: u32 = u32::MAX;

impl DisjointSets {
    pub(crate) fn new(n: usize) -> Self {
        DisjointSets {
            parent: vec![NOT_SET; n],
            size: vec![0; n],
        }
    }

    /// Number of elements it can hold.
    pub(crate) fn len(&self) -> usize {
        self.parent.len()
    }

    /// Takes `i` out again (only valid when every element of its set is removed too).
    pub(crate) fn remove(&mut self, i: usize) {
        self.parent[i] = NOT_SET;
        self.size[i] = 0;
    }

    #[inline]
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.parent[i] != NOT_SET
    }

    /// Makes `i` a set of its own.
    #[inline]
    pub(crate) fn insert(&mut self, i: usize) {
        self.parent[i] = i as u32;
        self.size[i] = 1;
    }

    #[inline]
    pub(crate) fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] as usize != i {
            let grand = self.parent[self.parent[i] as usize];
            self.parent[i] = grand;
            i = grand as usize;
        }
        i
    }

    /// Joins the sets of roots `a` and `b` (distinct roots) and returns the new root.
    #[inline]
    pub(crate) fn union_roots(&mut self, a: usize, b: usize) -> usize {
        let (big, small) = if self.size[a] >= self.size[b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small] = big as u32;
        self.size[big] += self.size[small];
        big
    }

    #[inline]
    pub(crate) fn size(&self, root: usize) -> u32 {
        self.size[root]
    }
}

/// Labelled components of a mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components {
    /// Per pixel: 0 for background, `1..=n` for the component it belongs to, numbered in
    /// raster (row-major) order of their first pixel. Shape `(height, width)`.
    pub labels: Array2<u32>,
    /// Pixel count of component `k + 1` at index `k`.
    pub sizes: Vec<usize>,
}

impl Components {
    /// Number of components.
    pub fn count(&self) -> usize {
        self.sizes.len()
    }
}

/// Labels the connected components of `mask` (`(height, width)`, any non-zero set, any
/// layout). Equal to OpenCV's `connectedComponents` up to the numbering, which here is raster
/// order.
///
/// ```
/// use ndarray::array;
/// use ptx_metrics::{label_components, Connectivity};
/// let m = array![[1u8, 0, 0], [0, 1, 0], [0, 0, 0]];
/// assert_eq!(label_components(m.view(), Connectivity::Eight).count(), 1);
/// assert_eq!(label_components(m.view(), Connectivity::Four).count(), 2);
/// ```
pub fn label_components(mask: ArrayView2<'_, u8>, connectivity: Connectivity) -> Components {
    let (rows, cols) = mask.dim();
    let mut sets = DisjointSets::new(rows * cols);
    for ((r, c), &v) in mask.indexed_iter() {
        if v == 0 {
            continue;
        }
        let i = r * cols + c;
        sets.insert(i);
        for &d in connectivity.previous() {
            if let Some(j) = neighbour(i, cols, rows, d) {
                if sets.contains(j) {
                    let (a, b) = (sets.find(i), sets.find(j));
                    if a != b {
                        sets.union_roots(a, b);
                    }
                }
            }
        }
    }
    // Second pass: number the roots in raster order.
    let mut label_of_root = vec![0u32; rows * cols];
    let mut sizes = Vec::new();
    let mut labels = Array2::<u32>::zeros((rows, cols));
    for i in 0..rows * cols {
        if !sets.contains(i) {
            continue;
        }
        let root = sets.find(i);
        if label_of_root[root] == 0 {
            sizes.push(sets.size(root) as usize);
            label_of_root[root] = sizes.len() as u32;
        }
        labels[[i / cols, i % cols]] = label_of_root[root];
    }
    Components { labels, sizes }
}

/// A copy of `mask` (0/1, standard layout) without the components smaller than `min_area`
/// pixels; `min_area` 0 or 1 keeps everything.
pub fn remove_small_components(
    mask: ArrayView2<'_, u8>,
    min_area: usize,
    connectivity: Connectivity,
) -> Array2<u8> {
    if min_area <= 1 {
        return mask.mapv(|v| u8::from(v != 0));
    }
    let comps = label_components(mask, connectivity);
    comps
        .labels
        .mapv(|l| u8::from(l > 0 && comps.sizes[l as usize - 1] >= min_area))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn labels_in_raster_order() {
        let m = array![[1u8, 1, 0, 1], [0, 0, 0, 1], [1, 0, 0, 0]];
        let c = label_components(m.view(), Connectivity::Eight);
        assert_eq!(c.sizes, vec![2, 2, 1]);
        assert_eq!(
            c.labels,
            array![[1u32, 1, 0, 2], [0, 0, 0, 2], [3, 0, 0, 0]]
        );
    }

    #[test]
    fn u_shape_merges_late() {
        // The two arms meet only on the last row: one component.
        let m = array![[1u8, 0, 1], [1, 0, 1], [1, 1, 1]];
        let c = label_components(m.view(), Connectivity::Four);
        assert_eq!(c.sizes, vec![7]);
    }

    #[test]
    fn small_components_removed() {
        let m = array![[1u8, 1, 0, 0], [1, 0, 0, 5], [0, 0, 0, 0]];
        let kept = remove_small_components(m.view(), 2, Connectivity::Eight);
        assert_eq!(kept, array![[1u8, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]);
        assert_eq!(
            remove_small_components(m.view(), 0, Connectivity::Four)[[1, 3]],
            1
        );
    }
}
