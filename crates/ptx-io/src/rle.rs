//! The SIIM-ACR challenge's run-length encoding of binary masks, both forms, any size.
//!
//! Pixels are numbered **down each column** (column-major): pixel `p` of a `width x height`
//! image is at `row = p % height`, `col = p / height`. An encoded mask is a list of
//! whitespace-separated `start length` pairs; `-1` (or an empty string) is the empty mask.
//!
//! - [`RleForm::Relative`] — the form of the challenge's `train-rle.csv`: the first start is
//!   absolute and 0-based, each later start counts the pixels between the end of the previous
//!   run and the start of this one.
//! - [`RleForm::Absolute`] — the usual Kaggle form: every start is absolute and 1-based.
//!
//! The official sample script's encoder forgets a run that reaches the last pixel; this one
//! does not, and `decode(&encode(&m, f), m.dim(), f) == m` for every mask (a property test).
//! Sizes are `(height, width)` everywhere in ptx, as ndarray's shapes.
//!
//! ```
//! use ptx_io::rle::{decode, encode, RleForm};
//! // A mask 3 high and 4 wide, relative runs: pixels 1-2, then 4 pixels later pixels 7-8.
//! let mask = decode("1 2 4 2", (3, 4), RleForm::Relative).unwrap();
//! assert_eq!(mask.dim(), (3, 4)); // (height, width)
//! assert_eq!(mask[[1, 0]], 1);    // pixel 1 = row 1 of column 0
//! assert_eq!(mask[[1, 2]], 1);    // pixel 7 = row 1 of column 2
//! assert_eq!(encode(&mask.view(), RleForm::Relative), "1 2 4 2");
//! assert_eq!(encode(&mask.view(), RleForm::Absolute), "2 2 8 2");
//! ```

use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2, ShapeBuilder};

/// A binary mask: shape `(height, width)`, values 0 or 1 (encoders treat any non-zero as set).
///
/// Masks made by [`decode`] are stored column-major (Fortran order) because that is the
/// order of the runs; index them as usual (`mask[[row, col]]`), and call
/// `as_standard_layout()` where a row-major slice is needed.
pub type Mask = Array2<u8>;

/// Which of the two run-length forms a string uses.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RleForm {
    /// First start absolute and 0-based; each later start relative to the previous run's end
    /// (`train-rle.csv` of the challenge).
    #[default]
    Relative,
    /// Every start absolute and 1-based (the usual Kaggle submission form).
    Absolute,
}

impl fmt::Display for RleForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RleForm::Relative => "relative",
            RleForm::Absolute => "absolute",
        })
    }
}

impl FromStr for RleForm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "relative" => Ok(RleForm::Relative),
            "absolute" => Ok(RleForm::Absolute),
            other => Err(format!(
                "unknown RLE form {other:?} (expected relative or absolute)"
            )),
        }
    }
}

/// What is wrong with a run-length string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RleErrorKind {
    /// The numbers do not pair up into `start length`.
    OddCount,
    /// A token is not a non-negative decimal integer (or does not fit in 64 bits).
    NotANumber,
    /// A token is a negative number (only the lone `-1` means empty).
    Negative,
    /// An absolute start of 0 (absolute starts are 1-based).
    ZeroStart,
    /// A run ends past the last pixel of the image.
    PastEnd {
        /// One past the run's last pixel (0-based).
        end: u64,
        /// Pixels in the image (`height * width`).
        pixels: u64,
    },
    /// The image size has more pixels than memory can address (`height * width`
    /// overflows).
    TooLarge {
        /// Height in pixels.
        height: u64,
        /// Width in pixels.
        width: u64,
    },
    /// An absolute run starts before the end of the previous one.
    OutOfOrder {
        /// The run's 0-based start.
        start: u64,
        /// The previous run's end (exclusive).
        previous_end: u64,
    },
}

/// A malformed run-length string: what is wrong and which token shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at token {index} ({token:?})")]
pub struct RleError {
    /// What is wrong.
    pub kind: RleErrorKind,
    /// The offending token as written (the last token for [`RleErrorKind::OddCount`]).
    pub token: String,
    /// 0-based position of the token among the whitespace-separated tokens.
    pub index: usize,
}

