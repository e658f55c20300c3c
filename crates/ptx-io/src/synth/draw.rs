//! Procedural chest radiographs: body outline, lung fields with vessel markings, ribs,
//! mediastinum and heart shadow, noise and varied exposure; pneumothoraces at the lung edge
//! (apical or lateral) with a thin bright pleural line and no markings beyond it.
//!
//! Coordinates are fractions of the image (`u` across, `v` down), so every size draws the same
//! anatomy. The image is in standard frontal display: the patient's right lung on the image's
//! left.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Where a lesion sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// Lung apex (top).
    Apical,
    /// Outer (lateral) edge.
    Lateral,
}

/// One pneumothorax: which lung (0 = image left, 1 = image right), where, how large.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lesion {
    pub(crate) lung: usize,
    pub(crate) site: Site,
    /// Area as a fraction of the image.
    pub(crate) area: f32,
    /// Half-width of the angular sector, radians (widened when the area needs it).
    pub(crate) spread: f32,
}

impl Lesion {
    /// The band `(depth, spread)` in `lung`'s normalised polar coordinates whose area is
    /// `self.area` of an image of `size` pixels: a sector of half-angle `s` between radii
    /// `1 - d` and 1 covers `s (2d - d²) rx ry` of the image. The band is at least two pixels
    /// deep (shortening the arc instead), and the arc widens up to the whole lung outline
    /// (`s = π`) where a deep band would not hold the area; depth stops at 0.8, so areas
    /// above about `0.96 π rx ry` (≈ 13 % of the image: 2 of the 3,576 real lesions) come out
    /// smaller than drawn.
    fn band(&self, lung: &Ellipse, size: usize) -> (f32, f32) {
        let k = self.area / (lung.rx * lung.ry);
        let spread = self.spread.max(k / 0.75).min(std::f32::consts::PI);
        let depth = 1.0 - (1.0 - (k / spread).min(0.96)).sqrt();
        let min_depth = 2.0 / (lung.rx.min(lung.ry) * size as f32);
        if depth >= min_depth || min_depth >= 1.0 {
            return (depth, spread);
        }
        let spread = (k / (2.0 * min_depth - min_depth * min_depth)).min(spread);
        (min_depth, spread)
    }
}

#[derive(Debug, Clone, Copy)]
struct Ellipse {
    cx: f32,
    cy: f32,
    rx: f32,
    ry: f32,
}

impl Ellipse {
    /// Normalised radius (1 on the outline) and angle (0 = image right, -pi/2 = up).
    fn polar(&self, u: f32, v: f32) -> (f32, f32) {
        let (dx, dy) = ((u - self.cx) / self.rx, (v - self.cy) / self.ry);
        ((dx * dx + dy * dy).sqrt(), dy.atan2(dx))
    }
}

/// A segment from the hilum outwards (a vessel), in fractions.
#[derive(Debug, Clone, Copy)]
struct Vessel {
    a: (f32, f32),
    b: (f32, f32),
    width: f32,
}

fn segment_distance(p: (f32, f32), s: &Vessel) -> f32 {
    let (dx, dy) = (s.b.0 - s.a.0, s.b.1 - s.a.1);
    let len2 = dx * dx + dy * dy;
    let t = (((p.0 - s.a.0) * dx + (p.1 - s.a.1) * dy) / len2).clamp(0.0, 1.0);
    let (qx, qy) = (s.a.0 + t * dx - p.0, s.a.1 + t * dy - p.1);
    (qx * qx + qy * qy).sqrt()
}

fn angle_distance(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(std::f32::consts::TAU);
    d.min(std::f32::consts::TAU - d)
}

/// Draws one radiograph and the mask of each lesion (0/1, same size).
/// The lungs' nominal centres `(x, y)` in unit image coordinates (each radiograph jitters
/// them by up to 0.02 in x and 0.03 in y).
pub(crate) const LUNG_CENTRES: [(f32, f32); 2] = [(0.31, 0.45), (0.69, 0.45)];
/// The lungs' nominal half-axes `(rx, ry)` (jittered by up to 0.015 and 0.025).
pub(crate) const LUNG_HALF_AXES: [(f32, f32); 2] = [(0.15, 0.29), (0.15, 0.28)];

