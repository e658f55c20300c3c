//! Grid search of post-processing parameters maximising the challenge's mean Dice.
//!
//! Work is shared across the grid: one histogram pass per image gives the pixel and
//! true-positive counts above every threshold, and, when small components are removed, one
//! union-find sweep from the highest threshold down gives the kept counts for every
//! (threshold, minimum area) pair — components only grow as the threshold falls, so each
//! merge updates the running sums of every area once. Images run in parallel on rayon's
//! current pool; sums are taken in image order, so results do not depend on the thread count.

use std::borrow::Cow;

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bins::ThresholdBins;
use super::{PostProcess, Triplet};
use crate::components::{Connectivity, DisjointSets};
use crate::error::{check_shape, Error, Result};

/// One validation image: its probability map, its truth and (for two-stage systems) its
/// classifier probability.
#[derive(Debug, Clone, Copy)]
pub struct ValidationImage<'a> {
    /// Per-pixel probabilities, shape `(height, width)`, any layout.
    pub probability: ArrayView2<'a, f32>,
    /// Truth mask, same shape, non-zero set.
    pub truth: ArrayView2<'a, u8>,
    /// Image-level probability from a classifier; needed when the grid gates on one.
    pub classifier: Option<f64>,
}

/// The parameter values to try; every combination is scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchGrid {
    /// Pixel thresholds (the triplet rule's "bottom"). Default 0.05, 0.10, …, 0.95.
    pub thresholds: Vec<f32>,
    /// Minimum component areas in pixels; 0 keeps every component. Default `[0]`.
    pub min_component_areas: Vec<usize>,
    /// Triplet "top" values; empty (default) searches without the triplet rule.
    pub triplet_tops: Vec<f32>,
    /// Triplet minimum areas; must be non-empty exactly when `triplet_tops` is.
    pub triplet_min_areas: Vec<usize>,
    /// Classifier gates; empty (default) searches without one.
    pub classifier_thresholds: Vec<f64>,
    /// Connectivity of components. Default 8.
    pub connectivity: Connectivity,
}

impl Default for SearchGrid {
    fn default() -> Self {
        SearchGrid {
            thresholds: (1..20).map(|i| i as f32 / 20.0).collect(),
            min_component_areas: vec![0],
            triplet_tops: Vec::new(),
            triplet_min_areas: Vec::new(),
            classifier_thresholds: Vec::new(),
            connectivity: Connectivity::Eight,
        }
    }
}

/// The score of one parameter combination.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SearchPoint {
    /// The parameters.
    pub params: PostProcess,
    /// Mean Dice over the images, the challenge's empty-mask rule
    /// ([`EmptyPolicy::Kaggle`](crate::EmptyPolicy::Kaggle)).
    pub mean_dice: f64,
}

/// What a grid search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The best combination (the first in grid order among equals).
    pub best: SearchPoint,
    /// Every combination, in grid order: classifier gate, triplet top, triplet area,
    /// threshold, component area (the last varies fastest), each in the order given.
    pub points: Vec<SearchPoint>,
    /// Number of images scored.
    pub images: usize,
}

/// Per-image results for every combination, before averaging.
struct ImageStats {
    /// Dice when the gates leave the image empty.
    empty_dice: f64,
    gate_pass: Vec<bool>,
    triplet_pass: Vec<bool>,
    /// Dice per (threshold, area), area fastest.
    dice: Vec<f64>,
}

/// Reusable per-thread buffers for the component sweep.
struct Scratch {
    sets: DisjointSets,
    truth_in_set: Vec<u32>,
    bins: Vec<u16>,
    order: Vec<u32>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            sets: DisjointSets::new(0),
            truth_in_set: Vec::new(),
            bins: Vec::new(),
            order: Vec::new(),
        }
    }
}

/// Everything derived from the grid once for all images.
struct Plan {
    bins: ThresholdBins,
    /// Bin index (in `bins`) of each user threshold.
    threshold_bin: Vec<usize>,
    /// Bin index of each triplet top.
    top_bin: Vec<usize>,
    areas: Vec<u64>,
    needs_components: bool,
    /// Lowest bin of the user thresholds: the component sweep stops there.
    lowest: usize,
    /// For each bin, the user thresholds at it (recorded when the sweep passes the bin).
    users_at: Vec<Vec<usize>>,
}

fn kaggle_dice(truth: u64, predicted: u64, both: u64) -> f64 {
    if truth + predicted == 0 {
        1.0
    } else {
        (2 * both) as f64 / (truth + predicted) as f64
    }
}

