//! Measurements of a predicted pneumothorax mask for a report: components, areas, side,
//! bounding boxes and an approximate rim width with the British Thoracic Society size class.
//!
//! # The rim-width approximation
//!
//! The BTS guideline (MacDuff et al., Thorax 2010) sizes a pneumothorax by the interpleural
//! distance, lung edge to chest wall, measured at the level of the hilum: small below 2 cm,
//! large at 2 cm or more. A pneumothorax on a frontal film is a band of air along the chest
//! wall, so its width perpendicular to the wall is the diameter of the largest disc that fits
//! inside the band. [`Lesion::rim_width_px`] is that diameter: twice the largest Euclidean
//! distance from a lesion pixel to the outside of the lesion, minus one pixel
//! ([`crate::distance_to_outside`]), and [`Lesion::rim_width_mm`] the same
//! with the DICOM's pixel spacing. It follows the wall whatever its direction: lateral
//! (vertical wall) and apical (horizontal wall) pneumothoraces alike, where a horizontal or
//! vertical chord would measure the length of a crescent instead of its width.
//!
//! Where it fails:
//! - the widest point is not necessarily at the hilum, so the class can be larger than a
//!   radiologist's (the point is given: [`Lesion::rim_point`]);
//! - a lesion that is not a band (a loculated or rounded collection, or a mask that covers
//!   lung as well as air) gives the diameter of its largest inscribed disc, which is not an
//!   interpleural distance;
//! - rotated or oblique films, medial, anterior or subpulmonic air;
//! - widths are within one pixel: a band of even width `w` reads `w - 1`;
//! - pixel spacing: DICOM *Imager Pixel Spacing* is at the detector, and a chest at the usual
//!   distance is magnified by about 5–15 %, so millimetres are overestimated by that much.
//!
//! It is an aid for triage and for reports, not a measurement to act on alone.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::components::{label_components, Connectivity};
use crate::distance::distance_to_outside;
use crate::error::{Error, Result};

/// Size of a pixel in millimetres, as DICOM's Pixel Spacing: between rows, then between
/// columns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PixelSpacing {
    /// Vertical size of a pixel (distance between rows), mm.
    pub row_mm: f64,
    /// Horizontal size of a pixel (distance between columns), mm.
    pub col_mm: f64,
}

/// The half of the image a lesion's centroid lies in, as displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageSide {
    /// Left half of the image (columns below width / 2).
    Left,
    /// Right half of the image.
    Right,
}

/// The patient's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatientSide {
    /// The patient's right.
    Right,
    /// The patient's left.
    Left,
}

impl ImageSide {
    /// The patient's side under the standard display of frontal chest radiographs (PA and
    /// AP alike): the patient's right on the viewer's left. Wrong for a film displayed
    /// mirrored; check the laterality marker.
    pub fn patient_side(self) -> PatientSide {
        match self {
            ImageSide::Left => PatientSide::Right,
            ImageSide::Right => PatientSide::Left,
        }
    }
}

/// The British Thoracic Society size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BtsSize {
    /// Rim below 2 cm.
    Small,
    /// Rim of 2 cm or more.
    Large,
}

impl BtsSize {
    /// The class of a rim width in millimetres.
    pub fn from_rim_mm(rim_mm: f64) -> Self {
        if rim_mm >= 20.0 {
            BtsSize::Large
        } else {
            BtsSize::Small
        }
    }
}

/// Inclusive pixel bounds of a lesion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BoundingBox {
    /// First row.
    pub top: usize,
    /// First column.
    pub left: usize,
    /// Last row.
    pub bottom: usize,
    /// Last column.
    pub right: usize,
}

/// Measurements of one connected component.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lesion {
    /// Area in pixels.
    pub area_px: usize,
    /// Area in mm², when the pixel spacing is known.
    pub area_mm2: Option<f64>,
    /// Centroid `(row, column)` in pixels.
    pub centroid: (f64, f64),
    /// Image half of the centroid.
    pub side: ImageSide,
    /// Pixel bounds.
    pub bbox: BoundingBox,
    /// Width of the band, pixels: diameter of the largest disc inside the lesion (the rim
    /// width approximation, see the [module docs](self)).
    pub rim_width_px: f64,
    /// The same in mm (computed with the row and column spacing), when the spacing is known.
    pub rim_width_mm: Option<f64>,
    /// `(row, column)` of the centre of that disc: where the lesion is widest.
    pub rim_point: (usize, usize),
    /// BTS class from `rim_width_mm`, when the spacing is known.
    pub bts_size: Option<BtsSize>,
}

/// Measurements of a whole mask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionReport {
    /// The lesions, largest area first.
    pub lesions: Vec<Lesion>,
    /// Total area in pixels.
    pub total_area_px: usize,
    /// Total area in mm², when the spacing is known.
    pub total_area_mm2: Option<f64>,
    /// The spacing used; `None` means "unknown", and every millimetre value is `None`.
    pub spacing: Option<PixelSpacing>,
    /// Class of the widest rim among the lesions; `None` without spacing or lesion.
    pub bts_size: Option<BtsSize>,
}

