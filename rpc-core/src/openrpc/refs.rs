//! References between schemas: the names in `$ref`s, and the output side's definitions
//! joined to the input side's.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::document::COMPONENTS;

/// A JSON pointer token as written in a URI fragment: percent-escapes, then `~1` and `~0`.
pub(super) fn decode_pointer(token: &str) -> String {
    let bytes = token.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%')
            .then(|| token.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded)
        .replace("~1", "/")
        .replace("~0", "~")
}

/// Adds the output side's definitions to `schemas`: one the input side has, alike, is shared;
/// one that differs under the same name is renamed (`NameOutput`). Returns the renames, which
/// the output side's references must follow.
pub(super) fn merge_outputs(
    schemas: &mut Map<String, Value>,
    outputs: Map<String, Value>,
) -> HashMap<String, String> {
    let mut renamed = HashMap::new();
    for name in outputs.keys() {
        if schemas
            .get(name)
            .is_some_and(|input| Some(input) != outputs.get(name))
        {
            let mut new = format!("{name}Output");
            let mut n = 2;
            while schemas.contains_key(&new) || outputs.contains_key(&new) {
                new = format!("{name}Output{n}");
                n += 1;
            }
            renamed.insert(name.clone(), new);
        }
    }
    for (name, mut schema) in outputs {
        if !renamed.is_empty() {
            rename_refs(&mut schema, &renamed);
        }
        let name = renamed.get(&name).cloned().unwrap_or(name);
        schemas.entry(name).or_insert(schema);
    }
    renamed
}

/// Points the references to renamed definitions at their new names.
pub(super) fn rename_refs(schema: &mut Value, renamed: &HashMap<String, String>) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                if key == "$ref" {
                    if let Some(new) = value
                        .as_str()
                        .and_then(|reference| reference.strip_prefix(COMPONENTS))
                        .and_then(|name| renamed.get(&decode_pointer(name)))
                    {
                        *value = Value::String(format!("{COMPONENTS}{new}"));
                    }
                } else {
                    rename_refs(value, renamed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rename_refs(item, renamed)),
        _ => {}
    }
}
