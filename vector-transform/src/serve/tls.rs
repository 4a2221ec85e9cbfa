//! TLS for `serve`: the server certificate and key (`--tls-cert`, `--tls-key`, PEM) and, optionally,
//! the CA whose client certificates are required (`--tls-client-ca`: mutual TLS, as Vector's http sink
//! sends with `tls.crt_file` / `tls.key_file`). Built on rustls with the aws-lc-rs provider; served by
//! axum-server's rustls acceptor.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// Where the TLS material is.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The server's certificate chain (PEM, leaf first).
    pub cert: PathBuf,
    /// The server's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates (PEM) of which clients must present a certificate; none: no client
    /// certificate is asked for.
    pub client_ca: Option<PathBuf>,
}

/// TLS material that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {what} {path}: {reason}")]
pub struct TlsError {
    /// What the file was meant to be.
    pub what: &'static str,
    /// The file.
    pub path: String,
    /// Why it cannot be used.
    pub reason: String,
}

fn err(what: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError {
        what,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(what, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(what, path, e))?;
    if certs.is_empty() {
        return Err(err(what, path, "no CERTIFICATE block in the file"));
    }
    Ok(certs)
}

impl TlsSettings {
    /// The rustls server configuration (HTTP/1.1 by ALPN, as the service speaks).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let chain = certs("server certificate", &self.cert)?;
        let key =
            PrivateKeyDer::from_pem_file(&self.key).map_err(|e| err("server key", &self.key, e))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| err("server certificate", &self.cert, e))?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for c in certs("client CA", ca)? {
                    roots.add(c).map_err(|e| err("client CA", ca, e))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| err("client CA", ca, e))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| err("server certificate and key", &self.cert, e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}