impl fmt::Display for RleErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RleErrorKind::OddCount => {
                f.write_str("odd number of values (a start without a length)")
            }
            RleErrorKind::NotANumber => f.write_str("not a non-negative integer"),
            RleErrorKind::Negative => f.write_str("negative number"),
            RleErrorKind::ZeroStart => {
                f.write_str("absolute start 0 (absolute starts are 1-based)")
            }
            RleErrorKind::PastEnd { end, pixels } => {
                write!(
                    f,
                    "run ends at pixel {end}, past the image's {pixels} pixels"
                )
            }
            RleErrorKind::TooLarge { height, width } => {
                write!(f, "an image of {height} x {width} pixels is too large")
            }
            RleErrorKind::OutOfOrder {
                start,
                previous_end,
            } => write!(
                f,
                "run starts at pixel {start}, before the previous run's end {previous_end}"
            ),
        }
    }
}

/// True for the strings that mean "no mask": `-1` or nothing (surrounding spaces ignored).
pub fn is_empty_rle(encoded: &str) -> bool {
    let t = encoded.trim();
    t.is_empty() || t == "-1"
}

/// Decodes `encoded` into a `(height, width)` mask of 0/1 (column-major storage, see [`Mask`]).
///
/// `-1` or an empty string gives an empty mask. Runs may touch or, in the relative form,
/// follow each other with a gap of 0; absolute runs must be in increasing order.
///
/// # Errors
/// [`RleError`] naming the first bad token: odd count, a non-number, a negative number, a
/// run past the image, an absolute start of 0 or out of order; [`RleErrorKind::TooLarge`]
/// when `height * width` overflows.
pub fn decode(
    encoded: &str,
    (height, width): (usize, usize),
    form: RleForm,
) -> Result<Mask, RleError> {
    let mut buf = vec![0u8; image_pixels((height, width))?];
    decode_into(encoded, &mut buf, form)?;
    column_major((height, width), buf)
}

/// `height * width`, the pixels of an image of that size.
///
/// # Errors
/// [`RleErrorKind::TooLarge`] when the product overflows.
pub fn image_pixels((height, width): (usize, usize)) -> Result<usize, RleError> {
    height
        .checked_mul(width)
        .ok_or_else(|| too_large((height, width)))
}

fn too_large((height, width): (usize, usize)) -> RleError {
    RleError {
        kind: RleErrorKind::TooLarge {
            height: height as u64,
            width: width as u64,
        },
        token: String::new(),
        index: 0,
    }
}

/// A column-major (Fortran order, the order of the runs) mask of `(height, width)` over
/// `buf`, which holds `height * width` pixels: element `(r, c)` sits at `c * height + r`.
pub(crate) fn column_major(
    (height, width): (usize, usize),
    buf: Vec<u8>,
) -> Result<Mask, RleError> {
    Array2::from_shape_vec((height, width).f(), buf).map_err(|_| too_large((height, width)))
}

/// Decodes `encoded` into `pixels`, a column-major buffer of `height * width` bytes that must
/// be zero-filled by the caller (runs are OR-ed in, which is how several rows of one image are
/// united). Returns the number of pixels the runs cover.
///
/// # Errors
/// As [`decode`].
pub fn decode_into(encoded: &str, pixels: &mut [u8], form: RleForm) -> Result<u64, RleError> {
    let mut covered = 0;
    for run in runs_within(encoded, pixels.len(), form) {
        let (start, len) = run?;
        pixels[start..start + len].fill(1);
        covered += len as u64;
    }
    Ok(covered)
}

/// Decodes `encoded` into its runs, `(start, length)` pairs with 0-based absolute column-major
/// starts, without making a mask: the cheap form for comparing masks (see `ptx-metrics`).
/// Zero-length runs are dropped; the runs come in the string's order, which for both forms is
/// increasing, and may touch (a relative gap of 0). `pixels` is `height * width`.
///
/// ```
/// use ptx_io::rle::{decode_runs, RleForm};
/// assert_eq!(decode_runs("1 2 4 2", 12, RleForm::Relative).unwrap(), vec![(1, 2), (7, 2)]);
/// assert_eq!(decode_runs("2 2 8 2", 12, RleForm::Absolute).unwrap(), vec![(1, 2), (7, 2)]);
/// ```
///
/// # Errors
/// As [`decode`].
pub fn decode_runs(
    encoded: &str,
    pixels: usize,
    form: RleForm,
) -> Result<Vec<(usize, usize)>, RleError> {
    let mut out = Vec::new();
    for run in runs_within(encoded, pixels, form) {
        let run = run?;
        if run.1 > 0 {
            out.push(run);
        }
    }
    Ok(out)
}

