//! SBOM output (issue 14): `strata sbom` and `strata report --format cyclonedx-json|spdx-json`
//! validated against the official CycloneDX 1.6 and SPDX 2.3 schemas (../shared/schemas),
//! byte-identical on repeat, with masked configuration; and the package inventory on images
//! whose root filesystems were made by the real package tools (dpkg, rpm, pip, npm, go,
//! objcopy; jars in the `jar` tool's layout), each layer diffed from the tool's before/after
//! state.
//!
//! Tests needing check-jsonschema or a package tool are ignored (with the reason) unless built
//! with `STRATA_TEST_REAL=1` (scripts/test.sh); then a missing tool fails them
//! (tests/common/real.rs).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixture::*;
use serde_json::{json, Value};

const STRATA: &str = env!("CARGO_BIN_EXE_strata");

/// Fails the test unless `tool` runs (`tool arg` exits 0); `package` is the Debian package
/// scripts/ensure-deps.sh installs it from.
#[track_caller]
fn need(tool: &str, arg: &str, package: &str) {
    common::real::tool(tool, arg, package);
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn strata(args: &[&str]) -> Out {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(STRATA)
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("run strata");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Schema validation

/// The official schemas (../shared/schemas) and check-jsonschema; the test fails when either
/// is missing.
struct Validator {
    cmd: Vec<String>,
    dir: tempfile::TempDir,
}

impl Validator {
    #[track_caller]
    fn new() -> Self {
        let src = common::real::shared_schema("spdx-2.3.schema.json")
            .parent()
            .expect("schemas folder")
            .to_path_buf();
        common::real::shared_schema("cyclonedx-1.6/bom-1.6.schema.json");
        let cmd = common::real::json_schema_validator();
        // The CycloneDX schema names its two companions relative to its `$id` on
        // cyclonedx.org; without the `$id` they resolve to the copies side by side.
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [
            "bom-1.6.schema.json",
            "spdx.schema.json",
            "jsf-0.82.schema.json",
        ] {
            let text = std::fs::read_to_string(src.join("cyclonedx-1.6").join(f)).expect(f);
            let mut v: Value = serde_json::from_str(&text).expect("schema json");
            if f == "bom-1.6.schema.json" {
                v.as_object_mut().expect("object").remove("$id");
            }
            std::fs::write(dir.path().join(f), v.to_string()).expect("write schema");
        }
        std::fs::copy(
            src.join("spdx-2.3.schema.json"),
            dir.path().join("spdx-2.3.schema.json"),
        )
        .expect("copy spdx schema");
        Self { cmd, dir }
    }

    fn check(&self, schema: &str, doc: &str) -> Result<(), String> {
        let f = self.dir.path().join("doc.json");
        std::fs::write(&f, doc).map_err(|e| e.to_string())?;
        let out = Command::new(&self.cmd[0])
            .args(&self.cmd[1..])
            .args(["--regex-variant", "python", "--schemafile"])
            .arg(self.dir.path().join(schema))
            .arg(&f)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn cyclonedx(&self, doc: &str) {
        self.check("bom-1.6.schema.json", doc)
            .unwrap_or_else(|e| panic!("CycloneDX 1.6 schema: {e}\n{doc}"));
    }

    fn spdx(&self, doc: &str) {
        self.check("spdx-2.3.schema.json", doc)
            .unwrap_or_else(|e| panic!("SPDX 2.3 schema: {e}\n{doc}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers over documents

fn prop<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)?["value"]
        .as_str()
}

/// CycloneDX components by (manager, name).
fn components(doc: &Value) -> BTreeMap<(String, String), Value> {
    doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| {
            let m = prop(c, "strata:package:manager")?;
            let name = match c["group"].as_str() {
                Some(g) => format!("{g}:{}", c["name"].as_str()?),
                None => c["name"].as_str()?.to_owned(),
            };
            Some(((m.to_owned(), name), c.clone()))
        })
        .collect()
}

fn component<'a>(
    all: &'a BTreeMap<(String, String), Value>,
    manager: &str,
    name: &str,
) -> &'a Value {
    all.get(&(manager.to_owned(), name.to_owned()))
        .unwrap_or_else(|| panic!("no {manager} component {name}: {:?}", all.keys()))
}

fn depends_on(doc: &Value, reference: &str) -> Vec<String> {
    doc["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .find(|d| d["ref"] == reference)
        .and_then(|d| d["dependsOn"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn sbom(image: &Path, format: &str) -> String {
    let r = strata(&["sbom", image.to_str().expect("utf-8"), "--format", format]);
    assert_eq!(r.code, 0, "strata sbom {format}: {}", r.stderr);
    r.stdout
}

// ---------------------------------------------------------------------------------------------
// Part 1: the formats, on a fixture image

const DEBIAN_OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n";
const SECRET_ENV: &str = "ghp_0123456789abcdefABCDEF0123456789abcd";

fn fixture_image() -> ImageSpec {
    let status0 = "Package: libc6\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 12000\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n\nPackage: base-files\nStatus: install ok installed\nInstalled-Size: 300\nArchitecture: amd64\nVersion: 12.4+deb12u5\nDescription: base\n";
    let status1 = format!(
        "{status0}\nPackage: curl\nStatus: install ok installed\nInstalled-Size: 500\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\nDepends: libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u5)\nDescription: curl\n"
    );
    let mut spec = ImageSpec::new(vec![
        LayerSpec::new(
            "ADD rootfs.tar /",
            vec![
                EntrySpec::dir("etc/", 0o755),
                EntrySpec::dir("usr/lib/", 0o755),
                EntrySpec::file("usr/lib/os-release", DEBIAN_OS_RELEASE, 0o644),
                EntrySpec::symlink("etc/os-release", "../usr/lib/os-release"),
                EntrySpec::dir("var/lib/dpkg/", 0o755),
                EntrySpec::file("var/lib/dpkg/status", status0, 0o644),
            ],
        ),
        LayerSpec::new(
            "RUN apt-get install curl && pip install six && npm install",
            vec![
                EntrySpec::file("var/lib/dpkg/status", status1, 0o644),
                EntrySpec::file(
                    "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n\n",
                    0o644,
                ),
                EntrySpec::file(
                    "usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD",
                    "six.py,sha256=x,34549\nsix-1.16.0.dist-info/RECORD,,\n",
                    0o644,
                ),
                EntrySpec::file(
                    "app/package.json",
                    r#"{"name":"app","version":"0.1.0","dependencies":{"left-pad":"^1.3.0"}}"#,
                    0o644,
                ),
                EntrySpec::file(
                    "app/node_modules/left-pad/package.json",
                    r#"{"name":"left-pad","version":"1.3.0","license":"WTFPL"}"#,
                    0o644,
                ),
                EntrySpec::file(
                    "app/package-lock.json",
                    r#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.3.0","integrity":"sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQTQSUVxMLwgfdrIaHUlk6bUp6PAkzRJlDXk9s2MMgWRbZ6Q=="},"node_modules/is-odd":{"version":"3.0.1"}}}"#,
                    0o644,
                ),
            ],
        ),
    ]);
    spec.config = json!({
        "Env": ["PATH=/usr/bin", format!("GITHUB_TOKEN={SECRET_ENV}")],
        "Labels": {"org.opencontainers.image.title": "demo", "deploy_password": "hunter2hunter2hunter2"},
    });
    spec
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn cyclonedx_and_spdx_validate_and_are_deterministic() {
    let v = Validator::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_image(
        &fixture_image(),
        Layout::Docker25,
        &dir.path().join("img.tar"),
    )
    .expect("write image");
    let img = written.path.as_path();

    let cdx = sbom(img, "cyclonedx-json");
    v.cyclonedx(&cdx);
    assert_eq!(cdx, sbom(img, "cyclonedx-json"), "same image, same bytes");
    let via_report = strata(&[
        "report",
        img.to_str().expect("utf-8"),
        "--format",
        "cyclonedx-json",
    ]);
    assert_eq!(via_report.code, 0, "{}", via_report.stderr);
    assert_eq!(
        via_report.stdout, cdx,
        "report --format cyclonedx-json = sbom"
    );
    let spdx = sbom(img, "spdx-json");
    v.spdx(&spdx);
    assert_eq!(spdx, sbom(img, "spdx-json"));
    let out = dir.path().join("out.spdx.json");
    let r = strata(&[
        "sbom",
        img.to_str().expect("utf-8"),
        "--format",
        "spdx-json",
        "--output",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).expect("output"), spdx);

    // Nothing secret leaks; masked values are there.
    for doc in [&cdx, &spdx] {
        assert!(!doc.contains(SECRET_ENV), "raw token in SBOM");
        assert!(
            !doc.contains("hunter2hunter2hunter2"),
            "raw label secret in SBOM"
        );
        assert!(doc.contains("GITHUB_TOKEN=ghp_…(redacted)"), "{doc}");
    }

    let doc: Value = serde_json::from_str(&cdx).expect("json");
    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let meta = &doc["metadata"]["component"];
    assert_eq!(meta["type"], "container");
    assert_eq!(meta["name"], "example/app:1.0");
    let manifest = written.manifest_digest.clone().expect("manifest digest");
    assert_eq!(meta["version"], manifest.as_str());
    assert_eq!(prop(meta, "strata:image:platform"), Some("linux/amd64"));
    assert_eq!(
        prop(meta, "strata:image:id"),
        Some(written.config_digest.as_str())
    );
    let all = components(&doc);
    let curl = component(&all, "dpkg", "curl");
    assert_eq!(
        curl["purl"],
        "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"
    );
    assert_eq!(prop(curl, "strata:layer:index"), Some("1"));
    assert_eq!(
        prop(curl, "strata:layer:digest"),
        Some(written.diff_ids[1].as_str())
    );
    assert_eq!(
        prop(curl, "strata:package:source"),
        Some("/var/lib/dpkg/status")
    );
    assert_eq!(prop(curl, "strata:package:size_bytes"), Some("512000"));
    let libc = component(&all, "dpkg", "libc6");
    assert_eq!(prop(libc, "strata:layer:index"), Some("0"));
    assert_eq!(
        prop(libc, "strata:layer:digest"),
        Some(written.diff_ids[0].as_str())
    );
    // curl depends on libc6 (libcurl4 is not installed, so no edge).
    assert_eq!(
        depends_on(&doc, curl["bom-ref"].as_str().expect("ref")),
        [libc["bom-ref"].as_str().expect("ref").to_owned()]
    );
    let six = component(&all, "python", "six");
    assert_eq!(six["purl"], "pkg:pypi/six@1.16.0");
    assert_eq!(six["licenses"][0]["license"]["id"], "MIT");
    assert_eq!(prop(six, "strata:package:size_bytes"), Some("34549"));
    let pad = component(&all, "npm", "left-pad");
    assert_eq!(pad["licenses"][0]["license"]["id"], "WTFPL");
    let app = component(&all, "npm", "app");
    assert_eq!(
        depends_on(&doc, app["bom-ref"].as_str().expect("ref")),
        [pad["bom-ref"].as_str().expect("ref").to_owned()]
    );
    // The lock file declares is-odd, which is not installed.
    let odd = component(&all, "npm", "is-odd");
    assert_eq!(prop(odd, "strata:package:declared"), Some("true"));
    assert_eq!(
        prop(odd, "strata:package:source"),
        Some("/app/package-lock.json")
    );
    assert_eq!(prop(pad, "strata:package:declared"), None);
    let os = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["type"] == "operating-system")
        .expect("os component");
    assert_eq!(
        (os["name"].as_str(), os["version"].as_str()),
        (Some("debian"), Some("12"))
    );

    let s: Value = serde_json::from_str(&spdx).expect("json");
    assert_eq!(s["spdxVersion"], "SPDX-2.3");
    assert_eq!(s["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let pkgs = s["packages"].as_array().expect("packages");
    let image = &pkgs[0];
    assert_eq!(image["primaryPackagePurpose"], "CONTAINER");
    let curl_spdx = pkgs
        .iter()
        .find(|p| p["name"] == "curl")
        .expect("curl package");
    assert_eq!(
        curl_spdx["externalRefs"][0]["referenceLocator"],
        curl["purl"]
    );
    let rels = s["relationships"].as_array().expect("relationships");
    assert!(rels.iter().any(|r| r["relationshipType"] == "CONTAINS"
        && r["spdxElementId"] == image["SPDXID"]
        && r["relatedSpdxElement"] == curl_spdx["SPDXID"]));
    assert!(rels.iter().any(|r| r["relationshipType"] == "DESCRIBES"));
    let installed = all
        .values()
        .filter(|c| prop(c, "strata:package:declared").is_none())
        .count();
    assert_eq!(
        pkgs.len(),
        installed + 1 + 1 + 1,
        "image, OS and one declared-only package besides the installed ones"
    );
}

#[test]
fn sbom_errors_are_one_line_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.tar");
    let r = strata(&["sbom", missing.to_str().expect("utf-8")]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("nope.tar"), "{}", r.stderr);
    let r = strata(&["sbom", "x.tar", "--format", "xml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------------
// Part 2: root filesystems made by the real package tools

/// A fixture entry and what identifies its content (kind, mode, bytes or link target).
type Snap = BTreeMap<String, (Vec<u8>, EntrySpec)>;

/// Every entry of a root filesystem directory, as fixture entries (paths relative, sorted).
fn snapshot(root: &Path) -> Snap {
    fn walk(root: &Path, dir: &Path, out: &mut Snap) {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").path())
            .collect();
        names.sort();
        for p in names {
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .to_str()
                .expect("utf-8")
                .to_owned();
            let meta = std::fs::symlink_metadata(&p).expect("metadata");
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let t = std::fs::read_link(&p).expect("readlink");
                let t = t.to_str().expect("utf-8");
                let key = format!("l{t}").into_bytes();
                out.insert(rel.clone(), (key, EntrySpec::symlink(&rel, t)));
            } else if meta.is_dir() {
                let key = format!("d{mode}").into_bytes();
                out.insert(rel.clone(), (key, EntrySpec::dir(format!("{rel}/"), mode)));
                walk(root, &p, out);
            } else {
                let data = std::fs::read(&p).expect("read");
                let mut key = format!("f{mode}:").into_bytes();
                key.extend_from_slice(&data);
                out.insert(rel.clone(), (key, EntrySpec::file(&rel, data, mode)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Builds an image layer by layer from a root filesystem the steps change: each layer holds
/// what a step added or changed (and whiteouts for what it removed).
struct Rootfs {
    root: tempfile::TempDir,
    before: Snap,
    layers: Vec<LayerSpec>,
}

impl Rootfs {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(root.path().join("usr/lib")).expect("mkdir");
        std::fs::create_dir_all(root.path().join("etc")).expect("mkdir");
        std::fs::write(root.path().join("usr/lib/os-release"), DEBIAN_OS_RELEASE)
            .expect("os-release");
        std::os::unix::fs::symlink("../usr/lib/os-release", root.path().join("etc/os-release"))
            .expect("symlink");
        Self {
            root,
            before: BTreeMap::new(),
            layers: Vec::new(),
        }
    }

    fn path(&self) -> &Path {
        self.root.path()
    }

    /// Closes a layer with everything that changed since the last one.
    fn layer(&mut self, created_by: &str) -> usize {
        let now = snapshot(self.root.path());
        let mut entries = Vec::new();
        for (p, (key, e)) in &now {
            if self.before.get(p).map(|b| &b.0) != Some(key) {
                entries.push(e.clone());
            }
        }
        for p in self.before.keys() {
            let parent_kept = parent(p).is_empty() || now.contains_key(parent(p));
            if !now.contains_key(p) && parent_kept {
                entries.push(EntrySpec::whiteout(p));
            }
        }
        self.before = now;
        self.layers.push(LayerSpec::new(created_by, entries));
        self.layers.len() - 1
    }

    fn write(&self, dir: &Path) -> Written {
        let spec = ImageSpec::new(self.layers.clone());
        write_image(&spec, Layout::ContainerdGzip, &dir.join("img.tar")).expect("write image")
    }
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Writes the image, checks both SBOMs against the schemas, returns the CycloneDX document.
fn inventory(fs: &Rootfs, v: &Validator) -> (Value, Written) {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = fs.write(dir.path());
    let cdx = sbom(&written.path, "cyclonedx-json");
    v.cyclonedx(&cdx);
    v.spdx(&sbom(&written.path, "spdx-json"));
    (serde_json::from_str(&cdx).expect("json"), written)
}

fn layer_of(c: &Value) -> usize {
    prop(c, "strata:layer:index")
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("no layer index: {c}"))
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema and dpkg: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn dpkg_packages_installed_by_dpkg() {
    let v = Validator::new();
    need("dpkg", "--version", "dpkg");
    need("dpkg-deb", "--version", "dpkg");
    let work = tempfile::tempdir().expect("tempdir");
    let deb = |name: &str, version: &str, depends: &str, file_bytes: usize| -> PathBuf {
        let pkg = work.path().join(name);
        std::fs::create_dir_all(pkg.join("DEBIAN")).expect("mkdir");
        std::fs::create_dir_all(pkg.join(format!("usr/share/{name}"))).expect("mkdir");
        std::fs::write(
            pkg.join(format!("usr/share/{name}/data")),
            vec![b'x'; file_bytes],
        )
        .expect("data");
        let depends = if depends.is_empty() {
            String::new()
        } else {
            format!("Depends: {depends}\n")
        };
        std::fs::write(
            pkg.join("DEBIAN/control"),
            format!("Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.org>\nSection: misc\nInstalled-Size: {}\n{depends}Description: test package\n test\n", file_bytes.div_ceil(1024)),
        )
        .expect("control");
        let out = work.path().join(format!("{name}.deb"));
        run(Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&pkg)
            .arg(&out));
        out
    };
    let base = deb("strata-base", "1.0-1", "", 5000);
    let tool = deb("strata-tool", "2:3.4+dfsg-2", "strata-base (>= 1.0)", 9000);
    let mut fs = Rootfs::new();
    for d in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/triggers",
    ] {
        std::fs::create_dir_all(fs.path().join(d)).expect("mkdir");
    }
    std::fs::write(fs.path().join("var/lib/dpkg/status"), "").expect("status");
    let root = fs.path().to_path_buf();
    let dpkg = |deb: &Path| {
        run(Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .args([
                "--force-not-root",
                "--force-script-chrootless",
                "--log=/dev/null",
                "-i",
            ])
            .arg(deb));
    };
    dpkg(&base);
    let l0 = fs.layer("dpkg -i strata-base.deb");
    dpkg(&tool);
    let l1 = fs.layer("dpkg -i strata-tool.deb");
    let status = std::fs::read_to_string(fs.path().join("var/lib/dpkg/status")).expect("status");
    let (doc, written) = inventory(&fs, &v);
    let all = components(&doc);
    let b = component(&all, "dpkg", "strata-base");
    let t = component(&all, "dpkg", "strata-tool");
    assert_eq!(b["version"], "1.0-1");
    assert_eq!(t["version"], "2:3.4+dfsg-2");
    assert_eq!(
        t["purl"],
        "pkg:deb/debian/strata-tool@2%3A3.4%2Bdfsg-2?arch=all&distro=debian-12"
    );
    assert_eq!((layer_of(b), layer_of(t)), (l0, l1));
    assert_eq!(
        prop(t, "strata:layer:digest"),
        Some(written.diff_ids[l1].as_str())
    );
    // Installed-Size as dpkg-deb computed it (KiB).
    let kib = |pkg: &str| -> u64 {
        let stanza = status
            .split("\n\n")
            .find(|s| s.contains(&format!("Package: {pkg}\n")))
            .expect("stanza");
        stanza
            .lines()
            .find_map(|l| l.strip_prefix("Installed-Size: "))
            .expect("size")
            .trim()
            .parse()
            .expect("int")
    };
    assert_eq!(
        prop(t, "strata:package:size_bytes"),
        Some((kib("strata-tool") * 1024).to_string().as_str())
    );
    assert_eq!(
        depends_on(&doc, t["bom-ref"].as_str().expect("ref")),
        [b["bom-ref"].as_str().expect("ref").to_owned()]
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema, rpm and db5.3-util: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn rpm_packages_installed_by_rpm() {
    let v = Validator::new();
    need("rpm", "--version", "rpm");
    need("rpmbuild", "--version", "rpm");
    let work = tempfile::tempdir().expect("tempdir");
    let build = |name: &str, version: &str, license: &str, requires: &str| -> PathBuf {
        let spec = work.path().join(format!("{name}.spec"));
        let requires = if requires.is_empty() {
            String::new()
        } else {
            format!("Requires: {requires}\n")
        };
        std::fs::write(
            &spec,
            format!(
                "Name: {name}\nVersion: {version}\nRelease: 3\nEpoch: 2\nSummary: test\nLicense: {license}\nBuildArch: noarch\n{requires}\n%description\ntest package\n\n%install\nmkdir -p %{{buildroot}}/usr/share/{name}\nhead -c 7000 /dev/zero > %{{buildroot}}/usr/share/{name}/data\n\n%files\n/usr/share/{name}/data\n"
            ),
        )
        .expect("spec");
        run(Command::new("rpmbuild")
            .arg("--define")
            .arg(format!("_topdir {}", work.path().join("top").display()))
            .args(["--quiet", "-bb"])
            .arg(&spec));
        work.path()
            .join(format!("top/RPMS/noarch/{name}-{version}-3.noarch.rpm"))
    };
    let base = build("strata-base", "1.0", "MIT", "");
    let tool = build("strata-tool", "4.5.6", "GPL-2.0-or-later", "strata-base");
    let mut fs = Rootfs::new();
    let root = fs.path().to_path_buf();
    let rpm = |args: &[&str]| {
        run(Command::new("rpm")
            .arg("--root")
            .arg(&root)
            .args([
                "--define",
                "_dbpath /var/lib/rpm",
                "--define",
                "_db_backend sqlite",
            ])
            .args(args));
    };
    rpm(&["--initdb"]);
    rpm(&[
        "-i",
        "--nodeps",
        "--ignoreos",
        base.to_str().expect("utf-8"),
    ]);
    let l0 = fs.layer("rpm -i strata-base");
    rpm(&["-i", "--ignoreos", tool.to_str().expect("utf-8")]);
    let l1 = fs.layer("rpm -i strata-tool");
    assert!(fs.path().join("var/lib/rpm/rpmdb.sqlite").is_file());
    // What rpm itself reports, independently of strata.
    let q = |tag: &str, pkg: &str| -> String {
        run(Command::new("rpm").arg("--root").arg(fs.path()).args([
            "--define",
            "_dbpath /var/lib/rpm",
            "-q",
            "--qf",
            tag,
            pkg,
        ]))
    };
    let (doc, _) = inventory(&fs, &v);
    let all = components(&doc);
    let t = component(&all, "rpm", "strata-tool");
    let b = component(&all, "rpm", "strata-base");
    assert_eq!(
        t["version"],
        q("%{VERSION}-%{RELEASE}", "strata-tool").as_str()
    );
    assert_eq!(
        t["purl"],
        "pkg:rpm/debian/strata-tool@4.5.6-3?arch=noarch&distro=debian-12&epoch=2"
    );
    assert_eq!(t["licenses"][0]["license"]["id"], "GPL-2.0-or-later");
    assert_eq!(b["licenses"][0]["license"]["id"], "MIT");
    assert_eq!(
        prop(t, "strata:package:size_bytes"),
        Some(q("%{SIZE}", "strata-tool").as_str())
    );
    assert_eq!(prop(t, "strata:package:size_bytes"), Some("7000"));
    assert_eq!(
        prop(t, "strata:package:source"),
        Some("/var/lib/rpm/rpmdb.sqlite")
    );
    assert_eq!((layer_of(b), layer_of(t)), (l0, l1));
    assert_eq!(
        depends_on(&doc, t["bom-ref"].as_str().expect("ref")),
        [b["bom-ref"].as_str().expect("ref").to_owned()],
        "rpm Requires resolved through Provides"
    );

    // Each package's file list (what Enter in the explorer's packages pane shows), as
    // `rpm -ql` lists it.
    let sqlite = std::fs::read(fs.path().join("var/lib/rpm/rpmdb.sqlite")).expect("rpmdb");
    let listed = |db: &[u8], listing: &str, name: &str| -> Vec<String> {
        let package = strata::analysis::finding::Package {
            manager: "rpm".into(),
            name: name.into(),
            version: q("%{VERSION}-%{RELEASE}", name),
            size_bytes: 0,
            layer: None,
            source: format!("/{listing}"),
            license: None,
            purl: String::new(),
            base: false,
        };
        strata::analysis::packages::files::listed_files(&package, listing, db).expect("file list")
    };
    for name in ["strata-base", "strata-tool"] {
        let mut expected: Vec<String> = q("[%{FILENAMES}\n]", name)
            .lines()
            .map(|l| l.trim_start_matches('/').to_owned())
            .collect();
        expected.sort();
        assert_eq!(listed(&sqlite, "var/lib/rpm/rpmdb.sqlite", name), expected);
        assert_eq!(expected, [format!("usr/share/{name}/data")]);
    }

    // The same headers in a Berkeley DB hash `Packages` (RHEL 7 / Amazon Linux 2 layout),
    // written by Berkeley DB's own db_load.
    need("db5.3_load", "-V", "db5.3-util");
    let mut old = Rootfs::new();
    std::fs::create_dir_all(old.path().join("var/lib/rpm")).expect("mkdir");
    let dump = work.path().join("packages.dump");
    let script = r#"
import sqlite3, struct, sys
db = sqlite3.connect('file:' + sys.argv[1] + '?immutable=1', uri=True)
out = ['VERSION=3', 'format=bytevalue', 'type=hash', 'HEADER=END']
for hnum, blob in db.execute('SELECT hnum, blob FROM Packages ORDER BY hnum'):
    out.append(' ' + struct.pack('<I', hnum).hex())
    out.append(' ' + blob.hex())
out.append('DATA=END')
open(sys.argv[2], 'w').write('\n'.join(out) + '\n')
"#;
    run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(fs.path().join("var/lib/rpm/rpmdb.sqlite"))
        .arg(&dump));
    run(Command::new("db5.3_load")
        .arg("-f")
        .arg(&dump)
        .arg(old.path().join("var/lib/rpm/Packages")));
    old.layer("rpm (bdb)");
    let (doc, _) = inventory(&old, &v);
    let bdb = components(&doc);
    let rpms = |all: &BTreeMap<(String, String), Value>| -> Vec<(String, String, String)> {
        all.iter()
            .filter(|((m, _), _)| m == "rpm")
            .map(|((_, n), c)| (n.clone(), c["version"].to_string(), c["purl"].to_string()))
            .collect()
    };
    assert_eq!(
        rpms(&bdb),
        rpms(&all),
        "BDB and SQLite give the same packages"
    );
    assert_eq!(
        prop(
            component(&bdb, "rpm", "strata-tool"),
            "strata:package:source"
        ),
        Some("/var/lib/rpm/Packages")
    );
    let packages = std::fs::read(old.path().join("var/lib/rpm/Packages")).expect("Packages");
    assert_eq!(
        listed(&packages, "var/lib/rpm/Packages", "strata-tool"),
        ["usr/share/strata-tool/data"]
    );
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema and pip: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn python_packages_installed_by_pip() {
    let v = Validator::new();
    need("python3", "--version", "python3");
    let pip_runs = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        pip_runs,
        "`python3 -m pip` does not run: install python3-pip (scripts/ensure-deps.sh does)"
    );
    let work = tempfile::tempdir().expect("tempdir");
    // A wheel written with the standard library (no build backend, no network).
    let script = r#"
import base64, hashlib, sys, zipfile
out, name, version, requires = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
dist = f"{name.replace('-', '_')}-{version}.dist-info"
files = {
    f"{name.replace('-', '_')}/__init__.py": b"VALUE = 1\n" * 100,
    f"{dist}/METADATA": (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: Apache-2.0\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires) + "\n").encode(),
    f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: strata-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(out, "w") as z:
    for path, data in files.items():
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    z.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
"#;
    let wheel = |name: &str, version: &str, requires: &[&str]| -> PathBuf {
        let file = work.path().join(format!(
            "{}-{version}-py3-none-any.whl",
            name.replace('-', "_")
        ));
        run(Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&file)
            .arg(name)
            .arg(version)
            .args(requires));
        file
    };
    let base = wheel("Strata.Base", "1.0.0", &[]);
    let tool = wheel(
        "strata-tool",
        "0.3.1",
        &["strata_base>=1", "pytest; extra == \"test\""],
    );
    let mut fs = Rootfs::new();
    let site = fs.path().join("usr/lib/python3/dist-packages");
    let pip = |w: &Path| {
        run(Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-index",
                "--no-compile",
            ])
            .args(["--disable-pip-version-check", "--target"])
            .arg(&site)
            .arg(w));
    };
    pip(&base);
    let l0 = fs.layer("pip install Strata.Base");
    pip(&tool);
    let l1 = fs.layer("pip install strata-tool");
    // An egg-info file (distutils style) and an upper-case dist-info elsewhere.
    std::fs::write(
        site.join("legacy_pkg-2.0.egg-info"),
        "Metadata-Version: 1.1\nName: legacy-pkg\nVersion: 2.0\n",
    )
    .expect("egg-info");
    std::fs::create_dir_all(fs.path().join("opt/tool/UPPER-1.DIST-INFO")).expect("mkdir");
    std::fs::write(
        fs.path().join("opt/tool/UPPER-1.DIST-INFO/METADATA"),
        "Metadata-Version: 2.1\nName: Upper\nVersion: 1\n",
    )
    .expect("metadata");
    let l2 = fs.layer("COPY legacy");
    let record = std::fs::read_to_string(site.join("strata_tool-0.3.1.dist-info/RECORD"))
        .expect("RECORD written by pip");
    let record_bytes: u64 = record
        .lines()
        .filter_map(|l| l.rsplit(',').next()?.parse::<u64>().ok())
        .sum();
    // The file list the packages pane's Enter shows: exactly the files pip wrote for the
    // distribution (its package directory and its .dist-info), found by walking the rootfs.
    let package = strata::analysis::finding::Package {
        manager: "python".into(),
        name: "strata-tool".into(),
        version: "0.3.1".into(),
        size_bytes: 0,
        layer: None,
        source: "/usr/lib/python3/dist-packages/strata_tool-0.3.1.dist-info/METADATA".into(),
        license: None,
        purl: String::new(),
        base: false,
    };
    let listed = strata::analysis::packages::files::listed_files(
        &package,
        "usr/lib/python3/dist-packages/strata_tool-0.3.1.dist-info/RECORD",
        record.as_bytes(),
    )
    .expect("file list");
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let e = e.expect("entry");
            let name = format!("{rel}/{}", e.file_name().to_string_lossy());
            if e.file_type().expect("type").is_dir() {
                walk(&e.path(), &name, out);
            } else {
                out.push(name);
            }
        }
    }
    let mut written = Vec::new();
    for d in ["strata_tool", "strata_tool-0.3.1.dist-info"] {
        walk(
            &site.join(d),
            &format!("usr/lib/python3/dist-packages/{d}"),
            &mut written,
        );
    }
    written.sort();
    assert_eq!(listed, written);
    let (doc, _) = inventory(&fs, &v);
    let all = components(&doc);
    let b = component(&all, "python", "Strata.Base");
    let t = component(&all, "python", "strata-tool");
    assert_eq!(
        b["purl"], "pkg:pypi/strata-base@1.0.0",
        "PEP 503 name in the purl"
    );
    assert_eq!(t["licenses"][0]["license"]["id"], "Apache-2.0");
    assert_eq!((layer_of(b), layer_of(t)), (l0, l1));
    assert_eq!(
        prop(t, "strata:package:size_bytes"),
        Some(record_bytes.to_string().as_str())
    );
    assert_eq!(
        depends_on(&doc, t["bom-ref"].as_str().expect("ref")),
        [b["bom-ref"].as_str().expect("ref").to_owned()],
        "Requires-Dist resolved by normalised name, extras skipped"
    );
    assert_eq!(layer_of(component(&all, "python", "legacy-pkg")), l2);
    assert_eq!(component(&all, "python", "Upper")["version"], "1");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema and npm: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn npm_packages_installed_by_npm() {
    let v = Validator::new();
    need("npm", "--version", "npm");
    let work = tempfile::tempdir().expect("tempdir");
    let pkg = |name: &str, version: &str, deps: Value| -> PathBuf {
        let d = work.path().join(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(
            d.join("package.json"),
            json!({"name": name, "version": version, "license": "MIT", "dependencies": deps})
                .to_string(),
        )
        .expect("package.json");
        std::fs::write(d.join("index.js"), "module.exports = 1;\n").expect("index.js");
        let out = run(Command::new("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(work.path())
            .current_dir(&d));
        work.path().join(out.trim())
    };
    let leaf = pkg("strata-leaf", "1.0.2", json!({}));
    let mid = pkg(
        "strata-mid",
        "2.1.0",
        json!({"strata-leaf": format!("file:{}", leaf.display())}),
    );
    let mut fs = Rootfs::new();
    let app = fs.path().join("srv/app");
    std::fs::create_dir_all(&app).expect("mkdir");
    std::fs::write(
        app.join("package.json"),
        json!({"name": "strata-app", "version": "0.0.1", "private": true}).to_string(),
    )
    .expect("package.json");
    let l0 = fs.layer("COPY package.json");
    run(Command::new("npm")
        .args([
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--silent",
        ])
        .arg(&mid)
        .arg(&leaf)
        .env("npm_config_cache", work.path().join("cache"))
        .current_dir(&app));
    let l1 = fs.layer("npm install");
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(app.join("package-lock.json")).expect("lock written by npm"),
    )
    .expect("lock json");
    let (doc, _) = inventory(&fs, &v);
    let all = components(&doc);
    let m = component(&all, "npm", "strata-mid");
    let l = component(&all, "npm", "strata-leaf");
    let a = component(&all, "npm", "strata-app");
    assert_eq!(m["version"], "2.1.0");
    assert_eq!(l["purl"], "pkg:npm/strata-leaf@1.0.2");
    assert_eq!((layer_of(a), layer_of(m), layer_of(l)), (l0, l1, l1));
    assert_eq!(
        prop(m, "strata:package:source"),
        Some("/srv/app/node_modules/strata-mid/package.json")
    );
    assert_eq!(
        depends_on(&doc, m["bom-ref"].as_str().expect("ref")),
        [l["bom-ref"].as_str().expect("ref").to_owned()]
    );
    // The lock names the same packages; they are installed, so not repeated as declared.
    assert!(lock["packages"]["node_modules/strata-mid"]["version"] == "2.1.0");
    assert!(all
        .values()
        .all(|c| prop(c, "strata:package:declared").is_none()));
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema and golang-go: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn go_binary_build_info() {
    let v = Validator::new();
    need("go", "version", "golang-go");
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("src");
    std::fs::create_dir_all(src.join("dep")).expect("mkdir");
    std::fs::write(
        src.join("go.mod"),
        "module example.com/hello\n\ngo 1.19\n\nrequire example.com/dep v1.4.0\n\nreplace example.com/dep => ./dep\n",
    )
    .expect("go.mod");
    std::fs::write(
        src.join("main.go"),
        "package main\n\nimport \"example.com/dep\"\n\nfunc main() { println(dep.Hello()) }\n",
    )
    .expect("main.go");
    std::fs::write(
        src.join("dep/go.mod"),
        "module example.com/dep\n\ngo 1.19\n",
    )
    .expect("go.mod");
    std::fs::write(
        src.join("dep/dep.go"),
        "package dep\n\nfunc Hello() string { return \"hi\" }\n",
    )
    .expect("dep.go");
    let mut fs = Rootfs::new();
    std::fs::create_dir_all(fs.path().join("usr/local/bin")).expect("mkdir");
    let bin = fs.path().join("usr/local/bin/hello");
    run(Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", work.path().join("cache"))
        .env("GOPATH", work.path().join("gopath"))
        .current_dir(&src));
    let l0 = fs.layer("go build");
    // What the Go toolchain itself reads back.
    let m = run(Command::new("go").args(["version", "-m"]).arg(&bin));
    let go_version = m
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("go version")
        .to_owned();
    let mut expected: Vec<(String, String)> = vec![("stdlib".into(), go_version)];
    for line in m.lines() {
        let f: Vec<&str> = line.split('\t').filter(|s| !s.is_empty()).collect();
        match f.as_slice() {
            ["mod", path, version, ..] | ["dep", path, version, ..] => {
                expected.push(((*path).into(), (*version).into()))
            }
            _ => {}
        }
    }
    expected.sort();
    let (doc, _) = inventory(&fs, &v);
    let all = components(&doc);
    let mut got: Vec<(String, String)> = all
        .iter()
        .filter(|((m, _), _)| m == "go")
        .map(|((_, n), c)| (n.clone(), c["version"].as_str().unwrap_or("").to_owned()))
        .collect();
    got.sort();
    assert_eq!(got, expected, "strata's modules = `go version -m`");
    let main = component(&all, "go", "example.com/hello");
    assert_eq!(main["type"], "application");
    assert_eq!(layer_of(main), l0);
    assert_eq!(
        prop(main, "strata:package:source"),
        Some("/usr/local/bin/hello")
    );
    let dep = component(&all, "go", "example.com/dep");
    assert_eq!(dep["purl"], "pkg:golang/example.com/dep@v1.4.0");
    assert!(depends_on(&doc, main["bom-ref"].as_str().expect("ref"))
        .contains(&dep["bom-ref"].as_str().expect("ref").to_owned()));
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn java_archives_in_the_jar_layout() {
    let v = Validator::new();
    need("python3", "--version", "python3");
    let work = tempfile::tempdir().expect("tempdir");
    // Archives in the layout the JDK's `jar` tool writes (a `META-INF/` entry, then a
    // CRLF `MANIFEST.MF` that starts with `Manifest-Version`, then the members, deflated),
    // assembled by Python's zipfile so CI needs no JDK.
    let script = r#"
import sys, zipfile
out, manifest, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo("META-INF/"), b"")
    lines = ["Manifest-Version: 1.0", "Created-By: strata-test"] + [l for l in manifest.split("\n") if l]
    z.writestr("META-INF/MANIFEST.MF", "\r\n".join(lines) + "\r\n\r\n")
    for m in members:
        name, path = m.split("=", 1)
        z.write(path, name)
"#;
    let jar = |out: &Path, manifest: &str, members: &[(&str, &Path)]| {
        run(Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(out)
            .arg(manifest)
            .args(
                members
                    .iter()
                    .map(|(name, path)| format!("{name}={}", path.to_str().expect("utf-8"))),
            ));
    };
    let file = |name: &str, text: &str| -> PathBuf {
        let p = work.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let pom = file(
        "pom.properties",
        "#Generated by Maven\ngroupId=org.example\nartifactId=hello\nversion=1.0.0\n",
    );
    let greeting = file("greeting.txt", "hi\n");
    let readme = file("readme.txt", "x");
    let war_dir = work.path().join("war/WEB-INF/lib");
    std::fs::create_dir_all(&war_dir).expect("mkdir");
    let hello_jar = war_dir.join("hello-1.0.0.jar");
    jar(
        &hello_jar,
        "Implementation-Title: hello\nImplementation-Version: 1.0.0\nBundle-License: Apache-2.0",
        &[
            ("META-INF/maven/org.example/hello/pom.properties", &pom),
            ("org/example/hello/greeting.txt", &greeting),
        ],
    );
    // A library jar with only a manifest (no Maven metadata).
    let tiny_jar = war_dir.join("tiny-lib-2.1.jar");
    jar(
        &tiny_jar,
        "Implementation-Title: tiny-lib\nImplementation-Version: 2.1",
        &[("readme.txt", &readme)],
    );
    let mut fs = Rootfs::new();
    std::fs::create_dir_all(fs.path().join("srv")).expect("mkdir");
    std::fs::copy(&hello_jar, fs.path().join("srv/hello.jar")).expect("copy");
    let l0 = fs.layer("COPY hello.jar");
    jar(
        &fs.path().join("srv/shop.war"),
        "",
        &[
            ("WEB-INF/lib/hello-1.0.0.jar", &hello_jar),
            ("WEB-INF/lib/tiny-lib-2.1.jar", &tiny_jar),
        ],
    );
    let l1 = fs.layer("COPY shop.war");
    let jar_bytes = std::fs::metadata(fs.path().join("srv/hello.jar"))
        .expect("jar")
        .len();
    let (doc, _) = inventory(&fs, &v);
    let java: Vec<&Value> = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| prop(c, "strata:package:manager") == Some("java"))
        .collect();
    let by_source = |s: &str| -> &Value {
        java.iter()
            .find(|c| prop(c, "strata:package:source") == Some(s))
            .unwrap_or_else(|| panic!("no java package from {s}: {java:?}"))
    };
    let top = by_source("/srv/hello.jar");
    assert_eq!(top["purl"], "pkg:maven/org.example/hello@1.0.0");
    assert_eq!(top["group"], "org.example");
    assert_eq!(top["licenses"][0]["license"]["id"], "Apache-2.0");
    assert_eq!(top["hashes"][0]["alg"], "SHA-256");
    let jar_sha256: String = {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(fs.path().join("srv/hello.jar")).expect("jar");
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(top["hashes"][0]["content"], jar_sha256.as_str());
    assert_eq!(
        prop(top, "strata:package:size_bytes"),
        Some(jar_bytes.to_string().as_str())
    );
    assert_eq!(layer_of(top), l0);
    let nested = by_source("/srv/shop.war!WEB-INF/lib/hello-1.0.0.jar");
    assert_eq!(nested["purl"], "pkg:maven/org.example/hello@1.0.0");
    assert_eq!(layer_of(nested), l1);
    let tiny = by_source("/srv/shop.war!WEB-INF/lib/tiny-lib-2.1.jar");
    assert_eq!(
        (tiny["name"].as_str(), tiny["version"].as_str()),
        (Some("tiny-lib"), Some("2.1"))
    );
    let war = by_source("/srv/shop.war");
    assert_eq!(war["name"], "shop");
    assert_eq!(java.len(), 4, "{java:?}");
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs check-jsonschema and binutils: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn rust_auditable_binary_and_ruby_gemspec() {
    let v = Validator::new();
    need("objcopy", "--version", "binutils");
    need("python3", "--version", "python3");
    let work = tempfile::tempdir().expect("tempdir");
    let json = r#"{"packages":[{"name":"tool","version":"0.4.0","source":"local","dependencies":[1],"root":true},{"name":"serde","version":"1.0.210","source":"crates.io"},{"name":"cc","version":"1.1.0","source":"crates.io","kind":"build"}]}"#;
    let z = work.path().join("dep.z");
    run(Command::new("python3")
        .arg("-c")
        .arg("import sys, zlib; open(sys.argv[1], 'wb').write(zlib.compress(sys.argv[2].encode()))")
        .arg(&z)
        .arg(json));
    let mut fs = Rootfs::new();
    std::fs::create_dir_all(fs.path().join("usr/bin")).expect("mkdir");
    // The section cargo auditable writes, added to a real ELF executable by binutils.
    run(Command::new("objcopy")
        .arg("--add-section")
        .arg(format!(".dep-v0={}", z.display()))
        .arg(std::fs::canonicalize("/bin/true").expect("/bin/true"))
        .arg(fs.path().join("usr/bin/tool")));
    let spec_dir = fs.path().join("usr/lib/ruby/gems/3.1.0/specifications");
    std::fs::create_dir_all(&spec_dir).expect("mkdir");
    std::fs::write(
        spec_dir.join("rake-13.0.6.gemspec"),
        "# -*- encoding: utf-8 -*-\n# stub: rake 13.0.6 ruby lib\n\nGem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n  s.licenses = [\"MIT\".freeze]\nend\n",
    )
    .expect("gemspec");
    let l0 = fs.layer("COPY tool");
    let (doc, _) = inventory(&fs, &v);
    let all = components(&doc);
    let tool = component(&all, "rust", "tool");
    let serde = component(&all, "rust", "serde");
    assert_eq!(serde["purl"], "pkg:cargo/serde@1.0.210");
    assert!(
        !all.contains_key(&("rust".to_owned(), "cc".to_owned())),
        "build-only crate"
    );
    assert_eq!(layer_of(tool), l0);
    assert_eq!(
        depends_on(&doc, tool["bom-ref"].as_str().expect("ref")),
        [serde["bom-ref"].as_str().expect("ref").to_owned()]
    );
    let rake = component(&all, "gem", "rake");
    assert_eq!(rake["purl"], "pkg:gem/rake@13.0.6");
    assert_eq!(rake["licenses"][0]["license"]["id"], "MIT");
}
