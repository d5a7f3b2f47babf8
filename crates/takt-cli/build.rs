//! Names the commit `takt --version` was built from (`git rev-parse`), or "unknown commit" outside
//! a git checkout (a source archive).

use std::path::Path;
use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let date = git(&["show", "-s", "--format=%cs", "HEAD"]).unwrap_or_default();
    println!(
        "cargo:rustc-env=TAKT_COMMIT={commit}{}",
        if date.is_empty() {
            String::new()
        } else {
            format!(" {date}")
        }
    );
    // Built again when the checked-out commit moves: HEAD, the branch it names, the packed refs.
    // Only files that exist: cargo runs a build script on every build for a missing one.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let dir = Path::new(&dir);
        let branch = git(&["symbolic-ref", "-q", "HEAD"]).map(|b| dir.join(b));
        for path in [
            Some(dir.join("HEAD")),
            branch,
            Some(dir.join("packed-refs")),
        ]
        .into_iter()
        .flatten()
        .filter(|p| p.exists())
        {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    } else {
        // Outside a checkout: nothing to watch but this script.
        println!("cargo:rerun-if-changed=build.rs");
    }
}
