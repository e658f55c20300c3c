//! Stratified, seeded k-fold splits, written to and read from CSV.

use std::io::Write;
use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic;
use crate::{Error, Result};

/// One image's fold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldRow {
    /// ImageId.
    #[serde(rename = "ImageId")]
    pub image_id: String,
    /// Whether the image is positive.
    #[serde(with = "label01")]
    pub label: bool,
    /// Fold number, `0..k`.
    pub fold: usize,
}

mod label01 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(u8::from(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match u8::deserialize(d)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(serde::de::Error::custom(format!(
                "label {other} (expected 0 or 1)"
            ))),
        }
    }
}

/// Assigns each of `labels` to one of `k` folds so that every fold has the same number of
/// positives and of samples, to within one. The assignment depends only on `labels`, `k`
/// and `seed` (ChaCha8), on every platform.
///
/// # Errors
/// [`Error::InvalidArgument`] when `k < 2` or `k > labels.len()`.
pub fn stratified_k_fold(labels: &[bool], k: usize, seed: u64) -> Result<Vec<usize>> {
    if k < 2 || k > labels.len() {
        return Err(Error::InvalidArgument {
            name: "k",
            message: format!(
                "{k} folds for {} samples (need 2 <= k <= samples)",
                labels.len()
            ),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut positives: Vec<usize> = (0..labels.len()).filter(|&i| labels[i]).collect();
    let mut negatives: Vec<usize> = (0..labels.len()).filter(|&i| !labels[i]).collect();
    positives.shuffle(&mut rng);
    negatives.shuffle(&mut rng);
    let mut folds = vec![0; labels.len()];
    // Deal positives then negatives round-robin without restarting the count: per-class
    // counts and totals both stay balanced to within one.
    for (n, &i) in positives.iter().chain(negatives.iter()).enumerate() {
        folds[i] = n % k;
    }
    Ok(folds)
}

/// Writes `ImageId,label,fold` rows atomically.
///
/// # Errors
/// [`Error::Io`].
pub fn write_folds_csv(path: impl AsRef<Path>, rows: &[FoldRow]) -> Result<()> {
    write_atomic(path, |out: &mut dyn Write| {
        out.write_all(b"ImageId,label,fold\n")?;
        for r in rows {
            writeln!(out, "{},{},{}", r.image_id, u8::from(r.label), r.fold)?;
        }
        Ok(())
    })
}

/// Reads a CSV written by [`write_folds_csv`].
///
/// # Errors
/// [`Error::Io`]; [`Error::Csv`] with the line of a bad row.
pub fn read_folds_csv(path: impl AsRef<Path>) -> Result<Vec<FoldRow>> {
    let path = path.as_ref();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::Csv {
            path: path.into(),
            line: 0,
            message: e.to_string(),
        })?;
    reader
        .deserialize()
        .map(|row| {
            row.map_err(|e| Error::Csv {
                path: path.into(),
                line: e.position().map_or(0, |p| p.line()),
                message: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn balanced_and_seeded(labels in proptest::collection::vec(any::<bool>(), 2..300), k in 2usize..8, seed in any::<u64>()) {
            prop_assume!(k <= labels.len());
            let f = stratified_k_fold(&labels, k, seed).unwrap();
            prop_assert_eq!(&f, &stratified_k_fold(&labels, k, seed).unwrap());
            let count = |pred: &dyn Fn(usize) -> bool| (0..k).map(|fold| (0..labels.len()).filter(|&i| f[i] == fold && pred(i)).count()).collect::<Vec<_>>();
            for counts in [count(&|_| true), count(&|i| labels[i]), count(&|i| !labels[i])] {
                let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
                prop_assert!(hi - lo <= 1, "{:?}", counts);
            }
        }
    }

    #[test]
    fn rejects_bad_k() {
        assert!(stratified_k_fold(&[true, false], 1, 0).is_err());
        assert!(stratified_k_fold(&[true, false], 3, 0).is_err());
    }

    #[test]
    fn csv_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("folds.csv");
        let rows = vec![
            FoldRow {
                image_id: "a".into(),
                label: true,
                fold: 1,
            },
            FoldRow {
                image_id: "b".into(),
                label: false,
                fold: 0,
            },
        ];
        write_folds_csv(&p, &rows).unwrap();
        assert_eq!(read_folds_csv(&p).unwrap(), rows);
        std::fs::write(&p, "ImageId,label,fold\na,2,0\n").unwrap();
        assert!(matches!(
            read_folds_csv(&p),
            Err(Error::Csv { line: 2, .. })
        ));
    }
}
