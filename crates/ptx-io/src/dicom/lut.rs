//! Modality and VOI transformations (DICOM PS3.3 C.11.1 and C.11.2), applied in `f32`.

use dicom_core::value::PrimitiveValue;
use dicom_core::DicomValue;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use serde::{Deserialize, Serialize};

use super::meta::floats;

/// The Modality LUT: stored values to output units (Hounsfield units, optical density…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ModalityLut {
    /// `slope * stored + intercept` (Rescale Slope/Intercept, 1 and 0 when absent).
    Rescale {
        /// Rescale Slope (0028,1053).
        slope: f64,
        /// Rescale Intercept (0028,1052).
        intercept: f64,
    },
    /// A Modality LUT Sequence (0028,3000) table.
    Table(LutTable),
}

impl ModalityLut {
    /// The identity (slope 1, intercept 0).
    pub const IDENTITY: ModalityLut = ModalityLut::Rescale {
        slope: 1.0,
        intercept: 0.0,
    };

    /// Applies the LUT to one stored value.
    pub fn apply(&self, v: f32) -> f32 {
        match self {
            ModalityLut::Rescale { slope, intercept } => (f64::from(v) * slope + intercept) as f32,
            ModalityLut::Table(t) => t.lookup(v),
        }
    }

    /// Whether the LUT changes values.
    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }
}

/// A LUT as in (0028,3002) LUT Descriptor + (0028,3006) LUT Data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LutTable {
    /// Input value mapped to the first entry; lower inputs map to it too.
    pub first_mapped: i64,
    /// Bits per entry (LUT Descriptor's third value).
    pub bits: u16,
    /// The entries.
    pub data: Vec<f32>,
}

impl LutTable {
    /// Looks up `v`, clamping to the first and last entries.
    pub fn lookup(&self, v: f32) -> f32 {
        let last = self.data.len().saturating_sub(1);
        let idx =
            (f64::from(v).floor() - self.first_mapped as f64).clamp(0.0, last as f64) as usize;
        self.data.get(idx).copied().unwrap_or(0.0)
    }

    /// Largest value an entry can hold, `2^bits - 1`.
    pub fn max_output(&self) -> f32 {
        ((1u64 << self.bits.clamp(1, 32)) - 1) as f32
    }
}

/// VOI LUT Function (0028,1056): how a window maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum VoiFunction {
    /// `LINEAR` (the default): the DICOM window with its half-pixel offsets.
    #[default]
    Linear,
    /// `LINEAR_EXACT`: `(x - c) / w + 0.5`.
    LinearExact,
    /// `SIGMOID`: `1 / (1 + exp(-4 (x - c) / w))`.
    Sigmoid,
}

/// A window (centre/width) with its function.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Window Center (0028,1050), in modality output units.
    pub center: f64,
    /// Window Width (0028,1051), in modality output units.
    pub width: f64,
    /// VOI LUT Function.
    pub function: VoiFunction,
}

impl Window {
    /// Maps a modality value to `[0, 1]` as DICOM PS3.3 C.11.2.1.2 does for an output range of
    /// `[0, 1]` (pydicom's `apply_windowing` with that range).
    pub fn apply(&self, x: f32) -> f32 {
        let x = f64::from(x);
        let (c, w) = (self.center, self.width);
        let y = match self.function {
            VoiFunction::Linear => {
                let w = w.max(1.0);
                if x <= c - 0.5 - (w - 1.0) / 2.0 {
                    0.0
                } else if x > c - 0.5 + (w - 1.0) / 2.0 {
                    1.0
                } else {
                    (x - (c - 0.5)) / (w - 1.0) + 0.5
                }
            }
            VoiFunction::LinearExact => {
                let w = w.max(f64::MIN_POSITIVE);
                if x <= c - w / 2.0 {
                    0.0
                } else if x > c + w / 2.0 {
                    1.0
                } else {
                    (x - c) / w + 0.5
                }
            }
            VoiFunction::Sigmoid => 1.0 / (1.0 + (-4.0 * (x - c) / w.max(f64::MIN_POSITIVE)).exp()),
        };
        y.clamp(0.0, 1.0) as f32
    }
}

/// How [`super::DicomImage::display`] maps modality values to grey levels.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Voi {
    /// The file's first window, else its first VOI LUT, else identity for 8-bit unsigned
    /// images without a modality transform, else the frame's min-max.
    #[default]
    Auto,
    /// This window.
    Window(Window),
    /// The file's window number `n` (0-based); an error if absent.
    FileWindow(usize),
    /// The file's VOI LUT number `n` (0-based); an error if absent.
    FileTable(usize),
    /// The frame's minimum to 0 and maximum to 255.
    MinMax,
    /// Values clipped to `[0, 255]` as they are.
    Identity,
}

