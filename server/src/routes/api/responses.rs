//! The error answers the API shares, documented once as components and listed per
//! operation as sets, so no operation can forget a status its extractors answer.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Components, Ref, RefOr, Response, ResponseBuilder};

/// Every shared error answer: component name, status, description, whether it carries
/// `Retry-After`.
const SHARED: [(&str, u16, &str, bool); 9] = [
    (
        "InvalidJson",
        400,
        "The body is not JSON at all (`invalid_json`); fields of the wrong type or range are 422",
        false,
    ),
    (
        "Unauthorized",
        401,
        "No session and no bearer token, or a wrong, expired or revoked token (`unauthorized`)",
        false,
    ),
    (
        "Forbidden",
        403,
        "Signed in but not allowed: an admin-only operation, a read-only token writing, the \
         API token on an operation for a person, or an initial password still to be changed",
        false,
    ),
    (
        "NotFound",
        404,
        "No such id: the one in the path (ids that are not positive integers are never found), or a user, shift or channel named in the body (`field` names it)",
        false,
    ),
    (
        "PayloadTooLarge",
        413,
        "The body is over its limit: 64 KiB for JSON, more for batch writes and uploads",
        false,
    ),
    (
        "UnsupportedMediaType",
        415,
        "The body is not `Content-Type: application/json`",
        false,
    ),
    (
        "Unprocessable",
        422,
        "A value breaks its rule (`invalid`, `invalid_query`); `field` names it",
        false,
    ),
    (
        "TooManyAttempts",
        429,
        "Too many wrong credentials from this address (bearer tokens: 20 in 15 minutes); \
         `Retry-After` says when to try again",
        true,
    ),
    (
        "Busy",
        503,
        "Too many uploads or password checks at once; `Retry-After` says when to try again",
        true,
    ),
];

/// Adds the shared answers to the document's components.
pub fn add_components(components: &mut Components) {
    for (name, _, description, retry_after) in SHARED {
        let mut response = ResponseBuilder::new().description(description).content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        );
        if retry_after {
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1)),
                    )
                    .description(Some("Seconds to wait"))
                    .build(),
            );
        }
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response.build()));
    }
}

fn refs(names: &[&str]) -> BTreeMap<String, RefOr<Response>> {
    names
        .iter()
        .map(|name| {
            let (_, status, _, _) = SHARED
                .iter()
                .find(|(shared, ..)| shared == name)
                .expect("a shared response");
            (
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(*name)),
            )
        })
        .collect()
}

/// What any operation that needs a caller may answer: 401, 403, 429.
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&["Unauthorized", "Forbidden", "TooManyAttempts"])
    }
}

/// What an operation reading a JSON body may answer: 400, 413, 415, 422.
pub struct JsonErrors;

impl IntoResponses for JsonErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&[
            "InvalidJson",
            "PayloadTooLarge",
            "UnsupportedMediaType",
            "Unprocessable",
        ])
    }
}

/// What an operation with query parameters or value rules may answer: 422.
pub struct InvalidErrors;

impl IntoResponses for InvalidErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&["Unprocessable"])
    }
}

/// What an operation on one resource by id may answer: 404.
pub struct NotFoundErrors;

impl IntoResponses for NotFoundErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&["NotFound"])
    }
}

/// What a file upload may answer: 413, 422, 503.
pub struct UploadErrors;

impl IntoResponses for UploadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&["PayloadTooLarge", "Unprocessable", "Busy"])
    }
}

/// What a password check may answer besides its own errors: 429 and 503.
pub struct PasswordCheckErrors;

impl IntoResponses for PasswordCheckErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&["TooManyAttempts", "Busy"])
    }
}
