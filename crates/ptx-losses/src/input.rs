//! Checks on the tensors handed to a loss, so that bad input is an [`Error`], not a libtorch
//! panic.

use tch::Tensor;

use crate::error::{Error, Result};

/// Checks `logits` (floating point, at least `min_dims` dimensions, not empty) and `targets`
/// (same shape and device) and returns the targets converted to the logits' kind.
pub(crate) fn targets_like(logits: &Tensor, targets: &Tensor, min_dims: usize) -> Result<Tensor> {
    check_logits(logits, "logits", min_dims)?;
    same_device(logits, targets, "targets")?;
    if targets.size() != logits.size() {
        return Err(Error::ShapeMismatch {
            what: "targets",
            expected: logits.size(),
            found: targets.size(),
        });
    }
    Ok(if targets.kind() == logits.kind() {
        targets.shallow_clone()
    } else {
        targets.to_kind(logits.kind())
    })
}

/// Checks one logits tensor: floating point, `min_dims` dimensions or more, not empty.
pub(crate) fn check_logits(logits: &Tensor, what: &'static str, min_dims: usize) -> Result<()> {
    if !logits.is_floating_point() {
        return Err(Error::NotFloat {
            what,
            kind: format!("{:?}", logits.kind()),
        });
    }
    if logits.dim() < min_dims {
        return Err(Error::BadShape {
            what,
            shape: logits.size(),
            reason: if min_dims >= 2 {
                "needs a batch dimension first: (N, ...) with at least 2 dimensions"
            } else {
                "needs at least 1 dimension"
            },
        });
    }
    if logits.numel() == 0 {
        return Err(Error::BadShape {
            what,
            shape: logits.size(),
            reason: "has no elements",
        });
    }
    Ok(())
}

/// Checks that `other` lives on the logits' device.
pub(crate) fn same_device(logits: &Tensor, other: &Tensor, what: &'static str) -> Result<()> {
    if other.device() != logits.device() {
        return Err(Error::DeviceMismatch {
            what,
            expected: format!("{:?}", logits.device()),
            found: format!("{:?}", other.device()),
        });
    }
    Ok(())
}

/// Checks that `weights` broadcasts to the logits' shape (NumPy rules, without enlarging
/// the logits) and returns it in the logits' kind.
pub(crate) fn weights_like(logits: &Tensor, weights: &Tensor) -> Result<Tensor> {
    same_device(logits, weights, "weights")?;
    let (l, w) = (logits.size(), weights.size());
    let fits = w.len() <= l.len()
        && w.iter()
            .rev()
            .zip(l.iter().rev())
            .all(|(&wd, &ld)| wd == ld || wd == 1);
    if !fits {
        return Err(Error::ShapeMismatch {
            what: "weights (must broadcast to the logits)",
            expected: l,
            found: w,
        });
    }
    Ok(weights.to_kind(logits.kind()))
}

/// A scalar option tensor in the logits' kind and device (0-dimensional, broadcasts).
pub(crate) fn scalar_like(logits: &Tensor, value: f64) -> Tensor {
    Tensor::from(value)
        .to_kind(logits.kind())
        .to_device(logits.device())
}

/// Checks that an option is finite and within `[low, high]`; `reason` says the range.
pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    low: f64,
    high: f64,
    reason: &'static str,
) -> Result<()> {
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            name,
            value,
            reason,
        })
    }
}

/// Checks that an option is finite and not negative.
pub(crate) fn check_non_negative(name: &'static str, value: f64) -> Result<()> {
    check_range(name, value, 0.0, f64::MAX, "must be finite and >= 0")
}

/// Flattens `(N, ...)` to `(N, P)` for per-image sums.
pub(crate) fn per_image_rows(t: &Tensor) -> Tensor {
    let n = t.size()[0];
    t.reshape([n, -1])
}
