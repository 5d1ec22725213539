//! Rebuild when the embedded chat page changes, including files added to or removed from
//! `web/dist/` (the embedding macro only tracks the files that existed at the last build).

fn main() {
    println!("cargo::rerun-if-changed=../../web/dist");
}
