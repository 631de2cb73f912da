//! OpenPGP signing of outgoing mail (pure Rust, rPGP): detached signatures for PGP/MIME
//! (RFC 3156 `multipart/signed`).

use pgp::composed::{ArmorOptions, Deserializable, DetachedSignature, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyDetails, Password};

use crate::{NotifyError, Secret};

/// The `micalg` parameter matching the hash used.
pub const MICALG: &str = "pgp-sha256";

/// A secret key that signs outgoing mail with its primary key (which must be able to sign,
/// as the primary keys `gpg --quick-generate-key` makes are).
pub struct Signer {
    key: SignedSecretKey,
    password: Password,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("fingerprint", &self.fingerprint()).finish_non_exhaustive()
    }
}

impl Signer {
    /// An ASCII-armored secret key (`gpg --armor --export-secret-keys`), with its
    /// passphrase if it has one. Signs a probe to fail now rather than on the first mail.
    pub fn from_armored(armored: &str, passphrase: Option<&Secret>) -> Result<Signer, NotifyError> {
        let (key, _headers) = SignedSecretKey::from_string(armored)
            .map_err(|e| NotifyError::Config(format!("cannot read the OpenPGP secret key: {e}")))?;
        let password = passphrase.map(|p| Password::from(p.expose())).unwrap_or_default();
        let signer = Signer { key, password };
        signer.sign(b"probe").map_err(|e| {
            NotifyError::Config(format!("the OpenPGP key cannot sign (wrong passphrase?): {e}"))
        })?;
        Ok(signer)
    }

    /// The key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        hex::encode_upper(self.key.fingerprint().as_bytes())
    }

    /// An ASCII-armored detached binary signature over `data` (SHA-256).
    pub fn sign(&self, data: &[u8]) -> Result<String, NotifyError> {
        let signature = DetachedSignature::sign_binary_data(
            rand08::thread_rng(),
            &self.key.primary_key,
            &self.password,
            HashAlgorithm::Sha256,
            data,
        )
        .map_err(|e| NotifyError::Signing(e.to_string()))?;
        signature
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| NotifyError::Signing(e.to_string()))
    }
}
