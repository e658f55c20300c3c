//! Overfitting the two real SIIM DICOMs of `../shared/data`: the loss falls and the Dice on
//! the training images rises above 0.9.
//!
//! The positive image's real mask is not in the shared data (only its label, in the winning
//! team's label files), so its mask here is a drawn apical crescent; the negative image's mask
//! is empty, as its label says. The images are decoded from the DICOMs by `ptx-io` and written
//! as PNGs eight times each (more optimizer steps per epoch): the stratified 2-fold split puts
//! four copies of each image in each fold, so the validation fold holds exactly the training
//! images' pixels.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::Array2;
use ptx_io::image_file::{read_image_gray8, write_mask_png, write_png_gray8};
use ptx_train::{Experiment, Resume, Trainer};

const POSITIVE: &str = "1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319";
const NEGATIVE: &str = "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819";

#[test]
fn overfits_the_two_real_siim_images() {
    let Some(dir) = ptx_testdata::shared("siim/dicom") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (images, masks) = (tmp.path().join("images"), tmp.path().join("masks"));
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&masks).unwrap();
    for uid in [POSITIVE, NEGATIVE] {
        let image = read_image_gray8(dir.join(format!("{uid}.dcm"))).unwrap();
        assert_eq!(image.dim(), (1024, 1024));
        let mask = if uid == POSITIVE {
            // A crescent at the right apex (image left): inside one ellipse, outside another.
            Array2::from_shape_fn((1024, 1024), |(y, x)| {
                let e = |cy: f64, cx: f64, ry: f64, rx: f64| {
                    ((y as f64 - cy) / ry).powi(2) + ((x as f64 - cx) / rx).powi(2) <= 1.0
                };
                u8::from(e(330.0, 300.0, 170.0, 150.0) && !e(390.0, 330.0, 170.0, 140.0))
            })
        } else {
            Array2::zeros((1024, 1024))
        };
        for copy in 0..8 {
            write_png_gray8(images.join(format!("{uid}-{copy}.png")), &image.view()).unwrap();
            write_mask_png(masks.join(format!("{uid}-{copy}.png")), &mask.view()).unwrap();
        }
    }
    let exp = Experiment::from_toml(&format!(
        r#"
name = "overfit-real"
seed = 1

[data]
images = "{images}"
masks = "{masks}"
folds = 2

[input]
size = [128, 128]

[model]
arch = "unet"
encoder = "resnet18"
decoder = {{ channels = [64, 32, 16, 16, 8] }}

[optimizer]
kind = "adam"
lr = 3e-3

[schedule]
kind = "cosine"
epochs = 40
eta_min = 1e-5

[train]
epochs = 40
batch_size = 4
loader_threads = 2
device = "cpu"
progress = false
montage = 2
"#,
        images = images.display(),
        masks = masks.display()
    ))
    .unwrap();
    let report = Trainer::new(exp, tmp.path().join("run"), Resume::Never)
        .unwrap()
        .fit()
        .unwrap();
    let first = &report.history[0];
    let best = report
        .history
        .iter()
        .map(|r| r.val_dice)
        .fold(f64::MIN, f64::max);
    let last = report.history.last().unwrap();
    assert_eq!(first.train_images, 8);
    assert!(
        last.train_loss < first.train_loss * 0.5 && last.val_loss < first.val_loss * 0.3,
        "training loss {} -> {}, loss on the same images in eval mode {} -> {}",
        first.train_loss,
        last.train_loss,
        first.val_loss,
        last.val_loss
    );
    assert!(best > 0.9, "best Dice on the training images {best}");
    assert!(
        last.val_dice > 0.9,
        "final Dice on the training images {}",
        last.val_dice
    );
}
