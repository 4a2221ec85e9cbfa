//! Signed chain heads. A hash chain finds an edited or deleted row, but whoever can write the store can
//! rewrite everything after some point and recompute every hash and head. So each writer signs the
//! chain head it records in every commit with its own Ed25519 key, and `verify` checks every signature
//! against the public keys the operator trusts: a rewrite is detected unless it was made with a
//! trusted key.
//!
//! Keys are standard files: the private key is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the public
//! key SPKI PEM (`-----BEGIN PUBLIC KEY-----`), so OpenSSL and Python's `cryptography` read them as
//! they are. What is signed is [`head_message`]: plain text naming the table, the writer and the
//! commit's range and heads; the signature is stored in hex beside it in the commit's `mdm_chain`
//! metadata.

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::log::ChainCommit;

/// The text a writer signs for one commit of `table`: every field of the commit's chain record
/// except the signature itself, one per line.
pub fn head_message(table: &str, c: &ChainCommit) -> String {
    let mut m = format!(
        "mdm-audit chain head v1\ntable {table}\nchain_id {}\ncommit_no {}\nfirst_seq {}\nlast_seq {}\nrows {}\nprev_head {}\nhead {}\n",
        c.chain_id, c.commit_no, c.first_seq, c.last_seq, c.rows, c.prev_head, c.head
    );
    // The admitting credential is signed too, when there is one (older records have none).
    if let Some(name) = &c.admitted_by {
        m.push_str(&format!("admitted_by {name}\n"));
    }
    m
}

/// A key's id: the first 16 hex digits of the SHA-256 of its 32 raw public-key bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// A writer's signing key.
pub struct HeadSigner {
    key: SigningKey,
    id: String,
}

impl std::fmt::Debug for HeadSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadSigner")
            .field("key_id", &self.id)
            .finish_non_exhaustive()
    }
}

impl HeadSigner {
    /// A new random key (from the operating system's generator).
    pub fn generate() -> Self {
        Self::from_key(SigningKey::generate(&mut rand_core::OsRng))
    }

    fn from_key(key: SigningKey) -> Self {
        let id = key_id(&key.verifying_key());
        Self { key, id }
    }

    /// Reads a PKCS#8 PEM private key file. The error names the file, never its content.
    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StoreError::io(format!("reading signing key {}", path.display()), e))?;
        SigningKey::from_pkcs8_pem(&text)
            .map(Self::from_key)
            .map_err(|e| StoreError::Key {
                path: path.display().to_string(),
                reason: format!("not an Ed25519 private key in PKCS#8 PEM ({e}); make one with `mdm-audit keygen`"),
            })
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// The private key as PKCS#8 PEM (write it to a file only the writer can read).
    pub fn private_pem(&self) -> Result<String, StoreError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|e| StoreError::Internal(format!("encoding a private key: {e}")))
    }

    /// The public key as SPKI PEM.
    pub fn public_pem(&self) -> Result<String, StoreError> {
        public_pem(&self.key.verifying_key())
    }

    /// Signs `message`; the signature in hex.
    pub fn sign(&self, message: &str) -> String {
        hex::encode(self.key.sign(message.as_bytes()).to_bytes())
    }

    /// Fills in `commit`'s key id and signature for `table`.
    pub fn sign_commit(&self, table: &str, commit: &mut ChainCommit) {
        commit.key_id = Some(self.id.clone());
        commit.signature = Some(self.sign(&head_message(table, commit)));
    }
}

/// A public key as SPKI PEM.
pub fn public_pem(key: &VerifyingKey) -> Result<String, StoreError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| StoreError::Internal(format!("encoding a public key: {e}")))
}

/// Why a commit's signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureProblem {
    /// The commit carries no signature.
    Unsigned,
    /// Signed with a key that is not trusted.
    UntrustedKey(String),
    /// The signature does not match the commit's chain record.
    Invalid(String),
}

/// The public keys an operator trusts, by key id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrustedKeys {
    /// Key id -> SPKI PEM.
    pub keys: BTreeMap<String, String>,
    #[serde(skip)]
    parsed: BTreeMap<String, VerifyingKey>,
}