/// The union of runs in any order, possibly overlapping or touching, as sorted, disjoint,
/// non-touching `(start, length)` runs: the runs of the OR of the masks they came from.
///
/// ```
/// use ptx_io::rle::union_runs;
/// assert_eq!(union_runs(vec![(5, 2), (0, 3), (2, 2), (7, 1)]), vec![(0, 4), (5, 3)]);
/// ```
pub fn union_runs(mut runs: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    runs.retain(|r| r.1 > 0);
    runs.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(runs.len());
    for (start, len) in runs {
        match out.last_mut() {
            Some(last) if start <= last.0 + last.1 => {
                last.1 = last.1.max(start + len - last.0);
            }
            _ => out.push((start, len)),
        }
    }
    out
}

/// Number of pixels the runs of `encoded` cover, checking syntax and (absolute form) order
/// but not an image size; 0 for `-1`.
///
/// # Errors
/// As [`decode`], except [`RleErrorKind::PastEnd`].
pub fn pixel_count(encoded: &str, form: RleForm) -> Result<u64, RleError> {
    RunParser::new(encoded, form).try_fold(0u64, |n, run| Ok(n.saturating_add(run?.len)))
}

/// The runs of `encoded` as `(start, length)`, each checked to end within `pixels`.
fn runs_within(
    encoded: &str,
    pixels: usize,
    form: RleForm,
) -> impl Iterator<Item = Result<(usize, usize), RleError>> + '_ {
    let total = pixels as u64;
    RunParser::new(encoded, form).map(move |run| {
        let run = run?;
        let end = run.start.saturating_add(run.len);
        if end > total {
            return Err(RleError {
                kind: RleErrorKind::PastEnd { end, pixels: total },
                token: run.len_token.into(),
                index: run.len_index,
            });
        }
        Ok((run.start as usize, run.len as usize))
    })
}

/// One parsed run: 0-based absolute start, length, and the length token for errors.
struct ParsedRun<'a> {
    start: u64,
    len: u64,
    len_token: &'a str,
    len_index: usize,
}

/// Parses `start length` pairs into absolute runs, checking syntax and order.
struct RunParser<'a> {
    tokens: std::iter::Enumerate<std::str::SplitAsciiWhitespace<'a>>,
    form: RleForm,
    previous_end: u64,
    failed: bool,
}

impl<'a> RunParser<'a> {
    fn new(encoded: &'a str, form: RleForm) -> Self {
        let source = if is_empty_rle(encoded) { "" } else { encoded };
        RunParser {
            tokens: source.split_ascii_whitespace().enumerate(),
            form,
            previous_end: 0,
            failed: false,
        }
    }

    fn next_run(&mut self, i: usize, start_tok: &'a str) -> Result<ParsedRun<'a>, RleError> {
        let Some((j, len_tok)) = self.tokens.next() else {
            return Err(RleError {
                kind: RleErrorKind::OddCount,
                token: start_tok.into(),
                index: i,
            });
        };
        let a = parse_number(start_tok, i)?;
        let len = parse_number(len_tok, j)?;
        let start = match self.form {
            RleForm::Relative => self.previous_end.saturating_add(a),
            RleForm::Absolute => {
                if a == 0 {
                    return Err(RleError {
                        kind: RleErrorKind::ZeroStart,
                        token: start_tok.into(),
                        index: i,
                    });
                }
                if a - 1 < self.previous_end {
                    let kind = RleErrorKind::OutOfOrder {
                        start: a - 1,
                        previous_end: self.previous_end,
                    };
                    return Err(RleError {
                        kind,
                        token: start_tok.into(),
                        index: i,
                    });
                }
                a - 1
            }
        };
        self.previous_end = start.saturating_add(len);
        Ok(ParsedRun {
            start,
            len,
            len_token: len_tok,
            len_index: j,
        })
    }
}

impl<'a> Iterator for RunParser<'a> {
    type Item = Result<ParsedRun<'a>, RleError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let (i, start_tok) = self.tokens.next()?;
        let run = self.next_run(i, start_tok);
        self.failed = run.is_err();
        Some(run)
    }
}

fn parse_number(token: &str, index: usize) -> Result<u64, RleError> {
    let bytes = token.as_bytes();
    let err = |kind| {
        Err(RleError {
            kind,
            token: token.into(),
            index,
        })
    };
    if bytes.first() == Some(&b'-') && bytes.len() > 1 && bytes[1..].iter().all(u8::is_ascii_digit)
    {
        return err(RleErrorKind::Negative);
    }
    let mut value: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return err(RleErrorKind::NotANumber);
        }
        value = match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => v,
            None => return err(RleErrorKind::NotANumber),
        };
    }
    if bytes.is_empty() {
        return err(RleErrorKind::NotANumber);
    }
    Ok(value)
}

