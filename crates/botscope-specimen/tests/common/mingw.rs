//! Building the benign C specimens of `tests/specimens/` with Debian's
//! `i686-w64-mingw32-gcc` (never run), shared by the test binaries.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The cross compiler.
pub const CC: &str = "i686-w64-mingw32-gcc";

/// `tests/specimens`.
pub fn specimens_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specimens")
}

/// Builds `name.c` at `opt` (stripped) with `-D` macros into `dir`;
/// panics when the compiler is missing.
pub fn build(dir: &Path, name: &str, opt: &str, defines: &[String]) -> Vec<u8> {
    let src = specimens_dir().join(format!("{name}.c"));
    let out = dir.join(format!("{name}{opt}.exe"));
    let st = Command::new(CC)
        .arg(opt)
        .arg("-s")
        .args(defines.iter().map(|d| format!("-D{d}")))
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| {
            panic!("{CC} must be installed (scripts/setup.sh: gcc-mingw-w64-i686): {e}")
        });
    assert!(st.success(), "{CC} {opt} {name}.c failed");
    std::fs::read(&out).unwrap()
}
