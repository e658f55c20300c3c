//! ChestX-ray14's other findings drawn onto a synthetic radiograph, so that a stand-in's
//! images differ by finding as its labels do (e.g. for pseudo-labels clustered from image
//! codes). Each finding is a few soft elliptical shapes of its own kind, brighter (opacities)
//! or darker (hyperlucency), at its usual place on the nominal anatomy of [`super::draw`]:
//! a caricature of its radiographic sign, not a model of it.

use ndarray::Array2;
use rand::Rng;

/// A soft ellipse in unit image coordinates, rotated by `angle` radians, adding `amount`
/// grey levels at its centre and falling smoothly to nothing at its edge.
#[derive(Debug, Clone, Copy)]
struct Shape {
    cx: f32,
    cy: f32,
    rx: f32,
    ry: f32,
    angle: f32,
    amount: f32,
}

use super::draw::{LUNG_CENTRES as LUNGS, LUNG_HALF_AXES};

const LUNG_RX: f32 = LUNG_HALF_AXES[0].0;
const LUNG_RY: f32 = LUNG_HALF_AXES[0].1;

fn blob(cx: f32, cy: f32, rx: f32, ry: f32, amount: f32) -> Shape {
    Shape {
        cx,
        cy,
        rx,
        ry,
        angle: 0.0,
        amount,
    }
}

/// A point inside lung `side`'s inner part.
fn in_lung(rng: &mut impl Rng, side: usize) -> (f32, f32) {
    let (cx, cy) = LUNGS[side];
    (
        cx + rng.random_range(-0.6..0.6f32) * LUNG_RX,
        cy + rng.random_range(-0.6..0.6f32) * LUNG_RY,
    )
}

/// A uniform draw in `[lo, hi)`.
fn r(rng: &mut impl Rng, lo: f32, hi: f32) -> f32 {
    rng.random_range(lo..hi)
}

/// The shapes of `finding` (a name of [`crate::nih::FINDINGS`]); none for `Pneumothorax`
/// (the generator draws it with its mask) or a name it does not know.
fn shapes(finding: &str, rng: &mut impl Rng) -> Vec<Shape> {
    let side = rng.random_range(0..2usize);
    let (lx, _) = LUNGS[side];
    match finding {
        // a plate-like band of collapse low in one lung
        "Atelectasis" => vec![Shape {
            angle: r(rng, -0.25, 0.25),
            ..blob(lx, r(rng, 0.58, 0.66), 0.11, 0.025, 40.0)
        }],
        // an enlarged heart shadow
        "Cardiomegaly" => vec![blob(0.56, 0.67, r(rng, 0.18, 0.22), 0.15, 45.0)],
        // fluid at a lung base
        "Effusion" => vec![blob(lx, 0.75, 0.17, r(rng, 0.07, 0.11), 65.0)],
        // patchy opacities scattered in one lung
        "Infiltration" => (0..rng.random_range(3..6))
            .map(|_| {
                let (x, y) = in_lung(rng, side);
                let s = r(rng, 0.025, 0.05);
                blob(x, y, s, s * 1.3, 22.0)
            })
            .collect(),
        "Mass" => {
            let (x, y) = in_lung(rng, side);
            let s = r(rng, 0.04, 0.07);
            vec![blob(x, y, s, s, 60.0)]
        }
        "Nodule" => {
            let (x, y) = in_lung(rng, side);
            let s = r(rng, 0.012, 0.025);
            vec![blob(x, y, s, s, 60.0)]
        }
        "Pneumonia" => {
            let (x, y) = in_lung(rng, side);
            vec![blob(x, y, r(rng, 0.07, 0.11), r(rng, 0.08, 0.12), 35.0)]
        }
        "Consolidation" => {
            let (x, y) = in_lung(rng, side);
            vec![Shape {
                angle: r(rng, -0.5, 0.5),
                ..blob(x, y, r(rng, 0.05, 0.08), r(rng, 0.08, 0.11), 55.0)
            }]
        }
        // haze around both hila
        "Edema" => LUNGS
            .iter()
            .map(|&(x, _)| blob(x + (0.5 - x) * 0.3, 0.5, 0.12, 0.18, 22.0))
            .collect(),
        // hyperlucent (darker) lungs
        "Emphysema" => LUNGS
            .iter()
            .map(|&(x, y)| blob(x, y, LUNG_RX * 1.05, LUNG_RY * 1.05, -20.0))
            .collect(),
        // reticular lines low in both lungs
        "Fibrosis" => (0..rng.random_range(10..17))
            .map(|k| {
                let (x, _) = LUNGS[k % 2];
                Shape {
                    angle: r(rng, 0.0, std::f32::consts::PI),
                    ..blob(x + r(rng, -0.1, 0.1), r(rng, 0.5, 0.7), 0.035, 0.004, 30.0)
                }
            })
            .collect(),
        // a bright rim along one lung's lateral edge
        "Pleural_Thickening" => {
            let lateral = if side == 0 { lx - 0.14 } else { lx + 0.14 };
            vec![blob(lateral, r(rng, 0.38, 0.52), 0.014, 0.12, 40.0)]
        }
        // a round opacity behind the heart, above the diaphragm
        "Hernia" => vec![blob(0.5, 0.78, 0.06, 0.05, 45.0)],
        _ => Vec::new(),
    }
}