/// The runs of a mask in column-major order as `(start, length)` pairs, 0-based absolute
/// starts. Any non-zero value is set. Works on any memory layout; column-major input (what
/// [`decode`] returns) is scanned in place, other layouts are transposed into a buffer first.
pub fn runs(mask: &ArrayView2<'_, u8>) -> Vec<(usize, usize)> {
    let transposed = mask.t();
    if let Some(slice) = transposed.as_slice() {
        return runs_of_slice(slice);
    }
    let column_major: Vec<u8> = transposed.iter().copied().collect();
    runs_of_slice(&column_major)
}

/// Encodes a mask (shape `(height, width)`, any non-zero set) as a run-length string; an
/// empty mask gives `-1`. The last run is kept even when it reaches the last pixel.
pub fn encode(mask: &ArrayView2<'_, u8>, form: RleForm) -> String {
    encode_runs(&runs(mask), form)
}

/// Formats `(start, length)` runs (0-based absolute starts, increasing, not overlapping) in
/// the given form; no runs gives `-1`.
pub fn encode_runs(runs: &[(usize, usize)], form: RleForm) -> String {
    if runs.is_empty() {
        return "-1".to_owned();
    }
    let mut out = String::with_capacity(runs.len() * 12);
    let mut previous_end = 0usize;
    for (k, &(start, len)) in runs.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        let shown = match form {
            RleForm::Relative => start - previous_end,
            RleForm::Absolute => start + 1,
        };
        push_decimal(&mut out, shown);
        out.push(' ');
        push_decimal(&mut out, len);
        previous_end = start + len;
    }
    out
}

