//! DICOM images: open a file, decode its pixels, read its metadata, make a display image.
//!
//! Built on dicom-rs. Every transfer syntax its registry can decode is supported: the
//! uncompressed ones (implicit/explicit VR, little/big endian, deflated), RLE Lossless,
//! JPEG baseline/extended/lossless and, with the default `jpeg2000` feature, JPEG 2000.
//! Two gaps, both typed errors: JPEG-LS needs CharLS, a C++ library, and is not built in
//! ([`Error::UnsupportedTransferSyntax`]); 12-bit JPEG Extended (process 4) is not supported
//! by dicom-rs's JPEG decoder ([`Error::PixelDecode`]).
//!
//! ```no_run
//! # fn main() -> Result<(), ptx_io::Error> {
//! use ptx_io::dicom::{DicomImage, DisplayOptions};
//! let image = DicomImage::open("dicom-images-train/1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319.dcm")?;
//! assert_eq!((image.meta().rows, image.meta().columns), (1024, 1024));
//! let stored = image.pixels().frame_u8(0).expect("8-bit grey"); // (rows, columns) view
//! let display = image.display(&DisplayOptions::default())?;   // Array2<u8>, MONOCHROME1 inverted
//! assert_eq!(stored.dim(), display.dim());
//! # Ok(()) }
//! ```

mod lut;
mod meta;
mod pixels;

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use dicom_core::header::HasLength;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::PixelDecoder;
use ndarray::Array2;

pub use lut::{LutTable, ModalityLut, Voi, VoiFunction, Window};
pub use meta::{DicomMeta, Identifying, Sex, SpacingSource};
pub use pixels::StoredPixels;

use crate::{Error, Result};

/// How to read a file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Also read patient name, ID and birth date into [`DicomMeta::identifying`]
    /// (default `false`: identifying fields stay out of memory and of every output).
    pub identifying: bool,
    /// Read metadata only and leave the pixels undecoded ([`DicomImage::pixels`] is then an
    /// empty array); for `ptx info` over large folders.
    pub metadata_only: bool,
    /// Refuse to decode pixel data larger than this many bytes once decoded (default 2 GiB),
    /// so that a small file whose header declares a huge image cannot exhaust memory.
    pub max_decoded_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            identifying: false,
            metadata_only: false,
            max_decoded_bytes: 2 << 30,
        }
    }
}

impl ReadOptions {
    /// Sets [`Self::max_decoded_bytes`].
    pub fn max_decoded_bytes(mut self, bytes: usize) -> Self {
        self.max_decoded_bytes = bytes;
        self
    }

    /// Sets [`Self::identifying`].
    pub fn identifying(mut self, yes: bool) -> Self {
        self.identifying = yes;
        self
    }

    /// Sets [`Self::metadata_only`].
    pub fn metadata_only(mut self, yes: bool) -> Self {
        self.metadata_only = yes;
        self
    }
}

/// Options for [`DicomImage::display`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DisplayOptions {
    /// Which frame (0-based).
    pub frame: usize,
    /// The VOI step.
    pub voi: Voi,
    /// Apply the Modality LUT / rescale before the VOI step (default `true`).
    pub modality: bool,
    /// Invert MONOCHROME1 images so that bright is dense, as MONOCHROME2 (default `true`).
    pub invert_monochrome1: bool,
}

impl Default for DisplayOptions {
    fn default() -> Self {
        Self {
            frame: 0,
            voi: Voi::Auto,
            modality: true,
            invert_monochrome1: true,
        }
    }
}

impl DisplayOptions {
    /// Sets [`Self::frame`].
    pub fn frame(mut self, frame: usize) -> Self {
        self.frame = frame;
        self
    }

    /// Sets [`Self::voi`].
    pub fn voi(mut self, voi: Voi) -> Self {
        self.voi = voi;
        self
    }
}

/// An opened DICOM image: metadata, stored pixel values and the LUTs the file declares.
#[derive(Debug, Clone)]
pub struct DicomImage {
    path: PathBuf,
    meta: DicomMeta,
    pixels: StoredPixels,
    /// Photometric interpretation of the decoded values (colour codecs output RGB).
    photometric: String,
    modality: ModalityLut,
    windows: Vec<Window>,
    voi_tables: Vec<LutTable>,
}

const MEMORY: &str = "<memory>";

