//! Annotation CSVs (`train-rle.csv` and its variants) and submission CSVs.
//!
//! Reading accepts what the challenge's files and their copies look like in the wild: a
//! UTF-8 byte-order mark, the header `ImageId, EncodedPixels` (with the space) or
//! `fname,mask`, CRLF line ends, values with leading spaces, no final newline. Rows are grouped
//! by ImageId in first-seen order; an image with several pneumothoraces has several rows,
//! and its mask is their union.
//!
//! ```
//! use ptx_io::annotations::Annotations;
//! use ptx_io::rle::RleForm;
//! let csv = "\u{feff}ImageId, EncodedPixels\r\na, 0 2\r\na, 3 1\r\nb, -1";
//! let ann = Annotations::from_reader(csv.as_bytes(), "inline.csv").unwrap();
//! assert_eq!(ann.len(), 2);
//! let mask = ann.mask("a", (3, 3), RleForm::Relative).unwrap().unwrap();
//! assert_eq!(mask.iter().map(|&v| v as u32).sum::<u32>(), 3); // 2 + 1 pixels united
//! assert_eq!(ann.label("b", RleForm::Relative).unwrap(), Some(false));
//! ```

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use ndarray::ArrayView2;

use crate::fsutil::write_atomic;
use crate::rle::{self, Mask, RleForm};
use crate::{Error, Result};

const ID_COLUMNS: [&str; 4] = ["imageid", "fname", "image_id", "id"];
const RLE_COLUMNS: [&str; 4] = ["encodedpixels", "mask", "encoded_pixels", "rle"];

/// All annotation rows of a file, grouped by ImageId.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    order: Vec<String>,
    rows: HashMap<String, Vec<String>>,
}

