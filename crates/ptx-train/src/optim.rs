//! Optimizers with inspectable state: Adam, AdamW, SGD (momentum, Nesterov) and RAdam, each the
//! algorithm of PyTorch 2.11's single-tensor implementation (`foreach=False`), step for step.
//!
//! Unlike `tch::nn::Optimizer` (libtorch's C++ optimizers, whose moments cannot be read back),
//! every moment buffer here is a tensor the caller can save and restore
//! ([`Optimizer::state`] / [`Optimizer::load_state`]), so a training run killed mid-way resumes
//! with the same optimizer state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::{Error, Result};

fn default_betas() -> [f64; 2] {
    [0.9, 0.999]
}
fn default_eps() -> f64 {
    1e-8
}
fn default_adamw_decay() -> f64 {
    1e-2
}

/// Which optimizer, with PyTorch's argument names and defaults. Serialised with a `kind` tag:
/// `{kind = "adam", lr = 1e-4}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// `torch.optim.Adam` (L2 `weight_decay` added to the gradient).
    Adam {
        /// Learning rate.
        lr: f64,
        /// `(beta1, beta2)`. Default `[0.9, 0.999]`.
        #[serde(default = "default_betas")]
        betas: [f64; 2],
        /// Default 1e-8.
        #[serde(default = "default_eps")]
        eps: f64,
        /// Default 0.
        #[serde(default)]
        weight_decay: f64,
    },
    /// `torch.optim.AdamW` (decoupled weight decay, default 1e-2).
    Adamw {
        /// Learning rate.
        lr: f64,
        /// Default `[0.9, 0.999]`.
        #[serde(default = "default_betas")]
        betas: [f64; 2],
        /// Default 1e-8.
        #[serde(default = "default_eps")]
        eps: f64,
        /// Default 1e-2.
        #[serde(default = "default_adamw_decay")]
        weight_decay: f64,
    },
    /// `torch.optim.SGD` (dampening 0).
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Default 0.
        #[serde(default)]
        momentum: f64,
        /// Nesterov momentum. Default false.
        #[serde(default)]
        nesterov: bool,
        /// L2 weight decay. Default 0.
        #[serde(default)]
        weight_decay: f64,
    },
    /// `torch.optim.RAdam` (Liu et al. 2020, rectified Adam; Viel & Orhan's optimizer).
    Radam {
        /// Learning rate.
        lr: f64,
        /// Default `[0.9, 0.999]`.
        #[serde(default = "default_betas")]
        betas: [f64; 2],
        /// Default 1e-8.
        #[serde(default = "default_eps")]
        eps: f64,
        /// Default 0.
        #[serde(default)]
        weight_decay: f64,
        /// AdamW-style decay instead of L2. Default false.
        #[serde(default)]
        decoupled_weight_decay: bool,
    },
}

impl Default for OptimizerConfig {
    /// Adam, lr 1e-4 (the papers' most common choice).
    fn default() -> Self {
        OptimizerConfig::Adam {
            lr: 1e-4,
            betas: default_betas(),
            eps: default_eps(),
            weight_decay: 0.0,
        }
    }
}

impl OptimizerConfig {
    /// The configured learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Adamw { lr, .. }
            | OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Radam { lr, .. } => *lr,
        }
    }

    /// Checks the learning rate, momentum and the other values' ranges.
    pub(crate) fn validate(&self) -> Result<()> {
        let lr = self.lr();
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(Error::option("lr", lr, "must be finite and non-negative"));
        }
        let betas = match self {
            OptimizerConfig::Adam { betas, .. }
            | OptimizerConfig::Adamw { betas, .. }
            | OptimizerConfig::Radam { betas, .. } => Some(*betas),
            OptimizerConfig::Sgd {
                momentum, nesterov, ..
            } => {
                if !(0.0..1.0).contains(momentum) {
                    return Err(Error::option("momentum", momentum, "must be in [0, 1)"));
                }
                if *nesterov && *momentum == 0.0 {
                    return Err(Error::option("nesterov", true, "needs a momentum"));
                }
                None
            }
        };
        if let Some(b) = betas {
            if !b.iter().all(|x| (0.0..1.0).contains(x)) {
                return Err(Error::option(
                    "betas",
                    format!("{b:?}"),
                    "must be in [0, 1)",
                ));
            }
        }
        Ok(())
    }
}

/// Per-parameter state.
#[derive(Debug)]
struct Slot {
    exp_avg: Option<Tensor>,
    exp_avg_sq: Option<Tensor>,
    momentum: Option<Tensor>,
}

/// An optimizer over a list of named parameters.
#[derive(Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    lr: f64,
    step: u64,
    params: Vec<(String, Tensor)>,
    slots: Vec<Slot>,
}

