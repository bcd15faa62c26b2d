//! Helpers shared by the integration tests.
//!
//! Each test crate uses a different subset of these helpers, so unused items are expected.
#![allow(dead_code)]

pub mod fixture;
pub mod real;
pub mod registry;
pub mod twins;
pub mod ui;

/// Loads `b` as the explorer's compare does with `open` already read: through the engine's
/// entry point, with a layer cache built from `open`'s model. Returns B and the cache, which
/// says how many layers it served ([`LayerCache::reused`]).
///
/// [`LayerCache::reused`]: strata::source::cache::LayerCache::reused
pub fn load_against_open(
    open: &strata::model::Image,
    b: &strata::source::Input,
    mut settings: strata::Settings,
) -> (
    strata::Analysed,
    std::sync::Arc<strata::source::cache::LayerCache>,
) {
    let cache = std::sync::Arc::new(
        strata::source::cache::LayerCache::from_image(open, b, &settings.load)
            .expect("B's layer list is known before reading its layers"),
    );
    settings.load.layer_cache = Some(cache.clone());
    let loaded = strata::analyse(b, &settings, &strata::source::Progress::default())
        .unwrap_or_else(|e| panic!("{b:?}: {e}"));
    (loaded, cache)
}
