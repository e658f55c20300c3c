//! The ChestX-ray14 label file as shipped (112,120 images), and the synthetic stand-in in its
//! layout read back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ptx_io::nih::{prevalence, read_entries, write_synthetic, FINDINGS, PREVALENCE};
use ptx_io::synth::SynthOptions;

#[test]
fn the_real_label_file() {
    let Some(csv) = ptx_testdata::shared("nih/Data_Entry_2017_v2020.torchxrayvision.csv") else {
        return;
    };
    let entries = read_entries(&csv).unwrap();
    assert_eq!(entries.len(), 112_120);
    let pneumothorax = entries.iter().filter(|e| e.has("Pneumothorax")).count();
    assert_eq!(pneumothorax, 5_302);
    assert_eq!(
        entries.iter().filter(|e| e.findings.is_empty()).count(),
        60_361
    );
    let patients: std::collections::HashSet<u64> = entries.iter().map(|e| e.patient_id).collect();
    assert_eq!(patients.len(), 30_805);
    assert_eq!(entries[1].image_id(), "00000001_001");
    assert_eq!(entries[1].findings, ["Cardiomegaly", "Emphysema"]);
    for e in &entries {
        for f in &e.findings {
            assert!(FINDINGS.contains(&f.as_str()), "{f}");
        }
    }
    // the shares the synthetic stand-in draws from are this file's
    for ((finding, measured), constant) in FINDINGS.iter().zip(prevalence(&entries)).zip(PREVALENCE)
    {
        assert!(
            (measured - constant).abs() <= 5e-6,
            "{finding}: {measured} vs {constant}"
        );
    }
}

#[test]
fn the_stand_in_follows_the_real_label_frequencies() {
    let tmp = tempfile::tempdir().unwrap();
    let options = SynthOptions {
        count: 1500,
        size: 32,
        seed: 11,
        positive_share: PREVALENCE[7],
        ..SynthOptions::default()
    };
    let summary = write_synthetic(tmp.path(), &options).unwrap();
    let entries = read_entries(&summary.labels).unwrap();
    // each finding within 4 binomial standard deviations of its real share
    for ((finding, got), want) in FINDINGS.iter().zip(prevalence(&entries)).zip(PREVALENCE) {
        let sigma = (want * (1.0 - want) / 1500.0).sqrt();
        assert!(
            (got - want).abs() <= 4.0 * sigma + 1e-3,
            "{finding}: {got:.4} vs {want:.4}"
        );
    }
}

#[test]
fn the_synthetic_stand_in_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let options = SynthOptions {
        count: 12,
        size: 64,
        seed: 3,
        positive_share: 0.5,
        ..SynthOptions::default()
    };
    let summary = write_synthetic(tmp.path(), &options).unwrap();
    let entries = read_entries(&summary.labels).unwrap();
    assert_eq!(entries.len(), 12);
    let labelled = entries.iter().filter(|e| e.has("Pneumothorax")).count();
    assert_eq!(labelled, summary.pneumothorax);
    assert!(labelled > 0 && labelled < 12, "{labelled}");
    // an image with another finding shows it (the generator's radiograph changed); one
    // with none, or with only a pneumothorax (drawn by the generator), is the radiograph
    let mut marked = 0;
    for (index, e) in entries.iter().enumerate() {
        let png = summary.images.join(&e.image);
        let image = ptx_io::image_file::read_image_gray8(&png).unwrap();
        assert_eq!(image.dim(), (64, 64));
        let radiograph = ptx_io::synth::generate(&options, index).image;
        let others = e.findings.iter().any(|f| f != "Pneumothorax");
        assert_eq!(image != radiograph, others, "{}: {:?}", e.image, e.findings);
        marked += usize::from(others);
    }
    assert!(
        marked > 0 && marked < 12,
        "{marked} of 12 with other findings"
    );
    let bad = tmp.path().join("bad.csv");
    std::fs::write(
        &bad,
        "Image Index,Finding Labels,Follow-up #,Patient ID\nx.png,Mass,0,abc\n",
    )
    .unwrap();
    let err = read_entries(&bad).unwrap_err().to_string();
    assert!(
        err.contains("line 2") && err.contains("Patient ID"),
        "{err}"
    );
}
