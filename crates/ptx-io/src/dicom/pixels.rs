//! Decoded stored values as typed ndarrays.

use ndarray::{Array4, ArrayView2, Axis};

/// The stored pixel values of every frame, typed as the file stores them, shape
/// `(frames, rows, columns, samples)`. No LUT is applied.
///
/// The element type follows pydicom's `pixel_array`: Bits Allocated 1 and 8 give `u8`
/// (1-bit pixels are 0/1), 16 gives `u16`/`i16`, 32 gives `u32`/`i32` by Pixel
/// Representation. Signed values stored in fewer bits than allocated are sign-extended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StoredPixels {
    /// Unsigned 1- or 8-bit samples.
    U8(Array4<u8>),
    /// Signed 8-bit samples.
    I8(Array4<i8>),
    /// Unsigned 16-bit samples.
    U16(Array4<u16>),
    /// Signed 16-bit samples.
    I16(Array4<i16>),
    /// Unsigned 32-bit samples.
    U32(Array4<u32>),
    /// Signed 32-bit samples.
    I32(Array4<i32>),
}

macro_rules! each {
    ($self:expr, $a:ident => $e:expr) => {
        match $self {
            StoredPixels::U8($a) => $e,
            StoredPixels::I8($a) => $e,
            StoredPixels::U16($a) => $e,
            StoredPixels::I16($a) => $e,
            StoredPixels::U32($a) => $e,
            StoredPixels::I32($a) => $e,
        }
    };
}

macro_rules! frame_view {
    ($name:ident, $variant:ident, $t:ty) => {
        /// The first sample of `frame` as a `(rows, columns)` view when the values are of
        /// this type; `None` for another type or a missing frame.
        pub fn $name(&self, frame: usize) -> Option<ArrayView2<'_, $t>> {
            match self {
                StoredPixels::$variant(a) if frame < a.shape()[0] => {
                    Some(a.index_axis(Axis(0), frame).index_axis_move(Axis(2), 0))
                }
                _ => None,
            }
        }
    };
}

impl StoredPixels {
    /// `(frames, rows, columns, samples)`.
    pub fn dim(&self) -> (usize, usize, usize, usize) {
        each!(self, a => a.dim())
    }

    /// NumPy dtype string of the values, e.g. `<u2` (little-endian `uint16`).
    pub fn numpy_dtype(&self) -> &'static str {
        match self {
            StoredPixels::U8(_) => "|u1",
            StoredPixels::I8(_) => "|i1",
            StoredPixels::U16(_) => "<u2",
            StoredPixels::I16(_) => "<i2",
            StoredPixels::U32(_) => "<u4",
            StoredPixels::I32(_) => "<i4",
        }
    }

    /// The shape pydicom's `pixel_array` has: `(rows, cols)`, `(frames, rows, cols)`,
    /// `(rows, cols, samples)` or `(frames, rows, cols, samples)`.
    pub fn pydicom_shape(&self) -> Vec<usize> {
        let (f, r, c, s) = self.dim();
        let mut shape = Vec::with_capacity(4);
        if f > 1 {
            shape.push(f);
        }
        shape.extend([r, c]);
        if s > 1 {
            shape.push(s);
        }
        shape
    }

    /// All values as little-endian bytes in `(frames, rows, columns, samples)` order: the
    /// bytes of pydicom's `pixel_array.astype('<...').tobytes()`.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        each!(self, a => a.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    /// `frame`'s sample `sample` as `f32`, shape `(rows, columns)`.
    pub fn frame_f32(&self, frame: usize, sample: usize) -> Option<ndarray::Array2<f32>> {
        let (f, _, _, s) = self.dim();
        if frame >= f || sample >= s {
            return None;
        }
        Some(each!(self, a => a
            .index_axis(Axis(0), frame)
            .index_axis_move(Axis(2), sample)
            .mapv(|v| v as f32)))
    }

    /// Minimum and maximum over all values, as `f64` (`None` when empty).
    pub fn min_max(&self) -> Option<(f64, f64)> {
        each!(self, a => a.iter().fold(None, |acc: Option<(f64, f64)>, &v| {
            let v = v as f64;
            Some(match acc { None => (v, v), Some((lo, hi)) => (lo.min(v), hi.max(v)) })
        }))
    }

    frame_view!(frame_u8, U8, u8);
    frame_view!(frame_i8, I8, i8);
    frame_view!(frame_u16, U16, u16);
    frame_view!(frame_i16, I16, i16);
    frame_view!(frame_u32, U32, u32);
    frame_view!(frame_i32, I32, i32);
}

/// Layout of the native bytes handed over by the codec.
pub(crate) struct Layout {
    pub frames: usize,
    pub rows: usize,
    pub cols: usize,
    pub samples: usize,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    /// Planar configuration 1: all of sample 0, then all of sample 1… per frame.
    pub planar: bool,
    /// 1-bit data already expanded by dicom-rs to one byte (0 or 255) per sample.
    pub expanded_bits: bool,
}

impl Layout {
    pub fn count(&self) -> usize {
        self.frames * self.rows * self.cols * self.samples
    }