impl Optimizer {
    /// An optimizer for `params` (name, tensor requiring grad). Parameters whose
    /// `requires_grad` is off when a step runs (frozen) are skipped, as PyTorch skips
    /// parameters without a gradient.
    pub fn new(config: OptimizerConfig, params: Vec<(String, Tensor)>) -> Result<Self> {
        config.validate()?;
        let slots = params
            .iter()
            .map(|_| Slot {
                exp_avg: None,
                exp_avg_sq: None,
                momentum: None,
            })
            .collect();
        Ok(Self {
            lr: config.lr(),
            config,
            step: 0,
            params,
            slots,
        })
    }

    /// The trainable parameters of a var store, in name order (buffers excluded).
    pub fn for_var_store(config: OptimizerConfig, vs: &tch::nn::VarStore) -> Result<Self> {
        let trainable: std::collections::HashSet<usize> = vs
            .trainable_variables()
            .iter()
            .map(|t| t.data_ptr() as usize)
            .collect();
        let mut named: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| trainable.contains(&(t.data_ptr() as usize)))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        Self::new(config, named)
    }

    /// Current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate (schedulers call this once per epoch).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Clears every parameter's gradient.
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// Clips the gradients' global L2 norm to `max_norm` (`clip_grad_norm_`); returns the norm
    /// before clipping.
    pub fn clip_grad_norm(&self, max_norm: f64) -> f64 {
        let grads: Vec<Tensor> = self
            .params
            .iter()
            .map(|(_, p)| p.grad())
            .filter(Tensor::defined)
            .collect();
        if grads.is_empty() {
            return 0.0;
        }
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
        let total = Tensor::stack(&norms, 0).norm().double_value(&[]);
        let coef = max_norm / (total + 1e-6);
        if coef < 1.0 {
            tch::no_grad(|| {
                for mut g in grads {
                    let _ = g.g_mul_scalar_(coef);
                }
            });
        }
        total
    }

    /// Backward of `loss`, then one step, then clears the gradients.
    pub fn backward_step(&mut self, loss: &Tensor) {
        self.zero_grad();
        loss.backward();
        self.step();
    }

    /// One update of every parameter that has a gradient.
    pub fn step(&mut self) {
        self.step += 1;
        let step = self.step as f64;
        let lr = self.lr;
        tch::no_grad(|| {
            for ((_, p), slot) in self.params.iter_mut().zip(&mut self.slots) {
                let g = p.grad();
                if !g.defined() || !p.requires_grad() {
                    continue;
                }
                update(&self.config, lr, step, p, &g, slot);
            }
        });
    }

    /// The state to checkpoint: `step`, `lr` and the moment tensors keyed
    /// `<param>.exp_avg` / `.exp_avg_sq` / `.momentum_buffer`, as CPU copies (later steps do
    /// not change them).
    pub fn state(&self) -> (OptimizerState, Vec<(String, Tensor)>) {
        let mut tensors = Vec::new();
        for ((name, _), slot) in self.params.iter().zip(&self.slots) {
            for (suffix, t) in [
                ("exp_avg", &slot.exp_avg),
                ("exp_avg_sq", &slot.exp_avg_sq),
                ("momentum_buffer", &slot.momentum),
            ] {
                if let Some(t) = t {
                    let copy = match t.device() {
                        tch::Device::Cpu => t.copy(),
                        _ => t.to_device(tch::Device::Cpu),
                    };
                    tensors.push((format!("{name}.{suffix}"), copy));
                }
            }
        }
        (
            OptimizerState {
                config: self.config.clone(),
                lr: self.lr,
                step: self.step,
            },
            tensors,
        )
    }

    /// Restores what [`Optimizer::state`] returned; every tensor must fit a parameter.
    pub fn load_state(
        &mut self,
        state: &OptimizerState,
        tensors: &[(String, Tensor)],
    ) -> Result<()> {
        let mut by_name: BTreeMap<&str, &Tensor> =
            tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
        let mut slots = Vec::with_capacity(self.params.len());
        for (name, p) in &self.params {
            let mut take = |suffix: &str| -> Result<Option<Tensor>> {
                let key = format!("{name}.{suffix}");
                match by_name.remove(key.as_str()) {
                    None => Ok(None),
                    Some(t) if t.size() == p.size() => {
                        Ok(Some(t.to_device(p.device()).to_kind(p.kind())))
                    }
                    Some(t) => Err(Error::State {
                        key,
                        reason: format!("shape {:?}, parameter {:?}", t.size(), p.size()),
                    }),
                }
            };
            slots.push(Slot {
                exp_avg: take("exp_avg")?,
                exp_avg_sq: take("exp_avg_sq")?,
                momentum: take("momentum_buffer")?,
            });
        }
        if let Some(key) = by_name.keys().next() {
            return Err(Error::State {
                key: (*key).to_owned(),
                reason: "no such parameter".into(),
            });
        }
        self.slots = slots;
        self.config = state.config.clone();
        self.lr = state.lr;
        self.step = state.step;
        Ok(())
    }
}

