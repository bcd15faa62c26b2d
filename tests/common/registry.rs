//! Real registries for the registry-source tests: Debian's `docker-registry` (distribution
//! 2.8) started on a loopback port per test, images pushed with `skopeo copy`, a CA and
//! certificates made by `openssl`, `htpasswd` users, a small JWT token issuer (bearer-token
//! auth as Docker Hub and GHCR do it) and a fault-injecting proxy.
//!
//! The tests using these run under `STRATA_TEST_REAL=1` and fail when a tool is missing
//! ([`require_tools`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;

/// Fails the test unless every tool the registry tests use runs (`docker-registry`, `skopeo`,
/// `openssl`, `htpasswd`; scripts/ensure-deps.sh installs them).
#[track_caller]
pub fn require_tools() {
    super::real::tool("docker-registry", "--version", "docker-registry");
    super::real::tool("skopeo", "--version", "skopeo");
    super::real::tool("openssl", "version", "openssl");
    // htpasswd has no version flag; generating one entry proves it runs.
    super::real::tool_with_args("htpasswd", &["-nbB", "u", "p"], "apache2-utils");
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind loopback")
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "docker-registry exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("docker-registry did not listen on 127.0.0.1:{port} within 20s");
}

/// How a test registry authenticates clients.
pub enum Auth {
    /// Anonymous.
    None,
    /// htpasswd basic auth with this user and password.
    Basic(String, String),
    /// Token auth: a JWT issuer the registry trusts.
    Token(Arc<TokenIssuer>),
}

/// A `docker-registry` process on a loopback port, with its own storage and access log.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Storage, config, log.
    pub dir: tempfile::TempDir,
    /// Where stdout (the access log) and stderr go.
    pub log: PathBuf,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1/localhost, made with openssl.
pub struct Certs {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed RSA certificate for `/CN=cn`, valid two days, and its key.
fn self_signed(cn: &str, key: &std::path::Path, cert: &std::path::Path) {
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg(format!("/CN={cn}"))
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert));
}

impl Certs {
    /// A fresh CA and a server certificate it signs.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let p = |n: &str| dir.path().join(n);
        self_signed("strata test CA", &p("ca.key"), &p("ca.crt"));
        run(Command::new("openssl")
            .args([
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
            ])
            .arg(p("server.key"))
            .arg("-out")
            .arg(p("server.csr")));
        std::fs::write(
            p("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .expect("ext");
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-set_serial", "2", "-in"])
            .arg(p("server.csr"))
            .arg("-CA")
            .arg(p("ca.crt"))
            .arg("-CAkey")
            .arg(p("ca.key"))
            .arg("-extfile")
            .arg(p("ext.cnf"))
            .arg("-out")
            .arg(p("server.crt")));
        Certs {
            ca: p("ca.crt"),
            cert: p("server.crt"),
            key: p("server.key"),
            dir,
        }
    }

    /// A `certs.d`-style directory trusting the CA for `addr` (`DIR/ADDR/ca.crt`).
    pub fn certs_d(&self, addr: &str) -> PathBuf {
        let root = self.dir.path().join("certs.d");
        std::fs::create_dir_all(root.join(addr)).expect("certs.d");
        std::fs::copy(&self.ca, root.join(addr).join("ca.crt")).expect("ca");
        root
    }
}

impl Registry {
    /// Starts a registry on a free loopback port.
    pub fn start(auth: &Auth, tls: Option<&Certs>) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        if let Some(c) = tls {
            cfg.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                c.cert.display(),
                c.key.display()
            ));
        }
        match auth {
            Auth::None => {}
            Auth::Basic(user, pass) => {
                let htpasswd = dir.path().join("htpasswd");
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, pass])
                    .output()
                    .expect("htpasswd");
                assert!(out.status.success(), "htpasswd failed");
                std::fs::write(&htpasswd, out.stdout).expect("htpasswd file");
                cfg.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: strata-test\n    path: {}\n",
                    htpasswd.display()
                ));
            }
            Auth::Token(issuer) => cfg.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                issuer.realm, issuer.service, issuer.issuer, issuer.cert.display()
            )),
        }
        let config = dir.path().join("config.yml");
        std::fs::write(&config, cfg).expect("config");
        let log = dir.path().join("registry.log");
        let out = std::fs::File::create(&log).expect("log");
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("start docker-registry");
        wait_for_port(port, &mut child, &log);
        Registry {
            child,
            addr,
            dir,
            log,
        }
    }

    /// Access-log lines of GET requests whose path contains `/blobs/`.
    pub fn blob_gets(&self) -> usize {
        self.access_lines("GET", "/blobs/")
    }

    /// Access-log lines for `method` requests whose path contains `needle`.
    pub fn access_lines(&self, method: &str, needle: &str) -> usize {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter(|l| l.contains(&format!("\"{method} ")) && l.contains(needle))
            .count()
    }

    /// Pushes `src` (a skopeo source such as `oci-archive:/x.tar`) as `repo:tag`, with all
    /// platforms of an index.
    pub fn push(
        &self,
        src: &str,
        repo_tag: &str,
        creds: Option<(&str, &str)>,
        certs: Option<&Certs>,
    ) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "copy", "--all", "--quiet"]);
        match certs {
            Some(c) => {
                cmd.arg("--dest-cert-dir")
                    .arg(c.certs_d(&self.addr).join(&self.addr));
            }
            None => {
                cmd.arg("--dest-tls-verify=false");
            }
        }
        if let Some((u, p)) = creds {
            cmd.arg("--dest-creds").arg(format!("{u}:{p}"));
        }
        cmd.arg(src)
            .arg(format!("docker://{}/{repo_tag}", self.addr));
        cmd.env("HOME", self.dir.path());
        run(&mut cmd);
    }
}