fn push_decimal(out: &mut String, mut value: usize) {
    let mut digits = [0u8; 20];
    let mut n = digits.len();
    loop {
        n -= 1;
        digits[n] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &d in &digits[n..] {
        out.push(char::from(d));
    }
}

/// Block size of the scans: the OR / min reductions over 64 bytes vectorise to a few SIMD
/// instructions on every x86-64 and aarch64 target.
const BLOCK: usize = 64;

/// Index of the first non-zero byte at or after `i` (or `slice.len()`).
fn next_set(slice: &[u8], mut i: usize) -> usize {
    while let Some(block) = slice.get(i..i + BLOCK) {
        if block.iter().fold(0u8, |acc, &b| acc | b) != 0 {
            break;
        }
        i += BLOCK;
    }
    while i < slice.len() && slice[i] == 0 {
        i += 1;
    }
    i
}

/// Index of the first zero byte at or after `i` (or `slice.len()`).
fn next_clear(slice: &[u8], mut i: usize) -> usize {
    while let Some(block) = slice.get(i..i + BLOCK) {
        if block.iter().fold(u8::MAX, |acc, &b| acc.min(b)) == 0 {
            break;
        }
        i += BLOCK;
    }
    while i < slice.len() && slice[i] != 0 {
        i += 1;
    }
    i
}

fn runs_of_slice(slice: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = next_set(slice, 0);
    while i < slice.len() {
        let end = next_clear(slice, i);
        runs.push((i, end - i));
        i = next_set(slice, end);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn decode_runs_agrees_with_decode() {
        let encoded = "3 2 0 1 5 4";
        let runs = decode_runs(encoded, 20, RleForm::Relative).unwrap();
        assert_eq!(runs, vec![(3, 2), (5, 1), (11, 4)]);
        let mask = decode(encoded, (4, 5), RleForm::Relative).unwrap();
        assert_eq!(union_runs(runs), super::runs(&mask.view()));
        assert!(decode_runs("18 3", 20, RleForm::Relative).is_err());
        assert!(decode_runs("-1", 20, RleForm::Relative).unwrap().is_empty());
    }

    #[test]
    fn union_of_nested_and_empty_runs() {
        assert_eq!(union_runs(vec![(0, 10), (2, 3), (4, 0)]), vec![(0, 10)]);
        assert_eq!(union_runs(vec![(3, 0)]), vec![]);
        assert_eq!(union_runs(vec![(0, 2), (2, 2)]), vec![(0, 4)]);
    }

    #[test]
    fn empty_forms() {
        for s in ["-1", " -1", "", "  "] {
            let m = decode(s, (4, 5), RleForm::Relative).unwrap();
            assert_eq!(m.dim(), (4, 5));
            assert!(m.iter().all(|&v| v == 0));
        }
        assert_eq!(
            encode(&Array2::<u8>::zeros((3, 3)).view(), RleForm::Relative),
            "-1"
        );
    }

    #[test]
    fn run_reaching_last_pixel_is_kept() {
        let mut m = Array2::<u8>::zeros((2, 3));
        m[[1, 2]] = 1; // pixel 5, the last one
        assert_eq!(encode(&m.view(), RleForm::Absolute), "6 1");
        assert_eq!(encode(&m.view(), RleForm::Relative), "5 1");
        assert_eq!(decode("5 1", (2, 3), RleForm::Relative).unwrap(), m);
    }

    #[test]
    fn full_mask() {
        let m = Array2::<u8>::ones((4, 4));
        assert_eq!(encode(&m.view(), RleForm::Relative), "0 16");
        assert_eq!(encode(&m.view(), RleForm::Absolute), "1 16");
    }

    #[test]
    fn row_major_input_is_read_down_columns() {
        // Standard layout (row-major) array; runs go down the columns.
        let m = ndarray::arr2(&[[1u8, 0, 255], [1, 0, 0]]);
        assert_eq!(encode(&m.view(), RleForm::Absolute), "1 2 5 1");
    }

    #[test]
    fn errors_name_token() {
        let e = decode("1 2 3", (4, 4), RleForm::Relative).unwrap_err();
        assert_eq!(
            (e.kind, e.token.as_str(), e.index),
            (RleErrorKind::OddCount, "3", 2)
        );
        let e = decode("1 x", (4, 4), RleForm::Relative).unwrap_err();
        assert_eq!((e.kind, e.index), (RleErrorKind::NotANumber, 1));
        let e = decode("1 -2", (4, 4), RleForm::Relative).unwrap_err();
        assert_eq!(e.kind, RleErrorKind::Negative);
        let e = decode("10 7", (4, 4), RleForm::Relative).unwrap_err();
        assert_eq!(
            e.kind,
            RleErrorKind::PastEnd {
                end: 17,
                pixels: 16
            }
        );
        let e = decode("5 2 3 1", (4, 4), RleForm::Absolute).unwrap_err();
        assert_eq!(
            e.kind,
            RleErrorKind::OutOfOrder {
                start: 2,
                previous_end: 6
            }
        );
        let e = decode("0 2", (4, 4), RleForm::Absolute).unwrap_err();
        assert_eq!(e.kind, RleErrorKind::ZeroStart);
        let e = decode("99999999999999999999999 1", (4, 4), RleForm::Relative).unwrap_err();
        assert_eq!(e.kind, RleErrorKind::NotANumber);
        let e = decode("18446744073709551615 1", (4, 4), RleForm::Relative).unwrap_err();
        assert!(matches!(e.kind, RleErrorKind::PastEnd { .. }));
    }

    #[test]
    fn form_parses() {
        assert_eq!("Absolute".parse::<RleForm>().unwrap(), RleForm::Absolute);
        assert!("rel".parse::<RleForm>().is_err());
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn mask_strategy() -> impl Strategy<Value = Array2<u8>> {
            (1usize..40, 1usize..40).prop_flat_map(|(h, w)| {
                proptest::collection::vec(
                    prop_oneof![3 => Just(0u8), 1 => Just(1u8), 1 => 1u8..=255],
                    h * w,
                )
                .prop_map(move |v| Array2::from_shape_vec((h, w), v).unwrap())
            })
        }

        /// Naive reference: walk pixels column by column.
        fn naive_runs(m: &Array2<u8>) -> Vec<(usize, usize)> {
            let (h, w) = m.dim();
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for p in 0..h * w {
                if m[[p % h, p / h]] != 0 {
                    match runs.last_mut() {
                        Some((s, l)) if *s + *l == p => *l += 1,
                        _ => runs.push((p, 1)),
                    }
                }
            }
            runs
        }

        proptest! {
            #[test]
            fn roundtrip(m in mask_strategy(), absolute in any::<bool>()) {
                let form = if absolute { RleForm::Absolute } else { RleForm::Relative };
                let (h, w) = m.dim();
                let binary = m.mapv(|v| u8::from(v != 0));
                let s = encode(&m.view(), form);
                prop_assert_eq!(decode(&s, (h, w), form).unwrap(), binary.clone());
                // Column-major input takes the in-place path and must agree.
                let f = decode(&s, (h, w), form).unwrap();
                prop_assert_eq!(encode(&f.view(), form), s);
            }

            #[test]
            fn runs_match_naive(m in mask_strategy()) {
                prop_assert_eq!(runs(&m.view()), naive_runs(&m));
            }

            #[test]
            fn decode_never_panics(s in "[0-9 \\-x]{0,40}", w in 0usize..20, h in 0usize..20, absolute in any::<bool>()) {
                let form = if absolute { RleForm::Absolute } else { RleForm::Relative };
                let _ = decode(&s, (h, w), form);
            }
        }
    }
}
