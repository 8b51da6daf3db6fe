//! Link flags for the browser bundle.

fn main() {
    // The route splitter (`cargo leptos build --split`) moves a data segment into a page's
    // chunk only when the linker left it separate; merged, all read-only data (our zh-CN
    // strings and every page's text) stayed in the main bundle (cargo-leptos#679). Release
    // only: the size budget is the release bundle's, and debug builds keep the layout the
    // browser tests have always run against.
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    if wasm && release {
        println!("cargo:rustc-link-arg-cdylib=--no-merge-data-segments");
    }
}