/// A JWT token issuer for distribution's `token` auth: answers `GET /token` with an RS256
/// token granting the requested scope to a user with the right password (or anyone, when no
/// user is set), signed by `openssl dgst`.
pub struct TokenIssuer {
    /// The realm URL.
    pub realm: String,
    /// `service` the tokens are for.
    pub service: String,
    /// `iss` of the tokens.
    pub issuer: String,
    /// The self-signed signing certificate the registry trusts.
    pub cert: PathBuf,
    key: PathBuf,
    user: Option<(String, String)>,
    /// Tokens handed out.
    pub issued: AtomicUsize,
    /// Requests refused for bad credentials.
    pub refused: AtomicUsize,
    _dir: tempfile::TempDir,
}

impl TokenIssuer {
    /// Starts an issuer on a free loopback port.
    pub fn start(user: Option<(&str, &str)>) -> Arc<Self> {
        let dir = tempfile::tempdir().expect("tmp");
        let key = dir.path().join("signer.key");
        let cert = dir.path().join("signer.crt");
        self_signed("strata token signer", &key, &cert);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let me = Arc::new(TokenIssuer {
            realm: format!("http://127.0.0.1:{port}/token"),
            service: "strata-test-registry".into(),
            issuer: "strata-test-issuer".into(),
            cert,
            key,
            user: user.map(|(u, p)| (u.to_owned(), p.to_owned())),
            issued: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            _dir: dir,
        });
        let issuer = Arc::downgrade(&me);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Some(issuer) = issuer.upgrade() else {
                    break;
                };
                if let Ok(c) = conn {
                    let _ = issuer.answer(c);
                }
            }
        });
        me
    }

    fn answer(&self, mut conn: TcpStream) -> std::io::Result<()> {
        let head = read_head(&mut conn)?;
        let first = head.lines().next().unwrap_or("").to_owned();
        let target = first.split(' ').nth(1).unwrap_or("");
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let scopes: Vec<String> = query
            .split('&')
            .filter_map(|kv| kv.strip_prefix("scope="))
            .map(|s| {
                s.replace("%3A", ":")
                    .replace("%2C", ",")
                    .replace("%2F", "/")
            })
            .collect();
        let basic = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("authorization")
                    .then(|| v.trim().to_owned())
            })
            .and_then(|v| v.strip_prefix("Basic ").map(str::to_owned))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let subject = match (&self.user, basic) {
            (None, given) => given
                .and_then(|g| g.split(':').next().map(str::to_owned))
                .unwrap_or_default(),
            (Some((u, p)), Some(given)) if given == format!("{u}:{p}") => u.clone(),
            (Some(_), _) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let body = r#"{"details":"incorrect username or password"}"#;
                return write!(
                    conn,
                    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        };
        let access: Vec<serde_json::Value> = scopes
            .iter()
            .filter_map(|s| {
                let mut parts = s.splitn(3, ':');
                let (t, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                Some(serde_json::json!({"type": t, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
            })
            .collect();
        let token = self.sign(&subject, &access);
        self.issued.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::json!({"token": token, "access_token": token, "expires_in": 300})
            .to_string();
        write!(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    fn sign(&self, subject: &str, access: &[serde_json::Value]) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let pem = std::fs::read_to_string(&self.cert).expect("cert");
        let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [der_b64]});
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let claims = serde_json::json!({
            "iss": self.issuer, "sub": subject, "aud": self.service,
            "exp": now + 300, "nbf": now - 30, "iat": now,
            "jti": format!("{now}-{}", self.issued.load(Ordering::Relaxed)),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("openssl dgst");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(signing_input.as_bytes())
            .expect("sign input");
        let out = child.wait_with_output().expect("signature");
        assert!(out.status.success(), "openssl dgst -sign failed");
        format!("{signing_input}.{}", b64.encode(out.stdout))
    }
}

fn read_head(conn: &mut TcpStream) -> std::io::Result<String> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    Ok(head)
}

/// A fault the proxy injects into GETs of one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Send the headers and half the body, then close (once).
    CutOnce,
    /// Answer `500 Internal Server Error` (once).
    ServerErrorOnce,
    /// Answer `429 Too Many Requests` with `Retry-After: 1` (once).
    RateLimitOnce,
    /// Send half the body of every answer, then close.
    CutAlways,
}

/// A loopback HTTP proxy in front of a registry that injects [`Fault`]s, in order, into GETs
/// of blobs whose digest contains `target`.
pub struct FaultProxy {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Faults injected so far.
    pub injected: Arc<Mutex<Vec<Fault>>>,
    /// GETs of the target blob seen.
    pub target_gets: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(&self.addr);
    }
}

impl FaultProxy {
    /// Starts a proxy to `upstream` injecting `faults` (in order) on blob `target`.
    pub fn start(upstream: &str, target: &str, faults: Vec<Fault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let injected = Arc::new(Mutex::new(Vec::new()));
        let target_gets = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let queue = Arc::new(Mutex::new(faults));
        let (up, tgt) = (upstream.to_owned(), target.to_owned());
        let (inj, gets, st) = (injected.clone(), target_gets.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (up, tgt, inj, gets, queue) = (
                    up.clone(),
                    tgt.clone(),
                    inj.clone(),
                    gets.clone(),
                    queue.clone(),
                );
                std::thread::spawn(move || {
                    let _ = proxy_one(conn, &up, &tgt, &inj, &gets, &queue);
                });
            }
        });
        FaultProxy {
            addr,
            injected,
            target_gets,
            stop,
        }
    }
}

