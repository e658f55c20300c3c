//! The grey-level pixel types the intensity transforms accept.

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
}

/// An unsigned grey level: `u8` (256 levels) or `u16` (65,536 levels), as OpenCV's
/// `CV_8UC1` and `CV_16UC1`.
pub trait Pixel: Copy + Default + Send + Sync + sealed::Sealed + 'static {
    /// Number of grey levels (histogram bins).
    const LEVELS: usize;
    /// The level as a histogram index.
    fn index(self) -> usize;
    /// The nearest level to `v` (ties to even, as OpenCV's `saturate_cast`), clamped to the
    /// type's range.
    fn saturate(v: f32) -> Self;
}

/// `v` rounded to the nearest integer, ties to even, as SSE2's `cvtss2si` (OpenCV's
/// `cvRound`) does; exact for `|v| < 2^22`, and beyond that still at or past every `u16`
/// bound, so that the saturating casts below give the same levels. Adding and removing
/// 1.5 x 2^23 leaves no fraction bits, which makes the FPU round: without SSE4.1,
/// `f32::round_ties_even` compiles to a call to `rintf`; replacing it took CLAHE on a
/// 1024 x 1024 image from 4.6 to 3.7 ms.
#[inline]
pub(crate) fn round_ties_even(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC) - MAGIC
}

impl Pixel for u8 {
    const LEVELS: usize = 256;
    fn index(self) -> usize {
        usize::from(self)
    }
    fn saturate(v: f32) -> Self {
        // `as` saturates (and maps NaN to 0) after rounding.
        round_ties_even(v) as u8
    }
}

impl Pixel for u16 {
    const LEVELS: usize = 65536;
    fn index(self) -> usize {
        usize::from(self)
    }
    fn saturate(v: f32) -> Self {
        round_ties_even(v) as u16
    }
}
