//! The one rule for where botscope keeps state: `--store DIR`, else
//! `$BOTSCOPE_HOME`, else the XDG data folder (`$XDG_DATA_HOME/botscope`,
//! else `~/.local/share/botscope`).

use std::path::PathBuf;

/// Resolves the store folder from an explicit flag and the environment.
pub fn store_dir(flag: Option<PathBuf>) -> PathBuf {
    resolve(
        flag,
        std::env::var_os("BOTSCOPE_HOME").map(PathBuf::from),
        std::env::var_os("XDG_DATA_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn resolve(
    flag: Option<PathBuf>,
    home_var: Option<PathBuf>,
    xdg: Option<PathBuf>,
    home: Option<PathBuf>,
) -> PathBuf {
    if let Some(p) = flag {
        return p;
    }
    if let Some(p) = home_var.filter(|p| !p.as_os_str().is_empty()) {
        return p;
    }
    if let Some(p) = xdg.filter(|p| p.is_absolute()) {
        return p.join("botscope");
    }
    home.unwrap_or_else(|| PathBuf::from("."))
        .join(".local/share/botscope")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_env_then_xdg_then_home() {
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(
            resolve(p("/a"), p("/b"), p("/c"), p("/h")),
            PathBuf::from("/a")
        );
        assert_eq!(
            resolve(None, p("/b"), p("/c"), p("/h")),
            PathBuf::from("/b")
        );
        assert_eq!(
            resolve(None, None, p("/c"), p("/h")),
            PathBuf::from("/c/botscope")
        );
        assert_eq!(
            resolve(None, None, p("rel"), p("/h")),
            PathBuf::from("/h/.local/share/botscope")
        );
    }
}