fn check_grid(grid: &SearchGrid) -> Result<()> {
    let invalid = |name, message: &str| {
        Err(Error::InvalidArgument {
            name,
            message: message.into(),
        })
    };
    if grid.thresholds.is_empty() {
        return invalid("thresholds", "at least one threshold is needed");
    }
    if grid.min_component_areas.is_empty() {
        return invalid(
            "min_component_areas",
            "at least one area is needed (0 keeps everything)",
        );
    }
    if grid.triplet_tops.is_empty() != grid.triplet_min_areas.is_empty() {
        return invalid(
            "triplet",
            "triplet_tops and triplet_min_areas must both be empty or both be given",
        );
    }
    if let Some(index) = grid.classifier_thresholds.iter().position(|t| t.is_nan()) {
        return Err(Error::NaN {
            what: "classifier thresholds",
            index,
        });
    }
    Ok(())
}

/// Scores every combination of `grid` on `images` by mean Dice under the challenge's rule
/// and returns them with the best. Exact: equal to applying each [`PostProcess`] and
/// averaging [`Confusion::dice`](crate::Confusion::dice) (a property test checks this).
///
/// ```
/// use ndarray::array;
/// use ptx_metrics::{grid_search, SearchGrid, ValidationImage};
/// let prob = array![[0.9f32, 0.6], [0.4, 0.1]];
/// let truth = array![[1u8, 1], [0, 0]];
/// let images = [ValidationImage { probability: prob.view(), truth: truth.view(), classifier: None }];
/// let grid = SearchGrid { thresholds: vec![0.3, 0.5, 0.7], ..Default::default() };
/// let found = grid_search(&images, &grid)?;
/// assert_eq!(found.best.params.threshold, 0.5);
/// assert_eq!(found.best.mean_dice, 1.0);
/// # Ok::<(), ptx_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for an empty or inconsistent grid, [`Error::NaN`] in it,
/// [`Error::ShapeMismatch`] for an image whose truth and probability shapes differ,
/// [`Error::MissingClassifierScore`] when gating and an image has no classifier score.
pub fn grid_search(images: &[ValidationImage<'_>], grid: &SearchGrid) -> Result<SearchResult> {
    check_grid(grid)?;
    if !grid.classifier_thresholds.is_empty() {
        if let Some(i) = images.iter().position(|im| im.classifier.is_none()) {
            return Err(Error::MissingClassifierScore { image: Some(i) });
        }
    }
    let all: Vec<f32> = grid
        .thresholds
        .iter()
        .chain(&grid.triplet_tops)
        .copied()
        .collect();
    let bins = ThresholdBins::new(&all)?;
    let bin_of = |t: f32| bins.index_of(t).unwrap_or(0);
    let threshold_bin: Vec<usize> = grid.thresholds.iter().map(|&t| bin_of(t)).collect();
    let mut users_at = vec![Vec::new(); bins.thresholds().len() + 1];
    for (u, &k) in threshold_bin.iter().enumerate() {
        users_at[k].push(u);
    }
    let plan = Plan {
        lowest: threshold_bin.iter().copied().min().unwrap_or(0),
        users_at,
        threshold_bin,
        top_bin: grid.triplet_tops.iter().map(|&t| bin_of(t)).collect(),
        areas: grid.min_component_areas.iter().map(|&a| a as u64).collect(),
        needs_components: grid.min_component_areas.iter().any(|&a| a > 1),
        bins,
    };
    let stats: Vec<ImageStats> = images
        .par_iter()
        .map_init(Scratch::new, |scratch, image| {
            image_stats(image, grid, &plan, scratch)
        })
        .collect::<Result<_>>()?;

    let gates: Vec<Option<f64>> = if grid.classifier_thresholds.is_empty() {
        vec![None]
    } else {
        grid.classifier_thresholds
            .iter()
            .copied()
            .map(Some)
            .collect()
    };
    let mut triplets: Vec<Option<Triplet>> = Vec::new();
    for &top in &grid.triplet_tops {
        for &min_area in &grid.triplet_min_areas {
            triplets.push(Some(Triplet { top, min_area }));
        }
    }
    if triplets.is_empty() {
        triplets.push(None);
    }
    let per_image = grid.thresholds.len() * grid.min_component_areas.len();
    let mut sums = vec![0.0f64; gates.len() * triplets.len() * per_image];
    for s in &stats {
        for g in 0..gates.len() {
            for j in 0..triplets.len() {
                let base = (g * triplets.len() + j) * per_image;
                let out = &mut sums[base..base + per_image];
                if s.gate_pass.get(g).copied().unwrap_or(true)
                    && s.triplet_pass.get(j).copied().unwrap_or(true)
                {
                    out.iter_mut().zip(&s.dice).for_each(|(o, d)| *o += d);
                } else {
                    out.iter_mut().for_each(|o| *o += s.empty_dice);
                }
            }
        }
    }
    let n = images.len().max(1) as f64;
    let mut points = Vec::with_capacity(sums.len());
    let mut k = 0;
    for &gate in &gates {
        for &triplet in &triplets {
            for &threshold in &grid.thresholds {
                for &min_component_area in &grid.min_component_areas {
                    points.push(SearchPoint {
                        params: PostProcess {
                            threshold,
                            min_component_area,
                            triplet,
                            classifier_threshold: gate,
                            connectivity: grid.connectivity,
                        },
                        mean_dice: sums[k] / n,
                    });
                    k += 1;
                }
            }
        }
    }
    let mut best = points[0];
    for p in &points[1..] {
        if p.mean_dice > best.mean_dice {
            best = *p;
        }
    }
    Ok(SearchResult {
        best,
        points,
        images: images.len(),
    })
}

/// Row-major contents of a 2-D view, borrowed when already contiguous.
fn row_major<'a, T: Copy>(view: &ArrayView2<'a, T>) -> Cow<'a, [T]> {
    match view.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(view.iter().copied().collect()),
    }
}