fn proxy_one(
    mut client: TcpStream,
    upstream: &str,
    target: &str,
    injected: &Mutex<Vec<Fault>>,
    gets: &AtomicUsize,
    queue: &Mutex<Vec<Fault>>,
) -> std::io::Result<()> {
    // A TLS handshake (a client trying HTTPS first): answer in plain HTTP, as Go's server does.
    let mut first_byte = [0u8; 1];
    if client.peek(&mut first_byte)? == 1 && first_byte[0] == 0x16 {
        return client.write_all(
            b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTPS request to an HTTP server.\n",
        );
    }
    // One request per connection: the answer always says `Connection: close`.
    let head = read_head(&mut client)?;
    let first = head.lines().next().unwrap_or("").to_owned();
    let is_target =
        first.starts_with("GET ") && first.contains("/blobs/") && first.contains(target);
    let fault = if is_target {
        gets.fetch_add(1, Ordering::Relaxed);
        let mut q = queue.lock().expect("queue");
        match q.first().copied() {
            Some(Fault::CutAlways) => Some(Fault::CutAlways),
            Some(_) => Some(q.remove(0)),
            None => None,
        }
    } else {
        None
    };
    if let Some(f) = fault {
        injected.lock().expect("injected").push(f);
    }
    match fault {
        Some(Fault::ServerErrorOnce) => {
            return client.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        Some(Fault::RateLimitOnce) => {
            return client.write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        _ => {}
    }
    let mut up = TcpStream::connect(upstream)?;
    let mut req = String::new();
    for (i, line) in head.lines().enumerate() {
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        req.push_str(line);
        req.push_str("\r\n");
    }
    req.push_str("Connection: close\r\n\r\n");
    up.write_all(req.as_bytes())?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    if matches!(fault, Some(Fault::CutOnce | Fault::CutAlways)) {
        let body_at = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |p| p + 4);
        let cut = body_at + (answer.len() - body_at) / 2;
        client.write_all(&answer[..cut])?;
        client.flush()?;
        return client.shutdown(std::net::Shutdown::Both);
    }
    client.write_all(&answer)
}

/// A temporary `DOCKER_CONFIG` directory with this `config.json`.
pub fn docker_config(json: &serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("config.json"), json.to_string()).expect("config.json");
    dir
}

/// `auths` entry for basic credentials.
pub fn auths(addr: &str, user: &str, pass: &str) -> serde_json::Value {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    serde_json::json!({"auths": {addr: {"auth": auth}}})
}
