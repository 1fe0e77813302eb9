//! HTTPS on ferrid's own listener (docs/deployment.md "TLS"): rustls on aws-lc-rs, the
//! certificate chain and key read from PEM files, and read again when they change.
//!
//! The handshake uses whatever [`CertifiedKey`] the resolver holds at that moment; a
//! reload swaps it, so connections already open keep theirs (they are not dropped) and
//! the next handshake gets the new one. A reload that fails (a half-written file, a key
//! that does not match, garbage) keeps the old certificate and logs a warning.
//! Reloads happen when the files' modification time or size changes (polled) and on
//! `SIGHUP`; [`TlsReloader::reload`] is the same step for tests and embedders.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::{Duration, SystemTime},
};

use ferrid_core::jobs::Jobs;
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self,
        crypto::CryptoProvider,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
        server::{ClientHello, ResolvesServerCert},
        sign::CertifiedKey,
    },
};

/// The certificate chain (leaf first) and private key files, PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How often the files are looked at for a change.
pub const DEFAULT_TLS_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// A certificate or key that does not load; names the flag and the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--tls-cert {}: {why}", .path.display())]
    Cert { path: PathBuf, why: String },
    #[error("--tls-key {}: {why}", .path.display())]
    Key { path: PathBuf, why: String },
}

/// Hands every handshake the certificate loaded last.
#[derive(Debug)]
struct Resolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// What a file looked like when last read: a change of either triggers a reload.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The certificate and key of the listener, reloadable.
#[derive(Debug)]
pub struct TlsReloader {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    resolver: Arc<Resolver>,
    stamps: Mutex<(Stamp, Stamp)>,
}

impl TlsReloader {
    /// Reads the files; refuses a chain or key that does not load or does not match.
    pub fn load(files: TlsFiles) -> Result<Arc<TlsReloader>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let stamps = (stamp(&files.cert), stamp(&files.key));
        let key = read(&files, &provider)?;
        let resolver = Arc::new(Resolver { current: RwLock::new(Arc::new(key)) });
        Ok(Arc::new(TlsReloader { files, provider, resolver, stamps: Mutex::new(stamps) }))
    }

    /// The acceptor of the listener: HTTP/1.1 (ALPN), TLS 1.2 and 1.3, the resolver's
    /// current certificate at every handshake.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Cert { path: self.files.cert.clone(), why: e.to_string() })?
            .with_no_client_auth()
            .with_cert_resolver(self.resolver.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Reads the files again and serves the new certificate from the next handshake on;
    /// on an error the current one stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        *self.stamps.lock().unwrap_or_else(|e| e.into_inner()) = (stamp(&self.files.cert), stamp(&self.files.key));
        let key = read(&self.files, &self.provider)?;
        *self.resolver.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
        Ok(())
    }

    /// [`Self::reload`] if either file changed since it was last read; `None` otherwise.
    pub fn reload_if_changed(&self) -> Option<Result<(), TlsError>> {
        let now = (stamp(&self.files.cert), stamp(&self.files.key));
        if *self.stamps.lock().unwrap_or_else(|e| e.into_inner()) == now {
            return None;
        }
        Some(self.reload())
    }

    /// The leaf certificate served now (DER).
    pub fn current_certificate(&self) -> CertificateDer<'static> {
        self.resolver.current.read().unwrap_or_else(|e| e.into_inner()).cert[0].clone()
    }

    /// Reloads on a change seen every `every`, and on `SIGHUP`, until the jobs stop.
    pub fn spawn(self: &Arc<Self>, jobs: &Jobs, every: Duration) {
        let me = self.clone();
        jobs.every("tls-reload", every, move || {
            let me = me.clone();
            async move {
                if let Some(result) = me.reload_if_changed() {
                    me.report(result, "changed on disk");
                }
            }
        });
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let me = self.clone();
            match signal(SignalKind::hangup()) {
                Ok(mut hup) => jobs.spawn("tls-reload-sighup", async move {
                    while hup.recv().await.is_some() {
                        me.report(me.reload(), "SIGHUP");
                    }
                }),
                Err(e) => tracing::warn!(error = %e, "no SIGHUP handler: the certificate reloads on change only"),
            }
        }
    }

    fn report(&self, result: Result<(), TlsError>, why: &str) {
        match result {
            Ok(()) => tracing::info!(cert = %self.files.cert.display(), why, "reloaded the TLS certificate"),
            Err(e) => {
                tracing::warn!(error = %e, why, "the new TLS certificate does not load; still serving the previous one")
            }
        }
    }
}

/// The chain and key of `files`, checked to belong together.
fn read(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_err = |why: String| TlsError::Cert { path: files.cert.clone(), why };
    let key_err = |why: String| TlsError::Key { path: files.key.clone(), why };
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| cert_err(pem_reason(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(pem_reason(e)))?;
    if chain.is_empty() {
        return Err(cert_err("no PEM certificate (-----BEGIN CERTIFICATE-----) in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| key_err(pem_reason(e)))?;
    let signing =
        provider.key_provider.load_private_key(key).map_err(|e| key_err(format!("not a usable private key ({e})")))?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(_)) => {
            Err(key_err(format!("does not belong to the certificate in {}", files.cert.display())))
        }
        Err(e) => Err(cert_err(format!("not a usable certificate ({e})"))),
    }
}

fn pem_reason(e: rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::Io(io) => io.to_string(),
        Error::NoItemsFound => "no PEM item of the expected kind in the file".into(),
        other => format!("not valid PEM ({other})"),
    }
}
