//! Grey PNG images and masks, and NumPy `.npy` arrays.

use std::io::Write;
use std::path::Path;

use ndarray::{Array2, ArrayView2, ArrayView3, ShapeBuilder};

use crate::dicom::{DicomImage, DisplayOptions, StoredPixels};
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

/// Writes an 8-bit RGB PNG from a `(3, height, width)` channel-first image (e.g. a raw + AHE +
/// CLAHE stack, which the papers store as RGB files), atomically.
///
/// # Errors
/// [`Error::InvalidArgument`] unless there are three channels; [`Error::Io`] or [`Error::Png`].
pub fn write_png_rgb8(path: impl AsRef<Path>, image: &ArrayView3<'_, u8>) -> Result<()> {
    let (c, h, w) = image.dim();
    if c != 3 {
        return Err(Error::InvalidArgument {
            name: "image",
            message: format!(
                "{}: an RGB PNG needs 3 channels, the image has {c} ({h} x {w})",
                path.as_ref().display()
            ),
        });
    }
    let interleaved = image.view().permuted_axes([1, 2, 0]);
    let data: Vec<u8> = interleaved.iter().copied().collect();
    write_png_color(
        path.as_ref(),
        w,
        h,
        png::ColorType::Rgb,
        png::BitDepth::Eight,
        &data,
    )
}

/// A radiograph as a network sees it, with what its file says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Radiograph {
    /// The 8-bit grey display image `(height, width)` at the file's own size.
    pub pixels: Array2<u8>,
    /// The DICOM attributes (pixel spacing, UIDs, ...) when the file is DICOM; identifying
    /// attributes are not read.
    pub dicom: Option<crate::dicom::DicomMeta>,
}

/// Reads a radiograph as the 8-bit grey image a network sees, with its DICOM attributes:
/// a DICOM file (by extension `.dcm` / `.dicom`, or by its `DICM` preamble) through
/// [`DicomImage::display`] with default options (VOI window, MONOCHROME1 inverted, first
/// frame), a PNG through [`read_png_gray8`]. The file is read once.
///
/// # Errors
/// [`Error::UnsupportedImageFile`] for other files; the DICOM or PNG errors otherwise.
pub fn read_radiograph(path: impl AsRef<Path>) -> Result<Radiograph> {
    let path = path.as_ref();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let dicom = |image: DicomImage| -> Result<Radiograph> {
        Ok(Radiograph {
            pixels: image.display(&DisplayOptions::default())?,
            dicom: Some(image.meta().clone()),
        })
    };
    let png = |path: &Path| -> Result<Radiograph> {
        Ok(Radiograph {
            pixels: read_png_gray8(path)?,
            dicom: None,
        })
    };
    match ext.as_deref() {
        Some("png") => png(path),
        Some("dcm" | "dicom") => dicom(DicomImage::open(path)?),
        _ => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            if bytes.get(128..132) == Some(b"DICM".as_slice()) {
                dicom(DicomImage::from_bytes_at(
                    &bytes,
                    path,
                    &Default::default(),
                )?)
            } else if bytes.starts_with(b"\x89PNG") {
                png(path)
            } else {
                Err(Error::UnsupportedImageFile { path: path.into() })
            }
        }
    }
}

/// The grey pixels of [`read_radiograph`].
///
/// # Errors
/// As [`read_radiograph`].
pub fn read_image_gray8(path: impl AsRef<Path>) -> Result<Array2<u8>> {
    read_radiograph(path).map(|r| r.pixels)
}

fn write_png(path: &Path, w: usize, h: usize, depth: png::BitDepth, data: &[u8]) -> Result<()> {
    write_png_color(path, w, h, png::ColorType::Grayscale, depth, data)
}

fn write_png_color(
    path: &Path,
    w: usize,
    h: usize,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
) -> Result<()> {
    let (w32, h32) = match (u32::try_from(w), u32::try_from(h)) {
        (Ok(a), Ok(b)) if a > 0 && b > 0 => (a, b),
        _ => return Err(png_err(path, format!("cannot write a {w}x{h} image"))),
    };
    let mut png_error = None;
    let io = write_atomic(path, |out: &mut dyn Write| {
        let mut enc = png::Encoder::new(out, w32, h32);
        enc.set_color(color);
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
    fn rgb_png_and_any_image_reader() -> TestResult {
        let dir = tempfile::tempdir()?;
        let stack =
            ndarray::Array3::from_shape_fn((3, 2, 4), |(c, y, x)| (c * 100 + y * 10 + x) as u8);
        let p = dir.path().join("rgb.png");
        write_png_rgb8(&p, &stack.view())?;
        // Colour PNGs read back as 0.299 R + 0.587 G + 0.114 B.
        let grey = read_image_gray8(&p)?;
        let want = |y: usize, x: usize| {
            (0.299 * f32::from(stack[[0, y, x]])
                + 0.587 * f32::from(stack[[1, y, x]])
                + 0.114 * f32::from(stack[[2, y, x]]))
            .round() as u8
        };
        assert_eq!(grey, Array2::from_shape_fn((2, 4), |(y, x)| want(y, x)));
        let two = ndarray::Array3::<u8>::zeros((2, 2, 2));
        assert!(matches!(
            write_png_rgb8(dir.path().join("x.png"), &two.view()),
            Err(Error::InvalidArgument { .. })
        ));
        // A PNG under another extension is sniffed; other files are refused by name.
        std::fs::copy(&p, dir.path().join("rgb.img"))?;
        assert_eq!(read_image_gray8(dir.path().join("rgb.img"))?, grey);
        std::fs::write(dir.path().join("notes.txt"), b"hello")?;
        match read_image_gray8(dir.path().join("notes.txt")) {
            Err(Error::UnsupportedImageFile { path }) => assert!(path.ends_with("notes.txt")),
            other => panic!("{other:?}"),
        }
        Ok(())
    }

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