/// The serialisable part of an optimizer's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// The optimizer.
    pub config: OptimizerConfig,
    /// Learning rate at the time of the snapshot.
    pub lr: f64,
    /// Steps taken.
    pub step: u64,
}

/// Weight decay as PyTorch applies it: L2 (`grad + wd * param`, returned) or decoupled
/// (`param *= 1 - lr * wd`, AdamW-style, gradient returned unchanged).
fn decay(p: &mut Tensor, g: &Tensor, lr: f64, weight_decay: f64, decoupled: bool) -> Tensor {
    if weight_decay == 0.0 {
        g.shallow_clone()
    } else if decoupled {
        let _ = p.g_mul_scalar_(1.0 - lr * weight_decay);
        g.shallow_clone()
    } else {
        g + &*p * weight_decay
    }
}

fn update(
    config: &OptimizerConfig,
    lr: f64,
    step: f64,
    p: &mut Tensor,
    g: &Tensor,
    slot: &mut Slot,
) {
    match *config {
        OptimizerConfig::Adam {
            betas,
            eps,
            weight_decay,
            ..
        } => adam(lr, betas, eps, weight_decay, false, step, p, g, slot),
        OptimizerConfig::Adamw {
            betas,
            eps,
            weight_decay,
            ..
        } => adam(lr, betas, eps, weight_decay, true, step, p, g, slot),
        OptimizerConfig::Sgd {
            momentum,
            nesterov,
            weight_decay,
            ..
        } => {
            let mut g = decay(p, g, lr, weight_decay, false);
            if momentum != 0.0 {
                let buf = match slot.momentum.take() {
                    None => g.copy(),
                    Some(mut b) => {
                        let _ = b.g_mul_scalar_(momentum);
                        let _ = b.g_add_(&g);
                        b
                    }
                };
                g = if nesterov {
                    &g + &buf * momentum
                } else {
                    buf.shallow_clone()
                };
                slot.momentum = Some(buf);
            }
            let _ = p.g_sub_(&(g * lr));
        }
        OptimizerConfig::Radam {
            betas,
            eps,
            weight_decay,
            decoupled_weight_decay,
            ..
        } => {
            let [b1, b2] = betas;
            let g = decay(p, g, lr, weight_decay, decoupled_weight_decay);
            let (m, v) = moments(slot, p, &g, b1, b2);
            let bc1 = 1.0 - b1.powf(step);
            let bc2 = 1.0 - b2.powf(step);
            let corrected = &m / bc1;
            let rho_inf = 2.0 / (1.0 - b2) - 1.0;
            let rho_t = rho_inf - 2.0 * step * b2.powf(step) / bc2;
            let update = if rho_t > 5.0 {
                let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                    / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                    .powf(0.5);
                // (bc2 ** 0.5) / (sqrt(v) + eps): PyTorch evaluates `float / tensor` as reciprocal * float
                let adaptive = (v.sqrt() + eps).reciprocal() * bc2.powf(0.5);
                corrected * lr * adaptive * rect
            } else {
                corrected * lr
            };
            let _ = p.g_sub_(&update);
        }
    }
}

/// Updates and returns the first and second moments (`lerp` and `mul + addcmul` as PyTorch).
fn moments(slot: &mut Slot, p: &Tensor, g: &Tensor, b1: f64, b2: f64) -> (Tensor, Tensor) {
    let mut m = slot.exp_avg.take().unwrap_or_else(|| Tensor::zeros_like(p));
    let mut v = slot
        .exp_avg_sq
        .take()
        .unwrap_or_else(|| Tensor::zeros_like(p));
    let _ = m.lerp_(g, 1.0 - b1);
    let _ = v.g_mul_scalar_(b2);
    let _ = v.g_add_(&(g * g * (1.0 - b2)));
    slot.exp_avg = Some(m.shallow_clone());
    slot.exp_avg_sq = Some(v.shallow_clone());
    (m, v)
}

#[allow(clippy::too_many_arguments)]
fn adam(
    lr: f64,
    [b1, b2]: [f64; 2],
    eps: f64,
    weight_decay: f64,
    decoupled: bool,
    step: f64,
    p: &mut Tensor,
    g: &Tensor,
    slot: &mut Slot,
) {
    let g = decay(p, g, lr, weight_decay, decoupled);
    let (m, v) = moments(slot, p, &g, b1, b2);
    let bc1 = 1.0 - b1.powf(step);
    let bc2 = 1.0 - b2.powf(step);
    let step_size = lr / bc1;
    let denom = v.sqrt() / bc2.powf(0.5) + eps;
    let _ = p.g_sub_(&(m / denom * step_size));
}
