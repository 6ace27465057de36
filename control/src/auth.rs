//! Bearer tokens with roles. The config holds each token's SHA-256, never
//! the token; `pt ctl hash-token` prints the hash of one read from stdin.

use sha2::Digest as _;

/// What a token may do; each role may do what the ones before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read status, positions, orders, events and latency.
    Viewer,
    /// Also kill, resume, flatten, signal, change parameters, set paper or shadow.
    Operator,
    /// Also set live mode.
    Admin,
}

impl Role {
    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Its name.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// One configured token.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// Who holds it (what the audit table records).
    pub name: String,
    pub role: Role,
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({}, {})", self.name, self.role.name())
    }
}

/// The hex SHA-256 of `token`, as the config writes it.
pub fn hash_hex(token: &str) -> String {
    sha2::Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 64 hex digits as 32 bytes.
pub fn parse_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `authorization: Bearer …`.
    Missing,
    /// A token no entry has.
    Unknown,
    /// A known token whose role is below what the call needs.
    Role {
        name: String,
        has: Role,
        needs: Role,
    },
}

/// The token of an `authorization` header value among `tokens`, if its
/// role is at least `needs`. Hashes are compared in constant time.
pub fn check<'a>(
    tokens: &'a [Token],
    header: Option<&str>,
    needs: Role,
) -> Result<&'a Token, Refusal> {
    let token = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(Refusal::Missing)?;
    let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
    let mut found = None;
    for t in tokens {
        let diff = t
            .sha256
            .iter()
            .zip(digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff == 0 {
            found = Some(t);
        }
    }
    let t = found.ok_or(Refusal::Unknown)?;
    if t.role < needs {
        return Err(Refusal::Role {
            name: t.name.clone(),
            has: t.role,
            needs,
        });
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_hashes_decide() {
        let tokens = vec![
            Token {
                name: "watch".into(),
                role: Role::Viewer,
                sha256: parse_hex(&hash_hex("v-secret")).unwrap(),
            },
            Token {
                name: "ops".into(),
                role: Role::Operator,
                sha256: parse_hex(&hash_hex("o-secret")).unwrap(),
            },
        ];
        assert_eq!(check(&tokens, None, Role::Viewer), Err(Refusal::Missing));
        assert_eq!(
            check(&tokens, Some("Bearer "), Role::Viewer),
            Err(Refusal::Missing)
        );
        assert_eq!(
            check(&tokens, Some("Basic o-secret"), Role::Viewer),
            Err(Refusal::Missing)
        );
        assert_eq!(
            check(&tokens, Some("Bearer wrong"), Role::Viewer),
            Err(Refusal::Unknown)
        );
        assert_eq!(
            check(&tokens, Some("Bearer v-secret"), Role::Viewer)
                .unwrap()
                .name,
            "watch"
        );
        assert!(matches!(
            check(&tokens, Some("Bearer v-secret"), Role::Operator),
            Err(Refusal::Role {
                has: Role::Viewer,
                needs: Role::Operator,
                ..
            })
        ));
        assert_eq!(
            check(&tokens, Some("Bearer o-secret"), Role::Operator)
                .unwrap()
                .name,
            "ops"
        );
        assert!(check(&tokens, Some("Bearer o-secret"), Role::Admin).is_err());
        assert_eq!(parse_hex("zz"), None);
    }
}
