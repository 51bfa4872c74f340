//! Project transformations `compose config` (and other commands) apply after
//! loading: selecting services with their dependencies (compose-go's
//! `WithSelectedServices`), walking services dependencies-first
//! (`ForEachService`), and folding `env_file` contents into `environment`
//! (`WithServicesEnvironmentResolved`).

use super::service::EnvFile;
use super::{ModelError, Project};
use indexmap::{IndexMap, IndexSet};

/// Looks a variable up (the project's environment).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads one env file given a lookup for its interpolation; `None` for an
/// optional file that does not exist.
pub type EnvFileReader<'a, E> =
    dyn FnMut(&EnvFile, Lookup<'_>) -> Result<Option<IndexMap<String, String>>, E> + 'a;

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

    /// Fold each service's `env_file` contents into its `environment`, as
    /// docker compose does before creating containers and for `config`:
    /// variables without a value are looked up in `project_env`; values from
    /// the files come first, then the service's own `environment` on top.
    /// `read` loads one env file (with a lookup for its interpolation) and
    /// returns `None` for an optional file that does not exist.
    pub fn resolve_services_environment<E>(
        &mut self,
        project_env: Lookup<'_>,
        read: &mut EnvFileReader<'_, E>,
        discard_env_files: bool,
    ) -> Result<(), E> {
        for service in self.services.values_mut() {
            for (key, value) in service.environment.iter_mut() {
                if value.is_none() {
                    *value = project_env(key);
                }
            }
            let own = service.environment.clone();
            let mut merged: IndexMap<String, Option<String>> = own
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let lookup = |k: &str| -> Option<String> {
                project_env(k).or_else(|| own.get(k).cloned().flatten())
            };
            for file in &service.env_files {
                if let Some(vars) = read(file, &lookup)? {
                    for (k, v) in vars {
                        merged.insert(k, Some(v));
                    }
                }
            }
            for (k, v) in own {
                merged.insert(k, v);
            }
            service.environment = merged;
            if discard_env_files {
                service.env_files.clear();
            }
        }
        Ok(())
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

    #[test]
    fn env_files_fold_under_environment() {
        let mut p = project(&[("web", &[])]);
        let web = p.services.get_mut("web").unwrap();
        web.environment.insert("A".into(), Some("own".into()));
        web.environment.insert("B".into(), None);
        web.env_files.push(EnvFile {
            path: "x.env".into(),
            ..Default::default()
        });
        let env = |k: &str| (k == "B").then(|| "shell".to_string());
        let mut read = |_: &EnvFile, _: &dyn Fn(&str) -> Option<String>| -> Result<_, ()> {
            Ok(Some(IndexMap::from([
                ("A".to_string(), "file".to_string()),
                ("C".to_string(), "file".to_string()),
            ])))
        };
        p.resolve_services_environment(&env, &mut read, true)
            .unwrap();
        let web = &p.services["web"];
        assert_eq!(web.environment["A"].as_deref(), Some("own"));
        assert_eq!(web.environment["B"].as_deref(), Some("shell"));
        assert_eq!(web.environment["C"].as_deref(), Some("file"));
        assert!(web.env_files.is_empty());
    }
}
