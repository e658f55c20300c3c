//! Every example's every configuration, built and trained once (one epoch, a dozen synthetic
//! images, 32 px; 96 px for the backbones, InceptionV3's smallest) and scored: the table has
//! the paper's rows, each cell a number in range, and the results files are written. Also the
//! `--data` path with weight files in torchvision / CheXNet / timm format, bad inputs, the
//! two-seed run and the scale, seed and row defaults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::Parser;
use ptx_examples::args::CommonArgs;
use ptx_examples::augmented::SplitMode;
use ptx_examples::papers::{dasic, haghanifar, harmalkar, shannak, viel};
use ptx_examples::table::Table;
use ptx_io::folds::Split;

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    common: CommonArgs,
}

/// The tiny settings, `extra` option-value pairs replacing or adding to them (`--weights`
/// adds each time).
fn tiny(out: &std::path::Path, extra: &[&str]) -> CommonArgs {
    let out = out.display().to_string();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("--images", "12"),
        ("--size", "32"),
        ("--epochs", "1"),
        ("--batch-size", "4"),
        ("--threads", "1"),
        ("--out", &out),
    ];
    for kv in extra.chunks(2) {
        if kv[0] != "--weights" {
            pairs.retain(|(k, _)| *k != kv[0]); // --weights repeats; the others replace
        }
        pairs.push((kv[0], kv[1]));
    }
    let mut argv = vec!["example", "--quiet", "--discard-checkpoints"];
    if !extra.contains(&"--data") {
        argv.push("--quick"); // every row, one seed (the default synthetic run trims both)
    }
    argv.extend(pairs.iter().flat_map(|(k, v)| [*k, *v]));
    Wrapper::parse_from(argv).common
}

/// Every cell of `columns` parses as a number within `range`.
fn numbers_in(
    table: &Table,
    columns: std::ops::Range<usize>,
    range: std::ops::RangeInclusive<f64>,
) {
    for row in &table.rows {
        for cell in &row[columns.clone()] {
            let v: f64 = cell
                .parse()
                .unwrap_or_else(|_| panic!("`{cell}` in {row:?} of {}", table.title));
            assert!(range.contains(&v), "{v} in {row:?}");
        }
    }
}

fn written(dir: &std::path::Path, stems: &[&str]) {
    let md = std::fs::read_to_string(dir.join("results.md")).unwrap();
    assert!(
        md.contains("## This run") && md.contains("## The paper"),
        "{md}"
    );
    for stem in stems {
        assert!(dir.join(format!("{stem}.csv")).is_file(), "{stem}.csv");
    }
}

#[test]
fn viel_all_sixteen_combinations() {
    let tmp = tempfile::tempdir().unwrap();
    let results = viel::run(&tiny(tmp.path(), &["--images", "8"]), None).unwrap();
    let table = results.table("table6").unwrap();
    assert_eq!(table.rows.len(), 16);
    assert_eq!(
        table.rows[8][..4],
        ["", "✓", "✓", ""],
        "Table 6's row order"
    );
    numbers_in(table, 4..6, 0.0..=1.0);
    written(tmp.path(), &["table6"]);
    // Both stages of every combination trained and logged; checkpoints discarded after use.
    let runs = tmp.path().join("runs");
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 16);
    let stage2 = runs.join("aspp-hypercolumns/stage2");
    assert!(stage2.join("log.csv").is_file() && !stage2.join("checkpoints").exists());
}

