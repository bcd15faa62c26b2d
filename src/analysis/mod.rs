//! Analyses over the image model: size accounting and findings (secrets, waste, package bloat,
//! adoption checks) with the package inventory.

pub mod bloat;
pub mod checks;
pub mod diff;
pub mod diff_gate;
pub mod efficiency;
pub mod finding;
pub mod findings;
pub mod inspector;
pub mod packages;
pub mod secrets;
pub mod version;
pub mod waste;

/// Splits a variable or label name into lower-case words: `_`, `-`, `.`, spaces and
/// camelCase boundaries separate them (`dbPassword` -> `db`, `password`).
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.' | ' ' | '/') {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// True when an environment variable, build-arg or label name looks like it holds a secret
/// (`DB_PASSWORD`, `apiKey`, `GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`), but not names that hold a
/// public value or a reference to a secret (`GPG_KEY`, `PUBLIC_KEY`, `PASSWORD_FILE`,
/// `TOKEN_URL`, `org.opencontainers.image.authors`).
pub fn looks_secret_name(name: &str) -> bool {
    let w = name_words(name);
    if w.is_empty() {
        return false;
    }
    const SECRET: [&str; 20] = [
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "apikey",
        "credential",
        "credentials",
        "creds",
        "auth",
        "authorization",
        "privatekey",
        "accesskey",
        "secretkey",
        "apitoken",
        "authtoken",
        "pat",
    ];
    const PUBLIC: [&str; 5] = ["public", "pub", "gpg", "pgp", "fingerprint"];
    const REFERENCE: [&str; 20] = [
        "file", "path", "dir", "url", "uri", "endpoint", "host", "port", "user", "username",
        "name", "type", "mode", "id", "version", "enabled", "length", "ttl", "expiry", "method",
    ];
    if w.iter().any(|x| PUBLIC.contains(&x.as_str())) {
        return false;
    }
    let last = w.last().map(String::as_str).unwrap_or("");
    if w.len() > 1 && REFERENCE.contains(&last) {
        return false;
    }
    if w.iter().any(|x| SECRET.contains(&x.as_str())) {
        return true;
    }
    // `API_KEY`, `ACCESS_KEY`, `LICENSE_KEY`, `SIGNING_KEY`…: a key with a qualifier.
    w.len() > 1 && w.iter().any(|x| x == "key" || x == "keys")
}

#[cfg(test)]
mod tests {
    use super::looks_secret_name;

    #[test]
    fn secret_names() {
        for n in [
            "DB_PASSWORD",
            "API_TOKEN",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "apiKey",
            "dbPassword",
            "MYSQL_ROOT_PASSWORD",
            "NPM_AUTH_TOKEN",
            "client_secret",
            "STRIPE_API_KEY",
            "SECRET_KEY_BASE",
            "REDIS_PASS",
        ] {
            assert!(looks_secret_name(n), "{n}");
        }
        for n in [
            "PATH",
            "APP_MODE",
            "GPG_KEY",
            "GPG_KEYS",
            "PUBLIC_KEY",
            "MYSQL_PASSWORD_FILE",
            "TOKEN_URL",
            "org.opencontainers.image.authors",
            "AUTHOR",
            "PASSENGER_VERSION",
            "KEY",
            "AWS_ACCESS_KEY_ID",
            "LANG",
            "PYTHON_SHA256",
        ] {
            assert!(!looks_secret_name(n), "{n}");
        }
    }
}
