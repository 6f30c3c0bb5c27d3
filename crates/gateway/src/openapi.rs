//! The gateway's own OpenAPI 3.1 document, generated from the handlers and types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "checkout-gateway", description = "One HTTP API for checkout sessions across billing vendors."),
    paths(
        crate::sessions::get_session,
        crate::sessions::create_session,
        crate::providers::list_providers,
        crate::health::healthz,
        crate::health::readyz,
        crate::health::metrics,
        crate::reload::reload,
    ),
    components(schemas(
        checkout_core::CheckoutSession,
        checkout_core::CreateSession,
        checkout_core::error::ErrorBody,
        checkout_core::error::ErrorDetail,
        checkout_core::ErrorCode,
    )),
    modifiers(&ClientKeyAuth)
)]
pub struct ApiDoc;

struct ClientKeyAuth;

impl Modify for ClientKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "client_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A gateway client key from the `clients` config table"))
                    .build(),
            ),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
