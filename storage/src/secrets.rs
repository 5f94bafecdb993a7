//! Secrets at rest (S3 secret keys, custom header values): AES-256-GCM with a key from
//! configuration, a fresh random nonce per value. Sealed text is `base64(nonce ‖ ciphertext)`.

use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the key must be 32 bytes, base64-encoded (got {0} bytes)")]
    KeyLength(usize),
    #[error("the key is not valid base64")]
    KeyEncoding,
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored secret cannot be decrypted with this key")]
    Decrypt,
}

/// Encrypts and decrypts the console's secrets. Cheap to clone.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// From a base64-encoded 32-byte key.
    pub fn from_base64_key(key: &str) -> Result<SecretBox, SecretError> {
        let bytes = BASE64
            .decode(key.trim())
            .map_err(|_| SecretError::KeyEncoding)?;
        if bytes.len() != 32 {
            return Err(SecretError::KeyLength(bytes.len()));
        }
        Ok(SecretBox {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
        })
    }

    /// Reads the key file, creating it (random key, mode 0600) on first start.
    pub fn load_or_create(path: &Path) -> Result<SecretBox, SecretError> {
        let file_error = |source| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            let key = BASE64.encode(Aes256Gcm::generate_key(&mut OsRng));
            write_private(path, &key).map_err(file_error)?;
        }
        let key = std::fs::read_to_string(path).map_err(file_error)?;
        SecretBox::from_base64_key(&key)
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        BASE64.encode(sealed)
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let bytes = BASE64.decode(sealed).map_err(|_| SecretError::Decrypt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Decrypt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(plaintext).map_err(|_| SecretError::Decrypt)
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_fresh_nonce_and_wrong_key() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("secret.key");
        let secrets = SecretBox::load_or_create(&key_path).unwrap();
        let a = secrets.seal("s3cr3t");
        let b = secrets.seal("s3cr3t");
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(!a.contains("s3cr3t"));
        assert_eq!(secrets.open(&a).unwrap(), "s3cr3t");
        let again = SecretBox::load_or_create(&key_path).unwrap();
        assert_eq!(again.open(&b).unwrap(), "s3cr3t", "the key file is reused");
        let other = SecretBox::from_base64_key(&BASE64.encode([7u8; 32])).unwrap();
        assert!(other.open(&a).is_err());
        assert!(matches!(
            SecretBox::from_base64_key("c2hvcnQ="),
            Err(SecretError::KeyLength(5))
        ));
    }
}
