//! Grey-level histograms, the inner loop of CLAHE and equalisation.

use crate::pixel::Pixel;

/// A histogram of `P::LEVELS` bins being filled. For 8-bit images it keeps four interleaved
/// partial histograms, which breaks the dependency between equal neighbouring pixels;
/// [`Histogram::counts`] adds them up.
pub(crate) struct Histogram {
    parts: Vec<u32>,
    ways: usize,
    levels: usize,
}

impl Histogram {
    /// An empty histogram for pixels of type `P`.
    pub(crate) fn new<P: Pixel>() -> Self {
        let ways = if P::LEVELS <= 256 { 4 } else { 1 };
        Self {
            parts: vec![0; ways * P::LEVELS],
            ways,
            levels: P::LEVELS,
        }
    }

    /// Empties it.
    pub(crate) fn clear(&mut self) {
        self.parts.fill(0);
    }

    /// Counts the levels of `values`.
    pub(crate) fn add<P: Pixel>(&mut self, values: &[P]) {
        let mask = self.levels - 1;
        if self.ways == 1 {
            for p in values {
                self.parts[p.index() & mask] += 1;
            }
            return;
        }
        let (a, rest) = self.parts.split_at_mut(self.levels);
        let (b, rest) = rest.split_at_mut(self.levels);
        let (c, d) = rest.split_at_mut(self.levels);
        let mut quads = values.chunks_exact(4);
        for q in &mut quads {
            a[q[0].index() & mask] += 1;
            b[q[1].index() & mask] += 1;
            c[q[2].index() & mask] += 1;
            d[q[3].index() & mask] += 1;
        }
        for p in quads.remainder() {
            a[p.index() & mask] += 1;
        }
    }

    /// Counts one level.
    pub(crate) fn add_one<P: Pixel>(&mut self, value: P) {
        self.parts[value.index() & (self.levels - 1)] += 1;
    }

    /// The bin counts, written to `out` (`P::LEVELS` long).
    pub(crate) fn counts(&self, out: &mut [u32]) {
        out.copy_from_slice(&self.parts[..self.levels]);
        for part in self.parts.chunks_exact(self.levels).skip(1) {
            for (o, &c) in out.iter_mut().zip(part) {
                *o += c;
            }
        }
    }
}
