//! Reading state dicts from `torch.save` files (`.pth`, `.pt`, `.bin`): the ZIP format of
//! PyTorch >= 1.6 and the legacy format of earlier versions (the original CheXNet checkpoint).

use std::collections::HashMap;
use std::path::Path;

use tch::{Kind, Tensor};

use super::pickle::{self, Value};
use super::zip;
use crate::{Error, Result};

/// Checkpoint keys under which training scripts commonly nest the state dict.
const NESTED: [&str; 5] = ["state_dict", "model_state_dict", "model", "net", "state"];

/// The named tensors of a `torch.save`d state dict (or of a checkpoint dict holding one under
/// `state_dict`, `model_state_dict`, `model`, `net` or `state`), in file order.
pub(crate) fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let fail = |reason: String| Error::checkpoint(path, reason);
    let (root, storages) = if zip::is_zip(&data) {
        read_zip(&data).map_err(fail)?
    } else {
        read_legacy(&data).map_err(fail)?
    };
    let dict = state_dict(&root).ok_or_else(|| {
        Error::checkpoint(
            path,
            "no dict of tensors found (expected a state dict or a checkpoint holding one)",
        )
    })?;
    let mut out = Vec::new();
    for (k, v) in dict {
        let Some(name) = k.as_str() else { continue };
        if let Some(t) =
            tensor(v, &storages).map_err(|r| Error::checkpoint(path, format!("`{name}`: {r}")))?
        {
            out.push((name.to_owned(), t));
        }
    }
    Ok(out)
}

/// A storage: its element kind and raw little-endian bytes.
type Storages<'a> = HashMap<String, (Kind, &'a [u8])>;

fn read_zip(data: &[u8]) -> Result<(Value, Storages<'_>), String> {
    let entries = zip::entries(data)?;
    let (pkl_name, pkl) = entries
        .iter()
        .find(|(n, _)| n.ends_with("data.pkl"))
        .ok_or("no data.pkl in the archive: not a torch.save file (TorchScript archives are not state dicts)")?;
    let prefix = &pkl_name[..pkl_name.len() - "data.pkl".len()];
    if let Some(order) = entries.get(&format!("{prefix}byteorder")) {
        if order.starts_with(b"big") {
            return Err("big-endian checkpoints are not supported".into());
        }
    }
    let mut pos = 0;
    let root = pickle::read(pkl, &mut pos)?;
    let mut storages = Storages::new();
    let mut missing = None;
    collect_storages(
        &root,
        &mut |key, kind| match entries.get(&format!("{prefix}data/{key}")) {
            Some(bytes) => {
                storages.insert(key.to_owned(), (kind, *bytes));
            }
            None => missing = Some(key.to_owned()),
        },
    );
    if let Some(key) = missing {
        return Err(format!("storage {key} missing from the archive"));
    }
    Ok((root, storages))
}

fn read_legacy(data: &[u8]) -> Result<(Value, Storages<'_>), String> {
    let mut pos = 0;
    let magic = pickle::read(data, &mut pos)
        .map_err(|e| format!("neither a zip archive nor a legacy torch.save file ({e})"))?;
    if !matches!(magic, Value::Bytes(_) | Value::Int(_)) {
        return Err("not a torch.save file".into());
    }
    let _protocol = pickle::read(data, &mut pos)?;
    let _sys_info = pickle::read(data, &mut pos)?;
    let root = pickle::read(data, &mut pos)?;
    let keys = pickle::read(data, &mut pos)?;
    let keys = keys.items().ok_or("legacy storage key list missing")?;
    let mut kinds = HashMap::new();
    collect_storages(&root, &mut |key, kind| {
        kinds.insert(key.to_owned(), kind);
    });
    let mut storages = Storages::new();
    for key in keys {
        let key = key.as_str().ok_or("storage key is not a string")?;
        let kind = *kinds
            .get(key)
            .ok_or_else(|| format!("storage {key} not referenced"))?;
        let n = data
            .get(pos..pos + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or("legacy file truncated")? as usize;
        let bytes = n * kind.elt_size_in_bytes();
        let slice = data
            .get(pos + 8..pos + 8 + bytes)
            .ok_or("legacy file truncated")?;
        storages.insert(key.to_owned(), (kind, slice));
        pos += 8 + bytes;
    }
    Ok((root, storages))
}

fn storage_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "FloatStorage" => Kind::Float,
        "DoubleStorage" => Kind::Double,
        "HalfStorage" => Kind::Half,
        "BFloat16Storage" => Kind::BFloat16,
        "LongStorage" => Kind::Int64,
        "IntStorage" => Kind::Int,
        "ShortStorage" => Kind::Int16,
        "CharStorage" => Kind::Int8,
        "ByteStorage" | "UntypedStorage" => Kind::Uint8,
        "BoolStorage" => Kind::Bool,
        _ => return None,
    })
}

