//! PNG plots with `plotters`: the learning curves of a run (loss, Dice, IoU, learning rate,
//! as the papers' figures) and the LR range test's loss against rate.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::lr_find::LrPoint;
use crate::run::log::EpochRecord;
use crate::{Error, Result};

const FONT: &str = "sans-serif";

/// Registers the bundled DejaVu Sans font once (no system fonts are needed).
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(e.to_string()))
}

/// Draws a `width` x `height` picture in memory with `draw` and writes it as a PNG through
/// ptx-io's atomic write, so a kill never leaves a torn picture.
fn render(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> std::result::Result<(), String>,
) -> Result<()> {
    register_font();
    let (w, h) = (width as usize, height as usize);
    let mut rgb = vec![0u8; w * h * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root)
            .and_then(|()| root.present().map_err(|e| e.to_string()))
            .map_err(|e| plot_error(path, e))?;
    }
    let image = ndarray::Array3::from_shape_vec((h, w, 3), rgb)
        .map_err(|e| plot_error(path, e))?
        .permuted_axes([2, 0, 1]);
    ptx_io::image_file::write_png_rgb8(path, &image.view())?;
    Ok(())
}

/// A named line of (x, y) points and its colour.
type Series<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);

/// One panel: named series of (x, y) points.
fn panel(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    title: &str,
    x_label: &str,
    series: &[Series<'_>],
    log_x: bool,
) -> std::result::Result<(), String> {
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|(_, p, _)| p.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if points.is_empty() {
        return Ok(());
    }
    let (mut x0, mut x1) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (mut y0, mut y1) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if x1 <= x0 {
        x1 = x0 + 1.0;
        if !log_x {
            x0 -= 1.0;
        }
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    y0 -= pad;
    y1 += pad;
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, (FONT, 18))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(56);
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .label_style((FONT, 12))
                .draw()
                .map_err(e)?;
            for (name, pts, colour) in series {
                let colour = *colour;
                chart
                    .draw_series(LineSeries::new(
                        pts.iter()
                            .copied()
                            .filter(|(x, y)| x.is_finite() && y.is_finite()),
                        colour.stroke_width(2),
                    ))
                    .map_err(e)?
                    .label(*name)
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font((FONT, 12))
                .draw()
                .map_err(e)?;
        }};
    }
    if log_x {
        draw!(builder
            .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
            .map_err(e)?);
    } else {
        draw!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(e)?);
    }
    Ok(())
}

/// Writes a 2 x 2 figure of a run's history: train / validation loss, validation Dice
/// (all images and positives only), validation IoU, learning rate; against the epoch.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub(crate) fn learning_curves(path: &Path, title: &str, history: &[EpochRecord]) -> Result<()> {
    let series = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        history
            .iter()
            .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
            .collect()
    };
    render(path, (1100, 800), |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let root = root.titled(title, (FONT, 22)).map_err(|e| e.to_string())?;
        let areas = root.split_evenly((2, 2));
        panel(
            &areas[0],
            "loss",
            "epoch",
            &[
                ("train", series(&|r| Some(r.train_loss)), BLUE),
                ("validation", series(&|r| Some(r.val_loss)), RED),
            ],
            false,
        )?;
        panel(
            &areas[1],
            "validation Dice (challenge rule)",
            "epoch",
            &[
                ("all images", series(&|r| Some(r.val_dice)), RED),
                ("positive images", series(&|r| r.val_dice_positive), MAGENTA),
            ],
            false,
        )?;
        panel(
            &areas[2],
            "validation IoU",
            "epoch",
            &[("all images", series(&|r| Some(r.val_iou)), RED)],
            false,
        )?;
        panel(
            &areas[3],
            "learning rate",
            "epoch",
            &[("lr", series(&|r| Some(r.lr)), GREEN)],
            false,
        )
    })
}

/// Writes the LR range test's loss (raw and smoothed) against the rate, log scale, with the
/// suggestion in the title.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub(crate) fn lr_curve(path: &Path, points: &[LrPoint], suggestion: Option<f64>) -> Result<()> {
    let title = match suggestion {
        Some(lr) => format!("LR range test: suggested {lr:.2e}"),
        None => "LR range test: no suggestion".to_owned(),
    };
    render(path, (800, 500), |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        panel(
            root,
            &title,
            "learning rate",
            &[
                (
                    "loss",
                    points.iter().map(|p| (p.lr, p.loss)).collect(),
                    RGBColor(150, 150, 220),
                ),
                (
                    "smoothed",
                    points.iter().map(|p| (p.lr, p.smoothed)).collect(),
                    BLUE,
                ),
            ],
            true,
        )
    })
}
