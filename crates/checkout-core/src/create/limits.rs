//! The create body's limits as the OpenAPI schema states them. `derive`
//! attributes take only literals, so the schema of each limited field is
//! built here from these constants; the gateway's input checks enforce the
//! same numbers, and a gateway test probes them at these bounds so the two
//! cannot drift apart.

use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, Object, ObjectBuilder, OneOfBuilder, SchemaFormat,
    SchemaType, Type,
};

pub use crate::id::MAX_ACCOUNT_LEN;

/// Longest customer or plan reference, in characters.
pub const MAX_REFERENCE_LEN: usize = 255;
/// Fewest and most units one checkout may ask for.
pub const MIN_QUANTITY: u64 = 1;
pub const MAX_QUANTITY: u64 = 1_000_000;
/// Longest redirect URL, in bytes (what browsers and vendors agree on).
pub const MAX_URL_LEN: usize = 2083;
pub const MAX_METADATA_KEYS: usize = 50;
/// Longest metadata key, in characters.
pub const MAX_METADATA_KEY_LEN: usize = 40;
/// Longest metadata string value, in characters.
pub const MAX_METADATA_VALUE_LEN: usize = 500;

fn or_null(t: Type) -> SchemaType {
    SchemaType::from_iter([t, Type::Null])
}

/// `account`: the account-name alphabet of `id::is_valid_account_name`.
pub fn account() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[a-z0-9][a-z0-9_-]*$"))
        .max_length(Some(MAX_ACCOUNT_LEN))
        .description(Some(
            "Configured account of that vendor: lower-case letters, digits, `_` and `-`.",
        ))
        .build()
}

fn reference(what: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(or_null(Type::String))
        .min_length(Some(1))
        .max_length(Some(MAX_REFERENCE_LEN))
        .description(Some(format!("{what}; no control characters.")))
        .build()
}

pub fn customer() -> Object {
    reference("The vendor's customer reference (Meteroid: customer id or alias)")
}

pub fn plan() -> Object {
    reference("What is bought (Meteroid: plan version id)")
}

pub fn quantity() -> Object {
    ObjectBuilder::new()
        .schema_type(or_null(Type::Integer))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(MIN_QUANTITY))
        .maximum(Some(MAX_QUANTITY))
        .build()
}

/// `success_url` and `cancel_url`.
pub fn redirect_url() -> Object {
    ObjectBuilder::new()
        .schema_type(or_null(Type::String))
        .format(Some(SchemaFormat::Custom("uri".into())))
        .max_length(Some(MAX_URL_LEN))
        .description(Some(format!(
            "Absolute https URL without credentials, at most {MAX_URL_LEN} bytes."
        )))
        .build()
}

/// `metadata` in a create body: flat, with bounded keys and values. (A
/// session's own `metadata` is whatever the vendor holds, so it stays unbounded.)
pub fn metadata() -> Object {
    let value = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(MAX_METADATA_VALUE_LEN)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double))),
        )
        .item(ObjectBuilder::new().schema_type(Type::Boolean));
    ObjectBuilder::new()
        .schema_type(or_null(Type::Object))
        .max_properties(Some(MAX_METADATA_KEYS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_METADATA_KEY_LEN))
                .build(),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(value.into())))
        .description(Some(
            "Flat metadata: string, number or boolean values; keys without control \
             characters or brackets.",
        ))
        .build()
}
