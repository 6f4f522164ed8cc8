//! Why a SealedSecret failed: the CamelCase reasons its `Ready` condition
//! gives (README, "When a SealedSecret fails"). The status and the metrics
//! take these and no other, so a label set stays bounded.

pub const DECRYPT_FAILED: &str = "DecryptFailed";
pub const TEMPLATE_FAILED: &str = "TemplateFailed";
pub const INVALID_SEALED_SECRET: &str = "InvalidSealedSecret";
pub const UNSEAL_FAILED: &str = "UnsealFailed";
pub const SECRET_NOT_MANAGED: &str = "SecretNotManaged";
pub const SECRET_INVALID: &str = "SecretInvalid";
pub const SECRET_IMMUTABLE: &str = "SecretImmutable";
pub const UPDATE_FAILED: &str = "UpdateFailed";
pub const API_UNAVAILABLE: &str = "APIUnavailable";

pub const ALL: [&str; 9] = [
    DECRYPT_FAILED,
    TEMPLATE_FAILED,
    INVALID_SEALED_SECRET,
    UNSEAL_FAILED,
    SECRET_NOT_MANAGED,
    SECRET_INVALID,
    SECRET_IMMUTABLE,
    UPDATE_FAILED,
    API_UNAVAILABLE,
];
