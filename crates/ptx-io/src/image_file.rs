//! Grey PNG images and masks, and NumPy `.npy` arrays.

use std::io::Write;
use std::path::Path;

use ndarray::{Array2, ArrayView2, ShapeBuilder};

use crate::dicom::StoredPixels;
use crate::fsutil::write_atomic;
use crate::rle::Mask;
use crate::{Error, Result};

fn png_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Png {
        path: path.into(),
        message: e.to_string(),
    }
}

/// Writes an 8-bit grey PNG, shape `(height, width)`, atomically.
///
/// # Errors
/// [`Error::Io`] or [`Error::Png`].
pub fn write_png_gray8(path: impl AsRef<Path>, image: &ArrayView2<'_, u8>) -> Result<()> {
    let (h, w) = image.dim();
    let data: Vec<u8> = image.iter().copied().collect(); // row-major whatever the layout
    write_png(path.as_ref(), w, h, png::BitDepth::Eight, &data)
}

/// Writes a 16-bit grey PNG (big-endian samples, as PNG stores them), atomically.
///
/// # Errors
/// [`Error::Io`] or [`Error::Png`].
pub fn write_png_gray16(path: impl AsRef<Path>, image: &ArrayView2<'_, u16>) -> Result<()> {
    let (h, w) = image.dim();
    let data: Vec<u8> = image.iter().flat_map(|v| v.to_be_bytes()).collect();
    write_png(path.as_ref(), w, h, png::BitDepth::Sixteen, &data)
}

fn write_png(path: &Path, w: usize, h: usize, depth: png::BitDepth, data: &[u8]) -> Result<()> {
    let (w32, h32) = match (u32::try_from(w), u32::try_from(h)) {
        (Ok(a), Ok(b)) if a > 0 && b > 0 => (a, b),
        _ => return Err(png_err(path, format!("cannot write a {w}x{h} image"))),
    };
    let mut png_error = None;
    let io = write_atomic(path, |out: &mut dyn Write| {
        let mut enc = png::Encoder::new(out, w32, h32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(depth);
        let res = enc
            .write_header()
            .and_then(|mut wr| wr.write_image_data(data));
        res.map_err(|e| {
            let msg = e.to_string();
            png_error = Some(msg.clone());
            std::io::Error::other(msg)
        })
    });
    match (io, png_error) {
        (Err(_), Some(msg)) => Err(png_err(path, msg)),
        (r, _) => r,
    }
}

/// Writes a mask as a 0/255 8-bit grey PNG, atomically.
///
/// # Errors
/// As [`write_png_gray8`].
pub fn write_mask_png(path: impl AsRef<Path>, mask: &ArrayView2<'_, u8>) -> Result<()> {
    let (h, w) = mask.dim();
    let data: Vec<u8> = mask.iter().map(|&v| if v != 0 { 255 } else { 0 }).collect(); // row-major
    write_png(path.as_ref(), w, h, png::BitDepth::Eight, &data)
}

/// Reads a PNG as 8-bit grey, shape `(height, width)`: 16-bit samples are reduced to their
/// high byte, palettes expanded, alpha dropped, colour turned into its first channel when
/// all channels are equal and into `0.299 R + 0.587 G + 0.114 B` otherwise.
///
/// # Errors
/// [`Error::Io`] or [`Error::Png`].
pub fn read_png_gray8(path: impl AsRef<Path>) -> Result<Array2<u8>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| png_err(path, e))?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).map_err(|e| png_err(path, e))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = info.color_type.samples();
    let bytes = &buf[..info.buffer_size()];
    let grey: Vec<u8> = match info.color_type {
        png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha => {
            bytes.chunks_exact(channels).map(|p| p[0]).collect()
        }
        _ => bytes
            .chunks_exact(channels)
            .map(|p| {
                if p[0] == p[1] && p[1] == p[2] {
                    p[0]
                } else {
                    (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
                        .round() as u8
                }
            })
            .collect(),
    };
    Array2::from_shape_vec((h, w), grey).map_err(|e| png_err(path, e))
}

/// Reads a mask PNG: any non-zero pixel is set. Returns 0/1 in column-major storage, like
/// [`crate::rle::decode`].
///
/// # Errors
/// As [`read_png_gray8`].
pub fn read_mask_png(path: impl AsRef<Path>) -> Result<Mask> {
    let grey = read_png_gray8(path)?;
    let (h, w) = grey.dim();
    let mut out = Array2::zeros((h, w).f());
    ndarray::Zip::from(&mut out)
        .and(&grey)
        .for_each(|o, &g| *o = u8::from(g != 0));
    Ok(out)
}

/// Writes stored DICOM values to a NumPy `.npy` file (format 1.0), atomically, with the
/// dtype and shape of pydicom's `pixel_array` ([`StoredPixels::pydicom_shape`]).
///
/// # Errors
/// [`Error::Io`].
pub fn write_npy(path: impl AsRef<Path>, pixels: &StoredPixels) -> Result<()> {
    let shape = pixels.pydicom_shape();
    let shape_text = match shape.as_slice() {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_text}, }}",
        pixels.numpy_dtype()
    );
    // Magic (6) + version (2) + header length (2) + header + '\n', padded to 64 bytes.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let header_len = u16::try_from(header.len())
        .map_err(|_| Error::io(path.as_ref(), std::io::Error::other("npy header too long")))?;
    let body = pixels.to_le_bytes();
    write_atomic(path, |out| {
        out.write_all(b"\x93NUMPY\x01\x00")?;
        out.write_all(&header_len.to_le_bytes())?;
        out.write_all(header.as_bytes())?;
        out.write_all(&body)
    })
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;
    use super::*;
    use ndarray::Array4;

    #[test]
    fn png_roundtrip_and_mask() -> TestResult {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("m.png");
        let m = ndarray::arr2(&[[0u8, 1, 0], [1, 1, 0]]);
        write_mask_png(&p, &m.view())?;
        assert_eq!(read_png_gray8(&p)?, m.mapv(|v| v * 255));
        assert_eq!(read_mask_png(&p)?, m);
        Ok(())
    }

    #[test]
    fn npy_header_is_aligned() -> TestResult {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("a.npy");
        let px = StoredPixels::I16(Array4::from_elem((1, 2, 3, 1), -2));
        write_npy(&p, &px)?;
        let bytes = std::fs::read(&p)?;
        let hl = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + hl) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + hl])?;
        assert!(
            header.contains("'descr': '<i2'") && header.contains("'shape': (2, 3)"),
            "{header}"
        );
        assert_eq!(&bytes[10 + hl..10 + hl + 2], &(-2i16).to_le_bytes());
        assert_eq!(bytes.len(), 10 + hl + 12);
        Ok(())
    }
}