#[test]
fn shannak_autoencoders_and_six_transfer_scenarios() {
    let tmp = tempfile::tempdir().unwrap();
    let results = shannak::run(&tiny(tmp.path(), &[]), SplitMode::LeakFree, None).unwrap();
    let table = results.table("table4").unwrap();
    let names: Vec<&str> = table.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, shannak::ROWS.map(|r| r.0));
    numbers_in(table, 1..3, 0.0..=1.0);
    written(tmp.path(), &["table4"]);
    for ae in ["autoencoder-xray", "autoencoder-mask"] {
        let log =
            std::fs::read_to_string(tmp.path().join("runs").join(ae).join("log.csv")).unwrap();
        assert_eq!(log.lines().count(), 2, "{ae}: one epoch logged");
    }
    // Every positive with its two copies; by original, a copy is always on its image's side.
    let rows =
        ptx_io::folds::read_folds_csv(tmp.path().join("augmented-LeakFree/folds.csv")).unwrap();
    let place: std::collections::HashMap<&str, Split> =
        rows.iter().map(|r| (r.image_id.as_str(), r.fold)).collect();
    let copies: Vec<&ptx_io::folds::FoldRow> = rows
        .iter()
        .filter(|r| r.image_id.ends_with("-flip") || r.image_id.ends_with("-rotate"))
        .collect();
    let positives = rows.iter().filter(|r| r.label).count();
    assert_eq!(
        copies.len() * 3,
        positives * 2,
        "two copies per positive original"
    );
    for c in copies {
        let original = c.image_id.rsplit_once('-').unwrap().0;
        assert_eq!(place[original], c.fold, "{}", c.image_id);
    }
    assert!(rows.iter().any(|r| r.fold == Split::Test));
}

#[test]
fn dasic_six_backbones_whole_and_patches() {
    let tmp = tempfile::tempdir().unwrap();
    // 96 px: the smallest InceptionV3 input, so the patches are the whole image here.
    let results = dasic::run(&tiny(tmp.path(), &["--size", "96", "--images", "8"]), None).unwrap();
    let table = results.table("table1").unwrap();
    assert_eq!(table.rows.len(), 6);
    numbers_in(table, 1..5, 0.0..=100.0);
    written(tmp.path(), &["table1"]);
    assert!(tmp.path().join("patches/folds.csv").is_file());
}

#[test]
fn harmalkar_three_pretraining_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let results = harmalkar::run(&tiny(tmp.path(), &[])).unwrap();
    let (table, pre) = (
        results.table("table1").unwrap(),
        results.table("pretraining").unwrap(),
    );
    assert_eq!(
        table.rows.len(),
        4,
        "no pre-training, labels, AE and beta-VAE pseudo-labels"
    );
    numbers_in(table, 1..2, 0.0..=100.0);
    assert_eq!(pre.rows.len(), 3);
    numbers_in(pre, 2..3, 0.0..=100.0);
    for latent in ["ae", "vae"] {
        let labels =
            std::fs::read_to_string(tmp.path().join(format!("pseudo-labels-{latent}.csv")))
                .unwrap();
        assert_eq!(
            labels.lines().count(),
            13,
            "a pseudo-label for each of the 12 pre-training images"
        );
    }
    // The pre-training images are ChestX-ray14's layout (the synthetic stand-in here).
    let entries =
        ptx_io::nih::read_entries(tmp.path().join("chestxray14-synthetic/Data_Entry_2017.csv"))
            .unwrap();
    assert_eq!(entries.len(), 12);
    written(tmp.path(), &["table1", "pretraining"]);
}

#[test]
fn haghanifar_freezing_modes_folds_swa_and_threshold_search() {
    let tmp = tempfile::tempdir().unwrap();
    let results =
        haghanifar::run(&tiny(tmp.path(), &["--images", "18"]), Default::default()).unwrap();
    let [modes, confusion, table2] =
        ["freezing", "table1", "table2"].map(|stem| results.table(stem).unwrap());
    assert_eq!(modes.rows.len(), 3);
    numbers_in(modes, 1..3, 0.0..=1.0);
    let counts: u64 = confusion
        .rows
        .iter()
        .flat_map(|r| r[1..].iter().map(|c| c.parse::<u64>().unwrap()))
        .sum();
    assert_eq!(
        counts, 4,
        "every image of the test part (20 % of 18) counted once"
    );
    assert_eq!(table2.rows.len(), 2);
    numbers_in(table2, 2..4, 0.0..=1.0);
    assert!(tmp.path().join("runs/stage2-lr-find/lr-find.csv").is_file());
    assert!(tmp
        .path()
        .join("stage2-swa-top3/model.safetensors")
        .is_file());
    written(tmp.path(), &["freezing", "table1", "table2"]);
}

