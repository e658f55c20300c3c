//! Links libtorch so that binaries, tests and examples find it and keep CUDA (see `ptx-build`).
fn main() {
    ptx_build::link_libtorch();
}
