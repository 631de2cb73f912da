//! API tokens: created with a random secret shown once, stored as a SHA-256 hash, found
//! again by a short public prefix. A token carries 256 random bits, so a fast hash is as
//! safe as a slow password hash here and keeps authentication to one indexed lookup.

use base64::Engine;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tipline_model::admin::{ApiToken, NewToken, TokenInput};
use tipline_model::{OrgKind, Principal, Role};
use uuid::Uuid;

use crate::rows::{parse, uuid};
use crate::sql::Sql;
use crate::{Store, StoreError, StoreResult, Viewer, audit, from_micros, micros, new_id, now};

/// Every token starts with this, so secret scanners can recognize a leaked one.
pub const TOKEN_PREFIX: &str = "tpl_";
/// Characters of the token kept in clear to find it again (`tpl_` + 8).
const PREFIX_LEN: usize = 12;

/// The stored hash of a token secret (lower-case hex SHA-256).
pub fn hash_token(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

type TokenRow = (String, String, String, String, i64, Option<i64>, Option<i64>, Option<i64>);
const TOKEN_COLUMNS: &str =
    "t.id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at, t.expires_at, t.revoked_at";

fn token_from_row(row: TokenRow) -> StoreResult<ApiToken> {
    let (id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at) = row;
    Ok(ApiToken {
        id: uuid(&id)?,
        user_id: uuid(&user_id)?,
        name,
        prefix,
        created_at: from_micros(created_at),
        last_used_at: last_used_at.map(from_micros),
        expires_at: expires_at.map(from_micros),
        revoked_at: revoked_at.map(from_micros),
    })
}

/// Insert a token for `user_id` and return it with its secret.
pub(crate) async fn insert_token(
    conn: &mut sqlx::AnyConnection,
    user_id: Uuid,
    input: &TokenInput,
) -> StoreResult<NewToken> {
    let name = input.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(StoreError::invalid("name", "must be 1 to 100 bytes"));
    }
    if let Some(days) = input.expires_in_days
        && !(1..=3650).contains(&days)
    {
        return Err(StoreError::invalid(
            "expires_in_days",
            format!("must be between 1 and 3650, got {days}"),
        ));
    }
    let secret = generate_secret();
    let created_at = now();
    let token = ApiToken {
        id: new_id(),
        user_id,
        name: name.to_string(),
        prefix: secret[..PREFIX_LEN].to_string(),
        created_at,
        last_used_at: None,
        expires_at: input.expires_in_days.map(|d| created_at + Duration::days(i64::from(d))),
        revoked_at: None,
    };
    let mut sql = Sql::new(
        "INSERT INTO api_tokens (id, user_id, name, prefix, hash, created_at, expires_at) VALUES (",
    );
    sql.bind(token.id.to_string())
        .push(", ")
        .bind(user_id.to_string())
        .push(", ")
        .bind(token.name.clone())
        .push(", ")
        .bind(token.prefix.clone())
        .push(", ")
        .bind(hash_token(&secret))
        .push(", ")
        .bind(micros(created_at))
        .push(", ")
        .bind(token.expires_at.map(micros))
        .push(")");
    sql.execute(conn).await?;
    Ok(NewToken { token, secret })
}

impl Store {
    /// The principal a bearer token acts as, or `None` when the token is unknown, revoked,
    /// expired, or its user is disabled. Never says which, to the caller or in logs.
    pub async fn authenticate(&self, secret: &str) -> StoreResult<Option<Principal>> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() < PREFIX_LEN + 16 || secret.len() > 200
        {
            return Ok(None);
        }
        let mut sql = Sql::new(
            "SELECT t.id, t.hash, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.role, u.disabled, o.id, o.kind \
             FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organizations o ON o.id = u.org_id \
             WHERE t.prefix = ",
        );
        sql.bind(secret[..PREFIX_LEN].to_string());
        type Row = (
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            String,
            String,
            i64,
            String,
            String,
        );
        let row: Option<Row> = sql.fetch_optional(&mut *self.pool().acquire().await?).await?;
        let Some((
            token_id,
            hash,
            expires_at,
            revoked_at,
            last_used_at,
            user_id,
            role,
            disabled,
            org_id,
            org_kind,
        )) = row
        else {
            return Ok(None);
        };
        let presented = hash_token(secret);
        if !bool::from(presented.as_bytes().ct_eq(hash.as_bytes())) {
            return Ok(None);
        }
        let at = micros(now());
        if revoked_at.is_some() || expires_at.is_some_and(|e| e <= at) || disabled != 0 {
            return Ok(None);
        }
        if last_used_at.is_none_or(|t| at - t > 60_000_000) {
            let mut sql = Sql::new("UPDATE api_tokens SET last_used_at = ");
            sql.bind(at).push(" WHERE id = ").bind(token_id);
            if let Err(e) = sql.execute(&mut *self.pool().acquire().await?).await {
                tracing::debug!(error = %e, "could not record token use");
            }
        }
        Ok(Some(Principal {
            user_id: Some(uuid(&user_id)?),
            org_id: uuid(&org_id)?,
            org_kind: parse::<OrgKind>(&org_kind)?,
            role: parse::<Role>(&role)?,
        }))
    }
}

