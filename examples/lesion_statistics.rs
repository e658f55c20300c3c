//! The challenge's real lesions beside `ptx synth`'s: statistics, a plot and the BTS size
//! classes of the real masks, as `docs/lesions.md` shows them.
//!
//! ```text
//! cargo run --release -p ptx-examples --example lesion_statistics -- \
//!     --csv ../shared/data/siim/csv/train-rle.full.torchxrayvision.csv --out docs
//! ```
//!
//! Writes `OUT/lesions.png` (area distributions, real and synthetic) and prints the Markdown
//! tables of `docs/lesions.md`. Reads only the annotation file: no image is needed.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use plotters::prelude::*;
use ptx_io::annotations::Annotations;
use ptx_io::rle::RleForm;
use ptx_io::synth::{
    generate, image_lesions, ks_distance, ImageLesions, LesionStatistics, SynthOptions,
    AREA_PROBABILITIES,
};
use ptx_metrics::{measure_lesions, BtsSize, LesionOptions, PixelSpacing};

#[derive(Parser)]
struct Args {
    /// The challenge's full `train-rle.csv` (relative runs, 1024² images).
    #[arg(long)]
    csv: PathBuf,
    /// Where `lesions.png` goes.
    #[arg(long, default_value = "docs")]
    out: PathBuf,
    /// Synthetic images generated (at 256 px, `ptx synth`'s defaults).
    #[arg(long, default_value_t = 2000)]
    synthetic: usize,
    /// Seed of the synthetic set.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const FONT: &str = "sans-serif";

fn main() -> Result<()> {
    let args = Args::parse();
    let annotations = Annotations::read(&args.csv)?;
    let real = image_lesions(&annotations, (1024, 1024), RleForm::Relative)?;
    let options = SynthOptions {
        count: args.synthetic,
        seed: args.seed,
        ..SynthOptions::default()
    };
    let synthetic: Vec<ImageLesions> = (0..options.count)
        .map(|i| generate(&options, i).image_lesions())
        .collect();
    let r = LesionStatistics::from_images(&real).context("no real lesion")?;
    let s = LesionStatistics::from_images(&synthetic).context("no synthetic lesion")?;
    let areas = |images: &[ImageLesions]| -> Vec<f64> {
        images
            .iter()
            .flat_map(|i| i.lesions.iter().map(|l| l.area_fraction))
            .collect()
    };
    let (real_areas, synth_areas) = (areas(&real), areas(&synthetic));
    println!(
        "Real: {} images, {} lesions; synthetic: {} images at {} px (seed {}), {} lesions. \
         Area KS distance {:.3}.\n",
        real.len(),
        real_areas.len(),
        synthetic.len(),
        options.size,
        options.seed,
        synth_areas.len(),
        ks_distance(&real_areas, &synth_areas)
    );
    println!("| statistic | real | synthetic |\n| --- | --- | --- |");
    println!(
        "| positive images | {:.1} % | {:.1} % |",
        100.0 * r.positive_share,
        100.0 * s.positive_share
    );
    for k in 0..r.lesions.lesions_per_image.len() {
        let label = if k + 1 == r.lesions.lesions_per_image.len() {
            format!("{} or more lesions", k + 1)
        } else {
            format!("{} lesion{}", k + 1, if k == 0 { "" } else { "s" })
        };
        println!(
            "| positives with {label} | {:.1} % | {:.1} % |",
            100.0 * r.lesions.lesions_per_image[k],
            100.0 * s.lesions.lesions_per_image[k]
        );
    }
    println!(
        "| lesions in the image's left half (patient's right) | {:.1} % | {:.1} % |",
        100.0 * r.lesions.image_left_share,
        100.0 * s.lesions.image_left_share
    );
    println!(
        "| lesions with the centroid in the top third (apical) | {:.1} % | {:.1} % |",
        100.0 * r.lesions.apical_share,
        100.0 * s.lesions.apical_share
    );
    for q in [1, 5, 10, 15, 19, 21] {
        println!(
            "| lesion area, {} % quantile (% of the image) | {:.3} | {:.3} |",
            100.0 * AREA_PROBABILITIES[q],
            100.0 * r.lesions.area_quantiles[q],
            100.0 * s.lesions.area_quantiles[q]
        );
    }
    println!();
    plot(&args.out.join("lesions.png"), &real_areas, &synth_areas)?;
    bts(&annotations, &real)?;
    Ok(())
}

/// BTS size classes and rim widths of the real positive masks (all rows of an image united,
/// 8-connected components) at the two spacings of the challenge's sample files.
fn bts(annotations: &Annotations, real: &[ImageLesions]) -> Result<()> {
    let mut rims = Vec::new(); // widest rim per image, pixels
    for image in real.iter().filter(|i| !i.lesions.is_empty()) {
        let mask = annotations
            .mask(&image.image_id, (1024, 1024), RleForm::Relative)?
            .context("annotated image")?;
        let report = measure_lesions(mask.view(), None, LesionOptions::default())?;
        let widest = report
            .lesions
            .iter()
            .map(|l| l.rim_width_px)
            .fold(0.0, f64::max);
        rims.push(widest);
    }
    rims.sort_by(f64::total_cmp);
    println!(
        "| pixel spacing | images | BTS small (rim < 2 cm) | BTS large (rim >= 2 cm) | rim width median | 90 % quantile | largest |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for mm in [0.143, 0.168] {
        let spacing = PixelSpacing {
            row_mm: mm,
            col_mm: mm,
        };
        let large = rims
            .iter()
            .filter(|&&px| BtsSize::from_rim_mm(px * mm) == BtsSize::Large)
            .count();
        let q = |p: f64| rims[((rims.len() - 1) as f64 * p).round() as usize] * spacing.row_mm;
        println!(
            "| {mm} mm | {} | {:.1} % | {:.1} % | {:.1} mm | {:.1} mm | {:.1} mm |",
            rims.len(),
            100.0 * (rims.len() - large) as f64 / rims.len() as f64,
            100.0 * large as f64 / rims.len() as f64,
            q(0.5),
            q(0.9),
            q(1.0)
        );
    }
    Ok(())
}

/// Histograms of log10(area fraction), each normalised to its own count.
fn plot(path: &std::path::Path, real: &[f64], synthetic: &[f64]) -> Result<()> {
    let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    let (lo, hi, bins) = (-4.5f64, -0.5f64, 40usize);
    let hist = |v: &[f64]| -> Vec<(f64, f64)> {
        let mut h = vec![0.0; bins];
        for &a in v {
            let b = ((a.log10() - lo) / (hi - lo) * bins as f64).floor();
            if (0.0..bins as f64).contains(&b) {
                h[b as usize] += 1.0 / v.len() as f64;
            }
        }
        h.iter()
            .enumerate()
            .map(|(i, &y)| (lo + (i as f64 + 0.5) * (hi - lo) / bins as f64, y))
            .collect()
    };
    let (hr, hs) = (hist(real), hist(synthetic));
    let top = hr.iter().chain(&hs).map(|p| p.1).fold(0.0, f64::max) * 1.1;
    let root = BitMapBackend::new(path, (900, 520)).into_drawing_area();
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Lesion area per annotation row: SIIM train-rle.csv vs ptx synth",
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("log10(area / image area)")
            .y_desc("share of lesions")
            .label_style((FONT, 14))
            .draw()?;
        for (h, colour, name) in [(&hr, BLUE, "real (3,576 rows)"), (&hs, RED, "synthetic")] {
            chart
                .draw_series(LineSeries::new(h.iter().copied(), colour.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow::anyhow!("plotting {}: {e}", path.display()))
}
