//! The export stream (`docker save` format) read from a dedicated thread through a bounded
//! channel.

use super::*;

pub(super) enum Msg {
    Data(Bytes),
    /// Failed before any byte (connection, 404, ...).
    Failed(Error),
    /// The stream broke after some bytes: the cause, on one line.
    Broken(String),
    End,
}

/// A blocking reader over a daemon export, fed by a thread running the async stream.
pub(super) struct ExportReader {
    rx: Receiver<Msg>,
    cur: Bytes,
    received: u64,
    finished: bool,
    label: String,
    /// The daemon address, for messages.
    host: String,
    /// The daemon-side failure, if the stream broke (read by [`load`] to name the cause).
    failure: Arc<Mutex<Option<String>>>,
    /// Called once when the first byte arrives.
    on_first: Option<Box<dyn FnOnce() + Send>>,
}

impl ExportReader {
    fn fail(&mut self, msg: String) -> io::Error {
        self.finished = true;
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert_with(|| msg.clone());
        }
        io::Error::other(msg)
    }

    /// Waits for the first message so start-up errors (404, connection) surface as `Err`.
    fn wait_first(&mut self) -> Result<()> {
        match self.rx.recv() {
            Ok(Msg::Data(b)) => {
                self.received += b.len() as u64;
                self.cur = b;
                if let Some(f) = self.on_first.take() {
                    f();
                }
                Ok(())
            }
            Ok(Msg::End) => {
                self.finished = true;
                Err(Error::Daemon(format!(
                    "{}: the Docker daemon sent an empty export",
                    self.label
                )))
            }
            Ok(Msg::Failed(e)) => {
                self.finished = true;
                Err(e)
            }
            Ok(Msg::Broken(cause)) => {
                self.finished = true;
                Err(Error::Daemon(format!(
                    "{}: the export from the Docker daemon at {} broke off ({cause})",
                    self.label, self.host
                )))
            }
            Err(_) => {
                self.finished = true;
                Err(Error::Daemon(format!(
                    "{}: the export thread stopped before the daemon answered",
                    self.label
                )))
            }
        }
    }
}

impl Read for ExportReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            if self.finished {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Msg::Data(b)) => {
                    self.received += b.len() as u64;
                    self.cur = b;
                    if let Some(f) = self.on_first.take() {
                        f();
                    }
                }
                Ok(Msg::End) => {
                    self.finished = true;
                    return Ok(0);
                }
                Ok(Msg::Failed(e)) => {
                    let msg = e.to_string();
                    return Err(self.fail(msg));
                }
                Ok(Msg::Broken(cause)) => {
                    let msg = format!(
                        "{}: the export from the Docker daemon at {} broke off after {} bytes ({cause}); \
                         nothing is shown from a partial export: check the daemon (`docker info`) and retry",
                        self.label, self.host, self.received
                    );
                    return Err(self.fail(msg));
                }
                Err(_) => {
                    let msg = format!(
                        "{}: the export stream stopped after {} bytes without finishing",
                        self.label, self.received
                    );
                    return Err(self.fail(msg));
                }
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// Starts exporting `target` on a dedicated thread and waits for its first byte.
pub(super) fn start_export(
    conn: Conn,
    target: &str,
    label: &str,
    on_first: Option<Box<dyn FnOnce() + Send>>,
) -> Result<(ExportReader, Arc<Mutex<Option<String>>>)> {
    check_reference(target)?;
    let host = conn.ep.describe();
    let (tx, rx) = sync_channel::<Msg>(CHANNEL_CHUNKS);
    let target_owned = target.to_owned();
    let thread_label = label.to_owned();
    std::thread::Builder::new()
        .name("strata-daemon-export".into())
        .spawn(move || export_thread(conn, target_owned, thread_label, tx))
        .map_err(|e| Error::Daemon(format!("{label}: cannot start the export thread: {e}")))?;
    let failure = Arc::new(Mutex::new(None));
    let mut reader = ExportReader {
        rx,
        cur: Bytes::new(),
        received: 0,
        finished: false,
        label: label.to_owned(),
        host,
        failure: failure.clone(),
        on_first,
    };
    reader.wait_first()?;
    Ok((reader, failure))
}

pub(super) fn export_thread(conn: Conn, target: String, label: String, tx: SyncSender<Msg>) {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = tx.send(Msg::Failed(e));
            return;
        }
    };
    rt.block_on(async move {
        let docker = conn.docker.clone().with_timeout(EXPORT_TIMEOUT);
        let mut stream = docker.export_image(&target);
        let mut started = false;
        while let Some(item) = stream.next().await {
            match item {
                Ok(b) if b.is_empty() => {}
                Ok(b) => {
                    started = true;
                    // Blocking send: back-pressure stalls the socket when the parser is behind.
                    if tx.send(Msg::Data(b)).is_err() {
                        return; // reader dropped: the parser finished or gave up
                    }
                }
                Err(e) if started => {
                    let _ = tx.send(Msg::Broken(chain(&e)));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Msg::Failed(map_error(&conn.ep, Some(&label), &e)));
                    return;
                }
            }
        }
        let _ = tx.send(Msg::End);
    });
}

/// Exports `reference` from the daemon as a blocking reader of the image tar (`docker save`
/// format), streamed without a temporary file. Waits for the daemon's first byte.
pub fn export_blocking(reference: &str) -> Result<Box<dyn Read + Send>> {
    check_reference(reference)?;
    let ep = endpoint()?;
    let r = reference.to_owned();
    // Inspect first: a missing image then fails as "not found" (the export itself answers
    // 500 with a file path on Docker 20.10), e.g. when it was removed since it was loaded.
    let conn = block_on(async move {
        let conn = connect(ep).await?;
        conn.docker
            .inspect_image(&r)
            .await
            .map_err(|e| map_error(&conn.ep, Some(&r), &e))?;
        Ok::<_, Error>(conn)
    })??;
    let (reader, _) = start_export(conn, reference, reference, None)?;
    Ok(Box::new(reader))
}