impl TrustedKeys {
    /// Every `PUBLIC KEY` PEM block of `text` (a file may list several keys, comments around them).
    pub fn from_pem(text: &str, origin: &str) -> Result<Self, StoreError> {
        const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
        const END: &str = "-----END PUBLIC KEY-----";
        let mut out = Self::default();
        let mut rest = text;
        while let Some(start) = rest.find(BEGIN) {
            let Some(len) = rest[start..].find(END) else {
                break;
            };
            let block = &rest[start..start + len + END.len()];
            let key = VerifyingKey::from_public_key_pem(block).map_err(|e| StoreError::Key {
                path: origin.to_owned(),
                reason: format!("a PUBLIC KEY block is not an Ed25519 key ({e})"),
            })?;
            out.add(key)?;
            rest = &rest[start + len + END.len()..];
        }
        if out.keys.is_empty() {
            return Err(StoreError::Key {
                path: origin.to_owned(),
                reason: "no -----BEGIN PUBLIC KEY----- block: give the writers' public keys \
                         (`mdm-audit keygen` writes one beside each private key)"
                    .into(),
            });
        }
        Ok(out)
    }

    /// Reads a file of public keys.
    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StoreError::io(format!("reading trusted keys {}", path.display()), e))?;
        Self::from_pem(&text, &path.display().to_string())
    }

    fn add(&mut self, key: VerifyingKey) -> Result<(), StoreError> {
        let id = key_id(&key);
        self.keys.insert(id.clone(), public_pem(&key)?);
        self.parsed.insert(id, key);
        Ok(())
    }

    /// Checks the signature of `commit` of `table`.
    pub fn check(&self, table: &str, commit: &ChainCommit) -> Result<(), SignatureProblem> {
        let (Some(id), Some(sig)) = (&commit.key_id, &commit.signature) else {
            return Err(SignatureProblem::Unsigned);
        };
        let Some(key) = self.parsed.get(id) else {
            return Err(SignatureProblem::UntrustedKey(id.clone()));
        };
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(sig, &mut bytes)
            .map_err(|e| SignatureProblem::Invalid(format!("not a hex Ed25519 signature: {e}")))?;
        key.verify(
            head_message(table, commit).as_bytes(),
            &Signature::from_bytes(&bytes),
        )
        .map_err(|_| {
            SignatureProblem::Invalid(
                "the signature does not match the commit's chain record".into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit() -> ChainCommit {
        ChainCommit {
            chain_id: "node-a".into(),
            first_seq: 1,
            last_seq: 10,
            rows: 10,
            prev_head: "0".repeat(64),
            head: "ab".repeat(32),
            commit_no: 1,
            key_id: None,
            signature: None,
            admitted_by: None,
        }
    }

    #[test]
    fn a_signed_head_verifies_only_under_its_own_key_and_unchanged() {
        let signer = HeadSigner::generate();
        let pem = signer.private_pem().expect("pem");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let trusted = TrustedKeys::from_pem(
            &format!("# node a\n{}", signer.public_pem().expect("pub")),
            "test",
        )
        .expect("keys");
        let mut c = commit();
        assert_eq!(trusted.check("events", &c), Err(SignatureProblem::Unsigned));
        signer.sign_commit("events", &mut c);
        assert_eq!(trusted.check("events", &c), Ok(()));
        // The same record under another table name, or with another head, does not verify.
        assert!(matches!(
            trusted.check("reviews", &c),
            Err(SignatureProblem::Invalid(_))
        ));
        let mut moved = c.clone();
        moved.head = "cd".repeat(32);
        assert!(matches!(
            trusted.check("events", &moved),
            Err(SignatureProblem::Invalid(_))
        ));
        // The admitting credential is signed with the head: renaming it breaks the signature.
        let mut admitted = commit();
        admitted.admitted_by = Some("vector".into());
        signer.sign_commit("events", &mut admitted);
        assert_eq!(trusted.check("events", &admitted), Ok(()));
        admitted.admitted_by = Some("someone-else".into());
        assert!(matches!(
            trusted.check("events", &admitted),
            Err(SignatureProblem::Invalid(_))
        ));
        // Another key's signature is reported as untrusted, by id.
        let other = HeadSigner::generate();
        let mut forged = commit();
        other.sign_commit("events", &mut forged);
        assert_eq!(
            trusted.check("events", &forged),
            Err(SignatureProblem::UntrustedKey(other.key_id().to_owned()))
        );
    }

    #[test]
    fn a_key_file_round_trips_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let signer = HeadSigner::generate();
        let path = dir.path().join("writer.pem");
        std::fs::write(&path, signer.private_pem().expect("pem")).expect("write");
        let back = HeadSigner::from_file(&path).expect("read back");
        assert_eq!(back.key_id(), signer.key_id());
        std::fs::write(&path, "not a key").expect("write");
        let e = HeadSigner::from_file(&path).expect_err("bad key");
        assert!(e.to_string().contains("writer.pem"), "{e}");
        assert!(TrustedKeys::from_pem("nothing here", "keys.pem").is_err());
    }
}