/// Draws `finding` onto `image` (grey levels, any square or oblong size); `Pneumothorax` and
/// unknown names leave it as it is. The same `rng` state draws the same shapes.
pub(crate) fn draw_finding(image: &mut Array2<u8>, finding: &str, rng: &mut impl Rng) {
    let shapes = shapes(finding, rng);
    if shapes.is_empty() {
        return;
    }
    let (h, w) = image.dim();
    for ((y, x), px) in image.indexed_iter_mut() {
        let (u, v) = ((x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
        let mut add = 0.0f32;
        for s in &shapes {
            let (du, dv) = (u - s.cx, v - s.cy);
            let (c, sn) = (s.angle.cos(), s.angle.sin());
            let (a, b) = ((du * c + dv * sn) / s.rx, (-du * sn + dv * c) / s.ry);
            let t = a * a + b * b;
            if t < 1.0 {
                add += s.amount * (1.0 - t) * (1.0 - t);
            }
        }
        if add != 0.0 {
            *px = (f32::from(*px) + add).round().clamp(0.0, 255.0) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn mean(a: &Array2<u8>) -> f64 {
        a.iter().map(|&v| f64::from(v)).sum::<f64>() / a.len() as f64
    }

    #[test]
    fn every_other_finding_leaves_its_mark_and_pneumothorax_none() {
        let flat = Array2::<u8>::from_elem((96, 96), 100);
        let mut looks = Vec::new();
        for finding in crate::nih::FINDINGS {
            let mut image = flat.clone();
            draw_finding(&mut image, finding, &mut ChaCha8Rng::seed_from_u64(3));
            let change = mean(&image) - mean(&flat);
            match finding {
                "Pneumothorax" => assert_eq!(image, flat),
                "Emphysema" => assert!(change < -1.0, "{finding}: {change}"),
                _ => assert!(change > 0.01, "{finding}: {change}"),
            }
            // the same rng state draws the same finding
            let mut again = flat.clone();
            draw_finding(&mut again, finding, &mut ChaCha8Rng::seed_from_u64(3));
            assert_eq!(image, again, "{finding}");
            looks.push(image);
        }
        // no two findings look alike
        for i in 0..looks.len() {
            for j in i + 1..looks.len() {
                if looks[i] != flat || looks[j] != flat {
                    assert_ne!(looks[i], looks[j], "findings {i} and {j}");
                }
            }
        }
    }

    #[test]
    fn grey_levels_stay_in_range_on_dark_and_bright_images() {
        for level in [0u8, 255] {
            for finding in crate::nih::FINDINGS {
                let mut image = Array2::<u8>::from_elem((40, 56), level);
                draw_finding(&mut image, finding, &mut ChaCha8Rng::seed_from_u64(1));
                // u8 saturates: a bright finding on white and a dark one on black change nothing
                let expected_same = (level == 255 && finding != "Emphysema")
                    || (level == 0 && finding == "Emphysema")
                    || finding == "Pneumothorax";
                assert_eq!(
                    image.iter().all(|&v| v == level),
                    expected_same,
                    "{finding} on {level}"
                );
            }
        }
    }
}
