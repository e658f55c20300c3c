//! `ptx preprocess` and `ptx augment` on the real SIIM DICOMs and a real radiograph's lung
//! mask.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_clean_failure, ptx, stderr};
use ndarray::{Array2, Axis};
use ptx_preproc::{resize, ChannelStack, Interpolation};

const POSITIVE: &str = "1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319";

/// Reads an 8-bit PNG as (samples per pixel, height, width).
fn read_png(path: &std::path::Path) -> (usize, Array2<u8>, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let samples = info.color_type.samples();
    let (h, w) = (info.height as usize, info.width as usize);
    let first = Array2::from_shape_fn((h, w), |(y, x)| buf[(y * w + x) * samples]);
    (samples, first, buf[..info.buffer_size()].to_vec())
}

/// A command-line usage error from clap: non-zero exit, the message, no panic.
fn usage_error(o: &std::process::Output) -> String {
    let err = stderr(o);
    assert!(!o.status.success() && !err.contains("panicked"), "{err}");
    err
}

#[test]
fn preprocess_writes_the_channel_stack_of_each_dicom() {
    let Some(dicom_dir) = ptx_testdata::shared("siim/dicom") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let o = ptx(&[
        &"preprocess",
        &"--input",
        &dicom_dir,
        &"--out",
        &out.path(),
        &"--size",
        &"256",
        &"--threads",
        &"2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("preprocessed 2 of 2 images"));
    // The PNG holds exactly what the library computes: display image, area resize, stack.
    let dcm = dicom_dir.join(format!("{POSITIVE}.dcm"));
    let grey = ptx_io::image_file::read_image_gray8(&dcm).unwrap();
    let small = resize(grey.view(), (256, 256), Interpolation::Area).unwrap();
    let want = ChannelStack::default().apply(small.view()).unwrap();
    let (samples, _, bytes) = read_png(&out.path().join(format!("{POSITIVE}.png")));
    assert_eq!(samples, 3);
    let got =
        ndarray::Array3::from_shape_fn((3, 256, 256), |(c, y, x)| bytes[(y * 256 + x) * 3 + c]);
    assert_eq!(got, want);

    // One channel: a grey PNG; two channels: one PNG each.
    let o = ptx(&[
        &"preprocess",
        &"--input",
        &dcm,
        &"--out",
        &out.path().join("one"),
        &"--size",
        &"128x96",
        &"--channels",
        &"clahe",
        &"--clip",
        &"3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (samples, first, _) = read_png(&out.path().join("one").join(format!("{POSITIVE}.png")));
    assert_eq!((samples, first.dim()), (1, (128, 96)));
    let o = ptx(&[
        &"preprocess",
        &"--input",
        &dcm,
        &"--out",
        &out.path().join("two"),
        &"--channels",
        &"raw,equalized",
        &"--size",
        &"0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, raw, _) = read_png(&out.path().join("two").join(format!("{POSITIVE}_raw.png")));
    assert_eq!(raw, grey, "size 0 keeps the image");
    assert!(out
        .path()
        .join("two")
        .join(format!("{POSITIVE}_equalized.png"))
        .exists());
}

#[test]
fn preprocess_reports_bad_input() {
    let out = tempfile::tempdir().unwrap();
    let err = assert_clean_failure(&ptx(&[
        &"preprocess",
        &"--input",
        &"/no/such/dir",
        &"--out",
        &out.path(),
    ]));
    assert!(err.contains("/no/such/dir"), "{err}");
    let bad = out.path().join("bad.png");
    std::fs::write(&bad, b"not a png").unwrap();
    let good = out.path().join("good.png");
    ptx_io::image_file::write_png_gray8(&good, &Array2::from_elem((40, 30), 9u8).view()).unwrap();
    let o = ptx(&[
        &"preprocess",
        &"--input",
        &bad,
        &good,
        &"--out",
        &out.path().join("o"),
        &"--size",
        &"32",
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("warning") && err.contains("bad.png") && err.contains("1 of 2 images failed"),
        "{err}"
    );
    assert!(
        out.path().join("o/good.png").exists(),
        "the good image is still written"
    );
    for args in [["--channels", "rgb"], ["--size", "12x0"]] {
        let err = usage_error(&ptx(&[
            &"preprocess",
            &"--input",
            &good,
            &"--out",
            &out.path(),
            &args[0],
            &args[1],
        ]));
        assert!(err.contains(args[1]), "{err}");
    }
    let err = assert_clean_failure(&ptx(&[
        &"preprocess",
        &"--input",
        &good,
        &"--out",
        &out.path(),
        &"--tiles",
        &"0",
    ]));
    assert!(err.contains("tiles"), "{err}");
}

#[test]
fn augment_writes_a_montage_and_the_draws() {
    let Some(base) = ptx_testdata::shared("cxr-masks/imlab-uiip_lung-segmentation-2d") else {
        return;
    };
    let Some(dcm) = ptx_testdata::shared(&format!("siim/dicom/{POSITIVE}.dcm")) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    // The JSRT lung mask (512 x 512) as the mask of the SIIM image, made 512 x 512 grey by
    // `ptx preprocess`.
    let mask_path = base.join("1-mask.png");
    let o = ptx(&[
        &"preprocess",
        &"--input",
        &dcm,
        &"--out",
        &out.path().join("input"),
        &"--channels",
        &"raw",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dcm = out.path().join("input").join(format!("{POSITIVE}.png"));
    let config = out.path().join("aug.toml");
    std::fs::write(&config, "[[transforms]]\nkind = \"horizontal_flip\"\np = 1.0\n\n[[transforms]]\nkind = \"rotate\"\nlimit = 10\np = 1.0\n").unwrap();
    let run = |dir: &str, seed: &str| {
        ptx(&[
            &"augment",
            &"--config",
            &config,
            &"--input",
            &dcm,
            &"--mask",
            &mask_path,
            &"--out",
            &out.path().join(dir),
            &"-n",
            &"5",
            &"--tile",
            &"64",
            &"--seed",
            &seed,
        ])
    };
    let o = run("a", "7");
    assert!(o.status.success(), "{}", stderr(&o));
    let (samples, first, _) = read_png(&out.path().join("a/montage.png"));
    // 6 tiles (original + 5) in 3 columns x 2 rows of 64 px with 4 px gaps.
    assert_eq!(
        (samples, first.dim()),
        (3, (2 * 64 + 3 * 4, 3 * 64 + 4 * 4))
    );
    let (_, mask0, _) = read_png(&out.path().join("a/aug_000_mask.png"));
    assert!(mask0.iter().all(|&v| v == 0 || v == 255));
    // The flip happened: the mask's left lung is now mostly on the right half.
    let (_, original_mask, _) = read_png(&mask_path);
    let left = |m: &Array2<u8>| {
        m.slice_axis(Axis(1), (0..256).into())
            .iter()
            .filter(|&&v| v != 0)
            .count()
    };
    let right = |m: &Array2<u8>| {
        m.slice_axis(Axis(1), (256..512).into())
            .iter()
            .filter(|&&v| v != 0)
            .count()
    };
    assert_eq!(
        left(&original_mask) > right(&original_mask),
        left(&mask0) < right(&mask0)
    );
    // Same seed, same draws; another seed, other draws.
    assert!(run("b", "7").status.success());
    assert!(run("c", "8").status.success());
    let draw = |dir: &str| std::fs::read(out.path().join(dir).join("aug_003.png")).unwrap();
    assert_eq!(draw("a"), draw("b"));
    assert_ne!(draw("a"), draw("c"));
    // A preset instead of a config.
    let o = ptx(&[
        &"augment",
        &"--preset",
        &"haghanifar",
        &"--input",
        &dcm,
        &"--out",
        &out.path().join("p"),
        &"-n",
        &"3",
        &"--size",
        &"256",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn augment_reports_bad_configs() {
    let out = tempfile::tempdir().unwrap();
    let image = out.path().join("i.png");
    ptx_io::image_file::write_png_gray8(&image, &Array2::from_elem((40, 30), 9u8).view()).unwrap();
    let write = |name: &str, text: &str| {
        let p = out.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let typo = write("typo.toml", "[[transforms]]\nkind = \"rotate\"\nlimt = 3\n");
    let err = assert_clean_failure(&ptx(&[
        &"augment",
        &"--config",
        &typo,
        &"--input",
        &image,
        &"--out",
        &out.path(),
    ]));
    assert!(err.contains("limt") && err.contains("typo.toml"), "{err}");
    let bad_p = write(
        "p.json",
        r#"{"transforms": [{"kind": "horizontal_flip", "p": 2}]}"#,
    );
    let err = assert_clean_failure(&ptx(&[
        &"augment",
        &"--config",
        &bad_p,
        &"--input",
        &image,
        &"--out",
        &out.path(),
    ]));
    assert!(err.contains("flip.p"), "{err}");
    let err = usage_error(&ptx(&[
        &"augment",
        &"--preset",
        &"kaggle",
        &"--input",
        &image,
        &"--out",
        &out.path(),
    ]));
    assert!(err.contains("haghanifar"), "{err}");
    let err = assert_clean_failure(&ptx(&[
        &"augment",
        &"--input",
        &image,
        &"--out",
        &out.path(),
    ]));
    assert!(err.contains("--preset"), "{err}");
    let small_mask = out.path().join("m.png");
    ptx_io::image_file::write_png_gray8(&small_mask, &Array2::from_elem((4, 4), 1u8).view())
        .unwrap();
    let err = assert_clean_failure(&ptx(&[
        &"augment",
        &"--preset",
        &"viel",
        &"--input",
        &image,
        &"--mask",
        &small_mask,
        &"--out",
        &out.path(),
    ]));
    assert!(err.contains("m.png"), "{err}");
}
