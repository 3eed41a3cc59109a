// Gives the newsmill binary an rpath to libtorch, so it runs without LD_LIBRARY_PATH, and
// records the libtorch version it was built against (`newsmill --version`).
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let mut version = String::from("unknown");
    if let Ok(lt) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lt}/lib");
        let header = format!("{lt}/include/torch/csrc/api/include/torch/version.h");
        println!("cargo:rerun-if-changed={header}");
        if let Ok(text) = std::fs::read_to_string(&header) {
            let part = |name: &str| {
                text.lines()
                    .find_map(|l| l.trim().strip_prefix(&format!("#define {name} ")))
                    .map(|v| v.trim().to_string())
            };
            if let (Some(a), Some(b), Some(c)) = (
                part("TORCH_VERSION_MAJOR"),
                part("TORCH_VERSION_MINOR"),
                part("TORCH_VERSION_PATCH"),
            ) {
                version = format!("{a}.{b}.{c}");
            }
        }
    }
    println!("cargo:rustc-env=NEWSMILL_LIBTORCH_VERSION={version}");
}
