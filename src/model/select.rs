//! Project transformations `compose config` (and other commands) apply after
//! loading: selecting services with their dependencies (compose-go's
//! `WithSelectedServices`) and walking services dependencies-first
//! (`ForEachService`). Environments are resolved by the loader
//! (`loader::service_env`), which knows where each value came from.

use super::{ModelError, Project};
use indexmap::IndexSet;

impl Project {
    /// Keep only `names` and the services they depend on (transitively).
    /// An empty list keeps every service.
    pub fn with_selected_services(&self, names: &[String]) -> Result<Project, ModelError> {
        if names.is_empty() {
            return Ok(self.clone());
        }
        let mut keep: IndexSet<String> = IndexSet::new();
        let mut stack: Vec<String> = names.to_vec();
        while let Some(name) = stack.pop() {
            let Some(service) = self.services.get(&name) else {
                return Err(ModelError::NoSuchService { name });
            };
            if keep.insert(name.clone()) {
                stack.extend(service.depends_on.keys().cloned());
            }
        }
        let mut project = self.clone();
        project.services.retain(|name, _| keep.contains(name));
        Ok(project)
    }

    /// Service names with every service after the services it depends on;
    /// among independent services, sorted by name (compose-go walks
    /// `ServiceNames()` and visits dependencies first).
    pub fn services_in_dependency_order(&self) -> Vec<String> {
        let mut seen: IndexSet<String> = IndexSet::new();
        for name in self.service_names() {
            self.visit_dependencies_first(&name, &mut seen, &mut Vec::new());
        }
        seen.into_iter().collect()
    }

    fn visit_dependencies_first(
        &self,
        name: &str,
        seen: &mut IndexSet<String>,
        path: &mut Vec<String>,
    ) {
        if seen.contains(name) || path.iter().any(|p| p == name) {
            return;
        }
        let Some(service) = self.services.get(name) else {
            return;
        };
        path.push(name.to_string());
        let mut deps: Vec<&String> = service.depends_on.keys().collect();
        deps.sort();
        for dep in deps {
            self.visit_dependencies_first(dep, seen, path);
        }
        path.pop();
        seen.insert(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::service::{ServiceConfig, ServiceDependency};

    fn project(deps: &[(&str, &[&str])]) -> Project {
        let mut p = Project::default();
        for (name, on) in deps {
            let mut s = ServiceConfig {
                name: name.to_string(),
                ..Default::default()
            };
            for d in *on {
                s.depends_on
                    .insert(d.to_string(), ServiceDependency::default());
            }
            p.services.insert(name.to_string(), s);
        }
        p
    }

    #[test]
    fn selection_keeps_dependencies() {
        let p = project(&[
            ("web", &["api"]),
            ("api", &["db"]),
            ("db", &[]),
            ("other", &[]),
        ]);
        let s = p.with_selected_services(&["web".into()]).unwrap();
        let names: Vec<&String> = s.services.keys().collect();
        assert_eq!(names, ["web", "api", "db"]);
        let e = p.with_selected_services(&["nope".into()]).unwrap_err();
        assert_eq!(e.to_string(), "no such service: nope");
    }

    #[test]
    fn dependency_order_puts_dependencies_first() {
        let p = project(&[("a", &["c"]), ("b", &[]), ("c", &["b"])]);
        assert_eq!(p.services_in_dependency_order(), ["b", "c", "a"]);
    }
}