/// Options of [`measure_lesions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LesionOptions {
    /// Connectivity of components. Default 8.
    pub connectivity: Connectivity,
    /// Components under this many pixels are ignored. Default 0 (none).
    pub min_area: usize,
}

impl Default for LesionOptions {
    fn default() -> Self {
        LesionOptions {
            connectivity: Connectivity::Eight,
            min_area: 0,
        }
    }
}

/// Per-component accumulators.
#[derive(Clone)]
struct Acc {
    area: usize,
    row_sum: f64,
    col_sum: f64,
    bbox: BoundingBox,
    /// Largest distance to the outside in pixels, and where.
    reach_px: f64,
    reach_at: (usize, usize),
    /// Largest distance to the outside in mm.
    reach_mm: f64,
}

/// Measures every lesion of `mask` (`(height, width)`, non-zero set). `spacing` comes from
/// the DICOM (ptx-io's `DicomMeta::pixel_spacing_mm`, `[row, column]`); `None` leaves millimetres unknown.
///
/// ```
/// use ndarray::Array2;
/// use ptx_metrics::{measure_lesions, BtsSize, ImageSide, LesionOptions, PixelSpacing};
/// // A band 30 rows tall and 11 columns wide on the left of a 100 x 100 image, 0.5 mm
/// // pixels: rim 11 px = 5.5 mm.
/// let mut mask = Array2::<u8>::zeros((100, 100));
/// mask.slice_mut(ndarray::s![20..50, 2..13]).fill(1);
/// let spacing = PixelSpacing { row_mm: 0.5, col_mm: 0.5 };
/// let report = measure_lesions(mask.view(), Some(spacing), LesionOptions::default())?;
/// let lesion = report.lesions[0];
/// assert_eq!((lesion.area_px, lesion.rim_width_px), (330, 11.0));
/// assert_eq!((lesion.rim_width_mm, lesion.area_mm2), (Some(5.5), Some(82.5)));
/// assert_eq!(lesion.side, ImageSide::Left);
/// assert_eq!(report.bts_size, Some(BtsSize::Small));
/// # Ok::<(), ptx_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] for a spacing that is not positive and finite.
pub fn measure_lesions(
    mask: ArrayView2<'_, u8>,
    spacing: Option<PixelSpacing>,
    options: LesionOptions,
) -> Result<LesionReport> {
    if let Some(s) = spacing {
        if !(s.row_mm.is_finite() && s.col_mm.is_finite() && s.row_mm > 0.0 && s.col_mm > 0.0) {
            return Err(Error::InvalidArgument {
                name: "pixel spacing",
                message: format!("{} x {} mm is not a positive size", s.row_mm, s.col_mm),
            });
        }
    }
    let cols = mask.ncols();
    let comps = label_components(mask, options.connectivity);
    let labels = &comps.labels;
    let mut acc: Vec<Acc> = comps
        .sizes
        .iter()
        .map(|_| Acc {
            area: 0,
            row_sum: 0.0,
            col_sum: 0.0,
            bbox: BoundingBox {
                top: usize::MAX,
                left: usize::MAX,
                bottom: 0,
                right: 0,
            },
            reach_px: 0.0,
            reach_at: (0, 0),
            reach_mm: 0.0,
        })
        .collect();
    let reach_px = distance_to_outside(mask, 1.0, 1.0);
    // With square pixels the distances in mm are the pixel ones scaled: one transform only.
    let reach_mm = spacing
        .filter(|s| s.row_mm != s.col_mm)
        .map(|s| distance_to_outside(mask, s.row_mm, s.col_mm));
    for ((r, c), &l) in labels.indexed_iter() {
        if l == 0 {
            continue;
        }
        let a = &mut acc[l as usize - 1];
        a.area += 1;
        a.row_sum += r as f64;
        a.col_sum += c as f64;
        a.bbox.top = a.bbox.top.min(r);
        a.bbox.bottom = a.bbox.bottom.max(r);
        a.bbox.left = a.bbox.left.min(c);
        a.bbox.right = a.bbox.right.max(c);
        if reach_px[[r, c]] > a.reach_px {
            a.reach_px = reach_px[[r, c]];
            a.reach_at = (r, c);
        }
        if let Some(d) = &reach_mm {
            a.reach_mm = a.reach_mm.max(d[[r, c]]);
        } else if let Some(sp) = spacing {
            a.reach_mm = a.reach_mm.max(reach_px[[r, c]] * sp.row_mm);
        }
    }
    let mm2 = spacing.map(|s| s.row_mm * s.col_mm);
    let mut lesions: Vec<Lesion> = acc
        .into_iter()
        .filter(|a| a.area >= options.min_area.max(1))
        .map(|a| {
            let centroid = (a.row_sum / a.area as f64, a.col_sum / a.area as f64);
            // Twice the reach, less one pixel (a 1-pixel line has reach 1 and width 1).
            let rim_mm = spacing.map(|s| 2.0 * a.reach_mm - s.row_mm.min(s.col_mm));
            Lesion {
                area_px: a.area,
                area_mm2: mm2.map(|m| m * a.area as f64),
                centroid,
                side: if centroid.1 < cols as f64 / 2.0 {
                    ImageSide::Left
                } else {
                    ImageSide::Right
                },
                bbox: a.bbox,
                rim_width_px: 2.0 * a.reach_px - 1.0,
                rim_width_mm: rim_mm,
                rim_point: a.reach_at,
                bts_size: rim_mm.map(BtsSize::from_rim_mm),
            }
        })
        .collect();
    lesions.sort_by_key(|l| std::cmp::Reverse(l.area_px));
    let total_area_px = lesions.iter().map(|l| l.area_px).sum();
    let widest = lesions
        .iter()
        .filter_map(|l| l.rim_width_mm)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    Ok(LesionReport {
        total_area_mm2: mm2.map(|m| m * total_area_px as f64),
        total_area_px,
        lesions,
        spacing,
        bts_size: widest.map(BtsSize::from_rim_mm),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Sets rows `r0..r1` x columns `c0..c1` (`s!` is not usable under `forbid(unsafe_code)`).
    fn fill(m: &mut Array2<u8>, (r0, r1): (usize, usize), (c0, c1): (usize, usize)) {
        for r in r0..r1 {
            for c in c0..c1 {
                m[[r, c]] = 1;
            }
        }
    }

    #[test]
    fn two_lesions_sorted_by_area_with_sides() -> Result<()> {
        let mut m = Array2::<u8>::zeros((40, 40));
        fill(&mut m, (0, 4), (30, 38)); // 32 px, right
        fill(&mut m, (10, 30), (1, 3)); // 40 px, left
        let r = measure_lesions(m.view(), None, LesionOptions::default())?;
        assert_eq!(r.lesions.len(), 2);
        assert_eq!(r.lesions[0].area_px, 40);
        assert_eq!(r.lesions[0].side, ImageSide::Left);
        assert_eq!(r.lesions[0].side.patient_side(), PatientSide::Right);
        assert_eq!(r.lesions[1].side, ImageSide::Right);
        assert_eq!(
            r.lesions[1].bbox,
            BoundingBox {
                top: 0,
                left: 30,
                bottom: 3,
                right: 37
            }
        );
        assert_eq!(r.total_area_px, 72);
        assert_eq!(
            (r.total_area_mm2, r.bts_size, r.lesions[0].rim_width_mm),
            (None, None, None)
        );
        Ok(())
    }

    #[test]
    fn apical_crescent_width_is_its_thickness_not_its_span() -> Result<()> {
        // A cap 3 rows thick along the top of the image region, 30 columns long: a
        // horizontal chord would read 30, the width against the (horizontal) wall is 3.
        let mut m = Array2::<u8>::zeros((20, 40));
        fill(&mut m, (2, 5), (5, 35));
        let spacing = PixelSpacing {
            row_mm: 2.0,
            col_mm: 1.0,
        };
        let r = measure_lesions(m.view(), Some(spacing), LesionOptions::default())?;
        assert_eq!(r.lesions.len(), 1);
        assert_eq!(r.lesions[0].rim_width_px, 3.0);
        assert_eq!(r.lesions[0].rim_point.0, 3);
        // In mm the reach is 4 mm (2 rows of 2 mm): 2 x 4 - 1 = 7 mm, within one pixel of 6.
        assert_eq!(r.lesions[0].rim_width_mm, Some(7.0));
        assert_eq!(r.bts_size, Some(BtsSize::Small));
        // A band 25 pixels wide at 1 mm: large.
        let mut wide = Array2::<u8>::zeros((60, 60));
        fill(&mut wide, (5, 55), (1, 26));
        let one = PixelSpacing {
            row_mm: 1.0,
            col_mm: 1.0,
        };
        let r = measure_lesions(wide.view(), Some(one), LesionOptions::default())?;
        assert_eq!(r.lesions[0].rim_width_mm, Some(25.0));
        assert_eq!(r.bts_size, Some(BtsSize::Large));
        Ok(())
    }

    #[test]
    fn bad_spacing_and_min_area() -> Result<()> {
        let mut m = Array2::<u8>::zeros((4, 4));
        m[[0, 0]] = 1;
        assert!(measure_lesions(
            m.view(),
            Some(PixelSpacing {
                row_mm: 0.0,
                col_mm: 1.0
            }),
            LesionOptions::default()
        )
        .is_err());
        let r = measure_lesions(
            m.view(),
            None,
            LesionOptions {
                min_area: 2,
                ..Default::default()
            },
        )?;
        assert!(r.lesions.is_empty());
        assert_eq!(BtsSize::from_rim_mm(20.0), BtsSize::Large);
        assert_eq!(BtsSize::from_rim_mm(19.9), BtsSize::Small);
        Ok(())
    }
}
