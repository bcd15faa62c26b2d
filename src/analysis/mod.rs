//! Analyses over the image model: size accounting now, findings in later modules.

pub mod efficiency;
pub mod finding;

/// True when an environment variable or build-arg name looks like it holds a secret.
pub fn looks_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const WORDS: [&str; 10] = [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "access_key",
        "private_key",
        "credential",
        "auth",
    ];
    if n.contains("public") || n == "gpg_key" || n == "gpg_keys" {
        return false;
    }
    WORDS.iter().any(|w| n.contains(w))
        || n.ends_with("_key")
        || n.ends_with("_pass")
        || n.ends_with("_pwd")
}
