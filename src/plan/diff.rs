//! Which fields of a service's configuration changed: the dotted paths where
//! two JSON values differ (`environment.DB_HOST`, `ports[0].published`), so a
//! recreation can say why.

use serde_json::Value;

/// The paths at which `old` and `new` differ, sorted; a list whose length
/// changed is reported as the list itself.
pub fn changed_fields(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(old, new, &mut String::new(), &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(old: &Value, new: &Value, path: &mut String, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, va) in a {
                let len = path.len();
                push_key(path, key);
                match b.get(key) {
                    Some(vb) => walk(va, vb, path, out),
                    None => out.push(path.clone()),
                }
                path.truncate(len);
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                let len = path.len();
                push_key(path, key);
                out.push(path.clone());
                path.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(va, vb, path, out);
                path.truncate(len);
            }
        }
        _ if old == new => {}
        _ => out.push(if path.is_empty() {
            "(everything)".to_string()
        } else {
            path.clone()
        }),
    }
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_changed_leaf() {
        let old =
            json!({"image": "a", "environment": {"X": "1", "Y": "2"}, "ports": [{"target": 80}]});
        let new =
            json!({"image": "b", "environment": {"X": "1", "Z": "3"}, "ports": [{"target": 81}]});
        assert_eq!(
            changed_fields(&old, &new),
            ["environment.Y", "environment.Z", "image", "ports[0].target"]
        );
    }

    #[test]
    fn a_list_that_grew_is_reported_whole() {
        let old = json!({"command": ["a"]});
        let new = json!({"command": ["a", "b"]});
        assert_eq!(changed_fields(&old, &new), ["command"]);
        assert!(changed_fields(&old, &old).is_empty());
    }
}
