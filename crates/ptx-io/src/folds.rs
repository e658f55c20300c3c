//! Stratified, seeded splits: k folds, a held-out test part, balanced subsets; written to and
//! read from CSV (`ImageId,label,fold`, the fold a number or `test`).

use std::io::Write;
use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic;
use crate::{Error, Result};

/// One image's place in a split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldRow {
    /// ImageId.
    #[serde(rename = "ImageId")]
    pub image_id: String,
    /// Whether the image is positive.
    #[serde(with = "label01")]
    pub label: bool,
    /// Its fold, or the held-out test part.
    pub fold: Split,
}

/// Where an image goes: one of the folds that train and validate, or the test part held out
/// of every fold (written `test` in a folds CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Split {
    /// Fold `0..k`.
    Fold(usize),
    /// Held out: never trained or validated on, predicted once at the end.
    Test,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Split::Fold(k) => write!(f, "{k}"),
            Split::Test => f.write_str("test"),
        }
    }
}

/// A fold column value that is neither a number nor `test`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fold {0:?} (expected a number or `test`)")]
pub struct BadSplit(pub String);

impl TryFrom<String> for Split {
    type Error = BadSplit;
    fn try_from(s: String) -> std::result::Result<Self, BadSplit> {
        match s.trim() {
            "test" => Ok(Split::Test),
            n => n
                .parse()
                .map(Split::Fold)
                .map_err(|_| BadSplit(n.to_owned())),
        }
    }
}

impl From<Split> for String {
    fn from(s: Split) -> String {
        s.to_string()
    }
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

/// Every positive of `labels` and `negatives_per_positive` times as many negatives drawn
/// under `seed` (all negatives when there are fewer): the indices kept, in increasing order.
/// Viel & Orhan's and Dašić et al.'s balanced sets (2,669 + 2,669 SIIM images).
///
/// # Errors
/// [`Error::InvalidArgument`] for a ratio that is not a finite number > 0.
pub fn balanced_subset(
    labels: &[bool],
    negatives_per_positive: f64,
    seed: u64,
) -> Result<Vec<usize>> {
    if !(negatives_per_positive.is_finite() && negatives_per_positive > 0.0) {
        return Err(Error::InvalidArgument {
            name: "negatives_per_positive",
            message: format!("{negatives_per_positive} (expected a number > 0)"),
        });
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let mut negatives: Vec<usize> = (0..labels.len()).filter(|&i| !labels[i]).collect();
    let wanted =
        ((positives as f64 * negatives_per_positive).round() as usize).min(negatives.len());
    negatives.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    negatives.truncate(wanted);
    let mut kept: Vec<usize> = (0..labels.len()).filter(|&i| labels[i]).collect();
    kept.extend(negatives);
    kept.sort_unstable();
    Ok(kept)
}

/// Marks `count` of `labels` as held out, stratified (the positives' share of the held-out
/// part is the whole's, to within one image) and drawn under `seed`: `true` = held out.
///
/// # Errors
/// [`Error::InvalidArgument`] when `count` leaves nothing to train on.
pub fn stratified_holdout(labels: &[bool], count: usize, seed: u64) -> Result<Vec<bool>> {
    if count >= labels.len() {
        return Err(Error::InvalidArgument {
            name: "count",
            message: format!("{count} held out of {} samples leaves none", labels.len()),
        });
    }
    let positives: Vec<usize> = (0..labels.len()).filter(|&i| labels[i]).collect();
    let negatives: Vec<usize> = (0..labels.len()).filter(|&i| !labels[i]).collect();
    let held_positives = ((count as f64 * positives.len() as f64 / labels.len() as f64).round()
        as usize)
        .min(positives.len())
        .min(count);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut held = vec![false; labels.len()];
    for (class, take) in [
        (positives, held_positives),
        (negatives, count - held_positives),
    ] {
        let mut class = class;
        class.shuffle(&mut rng);
        for &i in class.iter().take(take) {
            held[i] = true;
        }
    }
    Ok(held)
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

    proptest! {
        #[test]
        fn holdout_is_stratified_and_subsets_balanced(labels in proptest::collection::vec(any::<bool>(), 2..300), frac in 0.0f64..0.9, seed in any::<u64>()) {
            let count = ((labels.len() as f64 * frac) as usize).min(labels.len() - 1);
            let held = stratified_holdout(&labels, count, seed).unwrap();
            prop_assert_eq!(&held, &stratified_holdout(&labels, count, seed).unwrap());
            prop_assert_eq!(held.iter().filter(|&&h| h).count(), count);
            let positives = labels.iter().filter(|&&l| l).count();
            let held_positives = (0..labels.len()).filter(|&i| held[i] && labels[i]).count();
            let expected = count as f64 * positives as f64 / labels.len() as f64;
            prop_assert!((held_positives as f64 - expected).abs() <= 1.0, "{} vs {}", held_positives, expected);
            let kept = balanced_subset(&labels, 1.0, seed).unwrap();
            let kept_negatives = kept.iter().filter(|&&i| !labels[i]).count();
            prop_assert_eq!(kept.len() - kept_negatives, positives);
            prop_assert_eq!(kept_negatives, positives.min(labels.len() - positives));
            prop_assert!(kept.windows(2).all(|w| w[0] < w[1]));
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
                fold: Split::Fold(1),
            },
            FoldRow {
                image_id: "b".into(),
                label: false,
                fold: Split::Fold(0),
            },
            FoldRow {
                image_id: "c".into(),
                label: true,
                fold: Split::Test,
            },
        ];
        write_folds_csv(&p, &rows).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "ImageId,label,fold\na,1,1\nb,0,0\nc,1,test\n"
        );
        assert_eq!(read_folds_csv(&p).unwrap(), rows);
        std::fs::write(&p, "ImageId,label,fold\na,1,tst\n").unwrap();
        assert!(read_folds_csv(&p).is_err());
        std::fs::write(&p, "ImageId,label,fold\na,2,0\n").unwrap();
        assert!(matches!(
            read_folds_csv(&p),
            Err(Error::Csv { line: 2, .. })
        ));
    }
}
