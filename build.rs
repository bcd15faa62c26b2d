//! One switch for tests that need real components (dockerd and the test images, tmux, Podman,
//! a registry, schema validators): `STRATA_TEST_REAL=1`, which `scripts/test.sh` sets once it
//! has installed and started them. It turns on the `strata_real` cfg, so those tests run (and a
//! missing component fails them); without it they are `#[ignore]`d with their reason and show
//! as ignored, never as passed. See tests/common/real.rs.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(strata_real)");
    println!("cargo::rerun-if-env-changed=STRATA_TEST_REAL");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("STRATA_TEST_REAL").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=strata_real");
    }
}
