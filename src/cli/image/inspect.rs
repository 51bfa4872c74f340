//! `compose image inspect`: a JSON array shaped like `docker image
//! inspect`, plus where the unpacked layers live (`GraphDriver`).

use super::format::familiar_str;
use compose_runtime::image::{Image, ImageStore};
use serde_json::{json, Value};
use std::process::ExitCode;

fn describe(image: &Image) -> Value {
    let c = &image.config;
    let lower: Vec<String> = image
        .layer_dirs
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    json!({
        "Id": image.id,
        "RepoTags": image.record.tags.iter().map(|t| familiar_str(t)).collect::<Vec<_>>(),
        "RepoDigests": image.record.repo_digests.iter().map(|t| familiar_str(t)).collect::<Vec<_>>(),
        "Created": c.created,
        "Config": c.config,
        "Architecture": c.architecture,
        "Variant": c.variant,
        "Os": c.os,
        "Size": image.record.size(),
        "GraphDriver": {"Name": "overlay", "Data": {"LowerDir": lower.join(":")}},
        "RootFS": {"Type": "layers", "Layers": c.rootfs.diff_ids},
        "Manifest": image.manifest,
    })
}

pub fn run(store: &ImageStore, names: &[String]) -> anyhow::Result<ExitCode> {
    let mut found = Vec::new();
    let mut failed = false;
    for name in names {
        match store.find(name) {
            Ok(image) => found.push(describe(&image)),
            Err(e) => {
                failed = true;
                eprintln!("{} {e}", console::style("error:").red().bold());
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&found)?);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