#[test]
fn real_data_without_weights_or_with_a_missing_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("siim");
    std::fs::create_dir_all(data.join("images")).unwrap();
    std::fs::create_dir_all(data.join("masks")).unwrap();
    let d = data.display().to_string();
    let err = viel::run(&tiny(tmp.path(), &["--data", &d]), None).unwrap_err();
    assert!(err.to_string().contains("--from-scratch"), "{err}");
    let missing = format!("resnet34={}", tmp.path().join("nope.pth").display());
    let err = viel::run(
        &tiny(tmp.path(), &["--data", &d, "--weights", &missing]),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let misspelt = format!("resnet43={}", tmp.path().join("nope.pth").display());
    let err = viel::run(
        &tiny(tmp.path(), &["--data", &d, "--weights", &misspelt]),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("resnet43"), "{err}");
    let err = viel::run(
        &tiny(tmp.path(), &["--data", tmp.path().to_str().unwrap()]),
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("expected dicom-images-train"),
        "{err}"
    );
}

/// The `--data` path with pretrained weights in the formats users download: a SIIM-layout
/// folder (`dicom-images-train/` + `train-rle.csv`, written by `ptx_io::synth`) and the
/// random-weight torchvision ResNet34 / CheXNet / timm SE-ResNeXt50 files that
/// `scripts/golden.sh` saves with PyTorch. Viel's first row and Haghanifar's whole table
/// run at the full-scale settings (2 folds / 5 folds, 3 freezing epochs capped by
/// `--epochs 1`), shrunk only in size, epochs and batch.
#[test]
fn siim_layout_with_pretrained_weight_files() {
    let Some(imports) = ptx_testdata::golden("models/imports") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("siim");
    let options = ptx_io::synth::SynthOptions {
        count: 20,
        size: 64,
        seed: 5,
        positive_share: 0.5,
        ..Default::default()
    };
    ptx_io::synth::write_dataset(&data, &options).unwrap();
    let d = data.display().to_string();
    let weight = |encoder: &str, file: &str| format!("{encoder}={}", imports.join(file).display());

    let out = tmp.path().join("viel");
    let resnet34 = weight("resnet34", "torchvision_resnet34.pth");
    let args = tiny(&out, &["--data", &d, "--weights", &resnet34]);
    let results = viel::run(&args, Some(&[0])).unwrap();
    let table = results.table("table6").unwrap();
    assert_eq!(table.rows.len(), 1);
    numbers_in(table, 4..6, 0.0..=1.0);
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        md.contains("SIIM data:") && !md.contains("synthetic"),
        "{md}"
    );
    assert!(
        !out.join("synthetic").exists(),
        "no synthetic set with --data"
    );

    let out = tmp.path().join("haghanifar");
    let chexnet = weight("densenet121", "chexnet.pth.tar");
    let seresnext = weight("se_resnext50_32x4d", "timm_seresnext50_32x4d.pth");
    let args = tiny(
        &out,
        &["--data", &d, "--weights", &chexnet, "--weights", &seresnext],
    );
    let results = haghanifar::run(&args, Default::default()).unwrap();
    let [modes, confusion, table2] =
        ["freezing", "table1", "table2"].map(|stem| results.table(stem).unwrap());
    numbers_in(modes, 1..3, 0.0..=1.0);
    let counts: u64 = confusion
        .rows
        .iter()
        .flat_map(|r| r[1..].iter().map(|c| c.parse::<u64>().unwrap()))
        .sum();
    assert_eq!(counts, 4, "the test part holds 20 % of 20 images");
    numbers_in(table2, 2..4, 0.0..=1.0);
}

