//! Post-processing of probability maps into masks, and the search of its parameters on
//! validation data.
//!
//! One [`PostProcess`] chains four rules, each optional but the threshold:
//!
//! 1. **classifier gate** (two-stage systems): the mask is empty when the image classifier's
//!    probability is below `classifier_threshold`;
//! 2. **triplet rule** (the winning SIIM solution's): the mask is empty unless at least
//!    `triplet.min_area` pixels have a probability above `triplet.top`;
//! 3. **threshold**: the mask is the pixels with probability above `threshold` (strictly, as
//!    the winning solution's `tensor > threshold`);
//! 4. **small-component removal**: connected components under `min_component_area` pixels
//!    are dropped.
//!
//! [`grid_search`] scores every combination of a [`SearchGrid`] on validation images with the
//! challenge's mean Dice in one pass per image.

mod bins;
mod search;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::components::{remove_small_components, Connectivity};
use crate::error::{Error, Result};

pub use search::{grid_search, SearchGrid, SearchPoint, SearchResult, ValidationImage};

/// The triplet rule's two extra parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Triplet {
    /// The "top" probability a pixel must exceed to count as evidence.
    pub top: f32,
    /// The image is empty unless at least this many pixels exceed `top`.
    pub min_area: usize,
}

/// Parameters turning a probability map into a mask (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PostProcess {
    /// Pixels with probability `> threshold` are set. Default 0.5.
    pub threshold: f32,
    /// Components smaller than this (pixels) are removed; 0 keeps all. Default 0.
    pub min_component_area: usize,
    /// The triplet rule, when used. Default none.
    pub triplet: Option<Triplet>,
    /// Empty when the classifier's probability is below this, when used. Default none.
    pub classifier_threshold: Option<f64>,
    /// Connectivity of components. Default 8.
    pub connectivity: Connectivity,
}

impl Default for PostProcess {
    fn default() -> Self {
        PostProcess {
            threshold: 0.5,
            min_component_area: 0,
            triplet: None,
            classifier_threshold: None,
            connectivity: Connectivity::Eight,
        }
    }
}

impl PostProcess {
    /// Plain thresholding at `threshold`.
    pub fn threshold(threshold: f32) -> Self {
        PostProcess {
            threshold,
            ..Default::default()
        }
    }

    /// Whether the gates (classifier, triplet) leave the image empty.
    ///
    /// # Errors
    /// [`Error::MissingClassifierScore`] when gating on a classifier without its score.
    pub fn is_gated(
        &self,
        probability: ArrayView2<'_, f32>,
        classifier: Option<f64>,
    ) -> Result<bool> {
        if let Some(t) = self.classifier_threshold {
            let p = classifier.ok_or(Error::MissingClassifierScore { image: None })?;
            if p.is_nan() || p < t {
                return Ok(true);
            }
        }
        if let Some(tr) = self.triplet {
            let evidence = probability.iter().filter(|&&p| p > tr.top).count();
            if evidence < tr.min_area {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The 0/1 mask (`(height, width)`, standard layout) of a probability map;
    /// `classifier` is the image's classifier probability, needed only with a classifier
    /// gate.
    ///
    /// ```
    /// use ndarray::array;
    /// use ptx_metrics::{PostProcess, Triplet};
    /// let prob = array![[0.9f32, 0.6, 0.1, 0.1], [0.2, 0.1, 0.1, 0.7]];
    /// assert_eq!(PostProcess::threshold(0.5).apply(prob.view(), None)?,
    ///            array![[1u8, 1, 0, 0], [0, 0, 0, 1]]);
    /// // Triplet: needs 2 pixels above 0.8, only one is: empty.
    /// let pp = PostProcess { triplet: Some(Triplet { top: 0.8, min_area: 2 }), ..PostProcess::threshold(0.5) };
    /// assert_eq!(pp.apply(prob.view(), None)?.sum(), 0);
    /// // Components under 2 pixels removed.
    /// let pp = PostProcess { min_component_area: 2, ..PostProcess::threshold(0.5) };
    /// assert_eq!(pp.apply(prob.view(), None)?, array![[1u8, 1, 0, 0], [0, 0, 0, 0]]);
    /// # Ok::<(), ptx_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::MissingClassifierScore`].
    pub fn apply(
        &self,
        probability: ArrayView2<'_, f32>,
        classifier: Option<f64>,
    ) -> Result<Array2<u8>> {
        if self.is_gated(probability, classifier)? {
            return Ok(Array2::zeros(probability.dim()));
        }
        let t = self.threshold;
        let mask = probability.mapv(|p| u8::from(p > t));
        if self.min_component_area <= 1 {
            return Ok(mask);
        }
        Ok(remove_small_components(
            mask.view(),
            self.min_component_area,
            self.connectivity,
        ))
    }
}