pub(crate) fn radiograph(
    size: usize,
    rng: &mut ChaCha8Rng,
    lesions: &[Lesion],
) -> (Array2<u8>, Vec<Array2<u8>>) {
    let j = |rng: &mut ChaCha8Rng, x: f32| rng.random_range(-x..=x);
    let body = Ellipse {
        cx: 0.5 + j(rng, 0.02),
        cy: 0.56 + j(rng, 0.02),
        rx: 0.47 + j(rng, 0.03),
        ry: 0.55 + j(rng, 0.03),
    };
    let lung_y = LUNG_CENTRES[0].1 + j(rng, 0.03);
    let lungs = [0, 1].map(|side| Ellipse {
        cx: LUNG_CENTRES[side].0 + j(rng, 0.02),
        cy: lung_y,
        rx: LUNG_HALF_AXES[side].0 + j(rng, 0.015),
        ry: LUNG_HALF_AXES[side].1 + j(rng, 0.025),
    });
    let heart = Ellipse {
        cx: 0.57 + j(rng, 0.02),
        cy: lung_y + 0.2 + j(rng, 0.02),
        rx: 0.13 + j(rng, 0.015),
        ry: 0.11 + j(rng, 0.015),
    };
    let (tissue, lung_level) = (115.0 + j(rng, 15.0), 45.0 + j(rng, 10.0));
    // vessels radiating from each hilum, kept per lung
    let mut vessels: [Vec<Vessel>; 2] = [Vec::new(), Vec::new()];
    for (side, lung) in lungs.iter().enumerate() {
        let hilum = (
            if side == 0 {
                lung.cx + 0.07
            } else {
                lung.cx - 0.07
            },
            lung.cy + 0.02,
        );
        for _ in 0..18 {
            let angle: f32 = rng.random_range(0.0..std::f32::consts::TAU);
            let reach: f32 = rng.random_range(0.4..0.95);
            let b = (
                hilum.0 + angle.cos() * lung.rx * reach,
                hilum.1 + angle.sin() * lung.ry * reach,
            );
            vessels[side].push(Vessel {
                a: hilum,
                b,
                width: rng.random_range(0.002..0.006),
            });
        }
    }
    // ribs: arcs sagging towards the sides, one set per lung
    let mut ribs: Vec<(usize, f32, f32)> = Vec::with_capacity(18);
    for side in 0..2 {
        for i in 0..9 {
            let v0 = 0.2 + i as f32 * 0.062 + j(rng, 0.008);
            ribs.push((side, v0, 0.05 + j(rng, 0.015)));
        }
    }
    let texture: Vec<(f32, f32, f32, f32)> = (0..6)
        .map(|_| {
            (
                rng.random_range(8.0..30.0),
                rng.random_range(8.0..30.0),
                rng.random_range(0.0..6.3),
                rng.random_range(1.0..3.0),
            )
        })
        .collect();
    let (gain, offset, gamma) = (1.0 + j(rng, 0.15), j(rng, 10.0), 1.0 + j(rng, 0.2));
    let noise_sigma = rng.random_range(2.0..5.0f32);

    let bands: Vec<(f32, f32)> = lesions
        .iter()
        .map(|l| l.band(&lungs[l.lung], size))
        .collect();
    // Each lesion's sector centre: its site's, moved along the lung's edge beside the
    // lesions already at that site (alternately after and before them), so that the rows
    // of an image are separate collections as the challenge's are.
    let mut centres: Vec<f32> = Vec::with_capacity(lesions.len());
    for (k, l) in lesions.iter().enumerate() {
        let mut centre = match (l.site, l.lung) {
            (Site::Apical, 0) => -1.9,
            (Site::Apical, _) => -1.25,
            (Site::Lateral, 0) => std::f32::consts::PI,
            (Site::Lateral, _) => 0.0,
        };
        let (mut after, mut before) = (centre + bands[k].1, centre - bands[k].1);
        for (j, other) in lesions[..k].iter().enumerate() {
            if (other.lung, other.site) == (l.lung, l.site) {
                let reach = bands[j].1 + bands[k].1;
                if j % 2 == 0 {
                    after = after.max(centres[j] + reach);
                    centre = after;
                } else {
                    before = before.min(centres[j] - reach);
                    centre = before;
                }
            }
        }
        centres.push(centre);
    }
    let mut image = Array2::<f32>::zeros((size, size));
    let mut masks = vec![Array2::<u8>::zeros((size, size)); lesions.len()];
    let n = size as f32;
    for y in 0..size {
        let v = (y as f32 + 0.5) / n;
        for x in 0..size {
            let u = (x as f32 + 0.5) / n;
            let (rb, _) = body.polar(u, v);
            // air outside, soft tissue inside with a soft edge
            let mut value = 8.0 + (tissue - 8.0) * (1.0 - ((rb - 0.97) / 0.06).clamp(0.0, 1.0));
            if rb < 1.0 {
                // mediastinum: bright central band
                let half = 0.06 + 0.03 * v; // widening downwards, soft edges
                let across = ((half - (u - 0.5).abs()) / 0.015).clamp(0.0, 1.0);
                let along =
                    ((v - 0.06) / 0.04).clamp(0.0, 1.0) * ((0.86 - v) / 0.04).clamp(0.0, 1.0);
                value += 45.0 * across * along;
                for (side, lung) in lungs.iter().enumerate() {
                    let (r, angle) = lung.polar(u, v);
                    if r >= 1.0 {
                        continue;
                    }
                    let edge = ((1.0 - r) / 0.08).clamp(0.0, 1.0);
                    let mut lung_value = lung_level;
                    let mut collapsed = false;
                    for (k, l) in lesions.iter().enumerate() {
                        if l.lung != side {
                            continue;
                        }
                        let (depth, spread) = bands[k];
                        if angle_distance(angle, centres[k]) > spread {
                            continue;
                        }
                        let inner = 1.0 - depth;
                        if r > inner {
                            // a pixel belongs to the first lesion that covers it
                            if !collapsed {
                                masks[k][[y, x]] = 1;
                            }
                            collapsed = true;
                        } else if r > inner - 0.018 {
                            lung_value += 45.0; // visceral pleural line
                        }
                    }
                    if collapsed {
                        lung_value -= 22.0; // no lung markings beyond the pleural line
                    } else {
                        let t: f32 = texture
                            .iter()
                            .map(|&(fx, fy, ph, a)| a * (fx * u + fy * v + ph).sin())
                            .sum();
                        let mut markings = 0.0f32;
                        for vs in &vessels[side] {
                            let d = segment_distance((u, v), vs);
                            if d < vs.width {
                                markings = markings.max(22.0 * (1.0 - d / vs.width));
                            }
                        }
                        lung_value += t + markings;
                    }
                    value = value * (1.0 - edge) + lung_value * edge;
                }
                let (rh, _) = heart.polar(u, v);
                if rh < 1.0 {
                    value = value.max(150.0 + 20.0 * (1.0 - rh));
                }
                for &(side, v0, sag) in &ribs {
                    let lung = &lungs[side];
                    let du = (u - lung.cx) / lung.rx;
                    if du.abs() > 1.3 {
                        continue;
                    }
                    let centre =
                        v0 + sag * du * du + if side == 0 { -0.02 * du } else { 0.02 * du };
                    if (v - centre).abs() < 0.011 {
                        value += 22.0;
                    }
                }
            }
            image[[y, x]] = value;
        }
    }
    // exposure and noise
    let mut out = Array2::<u8>::zeros((size, size));
    for ((y, x), v) in image.indexed_iter() {
        let (a, b): (f32, f32) = (
            rng.random_range(f32::EPSILON..1.0),
            rng.random_range(0.0..1.0),
        );
        let gauss = (-2.0 * a.ln()).sqrt() * (std::f32::consts::TAU * b).cos();
        let exposed = 255.0 * ((v * gain + offset).clamp(0.0, 255.0) / 255.0).powf(gamma);
        out[[y, x]] = (exposed + noise_sigma * gauss).round().clamp(0.0, 255.0) as u8;
    }
    (out, masks)
}

/// Seeded generator for case `index` of a set seeded with `seed`: the same pair always draws
/// the same case, whatever else is generated.
pub(crate) fn case_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    rng
}
