//! Names and helpers the model's serde attributes use to tell the printer
//! what Go's struct tags said.

use serde::{Serialize, Serializer};

/// The struct field that carries a type's `x-` extensions (yaml `,inline`).
pub const EXTENSIONS_FIELD: &str = "#extensions";

/// Newtype name marking a value kept in JSON but omitted from YAML when empty.
pub const KEEP_IN_JSON: &str = "$compose::keep_in_json";

/// Struct-name prefix for Go structs without json tags, whose JSON keys are
/// the capitalised Go field names (`WeightDevice` prints `"Path"`).
pub const JSON_GO_FIELD_NAMES: &str = "$compose::go_field_names::";

/// `serialize_with` helper: see [`KEEP_IN_JSON`]. Other serializers (serde_json)
/// see a transparent newtype.
pub fn keep_in_json<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_newtype_struct(KEEP_IN_JSON, value)
}

/// `skip_serializing_if` helpers for Go's `omitempty` on scalars.
pub fn is_false(b: &bool) -> bool {
    !*b
}

pub fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

pub fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

pub fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

pub fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

pub fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}

pub fn is_zero_f32(v: &f32) -> bool {
    *v == 0.0
}

/// Go's `OptOut` (a boolean defaulting to true) is omitted when true.
pub fn is_true(b: &bool) -> bool {
    *b
}
