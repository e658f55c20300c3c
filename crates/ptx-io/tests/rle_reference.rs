//! Every real annotation row against the independent Python reference
//! (`tests/reference/rle_reference.py`, written from the format's definition).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use ptx_testdata as common;

use ptx_io::annotations::Annotations;
use ptx_io::rle::{self, RleForm};

#[test]
fn real_rows_match_reference_and_reencode() {
    let Some(reference) = common::golden("rle_reference.tsv") else {
        return;
    };
    let Some(csv_dir) = common::shared("siim/csv") else {
        return;
    };
    let rows = common::read_tsv(&reference);
    assert!(rows.len() >= 1510, "reference has {} rows", rows.len());
    let mut files = std::collections::HashMap::new();
    let mut positives = 0;
    for row in &rows {
        let id = &row["image_id"];
        let file_rows = files
            .entry(row["file"].clone())
            .or_insert_with(|| rows_of(&csv_dir.join(&row["file"])));
        let (file_id, encoded) = &file_rows[row["row"].parse::<usize>().unwrap()];
        assert_eq!(file_id, id);
        let mask = rle::decode(encoded, (1024, 1024), RleForm::Relative)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let standard = mask.as_standard_layout();
        assert_eq!(
            common::sha256_hex(standard.as_slice().unwrap()),
            row["sha256"],
            "{id}"
        );
        let pixels: u64 = mask.iter().map(|&v| u64::from(v)).sum();
        assert_eq!(pixels.to_string(), row["pixels"], "{id}");
        positives += usize::from(pixels > 0);
        // Re-encoding gives back the row as written, and the reference's absolute form.
        let normalised = if rle::is_empty_rle(encoded) {
            "-1".to_owned()
        } else {
            encoded.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        assert_eq!(
            rle::encode(&mask.view(), RleForm::Relative),
            normalised,
            "{id}"
        );
        assert_eq!(
            rle::encode(&mask.view(), RleForm::Relative),
            row["relative"],
            "{id}"
        );
        assert_eq!(
            rle::encode(&mask.view(), RleForm::Absolute),
            row["absolute"],
            "{id}"
        );
        assert_eq!(
            rle::decode(&row["absolute"], (1024, 1024), RleForm::Absolute).unwrap(),
            mask
        );
    }
    assert!(positives >= 500, "{positives} positive rows");
}

/// The rows of an annotation CSV in file order, as the crate's reader trims them.
fn rows_of(path: &std::path::Path) -> Vec<(String, String)> {
    let ann = Annotations::read(path).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let rows: Vec<(String, String)> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let id = line.split_once(',').unwrap().0.trim().to_owned();
            let k = seen.entry(id.clone()).or_default();
            let encoded = ann.rows(&id).unwrap()[*k].clone();
            *k += 1;
            (id, encoded)
        })
        .collect();
    assert_eq!(rows.len(), ann.row_count());
    rows
}

#[test]
fn annotation_files_parse() {
    let Some(sample) = common::shared("siim/csv/train-rle-sample.JonnoFTW.csv") else {
        return;
    };
    let ann = Annotations::read(&sample).unwrap();
    assert_eq!(ann.len(), 10);
    let Some(subset) =
        common::shared("siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv")
    else {
        return;
    };
    let ann = Annotations::read(&subset).unwrap();
    assert_eq!(ann.row_count(), 1500);
    let positive = ann
        .image_ids()
        .filter(|id| ann.label(id, RleForm::Relative).unwrap() == Some(true))
        .count();
    assert_eq!(positive, 500);
}

#[test]
fn several_rows_per_image_are_united() {
    let Some(subset) =
        common::shared("siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv")
    else {
        return;
    };
    let ann = Annotations::read(&subset).unwrap();
    // Build a file where two real positive rows belong to one image.
    let ids: Vec<&str> = ann
        .image_ids()
        .filter(|id| ann.label(id, RleForm::Relative).unwrap() == Some(true))
        .take(2)
        .collect();
    let (a, b) = (&ann.rows(ids[0]).unwrap()[0], &ann.rows(ids[1]).unwrap()[0]);
    let csv = format!("ImageId, EncodedPixels\r\n  merged, {a}\r\nmerged, {b}");
    let merged = Annotations::from_reader(csv.as_bytes(), "merged.csv").unwrap();
    let union = merged
        .mask("merged", (1024, 1024), RleForm::Relative)
        .unwrap()
        .unwrap();
    let ma = rle::decode(a, (1024, 1024), RleForm::Relative).unwrap();
    let mb = rle::decode(b, (1024, 1024), RleForm::Relative).unwrap();
    assert_eq!(union, (&ma | &mb));
}