impl DicomImage {
    /// Opens and decodes the file at `path` with default [`ReadOptions`].
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::DicomParse`], [`Error::NoPixelData`],
    /// [`Error::UnsupportedTransferSyntax`], [`Error::PixelDecode`],
    /// [`Error::PixelDataLength`], [`Error::UnsupportedPixels`], all carrying the path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, &ReadOptions::default())
    }

    /// Opens the file at `path` with `options`.
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_with(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes_at(&bytes, path, options)
    }

    /// Reads a DICOM file (with or without the 128-byte preamble) from memory.
    ///
    /// # Errors
    /// As [`Self::open`], with the path `<memory>`.
    pub fn from_bytes(bytes: &[u8], options: &ReadOptions) -> Result<Self> {
        Self::from_bytes_at(bytes, Path::new(MEMORY), options)
    }

    pub(crate) fn from_bytes_at(bytes: &[u8], path: &Path, options: &ReadOptions) -> Result<Self> {
        // dicom-rs is not fuzzed for hostile input everywhere; a panic inside it becomes a
        // typed error here rather than taking the caller down.
        let obj = guarded(|| {
            OpenFileOptions::new()
                .read_preamble(dicom_object::file::ReadPreamble::Auto)
                .from_reader(Cursor::new(bytes))
        })
        .map_err(|message| Error::DicomParse {
            path: path.into(),
            message,
        })?;
        Self::from_object(&obj, path, options)
    }

    fn from_object(obj: &DefaultDicomObject, path: &Path, options: &ReadOptions) -> Result<Self> {
        let meta = DicomMeta::from_object(obj, options.identifying);
        let modality = lut::modality_lut(obj, meta.signed);
        let windows = lut::windows(obj);
        let voi_tables = lut::voi_tables(obj);
        let mut photometric = meta.photometric_interpretation.clone();
        let pixels = if options.metadata_only {
            StoredPixels::U8(ndarray::Array4::zeros((0, 0, 0, 0)))
        } else {
            let (pixels, decoded_photometric) =
                decode_pixels(obj, &meta, path, options.max_decoded_bytes)?;
            photometric = decoded_photometric;
            pixels
        };
        Ok(DicomImage {
            path: path.into(),
            meta,
            pixels,
            photometric,
            modality,
            windows,
            voi_tables,
        })
    }

    /// The path it was read from (`<memory>` for [`Self::from_bytes`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metadata.
    pub fn meta(&self) -> &DicomMeta {
        &self.meta
    }

    /// Stored values of every frame, shape `(frames, rows, columns, samples)`.
    pub fn pixels(&self) -> &StoredPixels {
        &self.pixels
    }

    /// Photometric interpretation of [`Self::pixels`]: as in the file, except that colour
    /// images decoded from JPEG/JPEG 2000 are `RGB`.
    pub fn photometric(&self) -> &str {
        &self.photometric
    }

    /// The Modality LUT the file declares (identity when none).
    pub fn modality_lut(&self) -> &ModalityLut {
        &self.modality
    }

    /// The windows the file declares (Window Center/Width pairs).
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// The VOI LUT Sequence tables the file declares.
    pub fn voi_tables(&self) -> &[LutTable] {
        &self.voi_tables
    }

    fn is_colour(&self) -> bool {
        self.pixels.dim().3 > 1
    }

    /// Stored values of `frame` as `f32`, shape `(rows, columns)`; colour images are
    /// converted to luminance `0.299 R + 0.587 G + 0.114 B`.
    ///
    /// # Errors
    /// [`Error::FrameOutOfRange`].
    pub fn frame_f32(&self, frame: usize) -> Result<Array2<f32>> {
        let frames = self.pixels.dim().0;
        let err = || Error::FrameOutOfRange { frame, frames };
        if !self.is_colour() {
            return self.pixels.frame_f32(frame, 0).ok_or_else(err);
        }
        let r = self.pixels.frame_f32(frame, 0).ok_or_else(err)?;
        let g = self.pixels.frame_f32(frame, 1).ok_or_else(err)?;
        let b = self.pixels.frame_f32(frame, 2).ok_or_else(err)?;
        Ok(r * 0.299 + g * 0.587 + b * 0.114)
    }

    /// `frame` after the Modality LUT (rescale slope/intercept or the LUT sequence), in the
    /// modality's units, shape `(rows, columns)`. Colour images are not transformed.
    ///
    /// # Errors
    /// [`Error::FrameOutOfRange`].
    pub fn modality_values(&self, frame: usize) -> Result<Array2<f32>> {
        let v = self.frame_f32(frame)?;
        if self.is_colour() || self.modality.is_identity() {
            return Ok(v);
        }
        Ok(v.mapv(|x| self.modality.apply(x)))
    }

    /// An 8-bit display image of one frame, shape `(rows, columns)`: Modality LUT, then the
    /// VOI step chosen in `options` scaled to 0..=255 (rounded), then MONOCHROME1 inverted.
    ///
    /// # Errors
    /// [`Error::FrameOutOfRange`]; [`Error::InvalidArgument`] for a file window or table
    /// the file does not have.
    pub fn display(&self, options: &DisplayOptions) -> Result<Array2<u8>> {
        let values = if options.modality {
            self.modality_values(options.frame)?
        } else {
            self.frame_f32(options.frame)?
        };
        let unit = self.voi_unit(&values, options)?;
        let invert =
            options.invert_monochrome1 && self.photometric.eq_ignore_ascii_case("MONOCHROME1");
        Ok(values.mapv(|x| {
            let y = unit(x).clamp(0.0, 1.0);
            let y = if invert { 1.0 - y } else { y };
            round_half_away(y * 255.0)
        }))
    }

    /// Returns the VOI step as a function from modality values to `[0, 1]`.
    fn voi_unit<'a>(
        &'a self,
        values: &Array2<f32>,
        options: &DisplayOptions,
    ) -> Result<Box<dyn Fn(f32) -> f32 + 'a>> {
        let missing = |what: &str, n: usize, have: usize| Error::InvalidArgument {
            name: "voi",
            message: format!(
                "{}: {what} {n} requested, the file has {have}",
                self.path.display()
            ),
        };
        let table = |t: &'a LutTable| -> Box<dyn Fn(f32) -> f32 + 'a> {
            Box::new(move |x| t.lookup(x) / t.max_output())
        };
        let min_max = || -> Box<dyn Fn(f32) -> f32 + 'a> {
            let (lo, hi) = values
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            let span = if hi > lo { hi - lo } else { 1.0 };
            Box::new(move |x| (x - lo) / span)
        };
        let identity = || -> Box<dyn Fn(f32) -> f32 + 'a> { Box::new(|x| x / 255.0) };
        let ignore_file_voi = !options.modality || self.is_colour();
        Ok(match &options.voi {
            Voi::Window(w) => {
                let w = *w;
                Box::new(move |x| w.apply(x))
            }
            Voi::FileWindow(n) => {
                let w = *self
                    .windows
                    .get(*n)
                    .ok_or_else(|| missing("window", *n, self.windows.len()))?;
                Box::new(move |x| w.apply(x))
            }
            Voi::FileTable(n) => table(
                self.voi_tables
                    .get(*n)
                    .ok_or_else(|| missing("VOI LUT", *n, self.voi_tables.len()))?,
            ),
            Voi::MinMax => min_max(),
            Voi::Identity => identity(),
            Voi::Auto => {
                if let (Some(w), false) = (self.windows.first().copied(), ignore_file_voi) {
                    Box::new(move |x| w.apply(x))
                } else if let (Some(t), false) = (self.voi_tables.first(), ignore_file_voi) {
                    table(t)
                } else if self.meta.bits_stored <= 8
                    && !self.meta.signed
                    && (self.modality.is_identity() || !options.modality)
                {
                    identity()
                } else {
                    min_max()
                }
            }
        })
    }
}

fn decode_pixels(
    obj: &DefaultDicomObject,
    meta: &DicomMeta,
    path: &Path,
    max_decoded_bytes: usize,
) -> Result<(StoredPixels, String)> {
    let Some(pixel_element) = obj.element_opt(tags::PIXEL_DATA).ok().flatten() else {
        return Err(Error::NoPixelData { path: path.into() });
    };
    let ts_uid = meta.transfer_syntax_uid.clone();
    let unsupported = |name: String| Error::UnsupportedTransferSyntax {
        path: path.into(),
        uid: ts_uid.clone(),
        name,
    };
    match dicom_transfer_syntax_registry_lookup(&ts_uid) {
        None => return Err(unsupported("unknown".into())),
        Some((name, false)) => return Err(unsupported(name)),
        Some(_) => {}
    }
    for (attribute, value) in [("Rows", meta.rows), ("Columns", meta.columns)] {
        if value == 0 {
            return Err(Error::DicomAttribute {
                path: path.into(),
                attribute,
                message: "missing or zero".into(),
            });
        }
    }
    if !matches!(meta.bits_allocated, 1 | 8 | 16 | 32) {
        return Err(Error::UnsupportedPixels {
            path: path.into(),
            message: format!(
                "Bits Allocated {} (1, 8, 16 or 32 supported)",
                meta.bits_allocated
            ),
        });
    }
    if !matches!(meta.samples_per_pixel, 1 | 3) {
        return Err(Error::UnsupportedPixels {
            path: path.into(),
            message: format!(
                "Samples per Pixel {} (1 or 3 supported)",
                meta.samples_per_pixel
            ),
        });
    }
    let layout_of = |planar: bool, expanded_bits: bool| pixels::Layout {
        frames: meta.frames.max(1) as usize,
        rows: meta.rows as usize,
        cols: meta.columns as usize,
        samples: usize::from(meta.samples_per_pixel),
        bits_allocated: meta.bits_allocated,
        bits_stored: meta.bits_stored,
        signed: meta.signed,
        planar,
        expanded_bits,
    };
    let declared = (meta.frames.max(1) as u128)
        * u128::from(meta.rows)
        * u128::from(meta.columns)
        * u128::from(meta.samples_per_pixel)
        * u128::from(meta.bits_allocated.div_ceil(8).max(1));
    if declared > max_decoded_bytes as u128 {
        return Err(Error::UnsupportedPixels {
            path: path.into(),
            message: format!(
                "{} frame(s) of {} x {} x {} would decode to {declared} bytes, above the limit of {max_decoded_bytes} (ReadOptions::max_decoded_bytes)",
                meta.frames, meta.columns, meta.rows, meta.samples_per_pixel
            ),
        });
    }
    // Check native pixel data length before dicom-rs slices it.
    let encapsulated = matches!(
        pixel_element.value(),
        dicom_core::DicomValue::PixelSequence(_)
    );
    if !encapsulated {
        let found = pixel_element.length().get().map_or(0, |n| n as usize);
        let expected = layout_of(false, false).bytes_needed();
        if found < expected {
            return Err(Error::PixelDataLength {
                path: path.into(),
                expected,
                found,
            });
        }
    }
    let decoded = guarded(|| obj.decode_pixel_data()).map_err(|message| Error::PixelDecode {
        path: path.into(),
        message,
    })?;
    let planar = !encapsulated
        && matches!(
            decoded.planar_configuration(),
            dicom_pixeldata::PlanarConfiguration::PixelFirst
        );
    let layout = layout_of(planar, meta.bits_allocated == 1 && !encapsulated);
    let data = decoded.data();
    let expected = layout.bytes_needed();
    if data.len() < expected {
        return Err(Error::PixelDataLength {
            path: path.into(),
            expected,
            found: data.len(),
        });
    }
    let stored =
        pixels::from_native(data, &layout).map_err(|message| Error::UnsupportedPixels {
            path: path.into(),
            message,
        })?;
    Ok((
        stored,
        decoded.photometric_interpretation().as_str().to_owned(),
    ))
}

/// Name of a transfer syntax and whether this build can decode its pixel data.
fn dicom_transfer_syntax_registry_lookup(uid: &str) -> Option<(String, bool)> {
    use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
    let ts = dicom_transfer_syntax_registry::TransferSyntaxRegistry.get(uid)?;
    Some((ts.name().to_owned(), ts.can_decode_all()))
}

/// Runs a dicom-rs call so that neither its error nor a panic inside it escapes: both come
/// back as a message for a typed [`Error`].
fn guarded<T, E: std::fmt::Display>(
    call: impl FnOnce() -> std::result::Result<T, E>,
) -> std::result::Result<T, String> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("dicom-rs panicked on this input".to_owned()),
    }
}

/// `v.round() as u8` for `v` in `[0, 255]` (halves away from zero) without the `roundf` call
/// that `f32::round` compiles to on the x86-64 baseline.
#[inline]
fn round_half_away(v: f32) -> u8 {
    let whole = v as u32; // truncation: v >= 0
    (whole + u32::from(v - whole as f32 >= 0.5)) as u8
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_half_away_equals_f32_round() {
        let mut v = 0.0f32;
        while v <= 255.0 {
            for w in [
                v,
                f32::from_bits(v.to_bits() + 1),
                v + 0.5,
                f32::from_bits((v + 0.5).to_bits() - 1),
            ] {
                if w <= 255.0 {
                    assert_eq!(super::round_half_away(w), w.round() as u8, "{w}");
                }
            }
            v += 0.125;
        }
    }
}