fn lut_values(obj: &InMemDicomObject, bits: u16) -> Option<Vec<f32>> {
    let elem = obj.element_opt(tags::LUT_DATA).ok()??;
    match elem.value() {
        DicomValue::Primitive(PrimitiveValue::U8(bytes)) if bits > 8 => Some(
            bytes
                .chunks_exact(2)
                .map(|c| f32::from(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
        ),
        DicomValue::Primitive(p) => p
            .to_multi_int::<i64>()
            .ok()
            .map(|v| v.into_iter().map(|x| x as f32).collect()),
        _ => None,
    }
}

pub(crate) fn lut_table(item: &InMemDicomObject, signed_input: bool) -> Option<LutTable> {
    let desc = obj_ints(item, tags::LUT_DESCRIPTOR)?;
    if desc.len() < 3 {
        return None;
    }
    let first_mapped = if signed_input && desc[1] > i64::from(i16::MAX) {
        desc[1] - 65536
    } else {
        desc[1]
    };
    let bits = u16::try_from(desc[2]).ok()?;
    let data = lut_values(item, bits)?;
    (!data.is_empty()).then_some(LutTable {
        first_mapped,
        bits,
        data,
    })
}

fn obj_ints(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<Vec<i64>> {
    obj.element_opt(tag).ok()??.to_multi_int::<i64>().ok()
}

fn sequence_items(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Vec<&InMemDicomObject> {
    obj.element_opt(tag)
        .ok()
        .flatten()
        .and_then(|e| e.items())
        .map(|items| items.iter().collect())
        .unwrap_or_default()
}

/// The file's Modality LUT (sequence first, then rescale).
pub(crate) fn modality_lut(obj: &InMemDicomObject, signed: bool) -> ModalityLut {
    if let Some(t) = sequence_items(obj, tags::MODALITY_LUT_SEQUENCE)
        .first()
        .and_then(|item| lut_table(item, signed))
    {
        return ModalityLut::Table(t);
    }
    let one = |tag| {
        floats(obj, tag)
            .and_then(|v| v.first().copied())
            .filter(|v| v.is_finite())
    };
    match (one(tags::RESCALE_SLOPE), one(tags::RESCALE_INTERCEPT)) {
        (None, None) => ModalityLut::IDENTITY,
        (slope, intercept) => ModalityLut::Rescale {
            slope: slope.unwrap_or(1.0),
            intercept: intercept.unwrap_or(0.0),
        },
    }
}

/// The file's windows (several centre/width pairs may be listed).
pub(crate) fn windows(obj: &InMemDicomObject) -> Vec<Window> {
    let function = super::meta::string(obj, tags::VOILUT_FUNCTION)
        .map(|s| match s.to_ascii_uppercase().as_str() {
            "LINEAR_EXACT" => VoiFunction::LinearExact,
            "SIGMOID" => VoiFunction::Sigmoid,
            _ => VoiFunction::Linear,
        })
        .unwrap_or_default();
    let (Some(centers), Some(widths)) = (
        floats(obj, tags::WINDOW_CENTER),
        floats(obj, tags::WINDOW_WIDTH),
    ) else {
        return Vec::new();
    };
    centers
        .into_iter()
        .zip(widths)
        .filter(|(c, w)| c.is_finite() && w.is_finite() && *w > 0.0)
        .map(|(center, width)| Window {
            center,
            width,
            function,
        })
        .collect()
}

/// The file's VOI LUT Sequence tables.
pub(crate) fn voi_tables(obj: &InMemDicomObject) -> Vec<LutTable> {
    sequence_items(obj, tags::VOILUT_SEQUENCE)
        .into_iter()
        .filter_map(|item| lut_table(item, false))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_window_matches_standard() {
        // PS3.3 C.11.2.1.2.1 with c = 40, w = 400: below c - 0.5 - (w-1)/2 = -160 is 0.
        let w = Window {
            center: 40.0,
            width: 400.0,
            function: VoiFunction::Linear,
        };
        assert_eq!(w.apply(-160.0), 0.0);
        assert_eq!(w.apply(240.0), 1.0);
        assert!((w.apply(39.5) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn table_clamps() {
        let t = LutTable {
            first_mapped: 10,
            bits: 8,
            data: vec![0.0, 5.0, 9.0],
        };
        assert_eq!(t.lookup(0.0), 0.0);
        assert_eq!(t.lookup(11.0), 5.0);
        assert_eq!(t.lookup(100.0), 9.0);
        assert_eq!(t.max_output(), 255.0);
    }
}
