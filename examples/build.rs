//! Links libtorch so that the examples and their tests find it (see `ptx-build`).
fn main() {
    ptx_build::link_libtorch();
}