/// `--seeds 2`: the protocol once per seed, each in its `seed-N/` folder with its own
/// synthetic images, and the tables over both seeds (mean ± half the range) in the output
/// folder itself.
#[test]
fn two_seeds_each_in_its_folder_and_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let args = tiny(tmp.path(), &["--images", "8", "--seeds", "2"]);
    let only = Some(&[0usize][..]);
    let merged = ptx_examples::papers::over_seeds(
        &args,
        &viel::PLAN,
        |a| Ok(viel::experiments(a, only)?.len() * 2),
        |a| viel::run(a, only),
    )
    .unwrap();
    let table = merged.table("table6").unwrap();
    assert_eq!(table.rows.len(), 1);
    let seeds: Vec<f64> = [7, 8]
        .map(|seed| {
            let dir = tmp.path().join(format!("seed-{seed}"));
            assert!(dir.join("synthetic/train-rle.csv").is_file());
            let csv = std::fs::read_to_string(dir.join("table6.csv")).unwrap();
            let dice = csv.lines().nth(1).unwrap().split(',').nth(4).unwrap();
            dice.parse().unwrap()
        })
        .into();
    let (mean, spread) = table.rows[0][4].split_once(" ± ").unwrap();
    let (mean, spread): (f64, f64) = (mean.parse().unwrap(), spread.parse().unwrap());
    assert!(
        (mean - (seeds[0] + seeds[1]) / 2.0).abs() <= 0.0011,
        "{mean} {seeds:?}"
    );
    assert!(
        (spread - (seeds[0] - seeds[1]).abs() / 2.0).abs() <= 0.0011,
        "{spread}"
    );
    let md = std::fs::read_to_string(tmp.path().join("results.md")).unwrap();
    assert!(md.contains("Seeds 7 and 8"), "{md}");
}

/// The scale and seed defaults: two seeds and the trimmed rows on synthetic data, one seed
/// and every row with `--quick` or `--data`; `--quick` with `--data` and `--seeds` with
/// `--print-config` are refused.
#[test]
fn scale_seed_and_row_defaults() {
    let parse = |argv: &[&str]| {
        Wrapper::try_parse_from(std::iter::once("example").chain(argv.iter().copied()))
            .map(|w| w.common)
    };
    let settings = |a: &CommonArgs| a.settings("viel_ablation", &viel::SCALES);
    let default = parse(&[]).unwrap();
    let s = settings(&default);
    assert_eq!(
        (s.seeds, s.epochs, s.images),
        (2, viel::SMALL.epochs, viel::SMALL.images)
    );
    assert_eq!(
        default.rows(None, &viel::SYNTHETIC_ROWS),
        Some(&viel::SYNTHETIC_ROWS[..])
    );
    assert_eq!(
        default.rows(Some(&[7]), &viel::SYNTHETIC_ROWS),
        Some(&[7][..])
    );
    let quick = parse(&["--quick"]).unwrap();
    let s = settings(&quick);
    assert_eq!(
        (s.seeds, s.epochs, s.images),
        (1, viel::QUICK.epochs, viel::QUICK.images)
    );
    assert_eq!(quick.rows(None, &viel::SYNTHETIC_ROWS), None);
    let data = parse(&["--data", "/nowhere"]).unwrap();
    let s = settings(&data);
    assert_eq!(
        (s.seeds, s.epochs, s.size),
        (1, viel::FULL.epochs, viel::FULL.size)
    );
    assert_eq!(data.rows(None, &viel::SYNTHETIC_ROWS), None);
    assert_eq!(settings(&parse(&["--seeds", "3"]).unwrap()).seeds, 3);
    assert!(parse(&["--quick", "--data", "/nowhere"]).is_err());
    assert!(parse(&["--seeds", "2", "--print-config", "/tmp/x"]).is_err());
    assert!(parse(&["--seeds", "0"]).is_err());
}
