//! Input rules shared by the browser (immediate feedback) and the server (which never
//! trusts the browser). Each error names the field and the problem.

pub mod stream;

use crate::error::AppError;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// The longest password: long passphrases fit, megabytes do not reach the hasher.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// `Err` when `value` is longer than `max` bytes (checked before any costly work).
pub fn bounded(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.len() > max {
        return Err(AppError::invalid(
            field,
            format!("must be at most {max} bytes"),
        ));
    }
    Ok(())
}

pub fn email(field: &str, email: &str) -> Result<String, AppError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        return Err(AppError::invalid(
            field,
            "enter an email address like name@example.com",
        ));
    }
    Ok(email)
}

pub fn new_password(field: &str, password: &str) -> Result<(), AppError> {
    bounded(field, password, MAX_PASSWORD_BYTES)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            field,
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

pub fn required(field: &str, value: &str) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, "is required"));
    }
    Ok(value.to_string())
}

/// A hostname such as `shop.example.com`: lowercase labels of letters, digits and `-`.
pub fn domain_name(field: &str, name: &str) -> Result<String, AppError> {
    let name = name.trim().trim_end_matches('.').to_lowercase();
    if name.is_empty() {
        return Err(AppError::invalid(field, "is required"));
    }
    if name.len() > 253 {
        return Err(AppError::invalid(field, "is longer than 253 characters"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err(AppError::invalid(
            field,
            "must be a hostname like shop.example.com",
        ));
    }
    for label in labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(AppError::invalid(
                field,
                format!(
                    "{label:?} is not a valid hostname label (letters, digits, '-'; 1–63 characters)"
                ),
            ));
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email("email", " Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
        assert_eq!(
            email("email", "nope")
                .unwrap_err()
                .for_field("email")
                .unwrap(),
            "enter an email address like name@example.com"
        );
    }

    #[test]
    fn domains() {
        assert_eq!(
            domain_name("name", "Shop.Example.com.").unwrap(),
            "shop.example.com"
        );
        assert!(domain_name("name", "localhost").is_err());
        assert!(domain_name("name", "bad_label.example.com").is_err());
        assert!(domain_name("name", "-x.example.com").is_err());
        assert!(
            domain_name("name", "")
                .unwrap_err()
                .to_string()
                .contains("name: is required")
        );
    }

    #[test]
    fn passwords() {
        assert!(new_password("password", "short").is_err());
        assert!(new_password("password", "long enough!").is_ok());
    }
}