    pub fn bytes_needed(&self) -> usize {
        if self.bits_allocated == 1 && !self.expanded_bits {
            self.count().div_ceil(8)
        } else {
            self.count() * usize::from(self.bits_allocated).div_ceil(8)
        }
    }
}

fn sign_extend(v: i64, bits: u16) -> i64 {
    if bits == 0 || bits >= 64 {
        return v;
    }
    let shift = 64 - u32::from(bits);
    (v << shift) >> shift
}

/// Builds typed arrays from native-endian bytes. `data` must hold at least
/// `layout.bytes_needed()` bytes (checked by the caller).
pub(crate) fn from_native(data: &[u8], l: &Layout) -> Result<StoredPixels, String> {
    let n = l.count();
    let shape = (l.frames, l.rows, l.cols, l.samples);
    let bits = l.bits_stored.min(l.bits_allocated);
    let mut out = match (l.bits_allocated, l.signed) {
        (1, _) => {
            let v: Vec<u8> = if l.expanded_bits {
                data[..n].iter().map(|&b| u8::from(b != 0)).collect()
            } else {
                (0..n).map(|i| (data[i / 8] >> (i % 8)) & 1).collect()
            };
            StoredPixels::U8(to_array(shape, v)?)
        }
        (8, false) => StoredPixels::U8(to_array(shape, data[..n].to_vec())?),
        (8, true) => StoredPixels::I8(to_array(
            shape,
            data[..n]
                .iter()
                .map(|&b| sign_extend(i64::from(b), bits) as i8)
                .collect(),
        )?),
        (16, false) => StoredPixels::U16(to_array(
            shape,
            data[..2 * n]
                .chunks_exact(2)
                .map(|c| u16::from_ne_bytes([c[0], c[1]]))
                .collect(),
        )?),
        (16, true) => StoredPixels::I16(to_array(
            shape,
            data[..2 * n]
                .chunks_exact(2)
                .map(|c| sign_extend(i64::from(u16::from_ne_bytes([c[0], c[1]])), bits) as i16)
                .collect(),
        )?),
        (32, false) => StoredPixels::U32(to_array(
            shape,
            data[..4 * n]
                .chunks_exact(4)
                .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )?),
        (32, true) => StoredPixels::I32(to_array(
            shape,
            data[..4 * n]
                .chunks_exact(4)
                .map(|c| {
                    sign_extend(
                        i64::from(u32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
                        bits,
                    ) as i32
                })
                .collect(),
        )?),
        (other, _) => return Err(format!("Bits Allocated {other} (1, 8, 16 or 32 supported)")),
    };
    if l.planar && l.samples > 1 {
        out = each!(out, a => {
            // Stored as (frames, samples, rows, cols): reinterpret, then move samples last.
            let (f, r, c, s) = a.dim();
            let flat = a.into_raw_vec_and_offset().0;
            let planar = ndarray::Array4::from_shape_vec((f, s, r, c), flat).map_err(|e| e.to_string())?;
            let interleaved = planar.permuted_axes([0, 2, 3, 1]).as_standard_layout().into_owned();
            interleaved.into()
        });
    }
    Ok(out)
}

fn to_array<T>(shape: (usize, usize, usize, usize), v: Vec<T>) -> Result<Array4<T>, String> {
    Array4::from_shape_vec(shape, v).map_err(|e| e.to_string())
}

macro_rules! from_array {
    ($variant:ident, $t:ty) => {
        impl From<Array4<$t>> for StoredPixels {
            fn from(a: Array4<$t>) -> Self {
                StoredPixels::$variant(a)
            }
        }
    };
}
from_array!(U8, u8);
from_array!(I8, i8);
from_array!(U16, u16);
from_array!(I16, i16);
from_array!(U32, u32);
from_array!(I32, i32);

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(bits_allocated: u16, bits_stored: u16, signed: bool) -> Layout {
        Layout {
            frames: 1,
            rows: 1,
            cols: 2,
            samples: 1,
            bits_allocated,
            bits_stored,
            signed,
            planar: false,
            expanded_bits: false,
        }
    }

    #[test]
    fn sign_extends_12_bit() {
        let raw: Vec<u8> = [0x0FFFu16, 0x0001]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        let p = from_native(&raw, &layout(16, 12, true)).unwrap();
        assert_eq!(
            p.frame_i16(0).unwrap().iter().copied().collect::<Vec<_>>(),
            vec![-1, 1]
        );
    }

    #[test]
    fn packed_bits() {
        let p = from_native(&[0b0000_0010], &layout(1, 1, false)).unwrap();
        assert_eq!(
            p.frame_u8(0).unwrap().iter().copied().collect::<Vec<_>>(),
            vec![0, 1]
        );
    }

    #[test]
    fn planar_to_interleaved() {
        let mut l = layout(8, 8, false);
        l.samples = 3;
        l.planar = true;
        // R R G G B B -> (R G B) (R G B)
        let p = from_native(&[1, 2, 3, 4, 5, 6], &l).unwrap();
        let StoredPixels::U8(a) = p else { panic!() };
        assert_eq!(
            a.iter().copied().collect::<Vec<_>>(),
            vec![1, 3, 5, 2, 4, 6]
        );
    }
}
