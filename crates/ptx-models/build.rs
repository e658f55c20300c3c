//! Links libtorch so that binaries, tests and examples find it and keep CUDA (see `ptx-build`),
//! and records the libtorch version for [`ptx_models::RuntimeInfo`].
fn main() {
    ptx_build::link_libtorch();
    ptx_build::export_libtorch_version();
}