fn image_stats(
    image: &ValidationImage<'_>,
    grid: &SearchGrid,
    plan: &Plan,
    scratch: &mut Scratch,
) -> Result<ImageStats> {
    check_shape("truth", image.probability.dim(), image.truth.dim())?;
    let prob = row_major(&image.probability);
    let truth = row_major(&image.truth);
    let nb = plan.bins.thresholds().len();
    // hist[2 b + t]: pixels in bin b with truth t.
    let mut hist = vec![0u32; 2 * (nb + 1)];
    if plan.needs_components {
        scratch.bins.clear();
        scratch.bins.reserve(prob.len());
        for (&p, &t) in prob.iter().zip(truth.iter()) {
            let b = plan.bins.bin(p);
            hist[2 * b + usize::from(t != 0)] += 1;
            scratch.bins.push(b as u16);
        }
    } else {
        // Four interleaved histograms: neighbouring pixels usually fall in the same bin, and
        // one histogram would make every increment wait for the previous one.
        let width = hist.len();
        let mut lanes = vec![0u32; 4 * width];
        let mut pc = prob.chunks_exact(4);
        let mut tc = truth.chunks_exact(4);
        for (p4, t4) in (&mut pc).zip(&mut tc) {
            for k in 0..4 {
                lanes[k * width + 2 * plan.bins.bin(p4[k]) + usize::from(t4[k] != 0)] += 1;
            }
        }
        for (&p, &t) in pc.remainder().iter().zip(tc.remainder()) {
            lanes[2 * plan.bins.bin(p) + usize::from(t != 0)] += 1;
        }
        for (i, h) in hist.iter_mut().enumerate() {
            *h = lanes[i] + lanes[width + i] + lanes[2 * width + i] + lanes[3 * width + i];
        }
    }
    let truth_count: u64 = hist.iter().skip(1).step_by(2).map(|&c| u64::from(c)).sum();
    // above[k], above_tp[k]: pixels (and true ones) with probability above threshold k.
    let mut above = vec![0u64; nb + 1];
    let mut above_tp = vec![0u64; nb + 1];
    for b in (0..nb).rev() {
        above[b] = above[b + 1] + u64::from(hist[2 * (b + 1)] + hist[2 * (b + 1) + 1]);
        above_tp[b] = above_tp[b + 1] + u64::from(hist[2 * (b + 1) + 1]);
    }
    let na = plan.areas.len();
    let dice = if plan.needs_components {
        let (kept, kept_tp) =
            component_sweep(image, plan, &hist, &truth, scratch, grid.connectivity);
        (0..plan.threshold_bin.len() * na)
            .map(|i| kaggle_dice(truth_count, kept[i], kept_tp[i]))
            .collect()
    } else {
        let mut d = Vec::with_capacity(plan.threshold_bin.len() * na);
        for &k in &plan.threshold_bin {
            d.extend(std::iter::repeat_n(
                kaggle_dice(truth_count, above[k], above_tp[k]),
                na,
            ));
        }
        d
    };
    let mut triplet_pass = Vec::with_capacity(plan.top_bin.len() * grid.triplet_min_areas.len());
    for &k in &plan.top_bin {
        for &a in &grid.triplet_min_areas {
            triplet_pass.push(above[k] >= a as u64);
        }
    }
    let gate_pass = grid
        .classifier_thresholds
        .iter()
        .map(|&t| image.classifier.is_some_and(|p| p >= t))
        .collect();
    Ok(ImageStats {
        empty_dice: kaggle_dice(truth_count, 0, 0),
        gate_pass,
        triplet_pass,
        dice,
    })
}