impl Annotations {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads an annotation CSV.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Csv`] with the line for a missing column or a broken row.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_reader(std::io::BufReader::new(file), path)
    }

    /// Reads annotation CSV text; `source` names it in errors.
    ///
    /// # Errors
    /// As [`Self::read`].
    pub fn from_reader(mut reader: impl Read, source: impl AsRef<Path>) -> Result<Self> {
        let source = source.as_ref();
        let mut text = Vec::new();
        reader
            .read_to_end(&mut text)
            .map_err(|e| Error::io(source, e))?;
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text);
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .has_headers(true)
            .from_reader(text);
        let csv_err = |line: u64, message: String| Error::Csv {
            path: source.into(),
            line,
            message,
        };
        let headers = csv
            .headers()
            .map_err(|e| csv_err(1, e.to_string()))?
            .clone();
        let find = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.contains(&h.to_ascii_lowercase().as_str()))
        };
        let (Some(id_col), Some(rle_col)) = (find(&ID_COLUMNS), find(&RLE_COLUMNS)) else {
            return Err(csv_err(
                1,
                format!(
                    "expected an ImageId column and an EncodedPixels column, found header {:?}",
                    headers.iter().collect::<Vec<_>>()
                ),
            ));
        };
        let mut out = Annotations::new();
        for record in csv.records() {
            let record =
                record.map_err(|e| csv_err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue;
            }
            let (Some(id), Some(rle)) = (record.get(id_col), record.get(rle_col)) else {
                return Err(csv_err(
                    line,
                    format!(
                        "expected at least {} fields, found {}",
                        id_col.max(rle_col) + 1,
                        record.len()
                    ),
                ));
            };
            if id.is_empty() {
                return Err(csv_err(line, "empty ImageId".into()));
            }
            out.push(id, rle);
        }
        Ok(out)
    }

    /// Adds one row (`rle` in either form; `-1` or empty for no finding).
    pub fn push(&mut self, image_id: &str, rle: &str) {
        let rle = rle.trim();
        match self.rows.get_mut(image_id) {
            Some(rows) => rows.push(rle.to_owned()),
            None => {
                self.order.push(image_id.to_owned());
                self.rows.insert(image_id.to_owned(), vec![rle.to_owned()]);
            }
        }
    }

    /// Number of distinct images.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Total number of rows.
    pub fn row_count(&self) -> usize {
        self.rows.values().map(Vec::len).sum()
    }

    /// ImageIds in first-seen order.
    pub fn image_ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.order.iter().map(String::as_str)
    }

    /// Whether `image_id` has at least one row.
    pub fn contains(&self, image_id: &str) -> bool {
        self.rows.contains_key(image_id)
    }

    /// The rows of `image_id` as written (trimmed).
    pub fn rows(&self, image_id: &str) -> Option<&[String]> {
        self.rows.get(image_id).map(Vec::as_slice)
    }

    /// The union of all rows of `image_id` as a 0/1 mask of `size` = `(height, width)`
    /// (column-major storage), or `None` when the image has no row.
    ///
    /// # Errors
    /// [`Error::Rle`] naming the ImageId and the bad token.
    pub fn mask(
        &self,
        image_id: &str,
        size: (usize, usize),
        form: RleForm,
    ) -> Result<Option<Mask>> {
        let Some(rows) = self.rows.get(image_id) else {
            return Ok(None);
        };
        let rle_error = |source| Error::Rle {
            image_id: image_id.to_owned(),
            source,
        };
        let mut buf = vec![0u8; rle::image_pixels(size).map_err(rle_error)?];
        for row in rows {
            rle::decode_into(row, &mut buf, form).map_err(rle_error)?;
        }
        rle::column_major(size, buf).map(Some).map_err(rle_error)
    }

    /// The union of all rows of `image_id` as sorted, disjoint (possibly touching) runs,
    /// 0-based absolute column-major `(start, length)` (see [`rle::union_runs`]), or `None` when the image has
    /// no row. `pixels` is `height * width`, used to reject runs past the image. Much cheaper
    /// than [`Annotations::mask`] when masks are only compared.
    ///
    /// # Errors
    /// [`Error::Rle`] naming the ImageId and the bad token.
    pub fn runs(
        &self,
        image_id: &str,
        pixels: usize,
        form: RleForm,
    ) -> Result<Option<Vec<(usize, usize)>>> {
        let Some(rows) = self.rows.get(image_id) else {
            return Ok(None);
        };
        let mut all = Vec::new();
        for row in rows {
            let runs = rle::decode_runs(row, pixels, form).map_err(|source| Error::Rle {
                image_id: image_id.to_owned(),
                source,
            })?;
            all.extend(runs);
        }
        Ok(Some(if rows.len() == 1 {
            all
        } else {
            rle::union_runs(all)
        }))
    }

    /// Whether `image_id` has any pixel set (`None` without rows). Checks the runs' syntax
    /// and order but not the image size (see [`rle::pixel_count`]).
    ///
    /// # Errors
    /// [`Error::Rle`].
    pub fn label(&self, image_id: &str, form: RleForm) -> Result<Option<bool>> {
        let Some(rows) = self.rows.get(image_id) else {
            return Ok(None);
        };
        for row in rows {
            let n = rle::pixel_count(row, form).map_err(|source| Error::Rle {
                image_id: image_id.to_owned(),
                source,
            })?;
            if n > 0 {
                return Ok(Some(true));
            }
        }
        Ok(Some(false))
    }
}

/// A submission or annotation CSV being built: `ImageId,EncodedPixels` rows, one per image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submission {
    form: RleForm,
    rows: Vec<(String, String)>,
}

impl Submission {
    /// An empty submission whose masks will be encoded in `form`.
    pub fn new(form: RleForm) -> Self {
        Self {
            form,
            rows: Vec::new(),
        }
    }

    /// Adds an image's mask (shape `(height, width)`, any non-zero set; empty gives `-1`).
    pub fn push_mask(&mut self, image_id: &str, mask: &ArrayView2<'_, u8>) {
        self.rows
            .push((image_id.to_owned(), rle::encode(mask, self.form)));
    }

    /// Adds an already encoded row.
    pub fn push_rle(&mut self, image_id: &str, rle: &str) {
        self.rows.push((image_id.to_owned(), rle.to_owned()));
    }

    /// The rows so far.
    pub fn rows(&self) -> &[(String, String)] {
        &self.rows
    }

    /// Writes `ImageId,EncodedPixels` and one line per row (LF line ends), atomically.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path, |out: &mut dyn Write| {
            out.write_all(b"ImageId,EncodedPixels\n")?;
            for (id, rle) in &self.rows {
                writeln!(out, "{id},{rle}")?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;
    use super::*;

    #[test]
    fn sample_style_header_and_no_newline() -> TestResult {
        let csv = "\u{feff}fname,mask\nx.dcm, 1 2\ny, -1";
        let a = Annotations::from_reader(csv.as_bytes(), "t")?;
        assert_eq!(a.image_ids().collect::<Vec<_>>(), vec!["x.dcm", "y"]);
        assert_eq!(a.rows("x.dcm").ok_or("no rows")?, ["1 2"]);
        Ok(())
    }

    #[test]
    fn bad_header_names_line() -> TestResult {
        let e = Annotations::from_reader("a,b\n1,2\n".as_bytes(), "t.csv").unwrap_err();
        assert!(matches!(e, Error::Csv { line: 1, .. }), "{e}");
        Ok(())
    }

    #[test]
    fn bad_rle_names_image() -> TestResult {
        let a = Annotations::from_reader("ImageId,EncodedPixels\nimg7,1 x\n".as_bytes(), "t")?;
        let e = a.mask("img7", (4, 4), RleForm::Relative).unwrap_err();
        assert!(
            e.to_string().contains("img7") && e.to_string().contains("\"x\""),
            "{e}"
        );
        Ok(())
    }

    #[test]
    fn submission_roundtrip() -> TestResult {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("sub.csv");
        let mut s = Submission::new(RleForm::Absolute);
        let m = ndarray::arr2(&[[0u8, 1], [0, 1]]);
        s.push_mask("a", &m.view());
        s.push_mask("b", &ndarray::Array2::<u8>::zeros((2, 2)).view());
        s.write(&p)?;
        assert_eq!(
            std::fs::read_to_string(&p)?,
            "ImageId,EncodedPixels\na,3 2\nb,-1\n"
        );
        let back = Annotations::read(&p)?;
        assert_eq!(
            back.mask("a", (2, 2), RleForm::Absolute)?
                .ok_or("no mask")?,
            m
        );
        Ok(())
    }
}
