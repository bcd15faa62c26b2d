//! The findings pass: secrets, size waste, package bloat and adoption checks over one analysed
//! image, sorted worst first, plus the package inventory.
//!
//! Configuration comes from the `[secrets]` and `[findings]` sections of `.strata.toml`
//! ([`crate::config`]).

use super::context::{finding, Ctx};
use super::efficiency::Efficiency;
use super::finding::{Category, Finding, Package, Severity};
pub use crate::config::{FindingsConfig, FindingsOptions};
use crate::model::Image;

fn category_rank(c: Category) -> u8 {
    match c {
        Category::Secret => 0,
        Category::Config => 1,
        Category::Bloat => 2,
        Category::Waste => 3,
    }
}

/// Sorts worst first: severity, then category (secrets first), then bytes, rule and path.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| category_rank(a.category).cmp(&category_rank(b.category)))
            .then_with(|| b.bytes.unwrap_or(0).cmp(&a.bytes.unwrap_or(0)))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.layer.cmp(&b.layer))
    });
}

/// Runs every analysis: findings (worst first) and the package inventory, each marked
/// `base` when inherited from the base image (`analysis::base`).
pub fn analyze(
    image: &Image,
    eff: &Efficiency,
    cfg: &FindingsConfig,
) -> (Vec<Finding>, Vec<Package>) {
    let ctx = Ctx::new(image, cfg);
    let inventory = super::packages::inventory(&ctx);
    let mut out = super::secrets::findings(&ctx);
    out.extend(super::waste::findings(&ctx, eff));
    out.extend(super::bloat::findings(&ctx, &inventory));
    out.extend(super::checks::findings(&ctx, &inventory));
    out.extend(super::provenance::findings(image, &inventory.packages));
    out.extend(super::signatures::findings(image));
    if let Some(e) = &cfg.rules.load_error {
        out.push(finding(
            "rules-unavailable",
            Category::Config,
            Severity::Info,
            "Secret rules could not be loaded",
            format!("secret scanning was skipped: {e}"),
        ));
    }
    out.retain(|f| !cfg.options.disable.iter().any(|d| d == &f.rule));
    for f in &mut out {
        f.base = ctx.base.is_base_finding(image, f);
    }
    sort(&mut out);
    (out, inventory.packages)
}
