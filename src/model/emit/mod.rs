//! Printing the model exactly as docker compose prints it.
//!
//! docker compose marshals compose-go's Go structs with yaml.v3/v4
//! (`SetIndent(2)`) or `encoding/json` (`MarshalIndent`, two spaces). Both
//! print struct fields in declaration order and Go maps with sorted keys, and
//! differ in details serde_yaml does not reproduce (quoting, key order,
//! `omitempty` on structs). So the model serialises (with serde) into an
//! [`Emit`] tree that still knows which mappings are structs and which are
//! maps, and the two printers here write that tree out.
//!
//! Conventions the model's `Serialize` impls use (see [`markers`]):
//! - a struct field named `#extensions` holds the `x-` keys; they are printed
//!   inline after the other fields (yaml `,inline`), and left out of JSON
//!   (compose-go tags them `json:"-"`) except at the project's top level;
//! - a value wrapped with [`markers::keep_in_json`] is omitted from YAML when
//!   null or an empty struct (yaml `omitempty`), but printed in JSON, where
//!   Go's `omitempty` never drops a struct and some fields have no `omitempty`.

mod json;
pub mod markers;
mod scalar;
mod ser;
mod sort;
mod yaml;

pub use json::{to_json, to_json_compact};
pub use ser::{to_emit, EmitError};
pub use sort::natural_less;
pub use yaml::to_yaml;

/// Which printer the tree is made for; a few `omitempty` rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// A value ready to print.
#[derive(Debug, Clone, PartialEq)]
pub enum Emit {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// A Go `float32` (printed with 32-bit precision).
    F32(f32),
    F64(f64),
    Str(String),
    Seq(Vec<Emit>),
    /// A Go map: printed with sorted keys.
    Map(Vec<(String, Emit)>),
    /// A Go struct: fields in declaration order, then its `x-` extensions.
    Struct {
        fields: Vec<(String, Emit)>,
        extensions: Vec<(String, Emit)>,
    },
    /// A value dropped from the output (yaml `omitempty`).
    Omit,
}

impl Emit {
    /// True for what Go's yaml `omitempty` treats as empty among emitted
    /// values: null, and a struct whose fields were all omitted.
    pub fn is_yaml_empty(&self) -> bool {
        match self {
            Emit::Null | Emit::Omit => true,
            Emit::Struct { fields, extensions } => fields.is_empty() && extensions.is_empty(),
            _ => false,
        }
    }
}

/// A raw document as a Go `map[string]any` prints (every mapping a map, so
/// keys sorted): docker compose's `config --no-interpolate` output.
pub fn node_to_emit(node: &crate::loader::node::Node) -> Emit {
    use crate::loader::node::Value;
    match &node.value {
        Value::Null => Emit::Null,
        Value::Bool(b) => Emit::Bool(*b),
        Value::Int(i) => Emit::Int(*i),
        Value::Float(f) => Emit::F64(*f),
        Value::String(s) => Emit::Str(s.clone()),
        Value::Seq(items) => Emit::Seq(items.iter().map(node_to_emit).collect()),
        Value::Map(m) => Emit::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), node_to_emit(v)))
                .collect(),
        ),
    }
}