/// `('storage', torch.FloatStorage, key, location, numel, ...)` -> (key, kind).
fn storage_ref(pid: &Value) -> Option<(&str, Kind)> {
    let items = pid.items()?;
    if items.first()?.as_str()? != "storage" {
        return None;
    }
    let Value::Global(_, ty) = items.get(1)? else {
        return None;
    };
    let key = items.get(2)?.as_str()?;
    Some((key, storage_kind(ty)?))
}

fn collect_storages(v: &Value, f: &mut dyn FnMut(&str, Kind)) {
    match v {
        Value::Persistent(pid) => {
            if let Some((key, kind)) = storage_ref(pid) {
                f(key, kind);
            }
        }
        Value::List(items) | Value::Tuple(items) => {
            items.iter().for_each(|i| collect_storages(i, f))
        }
        Value::Dict(pairs) => pairs.iter().for_each(|(_, v)| collect_storages(v, f)),
        Value::Call(func, args) => {
            collect_storages(func, f);
            args.iter().for_each(|a| collect_storages(a, f));
        }
        _ => {}
    }
}

fn is_tensor(v: &Value) -> bool {
    matches!(v, Value::Call(f, _) if matches!(&**f, Value::Global(m, n)
        if m == "torch._utils" && n.starts_with("_rebuild_")))
}

fn state_dict(root: &Value) -> Option<&[(Value, Value)]> {
    let Value::Dict(pairs) = root else {
        return None;
    };
    if pairs.iter().any(|(_, v)| is_tensor(v)) {
        return Some(pairs);
    }
    NESTED.iter().find_map(|name| {
        pairs
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .and_then(|(_, v)| state_dict(v))
    })
}

fn dims(v: &Value) -> Result<Vec<i64>, String> {
    v.items()
        .ok_or("size/stride is not a tuple")?
        .iter()
        .map(|d| d.as_int().ok_or_else(|| "non-integer dimension".to_owned()))
        .collect()
}

/// Rebuilds `_rebuild_tensor_v2(storage, offset, size, stride, ...)`, `_rebuild_tensor(...)`
/// and `_rebuild_parameter(tensor, ...)`; `None` for values that are not tensors.
fn tensor(v: &Value, storages: &Storages<'_>) -> Result<Option<Tensor>, String> {
    let Value::Call(func, args) = v else {
        return Ok(None);
    };
    let Value::Global(module, name) = &**func else {
        return Ok(None);
    };
    if module != "torch._utils" {
        return Ok(None);
    }
    match name.as_str() {
        "_rebuild_parameter" | "_rebuild_parameter_with_state" => match args.first() {
            Some(inner) => tensor(inner, storages),
            None => Err("empty parameter".into()),
        },
        "_rebuild_tensor" | "_rebuild_tensor_v2" => {
            let [storage, offset, size, stride, ..] = args.as_slice() else {
                return Err("short tensor record".into());
            };
            let Value::Persistent(pid) = storage else {
                return Err("tensor without storage".into());
            };
            let (key, _) = storage_ref(pid).ok_or("unsupported storage record")?;
            let (kind, bytes) = storages
                .get(key)
                .ok_or_else(|| format!("storage {key} missing"))?;
            let numel = (bytes.len() / kind.elt_size_in_bytes()) as i64;
            let flat =
                Tensor::f_from_data_size(bytes, &[numel], *kind).map_err(|e| e.to_string())?;
            let offset = offset.as_int().ok_or("bad storage offset")?;
            let (size, stride) = (dims(size)?, dims(stride)?);
            let needed = size
                .iter()
                .zip(&stride)
                .map(|(&s, &st)| (s - 1).max(0) * st)
                .sum::<i64>()
                + offset
                + 1;
            if size.iter().all(|&s| s > 0) && needed > numel {
                return Err(format!(
                    "view {size:?} at offset {offset} exceeds its storage of {numel}"
                ));
            }
            let t = flat
                .f_as_strided(&size, &stride, Some(offset))
                .map_err(|e| e.to_string())?
                .contiguous();
            Ok(Some(t))
        }
        other => Err(format!("unsupported tensor record torch._utils.{other}")),
    }
}
