//! `--size`, the one form every subcommand takes: `N` (a square of N pixels) or
//! `HEIGHTxWIDTH` (height first, as every size in ptx is `(height, width)`).

use std::fmt;
use std::str::FromStr;

/// An image size in pixels, both sides positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl Size {
    /// `(height, width)`.
    pub fn hw(self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// The side of a square size, or an error naming the option for another shape.
    pub fn square(self, option: &str) -> anyhow::Result<usize> {
        anyhow::ensure!(
            self.height == self.width,
            "{option} {self}: a square size is needed here (N or NxN)"
        );
        Ok(self.height)
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.height, self.width)
    }
}

/// A `--size` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("size {text:?}: {problem}")]
pub struct BadSize {
    text: String,
    problem: &'static str,
}

impl FromStr for Size {
    type Err = BadSize;

    fn from_str(s: &str) -> Result<Self, BadSize> {
        let bad = |problem| BadSize {
            text: s.to_owned(),
            problem,
        };
        let side = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| bad("expected N or HEIGHTxWIDTH (e.g. 512 or 1024x768)"))
        };
        let (height, width) = match s.split_once(['x', 'X']) {
            Some((h, w)) => (side(h)?, side(w)?),
            None => {
                let n = side(s)?;
                (n, n)
            }
        };
        if height == 0 || width == 0 {
            return Err(bad("both sides must be positive"));
        }
        Ok(Size { height, width })
    }
}

/// `--size` where `0` keeps each image's own size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize(pub Option<Size>);

impl FromStr for Resize {
    type Err = BadSize;

    fn from_str(s: &str) -> Result<Self, BadSize> {
        if s.trim() == "0" {
            Ok(Resize(None))
        } else {
            s.parse().map(|size| Resize(Some(size)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_form_everywhere() -> Result<(), BadSize> {
        let s: Size = "512".parse()?;
        assert_eq!(s.hw(), (512, 512));
        let s: Size = "1024x768".parse()?;
        assert_eq!((s.height, s.width), (1024, 768));
        assert_eq!(s.to_string(), "1024x768");
        for bad in ["0", "12x0", "x", "", "4 4", "-3", "99999999999999999999999"] {
            assert!(bad.parse::<Size>().is_err(), "{bad}");
        }
        assert_eq!("0".parse::<Resize>(), Ok(Resize(None)));
        assert!(s.square("--size").is_err());
        Ok(())
    }
}