/// Kept pixels and kept true pixels per (user threshold, area), area fastest, after removing
/// components under each area, for all thresholds in one descending union-find sweep.
fn component_sweep(
    image: &ValidationImage<'_>,
    plan: &Plan,
    hist: &[u32],
    truth: &[u8],
    scratch: &mut Scratch,
    connectivity: Connectivity,
) -> (Vec<u64>, Vec<u64>) {
    let (rows, cols) = image.probability.dim();
    let n = rows * cols;
    let nb = plan.bins.thresholds().len();
    let na = plan.areas.len();
    let lowest = plan.lowest;
    // Pixels of bins lowest+1 ..= nb, grouped by bin (counting sort).
    let mut start = vec![0usize; nb + 2];
    for b in (lowest + 1)..=nb {
        start[b + 1] = start[b] + (hist[2 * b] + hist[2 * b + 1]) as usize;
    }
    scratch.order.clear();
    scratch.order.resize(start[nb + 1], 0);
    let mut fill = start.clone();
    for (i, &b) in scratch.bins.iter().enumerate() {
        let b = usize::from(b);
        if b > lowest {
            scratch.order[fill[b]] = i as u32;
            fill[b] += 1;
        }
    }
    if scratch.sets.len() < n {
        scratch.sets = DisjointSets::new(n);
        scratch.truth_in_set = vec![0; n];
    }
    let sets = &mut scratch.sets;
    let tps = &mut scratch.truth_in_set;
    let mut kept_px = vec![0i64; na];
    let mut kept_tp = vec![0i64; na];
    let mut out_px = vec![0u64; plan.threshold_bin.len() * na];
    let mut out_tp = vec![0u64; plan.threshold_bin.len() * na];
    let neighbours = connectivity.all();
    for b in ((lowest + 1)..=nb).rev() {
        for &i in &scratch.order[start[b]..start[b + 1]] {
            let i = i as usize;
            let t = u32::from(truth[i] != 0);
            sets.insert(i);
            tps[i] = t;
            for (j, &a) in plan.areas.iter().enumerate() {
                if a <= 1 {
                    kept_px[j] += 1;
                    kept_tp[j] += i64::from(t);
                }
            }
            let (r, c) = (i / cols, i % cols);
            for &(dr, dc) in neighbours {
                let (Some(nr), Some(nc)) = (r.checked_add_signed(dr), c.checked_add_signed(dc))
                else {
                    continue;
                };
                if nr >= rows || nc >= cols {
                    continue;
                }
                let q = nr * cols + nc;
                if !sets.contains(q) {
                    continue;
                }
                let (ra, rb) = (sets.find(i), sets.find(q));
                if ra == rb {
                    continue;
                }
                let (sa, sb) = (i64::from(sets.size(ra)), i64::from(sets.size(rb)));
                let (ta, tb) = (i64::from(tps[ra]), i64::from(tps[rb]));
                let root = sets.union_roots(ra, rb);
                tps[root] = (ta + tb) as u32;
                for (j, &a) in plan.areas.iter().enumerate() {
                    let a = a as i64;
                    let mut dp = 0;
                    let mut dt = 0;
                    if sa >= a {
                        dp -= sa;
                        dt -= ta;
                    }
                    if sb >= a {
                        dp -= sb;
                        dt -= tb;
                    }
                    if sa + sb >= a {
                        dp += sa + sb;
                        dt += ta + tb;
                    }
                    kept_px[j] += dp;
                    kept_tp[j] += dt;
                }
            }
        }
        // All pixels above threshold b - 1 are in: record that threshold's users.
        for &u in &plan.users_at[b - 1] {
            for j in 0..na {
                out_px[u * na + j] = kept_px[j] as u64;
                out_tp[u * na + j] = kept_tp[j] as u64;
            }
        }
    }
    // Users at the lowest bin whose loop never ran (no pixel above any threshold) stay 0.
    for &i in &scratch.order {
        sets.remove(i as usize);
    }
    (out_px, out_tp)
}