impl Viewer<'_> {
    /// Create a token for the caller, or (admins) for a user of an organization they manage.
    pub async fn create_token(&self, input: &TokenInput) -> StoreResult<NewToken> {
        let user_id = match (input.user_id, self.principal.user_id) {
            (Some(user), _) => user,
            (None, Some(me)) => me,
            (None, None) => {
                return Err(StoreError::invalid("user_id", "required when acting without a user"));
            }
        };
        let mut tx = self.store.write().await?;
        if Some(user_id) != self.principal.user_id {
            let user = self.user_in_tx(&mut tx.tx, user_id).await?;
            if !self.principal.can_manage_org(user.org_id) {
                return Err(StoreError::Forbidden(
                    "you may only create tokens for yourself".into(),
                ));
            }
        }
        let token = insert_token(&mut tx.tx, user_id, input).await?;
        audit::record(
            &mut tx.tx,
            &self.principal,
            "token.create",
            "token",
            Some(token.token.id),
            serde_json::json!({ "user_id": user_id, "name": token.token.name, "prefix": token.token.prefix }),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Tokens of the caller; admins also see their organization's (platform admins: all).
    pub async fn list_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let mut sql = Sql::new("SELECT ");
        sql.push(TOKEN_COLUMNS).push(" FROM api_tokens t JOIN users u ON u.id = t.user_id");
        if self.principal.is_platform_admin() {
        } else if self.principal.role == Role::Admin {
            sql.push(" WHERE u.org_id = ").bind(self.org());
        } else {
            sql.push(" WHERE t.user_id = ")
                .bind(self.principal.user_id.map(|u| u.to_string()).unwrap_or_default());
        }
        sql.push(" ORDER BY t.created_at, t.id");
        let rows: Vec<TokenRow> = sql.fetch_all(&mut *self.store.pool().acquire().await?).await?;
        rows.into_iter().map(token_from_row).collect()
    }

    /// Revoke a token (one's own, or as an admin of its user's organization). Revoking an
    /// already revoked token is not an error.
    pub async fn revoke_token(&self, id: Uuid) -> StoreResult<ApiToken> {
        let mut tx = self.store.write().await?;
        let mut sql = Sql::new("SELECT ");
        sql.push(TOKEN_COLUMNS)
            .push(", u.org_id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ");
        sql.bind(id.to_string());
        type Row =
            (String, String, String, String, i64, Option<i64>, Option<i64>, Option<i64>, String);
        let row: Option<Row> = sql.fetch_optional(&mut tx.tx).await?;
        let not_found = || StoreError::NotFound { what: "token", id: id.to_string() };
        let row = row.ok_or_else(not_found)?;
        let org_id = uuid(&row.8)?;
        let mut token = token_from_row((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7))?;
        let own = Some(token.user_id) == self.principal.user_id;
        if !own && !self.principal.can_manage_org(org_id) {
            return Err(not_found());
        }
        if token.revoked_at.is_none() {
            let at = now();
            let mut sql = Sql::new("UPDATE api_tokens SET revoked_at = ");
            sql.bind(micros(at)).push(" WHERE id = ").bind(id.to_string());
            sql.execute(&mut tx.tx).await?;
            token.revoked_at = Some(at);
            audit::record(
                &mut tx.tx,
                &self.principal,
                "token.revoke",
                "token",
                Some(id),
                serde_json::json!({ "prefix": token.prefix }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(token)
    }
}
