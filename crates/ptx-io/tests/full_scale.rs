//! The challenge's full `train-rle.csv` (12,954 rows, 12,047 images, 2,669 positive): every
//! row decodes and re-encodes to itself, the rows of an image unite the same way as masks and
//! as runs, and the stratified folds of the 12,047 labels are balanced. No pixels of images.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_io::annotations::{Annotations, Submission};
use ptx_io::folds::{stratified_holdout, stratified_k_fold};
use ptx_io::rle::{self, RleForm};

fn full() -> Option<Annotations> {
    let csv = ptx_testdata::shared("siim/csv/train-rle.full.torchxrayvision.csv")?;
    Some(Annotations::read(csv).unwrap())
}

const SIZE: (usize, usize) = (1024, 1024);

#[test]
fn every_row_round_trips_and_images_unite_as_masks_and_as_runs() {
    let Some(ann) = full() else { return };
    assert_eq!((ann.len(), ann.row_count()), (12_047, 12_954));
    let (mut rows, mut positives, mut several) = (0, 0, 0);
    let mut buf = vec![0u8; SIZE.0 * SIZE.1];
    let mut submission = Submission::new(RleForm::Relative);
    for id in ann.image_ids() {
        let image_rows = ann.rows(id).unwrap();
        for row in image_rows {
            rows += 1;
            if rle::is_empty_rle(row) {
                continue;
            }
            let mask = rle::decode(row, SIZE, RleForm::Relative).unwrap();
            let tokens: Vec<&str> = row.split_whitespace().collect();
            let again = rle::encode(&mask.view(), RleForm::Relative);
            assert_eq!(again.split(' ').collect::<Vec<_>>(), tokens, "{id}");
            // the absolute form decodes to the same mask
            let absolute = rle::encode(&mask.view(), RleForm::Absolute);
            assert_eq!(
                rle::decode(&absolute, SIZE, RleForm::Absolute).unwrap(),
                mask
            );
        }
        let mask = ann.mask(id, SIZE, RleForm::Relative).unwrap().unwrap();
        let runs = ann
            .runs(id, SIZE.0 * SIZE.1, RleForm::Relative)
            .unwrap()
            .unwrap();
        buf.fill(0);
        let covered: usize = runs.iter().map(|r| r.1).sum();
        for &(start, len) in &runs {
            buf[start..start + len].fill(1);
        }
        assert_eq!(
            covered,
            mask.iter().filter(|&&v| v != 0).count(),
            "{id}: runs are disjoint and cover the mask"
        );
        assert_eq!(
            rle::runs(&mask.view()),
            rle::union_runs(runs.clone()),
            "{id}"
        );
        if covered > 0 {
            positives += 1;
            several += usize::from(image_rows.len() > 1);
        }
        submission.push_mask(id, &mask.view());
    }
    assert_eq!((rows, positives, several), (12_954, 2_669, 624));
    // the united masks written as a submission read back to the same masks
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("united.csv");
    submission.write(&path).unwrap();
    let back = Annotations::read(&path).unwrap();
    assert_eq!((back.len(), back.row_count()), (12_047, 12_047));
    for id in ann.image_ids().step_by(7) {
        assert_eq!(
            back.runs(id, SIZE.0 * SIZE.1, RleForm::Relative).unwrap(),
            ann.runs(id, SIZE.0 * SIZE.1, RleForm::Relative).unwrap(),
            "{id}"
        );
    }
}

#[test]
fn stratified_folds_of_the_12047_labels() {
    let Some(ann) = full() else { return };
    let labels: Vec<bool> = ann
        .image_ids()
        .map(|id| ann.label(id, RleForm::Relative).unwrap().unwrap())
        .collect();
    let folds = stratified_k_fold(&labels, 5, 7).unwrap();
    for k in 0..5 {
        let members: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] == k).collect();
        let pos = members.iter().filter(|&&i| labels[i]).count();
        assert!(
            (2_409..=2_410).contains(&members.len()),
            "fold {k}: {}",
            members.len()
        );
        assert!((533..=534).contains(&pos), "fold {k}: {pos} positives");
    }
    // a hold-out of 1,159 (Harmalkar et al.'s test set) keeps the positive share
    let held = stratified_holdout(&labels, 1_159, 7).unwrap();
    let pos = (0..labels.len()).filter(|&i| held[i] && labels[i]).count();
    assert_eq!(held.iter().filter(|&&h| h).count(), 1_159);
    assert!((256..=257).contains(&pos), "{pos}");
    // the same seed, the same folds; another seed, others
    assert_eq!(stratified_k_fold(&labels, 5, 7).unwrap(), folds);
    assert_ne!(stratified_k_fold(&labels, 5, 8).unwrap(), folds);
}
